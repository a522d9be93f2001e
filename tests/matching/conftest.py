"""Fixtures for the matching engine's tests: a throw-away registry and a quick variant of the standard method."""
import json

import pytest

from app.matching.method import load_method, parse_method, standard_method_path
from app.matching.registry import Registry


@pytest.fixture
def registry(tmp_path):
    return Registry(tmp_path / "approved-methods.json")


@pytest.fixture
def quick_method_path(tmp_path, registry):
    """The standard method with smaller samples (fast on test-sized files), approved in `registry`."""
    document = json.loads(standard_method_path().read_text(encoding="utf-8"))
    document.update(id="p20win-standard-quick", u_sample_pairs=60_000)
    document["em"]["pairs_per_rule"] = 20_000
    path = tmp_path / "quick-method.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    registry.approve(load_method(path), "test steward")
    return path


@pytest.fixture
def quick_method(quick_method_path):
    return load_method(quick_method_path)


def method_variant(**changes):
    """A parsed copy of the standard method with top-level keys replaced (not approved anywhere)."""
    document = json.loads(standard_method_path().read_text(encoding="utf-8"))
    document.update(changes)
    return parse_method(document)
