"""The approved-methods registry: which method versions (by content hash) the DGB approved, who and when.

The registry is a JSON file the hub keeps (default: beside the store). Methods shipped with the software
carry a built-in approval (resources/methods/builtin-approvals.json) pinned to their hash, so an edited
copy of a shipped method is refused like any unapproved method. Run records name who approved the
method, and say so when the approval is the built-in one.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from app.matching.method import Method
from app.resources import resource_path

REGISTRY_FILE = "approved-methods.json"
BUILTIN_APPROVER = "built-in approval shipped with P20 WIN Desk"


class MethodNotApproved(Exception):
    """The method's id/version/hash is not in the registry; `.message` says how to get it approved."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RegistryError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Approval:
    method_id: str
    version: int
    sha256: str
    approved_by: str
    approved_on: str
    note: str = ""
    builtin: bool = False


def default_registry_path() -> Path:
    """`approved-methods.json` in the application's data folder, beside the default store."""
    from app.store.paths import data_folder   # only the folder rule; the store itself is not opened

    return data_folder() / REGISTRY_FILE


def _builtin() -> list[Approval]:
    document = json.loads(resource_path("methods", "builtin-approvals.json").read_text(encoding="utf-8"))
    return [Approval(e["method_id"], int(e["version"]), e["sha256"], BUILTIN_APPROVER, e["approved_on"],
                     e.get("note", ""), True) for e in document["approvals"]]


class Registry:
    """Approvals from the registry file at `path` (absent file = none) plus the built-in approvals."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def default(cls) -> "Registry":
        return cls(default_registry_path())

    def _read_file(self) -> list[Approval]:
        if not self.path.exists():
            return []
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            return [Approval(e["method_id"], int(e["version"]), e["sha256"], e["approved_by"], e["approved_on"],
                             e.get("note", "")) for e in document["approvals"]]
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise RegistryError(f"The approved-methods registry {self.path} is unreadable or damaged ({exc}); "
                                f"restore it from backup.") from None

    def approvals(self) -> list[Approval]:
        return _builtin() + self._read_file()

    def find(self, method: Method) -> Approval | None:
        for approval in self.approvals():
            if (approval.method_id, approval.version, approval.sha256) == (method.id, method.version, method.sha256):
                return approval
        return None

    def require(self, method: Method) -> Approval:
        """The approval of this exact method content, or MethodNotApproved explaining what differs."""
        approval = self.find(method)
        if approval is not None:
            return approval
        same = [a for a in self.approvals() if (a.method_id, a.version) == (method.id, method.version)]
        if same:
            raise MethodNotApproved(
                f"Method {method.label} has been changed since it was approved: its content hash "
                f"{method.sha256[:12]}... differs from the approved {same[0].sha256[:12]}.... Use the approved "
                f"file, or give the changed method a new version and have it approved.")
        raise MethodNotApproved(
            f"Method {method.label} (hash {method.sha256[:12]}...) is not in the approved-methods registry "
            f"{self.path}. Ask for DGB approval, then record it with 'p20win-match methods approve'.")

    def approve(self, method: Method, approved_by: str, note: str = "") -> Approval:
        """Record an approval in the registry file (written atomically). Re-approving is refused."""
        if not approved_by.strip():
            raise RegistryError("Say who approved the method (the DGB decision's signatory).")
        existing = self.find(method)
        if existing is not None:
            raise RegistryError(f"Method {method.label} with this content is already approved "
                                f"(by {existing.approved_by} on {existing.approved_on}).")
        approval = Approval(method.id, method.version, method.sha256, approved_by.strip(),
                            datetime.now(timezone.utc).isoformat(timespec="seconds"), note)
        entries = [asdict(a) for a in self._read_file()] + [asdict(approval)]
        for e in entries:
            e.pop("builtin", None)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".registry-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"approvals": entries}, handle, indent=2, sort_keys=True)
        os.replace(tmp, self.path)
        return approval
