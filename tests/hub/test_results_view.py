"""The hub's run results: passes, the m/u chart and every linked pair's "why", after a real run."""
from __future__ import annotations

import csv

import pandas as pd
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from app.services.hub import HubService, match_files
from app.views.hub import results as results_module
from app.views.hub.charts import AGREE, U_COLOUR, LevelChart
from app.views.hub.results import RunResults
from tests.views.conftest import open_window  # noqa: F401 - fixture


@pytest.fixture
def recorded_run(registered, tmp_path):
    """(world, request id, RunInfo) of a real run of the generated files, recorded by hank."""
    world, hub, ready, left, right = registered
    out = tmp_path / "work" / "run"
    record = match_files(hub.file(left), hub.file(right), out)
    return world, ready, hub.run(hub.record_run(ready, left, right, out, record))


def _crosswalk(run) -> pd.DataFrame:
    return pd.read_csv(f"{run.out_dir}/crosswalk.tsv", sep="\t", dtype=str, keep_default_na=False,
                       quoting=csv.QUOTE_NONE)


def _parts_total(view: RunResults) -> float:
    return sum(w for _, w in view.waterfall.parts)


def test_results_tab_shows_passes_levels_and_why_of_any_linked_pair(qtbot, recorded_run, open_window):  # noqa: F811
    world, ready, run = recorded_run
    window = open_window(world.store, "hank")
    page = window.show_screen("hub")
    page.select_request(ready)
    tab = page.results
    assert tab.results.run is None  # a hidden tab reads no crosswalk
    page.tabs.setCurrentWidget(page.results)
    assert tab.runs.count() == 1 and tab.runs.itemText(0).startswith(f"Run {run.id} — ")
    view = tab.results
    record = run.record

    shown = [view.passes.model.row_at(i).name for i in range(view.passes.model.rowCount())]
    assert shown == [p["name"] for p in record["passes"]] and len(shown) >= 2
    description = view.level_chart.accessibleDescription()
    for comparison in record["parameters"]["comparisons"]:
        assert f"{comparison['name']}:" in description
    assert view.levels.model.rowCount() == sum(len(c["levels"]) for c in record["parameters"]["comparisons"])

    crosswalk = _crosswalk(run)
    assert view.pairs.model.rowCount() == len(crosswalk) > 100
    assert not view.why_note.isVisible()

    # A linked pair that is not in the review band, found by searching both its IDs.
    review = pd.read_csv(f"{run.out_dir}/review.tsv", sep="\t", dtype=str, keep_default_na=False)
    in_review = set(zip(review["left_id"], review["right_id"]))
    outside = pd.Series([(l, r) not in in_review for l, r in zip(crosswalk["left_id"], crosswalk["right_id"])],
                        index=crosswalk.index)
    pair = crosswalk[outside & (crosswalk["pass"] == "probabilistic")].iloc[0]
    qtbot.keyClicks(view.search, f"{pair['left_id']} {pair['right_id']}")
    qtbot.keyClick(view.search, Qt.Key.Key_Return)
    assert view.pairs.proxy.rowCount() == 1
    assert view.count.text() == f"1 of {len(crosswalk):,} pairs"
    view.pairs.view.selectRow(0)
    chosen = view.selected_pair()
    assert (chosen["left_id"], chosen["right_id"]) == (pair["left_id"], pair["right_id"])
    assert _parts_total(view) == pytest.approx(float(pair["match_weight"]), abs=1e-3)
    labels = [label.split(":")[0] for label, _ in view.waterfall.parts]
    assert labels[1:1 + len(record["parameters"]["comparisons"])] == [c["name"] for c in
                                                                         record["parameters"]["comparisons"]]
    assert view.waterfall.threshold is not None

    # Sorted by weight, highest first: the first row is the crosswalk's heaviest pair and explains it.
    view.search.clear()
    view.search.returnPressed.emit()
    view.pairs.view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    view.pairs.view.selectRow(0)
    heaviest = crosswalk.loc[crosswalk["match_weight"].astype(float).idxmax()]
    assert view.selected_pair()["left_id"] == heaviest["left_id"]
    assert _parts_total(view) == pytest.approx(float(heaviest["match_weight"]), abs=1e-3)


def test_run_without_kept_levels_says_so_and_draws_no_waterfall(qtbot, recorded_run):
    _, _, run = recorded_run
    (results_module.Path(run.out_dir) / "crosswalk_levels.npy").unlink()
    view = RunResults()
    qtbot.addWidget(view)
    view.show()
    view.set_run(run)
    assert view.why_note.isVisible() and "levels are not kept" in view.why_note.text()
    assert view.pairs.model.rowCount() == len(_crosswalk(run))  # the pairs are still listed
    view.pairs.view.selectRow(0)
    assert view.selected_pair() is not None and view.waterfall.parts == []


def test_large_crosswalk_loads_in_background_and_a_stale_load_is_dropped(qtbot, recorded_run, monkeypatch):
    _, _, run = recorded_run
    monkeypatch.setattr(results_module, "LARGE_CROSSWALK_BYTES", 0)
    view = RunResults()
    qtbot.addWidget(view)
    view.set_run(run)
    assert view.loading is not None and view.pairs.model.rowCount() == 0
    qtbot.waitUntil(lambda: view.pairs.model.rowCount() == len(_crosswalk(run)), timeout=10_000)
    assert not view.why_note.isVisible()

    view.set_run(None)
    view.set_run(run)  # a new load; the previous run's is left to finish, then dropped
    job = view.loading
    view.set_run(None)
    qtbot.waitUntil(lambda: not job.is_running, timeout=10_000)
    assert view.pairs.model.rowCount() == 0 and view.links.empty


def test_crosswalk_gone_or_damaged_is_said_in_words(qtbot, recorded_run):
    _, _, run = recorded_run
    crosswalk = results_module.Path(run.out_dir) / "crosswalk.tsv"
    crosswalk.unlink()
    view = RunResults()
    qtbot.addWidget(view)
    view.set_run(run)
    assert "is gone" in view.why_note.text() and view.pairs.model.rowCount() == 0
    crosswalk.write_bytes(b"=cmd()\t<b>\n\xff\xfe\t1\n")
    view.set_run(None)
    view.set_run(run)
    assert "cannot be read as a crosswalk" in view.why_note.text() and view.pairs.model.rowCount() == 0


def test_level_chart_paints_m_and_u_or_says_no_run(qtbot, recorded_run):
    _, _, run = recorded_run

    def colours_in(chart: LevelChart) -> set[str]:
        image = chart.grab().toImage()
        return {QColor(image.pixel(x, y)).name() for x in range(0, image.width(), 2)
                for y in range(0, image.height(), 2)}

    chart = LevelChart()
    qtbot.addWidget(chart)
    chart.resize(400, 300)
    chart.set_run(run.record)
    painted = colours_in(chart)
    assert {AGREE.lower(), U_COLOUR.lower()} <= painted
    chart.set_run({})
    assert AGREE.lower() not in colours_in(chart) and chart.accessibleDescription() == ""


def test_open_two_person_review_hides_the_linked_pairs_until_round_two_is_done(qtbot, recorded_run, open_window):  # noqa: F811
    world, ready, run = recorded_run
    hub = HubService(world.hub)
    blind = hub.run(hub.record_run(ready, run.left_file_id, run.right_file_id, run.out_dir, run.record,
                                   two_person_review=True))
    window = open_window(world.store, "hank")
    page = window.show_screen("hub")
    page.select_request(ready)
    page.tabs.setCurrentWidget(page.results)
    tab = page.results
    tab.runs.setCurrentIndex(tab.runs.findData(blind.id))
    assert tab.results.pairs.model.rowCount() == 0 and "two-person" in tab.results.why_note.text()
    tab.runs.setCurrentIndex(tab.runs.findData(run.id))   # a one-person run lists its pairs
    assert tab.results.pairs.model.rowCount() > 0
    review = pd.read_csv(f"{run.out_dir}/review.tsv", sep="\t", dtype=str, keep_default_na=False)
    for left_id, right_id in zip(review["left_id"], review["right_id"]):
        hub.decide(blind.id, left_id, right_id, "match")
    second = HubService(world.desk)   # round 2 is someone else's
    for left_id, right_id in zip(review["left_id"], review["right_id"]):
        second.decide(blind.id, left_id, right_id, "match", round=2)
    tab.refresh()
    tab.runs.setCurrentIndex(tab.runs.findData(blind.id))
    assert tab.results.pairs.model.rowCount() == len(_crosswalk(run))
