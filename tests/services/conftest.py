"""Fixtures of the services' tests."""
from __future__ import annotations

import pytest
from service_world import World


@pytest.fixture
def world(store) -> World:  # noqa: ANN001
    return World(store)
