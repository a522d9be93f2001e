"""What every screen needs: the services facade, who is signed in, and the one change broadcast."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from app.services import Desk


class DeskContext(QObject):
    """Owns nothing but references. ``changed(frozenset[str])`` carries ``desk.on_change`` to the GUI thread
    (a queued signal, so a service called from a job thread still refreshes views on the GUI thread)."""

    changed = Signal(object)

    def __init__(self, desk: Desk, store_path: Path, *, demo: bool = False, parent: QObject | None = None):
        super().__init__(parent)
        self.desk = desk
        self.store_path = store_path
        self.demo = demo
        desk.on_change(self._broadcast)

    def _broadcast(self, kinds: Any) -> None:
        self.changed.emit(frozenset(str(k) for k in kinds))

    @property
    def username(self) -> str:
        return self.desk.actor.username

    @property
    def display_name(self) -> str:
        return self.desk.actor.display_name or self.desk.actor.username

    @property
    def role(self) -> str:
        return str(self.desk.actor.role.value)

    @property
    def can_edit(self) -> bool:
        """Coordinators and admins change records; an auditor only reads (the services enforce it too)."""
        return self.role in ("coordinator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
