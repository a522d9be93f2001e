"""`p20win-match` end to end on generated P20 WIN files: outputs, run record, registry, no network."""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys

import pandas as pd
import pytest

from app.matching import cli, run
from app.matching.method import standard_method_path
from bench.generate import generate

PERSONAL = {"first_name", "last_name", "middle_name", "dob", "ssn", "sasid", "FirstName", "LastName", "DOB", "SSN"}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Generated files, a quick approved method and one link run shared by the read-only tests."""
    folder = tmp_path_factory.mktemp("case")
    files = generate("full", 700, seed=3).write(folder)
    files["dedupe"] = generate("dedupe", 600, seed=3).write(folder / "d")["left"]
    document = json.loads(standard_method_path().read_text(encoding="utf-8"))
    document.update(id="p20win-standard-quick", u_sample_pairs=60_000)
    document["em"]["pairs_per_rule"] = 20_000
    method = folder / "quick.json"
    method.write_text(json.dumps(document), encoding="utf-8")
    registry = folder / "registry.json"
    assert cli.main(["methods", "approve", str(method), "--by", "test steward", "--registry", str(registry)]) == 0
    out = folder / "out"
    assert cli.main(_link_args(files, out, method, registry, "--seed", "4")) == 0
    return files, method, registry, out


def _link_args(files, out, method, registry, *extra):
    return [str(a) for a in ("link", files["left"], files["right"], "--out", out, "--method", method,
                             "--registry", registry, "--quiet", *extra)]


def test_link_writes_every_output_and_a_true_run_record(setup):
    files, _, _, out = setup
    crosswalk = pd.read_csv(out / "crosswalk.tsv", sep="\t", dtype=str)
    assert list(crosswalk.columns) == ["left_id", "right_id", "match_probability", "match_weight", "pass"]
    truth = pd.read_csv(files["truth"], sep="\t", dtype=str)
    found = set(zip(crosswalk.left_id, crosswalk.right_id))
    true = set(zip(truth.left_id, truth.right_id))
    assert 2 * len(found & true) / (len(found) + len(true)) > 0.95
    record = json.loads((out / "run.json").read_text())
    for key in ("software", "mode", "seed", "inputs", "method", "thresholds", "passes", "parameters",
                "field_null_rates", "weight_histogram", "estimates", "outputs", "timings", "started", "finished"):
        assert key in record
    assert record["seed"] == 4
    assert record["inputs"][0]["sha256"] == hashlib.sha256(files["left"].read_bytes()).hexdigest()
    assert record["inputs"][1]["rows"] == len(pd.read_csv(files["right"], sep="\t", dtype=str))
    assert record["method"]["approved_by"] == "test steward"
    for entry in record["outputs"]:
        assert hashlib.sha256((out / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    assert {"crosswalk.tsv", "review.tsv", "id_matrix.tsv", "rejections.tsv", "quality.html"} <= {
        o["file"] for o in record["outputs"]}
    assert not list(out.glob(".*"))   # no temporary files left behind
    review = pd.read_csv(out / "review.tsv", sep="\t", dtype=str)
    assert {"first_name_left", "first_name_right", "first_name_level"} <= set(review.columns)


def test_id_matrix_holds_only_synthetic_ids(setup):
    files, _, _, out = setup
    matrix = pd.read_csv(out / "id_matrix.tsv", sep="\t", dtype=str)
    assert not PERSONAL & set(matrix.columns)
    left = pd.read_csv(files["left"], sep="\t", dtype=str, keep_default_na=False)
    right = pd.read_csv(files["right"], sep="\t", dtype=str, keep_default_na=False)
    assert set(matrix["left_id"]) <= set(left["SyntheticID"])
    assert set(matrix["right_id"]) <= set(right["SyntheticID"])
    personal_values = (set(left["LastName"]) | set(left["DOB"]) | set(right["SSN"])) - {""}
    assert not personal_values & set(matrix.to_numpy().ravel())


def test_rerun_without_network_gives_byte_identical_outputs(setup, tmp_path, monkeypatch):
    files, method, registry, first = setup

    def refuse(*args, **kwargs):
        raise AssertionError("the matching engine tried to open a network socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert cli.main(_link_args(files, tmp_path / "again", method, registry, "--seed", "4")) == 0
    for name in ("crosswalk.tsv", "review.tsv", "id_matrix.tsv", "rejections.tsv"):
        assert (tmp_path / "again" / name).read_bytes() == (first / name).read_bytes()


def test_dedupe_writes_clusters(setup, tmp_path):
    files, method, registry, linked = setup
    out = tmp_path / "d"
    shutil.copytree(linked, out)   # an earlier link run's outputs in the same folder
    assert cli.main([str(a) for a in ("dedupe", files["dedupe"], "--out", out, "--method", method,
                                      "--registry", registry, "--quiet")]) == 0
    clusters = pd.read_csv(out / "clusters.tsv", sep="\t", dtype=str)
    rows = pd.read_csv(files["dedupe"], sep="\t", dtype=str)
    assert list(clusters.columns) == ["record_id", "cluster_id"]
    assert set(clusters.record_id) == set(rows.SyntheticID)
    assert clusters.cluster_id.nunique() < len(clusters)
    assert json.loads((out / "run.json").read_text())["mode"] == "dedupe"
    assert not (out / "crosswalk.tsv").exists()


def test_unapproved_method_is_refused_with_a_message(setup, tmp_path, registry, capsys):
    files = setup[0]
    method = json.loads(standard_method_path().read_text(encoding="utf-8"))
    method["version"] = 2
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(method), encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(_link_args(files, out, path, registry.path)) == 2
    assert "not in the approved-methods registry" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
    assert cli.main(["methods", "approve", str(path), "--by", "DGB chair", "--registry", str(registry.path)]) == 0
    assert cli.main(["methods", "list", "--registry", str(registry.path)]) == 0
    listing = capsys.readouterr().out
    assert "p20win-standard v2" in listing and "DGB chair" in listing and "built-in" in listing


def test_interrupt_removes_partial_outputs(setup, tmp_path, monkeypatch, capsys):
    files, method, registry, _ = setup
    out = tmp_path / "out"
    real_write = run._write_quality

    def interrupted(outputs, record):   # Ctrl-C after the tables are written, before run.json
        real_write(outputs, record)
        raise KeyboardInterrupt

    monkeypatch.setattr("app.matching.run._write_quality", interrupted)
    assert cli.main(_link_args(files, out, method, registry)) == 130
    assert list(out.iterdir()) == []
    assert "interrupted" in capsys.readouterr().err


def test_bad_input_file_is_a_clear_error(tmp_path, quick_method_path, registry, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_bytes(b"\x00\x01\x02binary")
    code = cli.main([str(a) for a in ("dedupe", bad, "--out", tmp_path / "o", "--method", quick_method_path,
                                      "--registry", registry.path, "--quiet")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("p20win-match: ") and "Traceback" not in err


def test_module_entry_point_runs_headless():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run([sys.executable, "-m", "app.matching", "--version"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("p20win-match ")


def test_labelled_pairs_file_is_read_and_checked(setup, tmp_path, capsys):
    files, method, registry, _ = setup
    truth = pd.read_csv(files["truth"], sep="\t", dtype=str).head(30)
    labels = tmp_path / "labels.tsv"
    truth.assign(is_match="yes").to_csv(labels, sep="\t", index=False)
    assert cli.main(_link_args(files, tmp_path / "o", method, registry, "--labels", str(labels))) == 0
    assert json.loads((tmp_path / "o" / "run.json").read_text())["parameters"]["labelled_pairs"] == 30
    truth.assign(is_match="perhaps").to_csv(labels, sep="\t", index=False)
    assert cli.main(_link_args(files, tmp_path / "o2", method, registry, "--labels", str(labels))) == 2
    assert "is_match must be 1/0 or yes/no" in capsys.readouterr().err


def test_passes_and_cut_offs_chosen_by_hand_between_scoring_and_writing(setup, tmp_path):
    files, method, registry, _ = setup
    seen = []

    def choose(bands, allowed):
        seen.append((allowed, bands(None), bands([])))
        return {"passes": [], "lower": 0.3, "threshold": 0.6, "upper": 0.95}

    record = run.run_match("link", [files["left"], files["right"]], tmp_path, method_path=method,
                           registry_path=registry, seed=4, choose=choose)
    allowed, every, chosen_bands = seen[0]
    assert allowed and every.deterministic and not chosen_bands.deterministic
    assert record["thresholds"] == {"lower": 0.3, "threshold": 0.6, "upper": 0.95,
                                    "set_by_hand": ["lower", "threshold", "upper"]}
    report = (tmp_path / "quality.html").read_text(encoding="utf-8")
    assert "set by hand" in report and all(name in report.split("left out for this run")[1][:300] for name in allowed)
    assert record["deterministic_passes_skipped"] == allowed
    predicted = chosen_bands.counts(0.6, 0.3, 0.95)
    crosswalk = pd.read_csv(tmp_path / "crosswalk.tsv", sep="\t", dtype=str)
    review = pd.read_csv(tmp_path / "review.tsv", sep="\t", dtype=str)
    assert (predicted["matches"], predicted["review"]) == (len(crosswalk), len(review))
    assert set(crosswalk["pass"]) == {"probabilistic"}

    def cancel(bands, allowed):
        raise run.engine.MatchCancelled("changed my mind")

    with pytest.raises(run.engine.MatchCancelled):
        run.run_match("link", [files["left"], files["right"]], tmp_path / "cancelled", method_path=method,
                      registry_path=registry, choose=cancel)
    assert not (tmp_path / "cancelled").exists()


def test_skip_pass_leaves_a_deterministic_pass_out_and_refuses_unknown_names(setup, tmp_path, capsys):
    files, method, registry, out = setup
    used = json.loads((out / "run.json").read_text())
    ran = [p["name"] for p in used["passes"] if p["kind"] == "deterministic"]
    assert ran
    assert cli.main(_link_args(files, tmp_path / "skipped", method, registry, "--skip-pass", ran[0])) == 0
    record = json.loads((tmp_path / "skipped" / "run.json").read_text())
    assert record["deterministic_passes_skipped"] == [ran[0]]
    assert ran[0] not in {p["name"] for p in record["passes"]}
    assert cli.main(_link_args(files, tmp_path / "nope", method, registry, "--skip-pass", "nope")) == 2
    assert "no deterministic pass nope" in capsys.readouterr().err
    assert not (tmp_path / "nope").exists()


def test_a_run_hands_its_working_data_to_retain(setup, tmp_path):
    files, method, registry, _ = setup
    kept: list = []   # as console() passes it, to be dropped by os._exit
    assert cli.main(_link_args(files, tmp_path / "a", method, registry), retain=kept) == 0
    assert any(isinstance(x, list) and any(isinstance(f, pd.DataFrame) and len(f) for f in x) for x in kept)
