"""How long the hub's Results view keeps the GUI thread from its events while it shows a large run.

    uv run python bench/bench_results.py [--pairs 800000] [--repeat 3]

Writes a synthetic run folder (crosswalk.tsv and crosswalk_levels.npy of --pairs linked pairs, IDs only, and a
run record with six comparisons), then, per repeat, shows it in a fresh ``RunResults`` on the real event loop
while a 5 ms QTimer measures how late the GUI thread answers. Prints the background load time, the worst and
99th-percentile lateness while loading and filling the table, and the time of a search and of a sort.
Medians over the repeats.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench.bench_hub_gui import late_ticks, measure_idle  # noqa: E402


def synthetic_run(folder: Path, pairs: int):  # noqa: ANN201 - RunInfo
    from app.services.hub import RunInfo

    rng = np.random.default_rng(7)
    weights = rng.normal(20, 8, pairs)
    probability = 1 / (1 + 2.0 ** -weights)
    passes = np.where(rng.random(pairs) < 0.4, "ssn+last_name", "probabilistic")
    lines = ["left_id\tright_id\tmatch_probability\tmatch_weight\tpass"]
    lines += [f"K{i:09d}\tP{(i * 7919) % 10**9:09d}\t{p:.6f}\t{w:.6f}\t{s}"
              for i, (p, w, s) in enumerate(zip(probability.tolist(), weights.tolist(), passes.tolist()))]
    (folder / "crosswalk.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    comparisons = [{"name": name, "levels": [{"label": label, "m": 0.5, "u": 0.01, "weight": 5.6}
                                             for label in ("exact", "close", "else")]}
                   for name in ("first_name", "middle_name", "last_name", "dob", "gender", "ssn")]
    with open(folder / "crosswalk_levels.npy", "wb") as handle:
        np.save(handle, rng.integers(0, 4, (pairs, len(comparisons)), dtype=np.uint8), allow_pickle=False)
    record = {"parameters": {"lambda": 1e-5, "comparisons": comparisons},
              "passes": [{"name": "probabilistic", "kind": "probabilistic", "pairs": pairs, "matches": pairs,
                          "review": 0}],
              "thresholds": {"lower": 0.1, "threshold": 0.5, "upper": 0.9}, "estimates": {},
              "weight_histogram": {"edges": [0.0, 1.0], "counts": [pairs]}}
    return RunInfo(1, 1, "Q0001", 1, 2, "synthetic", str(folder), record, False, datetime.now(UTC), None, "", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=800_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    from app.views.hub.results import RunResults

    folder = Path(tempfile.mkdtemp(prefix="bench-results-"))
    t = time.perf_counter()
    run = synthetic_run(folder, args.pairs)
    print(f"{args.pairs:,} pairs written in {time.perf_counter() - t:.1f} s; load average {os.getloadavg()[0]:.1f}")
    idle = measure_idle(app, 2.0)
    print(f"idle baseline (2 s, nothing running): GUI late at most {idle[-1]:.0f} ms "
          f"(99th percentile {idle[int(len(idle) * 0.99)]:.0f} ms)")
    worst, p99, loaded, searched, sorted_ = [], [], [], [], []
    for n in range(args.repeat):
        view = RunResults()
        view.resize(1280, 800)
        view.show()
        started = time.perf_counter()
        view.set_run(run)
        late = late_ticks(app, lambda view=view: view.pairs.model.rowCount() == args.pairs)
        loaded.append(time.perf_counter() - started)
        late += late_ticks(app, lambda: True)   # one more turn: the table's first paint
        late.sort()
        worst.append(late[-1])
        p99.append(late[int(len(late) * 0.99)])
        t = time.perf_counter()
        view.search.setText("K00012345")
        view._apply_search()
        app.processEvents()
        searched.append(time.perf_counter() - t)
        t = time.perf_counter()
        view.pairs.view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        app.processEvents()
        sorted_.append(time.perf_counter() - t)
        print(f"run {n + 1}: shown in {loaded[-1]:.2f} s, GUI late at most {worst[-1]:.0f} ms "
              f"(99th percentile {p99[-1]:.0f} ms), search {searched[-1]:.2f} s, sort {sorted_[-1]:.2f} s",
              flush=True)
        view.close()
        view.deleteLater()
    med = statistics.median
    print(f"medians over {args.repeat}: shown {med(loaded):.2f} s, GUI late at most {med(worst):.0f} ms "
          f"(99th percentile {med(p99):.0f} ms), search {med(searched):.2f} s, sort {med(sorted_):.2f} s")


if __name__ == "__main__":
    main()
