"""A store with a request whose DSA is executed (and one without), and generated matching files."""
from __future__ import annotations

import pytest

from bench.generate import generate
from tests.services.service_world import S, World


@pytest.fixture(scope="session")
def generated_files(tmp_path_factory):
    """Small P20 WIN left/right files from the benchmark generator (seeded), written once per session."""
    folder = tmp_path_factory.mktemp("hub-files")
    paths = generate("full", 1500, seed=11).write(folder)
    return paths


@pytest.fixture
def hub_world(store, generated_files, tmp_path):
    """(world, request with executed DSA, request still in drafting, copies of the two files in tmp_path)."""
    world = World(store)
    ready = world.new_request(("SDE", "DOL"))
    world.to(ready, S.DSA_EXECUTED)
    waiting = world.new_request(("SDE", "DOL"))
    world.to(waiting, S.DRAFTING)
    files = {}
    for role in ("left", "right"):
        target = tmp_path / "transfer" / generated_files[role].name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(generated_files[role].read_bytes())
        files[role] = target
    return world, ready, waiting, files


@pytest.fixture
def registered(hub_world):
    """(world, hub service as hank, request id, left file id, right file id): both files registered."""
    from datetime import UTC, datetime

    from app.services.hub import HubService, check_file

    world, ready, _, files = hub_world
    hub = HubService(world.hub)
    today = datetime.now(UTC).date()
    left = hub.register_file(ready, check_file(files["left"]), sender_agency_id=world.ag["SDE"], received_on=today)
    right = hub.register_file(ready, check_file(files["right"]), sender_agency_id=world.ag["DOL"], received_on=today)
    return world, hub, ready, left, right
