"""The whole hub path through the real screen: intake → match → review by keyboard → deliver → destroy."""
from __future__ import annotations

import pandas as pd
from PySide6.QtCore import Qt

from tests.views.conftest import open_window  # noqa: F401 - fixture


def _register(qtbot, intake, path, agency_id):
    intake.path.setText(str(path))
    intake.check_button.click()
    qtbot.waitUntil(lambda: intake.register_button.isEnabled() or intake.notice.isVisible(), timeout=30_000)
    intake.sender.setCurrentIndex(intake.sender.findData(agency_id))
    intake.register_button.click()


def test_hub_workspace_whole_path(qtbot, hub_world, open_window, tmp_path):  # noqa: F811
    world, ready, waiting, files = hub_world
    coordinator = open_window(world.store, "cora")
    nav = coordinator.navigation
    assert [nav.item(i).isHidden() for i in range(nav.count()) if nav.item(i).text() == "Hub workspace"] == [True]

    window = open_window(world.store, "hank")
    assert any(window.navigation.item(i).text() == "Hub workspace" and not window.navigation.item(i).isHidden()
               for i in range(window.navigation.count()))
    page = window.show_screen("hub")
    hub = page.hub

    # Intake: refused without an executed DSA, with the service's reason.
    page.select_request(waiting)
    _register(qtbot, page.intake, files["left"], world.ag["SDE"])
    assert "no executed DSA" in page.intake.notice.text()
    assert hub.files() == []

    page.select_request(ready)
    _register(qtbot, page.intake, files["left"], world.ag["SDE"])
    assert "Registered" in page.intake.notice.text()
    assert "SHA-256" in page.intake.summary.text()
    _register(qtbot, page.intake, files["right"], world.ag["DOL"])
    assert page.intake.files.model.rowCount() == 2

    # Match: the wizard's steps, a cancelled run leaves nothing, then a full run.
    page.tabs.setCurrentWidget(page.match)
    match = page.match
    match.go(1)
    assert match.previews[0].rowCount() == 8
    assert match.column_maps() == [None, None]  # P20 WIN headers map to themselves
    match.go(2)
    match.run_button.click()
    match.cancel_button.click()
    qtbot.waitUntil(lambda: not match.running, timeout=60_000)
    assert "Cancelled" in match.notice.text() and hub.runs() == []
    assert not any(page.work_root.glob("*-run-*/run.json"))

    # Scored, the child waits: passes and thresholds are chosen with live counts, then written.
    match.run_button.click()
    qtbot.waitUntil(lambda: match.waiting, timeout=90_000)
    assert match.stack.currentIndex() == 3 and match.write_button.isEnabled()
    bands = match.bands
    model = bands.counts(bands.threshold, bands.lower, bands.upper)
    assert match.count_labels["matches"].text() == f"{model['matches']:,}"
    assert match.count_labels["review"].text() == f"{model['review']:,}"
    dropped = match.allowed[0]
    match.pass_boxes[dropped].setChecked(False)   # asked of the waiting child: counts follow
    assert not match.write_button.isEnabled()
    qtbot.waitUntil(lambda: match.bands is not bands and match.write_button.isEnabled(), timeout=30_000)
    assert dropped not in [d["name"] for d in match.bands.deterministic]
    assert "off" in match.pass_boxes[dropped].text()
    match.auto_threshold.setChecked(False)
    match.upper.setValue(0.995)
    match.threshold.setValue(0.6)
    match.lower.setValue(0.2)
    chosen = match.bands.counts(0.6, 0.2, 0.995)
    assert match.count_labels["review"].text() == f"{chosen['review']:,}"
    # The chart follows: log2(0.6 / 0.4) = 0.58, log2(0.2 / 0.8) = -2.
    assert "accept threshold at weight 0.6" in match.choice_histogram.accessibleDescription()
    assert "lower threshold at weight -2.0" in match.choice_histogram.accessibleDescription()
    match.threshold.setValue(0.1)   # below "review from": refused with a reason, nothing to write
    assert not match.write_button.isEnabled() and "in order" in match.notice.text()
    match.threshold.setValue(0.6)
    assert match.write_button.isEnabled()
    match.write_button.click()
    qtbot.waitUntil(lambda: not match.running, timeout=90_000)
    assert "written" in match.notice.text(), match.notice.text()
    assert match.stack.currentIndex() == 4
    run = hub.runs()[0]
    assert run.record["thresholds"] == {"lower": 0.2, "threshold": 0.6, "upper": 0.995,
                                        "set_by_hand": ["lower", "threshold", "upper"]}
    assert run.record["deterministic_passes_skipped"] == [dropped]
    crosswalk = pd.read_csv(f"{run.out_dir}/crosswalk.tsv", sep="\t", dtype=str)
    assert len(crosswalk) == chosen["matches"]
    assert sum(match.results.histogram.counts) > 0
    assert match.results.passes.model.rowCount() == len(run.record["passes"])
    # The finished run's linked pairs, each with its why.
    qtbot.waitUntil(lambda: match.results.pairs.model.rowCount() == len(crosswalk), timeout=30_000)

    # Review with the keyboard: Y, N, S then U withdraws the skip.
    page.tabs.setCurrentWidget(page.review)
    review = page.review
    pairs = review.pairs
    assert len(pairs) >= 3
    first, second = (pairs.iloc[i][["left_id", "right_id"]].tolist() for i in (0, 1))
    for key in (Qt.Key.Key_Y, Qt.Key.Key_N, Qt.Key.Key_S, Qt.Key.Key_U):
        qtbot.keyClick(review.panel, key)
    decided = [(d.left_id, d.right_id, d.decision, d.reviewer) for d in hub.decisions(run.id)]
    assert decided == [(*first, "match", "hank"), (*second, "non-match", "hank")]
    assert review.position == 2 and "2 of" in review.progress.format()
    assert review.waterfall.parts and "<span" in review.comparison.text()

    # Deliver: a matrix that still holds a DOB column is refused; the final matrix goes with run.json.
    page.tabs.setCurrentWidget(page.deliver)
    deliver = page.deliver
    bad = tmp_path / "matrix_with_dob.tsv"
    pd.DataFrame({"left_id": ["K1"], "right_id": ["P1"], "DOB": ["20010304"]}).to_csv(bad, sep="\t", index=False)
    dest = tmp_path / "to-recipient"
    deliver.dest.setText(str(dest))
    deliver.matrix.setText(str(bad))
    deliver.deliver_button.click()
    qtbot.waitUntil(lambda: deliver.deliver_button.isEnabled(), timeout=30_000)
    assert "DOB" in deliver.notice.text() and not dest.exists()
    deliver.matrix.clear()
    deliver.deliver_button.click()
    qtbot.waitUntil(lambda: deliver.deliver_button.isEnabled(), timeout=30_000)
    assert "Delivered" in deliver.notice.text(), deliver.notice.text()
    final = pd.read_csv(dest / "id_matrix.tsv", sep="\t", dtype=str)
    pairs_out = set(zip(final["left_id"], final["right_id"]))
    assert tuple(second) not in pairs_out
    assert tuple(first) in pairs_out or final["left_id"].eq(first[0]).any() or final["right_id"].eq(first[1]).any()
    assert list(final.columns) == ["left_id", "right_id"] and (dest / "run.json").exists()

    # Match log: stewards confirm, the deadline appears; destroy; certificate and a complete log.
    page.tabs.setCurrentWidget(page.log)
    log = page.log
    log.log.view.selectRow(0)
    log.confirm()
    assert log.due.model.rowCount() >= 1
    assert not log.destroy_button.isEnabled()
    log.understood.setChecked(True)
    log.destroy_button.click()
    qtbot.waitUntil(lambda: log.certificate_path is not None or "not" in log.notice.text(), timeout=30_000)
    assert log.certificate_path.read_bytes().startswith(b"%PDF")
    assert not files["left"].exists() and not files["right"].exists()
    assert not any(page.work_root.glob("*-run-*"))
    for row in world.hub.matchlog.page(request_id=ready):
        assert all([row.files_received_on, row.sender_agency, row.received_by, row.file_name, row.fields_included,
                    row.matched_on, row.id_matrix_sent_on, row.id_matrix_sent_to == "Dr Rep",
                    row.inputs_destroyed_on])
    assert any(c.kind.value == "hub_inputs" for c in world.hub.matchlog.certificates(ready))


def test_locking_while_the_child_waits_cancels_and_keeps_nothing(qtbot, hub_world, open_window):  # noqa: F811
    world, ready, _, files = hub_world
    window = open_window(world.store, "hank")
    page = window.show_screen("hub")
    hub = page.hub
    page.select_request(ready)
    for role, agency in (("left", "SDE"), ("right", "DOL")):
        _register(qtbot, page.intake, files[role], world.ag[agency])
    page.tabs.setCurrentWidget(page.match)
    match = page.match
    match.go(2)
    match.run_button.click()
    assert window.busy()   # scoring: an idle lock waits
    qtbot.waitUntil(lambda: match.waiting, timeout=90_000)
    assert not window.busy()   # waiting for a person: the lock may come, and it must not leave the data behind
    window.stop_work()
    assert not match.running and hub.runs() == []
    assert not any(page.work_root.glob("*-run-*/*"))
