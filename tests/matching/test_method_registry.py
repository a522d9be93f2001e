"""Methods are hashed data; the registry refuses what the DGB did not approve."""
import json

import pytest

from app.matching import engine
from app.matching.method import MethodError, canonical_sha256, load_method, parse_method, standard_method_path
from app.matching.registry import BUILTIN_APPROVER, MethodNotApproved, Registry, RegistryError
from tests.matching.synth import make_pair


def test_hash_ignores_formatting_but_not_content(tmp_path):
    document = json.loads(standard_method_path().read_text(encoding="utf-8"))
    reformatted = tmp_path / "m.json"
    reformatted.write_text(json.dumps(document, indent=7), encoding="utf-8")
    assert load_method(reformatted).sha256 == load_method().sha256
    document["comparisons"][0]["levels"][3]["min"] = 0.9
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document), encoding="utf-8")
    assert load_method(changed).sha256 != load_method().sha256
    assert load_method(changed).sha256 == canonical_sha256(document)


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d["blocking_rules"][0].update(keys=["shoe_size"]), "Unknown key 'shoe_size'"),
    (lambda d: d["comparisons"][0]["levels"][0].update(type="psychic"), "unknown type 'psychic'"),
    (lambda d: d["comparisons"][0]["levels"][3].pop("min"), "needs min"),
    (lambda d: d.pop("blocking_rules"), "lacks 'blocking_rules'"),
    (lambda d: d.update(version="one"), "version has the wrong type"),
])
def test_invalid_methods_are_refused_with_the_reason(mutate, words):
    document = json.loads(standard_method_path().read_text(encoding="utf-8"))
    mutate(document)
    with pytest.raises(MethodError) as info:
        parse_method(document)
    assert words in info.value.message


def test_broken_method_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(MethodError, match="not valid UTF-8 JSON"):
        load_method(bad)
    with pytest.raises(MethodError, match="does not exist"):
        load_method(tmp_path / "absent.json")


def test_shipped_method_is_approved_as_builtin(tmp_path):
    approval = Registry(tmp_path / "none.json").require(load_method())
    assert approval.builtin and approval.approved_by == BUILTIN_APPROVER


def test_altered_copy_of_the_standard_method_is_refused(tmp_path, registry):
    document = json.loads(standard_method_path().read_text(encoding="utf-8"))
    document["deterministic_passes"] = []
    path = tmp_path / "altered.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(MethodNotApproved, match="changed since it was approved"):
        registry.require(load_method(path))


def test_unapproved_method_is_refused_until_approved(tmp_path, registry):
    document = json.loads(standard_method_path().read_text(encoding="utf-8"))
    document.update(id="county-pilot", version=3)
    path = tmp_path / "pilot.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    method = load_method(path)
    with pytest.raises(MethodNotApproved, match="not in the approved-methods registry"):
        registry.require(method)
    approval = registry.approve(method, "J. Smith (DGB)", note="decision 2026-14")
    assert registry.require(method) == approval
    assert Registry(registry.path).require(method).approved_by == "J. Smith (DGB)"   # persisted
    with pytest.raises(RegistryError, match="already approved"):
        registry.approve(method, "someone else")


def test_engine_refuses_unapproved_method(registry):
    left, right, _ = make_pair(50, seed=1)
    document = json.loads(standard_method_path().read_text(encoding="utf-8"))
    document["version"] = 99
    with pytest.raises(MethodNotApproved):
        engine.link(left, right, parse_method(document), registry=registry)


def test_damaged_registry_is_reported(tmp_path):
    path = tmp_path / "reg.json"
    path.write_text("[1, 2", encoding="utf-8")
    with pytest.raises(RegistryError, match="damaged"):
        Registry(path).approvals()
