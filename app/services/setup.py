"""First run: create the encrypted store, its first administrator and the seeded agencies."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.models import Agency, AgencyRole, AgencyRoleAssignment, AgencyStatus, Role, User
from app.resources import resource_path
from app.store import PRODUCTION_KDF, KdfParams, Store
from app.store.store import keys_path

from .audit_chain import append_event, record_of
from .users import check_username

SETUP_ACTOR = "setup"


def seed_agencies() -> list[dict[str, Any]]:
    """The agency list shipped in ``resources/agencies.json`` (duplicates in the manual already removed)."""
    data = json.loads(resource_path("agencies.json").read_text(encoding="utf-8"))
    codes = [a["code"] for a in data["agencies"]]
    if len(codes) != len(set(codes)):
        raise ValueError("resources/agencies.json lists an agency twice")
    return data["agencies"]


def initialise_store(path: Path | str, username: str, passphrase: str, display_name: str, *,
                     kdf: KdfParams = PRODUCTION_KDF) -> tuple[Store, str]:
    """Create a store at ``path`` with ``username`` as its first admin, and seed the agencies.

    Returns the open store and the recovery code (show it once; it is never stored). Raises the store's
    errors (StoreExists, WeakPassphrase, DiskFull...) and ValidationFailed for a bad username. Every row made
    here is audited, so a fresh store verifies.
    """
    username = check_username(username)
    display_name = display_name.strip() or username
    store, recovery_code = Store.create(path, username, passphrase, kdf=kdf)
    try:
        with store.session() as s:
            admin = User(username=username, display_name=display_name, role=Role.ADMIN, active=True)
            s.add(admin)
            s.flush()
            append_event(s, actor=SETUP_ACTOR, action="create", entity="users", entity_id=admin.id,
                         after=record_of(admin))
            for entry in seed_agencies():
                agency = Agency(code=entry["code"], name=entry["name"], status=AgencyStatus.ACTIVE,
                                short_destruction_window=bool(entry.get("short_destruction_window", False)),
                                roles=[AgencyRoleAssignment(role=AgencyRole(r)) for r in entry["roles"]])
                s.add(agency)
                s.flush()
                append_event(s, actor=SETUP_ACTOR, action="seed", entity="agencies", entity_id=agency.id,
                             after={**record_of(agency), "roles": sorted(entry["roles"])})
    except BaseException:
        # A store without its admin or agencies is worse than none: remove it so setup can simply be re-run.
        store.close()
        path = Path(path)
        sidecars = (path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", ".lock"))
        for leftover in (path, keys_path(path), *sidecars):
            leftover.unlink(missing_ok=True)
        raise
    return store, recovery_code


__all__ = ["initialise_store", "seed_agencies"]
