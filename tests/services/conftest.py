"""Fixtures of the services' tests."""
from __future__ import annotations

import pytest
from service_world import World


@pytest.fixture
def world(store) -> World:  # noqa: ANN001
    return World(store)


@pytest.fixture
def world_for_walks(store) -> World:  # noqa: ANN001
    """One world shared by all examples of a property test (each example makes its own request)."""
    return World(store)
