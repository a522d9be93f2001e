"""How fast the desktop application feels: prints medians of several runs.

1. Cold start: the real program, `p20win --demo --self-test`, from process start to the main window shown
   with an idle event loop (the demo store's slot uses the cheap demo KDF: its passphrase is public).
   Goal < 1.5 s.
2. A 100,000-row list: time to show it, then to apply a search and a column filter. Goal < 0.5 s each.

    uv run python bench/bench_gui.py [--store PATH] [--runs 5]

Without --store it uses the demo store of ``p20win --demo`` (created first when absent, which takes a while).
"""
from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

def cold_start(store: Path, runs: int) -> None:
    """Time the real program (`p20win --demo --self-test`): process start to the main window shown and idle.

    Bytecode is compiled first: an installed copy has it, but this environment sets PYTHONDONTWRITEBYTECODE,
    which would otherwise add ~2 s of compiling to every start."""
    root = Path(__file__).resolve().parent.parent
    compileall.compile_dir(str(root / "app"), quiet=1)
    for site in {p for p in sys.path if p.endswith("site-packages")}:
        compileall.compile_dir(site, quiet=2, workers=0)  # quiet=2: a few templates are not Python
    walls, cpus = [], []
    for _ in range(runs):
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "app.cli", "--store", str(store), "--demo", "--self-test"],
                                 cwd=root, stdout=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        walls.append(time.perf_counter() - started)
        cpus.append(usage.ru_utime + usage.ru_stime)
        output = child.stdout.read()
        if status != 0 or "main window shown" not in output:
            raise SystemExit(f"the desk did not come up: {output!r}")
    print(f"cold start to interactive main window (p20win --demo --self-test): median {statistics.median(walls):.2f} s "
          f"over {runs} runs (min {min(walls):.2f}, max {max(walls):.2f}; goal < 1.5 s); "
          f"CPU {statistics.median(cpus):.2f} s; load average {os.getloadavg()[0]:.1f}")


def big_list(runs: int) -> None:
    from PySide6.QtWidgets import QApplication

    from app.views.list_page import ListPage
    from bench.list_rows import COLUMNS, make_rows

    rows, columns = make_rows(100_000), COLUMNS
    app = QApplication.instance() or QApplication([])
    show, search, column, sort = [], [], [], []
    cpu: dict[str, list[float]] = {"show": [], "search": [], "column": [], "sort": []}
    for _ in range(runs):
        page = ListPage("Bench", columns, settings_key="bench")
        page.resize(1280, 800)
        page.show()
        app.processEvents()
        steps = [("show", show, lambda: page.set_rows(rows)),
                 ("search", search, lambda: page.proxy.set_search("study 42")),
                 ("column", column, lambda: page.set_column_filter("stage", "Board review")),
                 ("sort", sort, lambda: (page.clear_filters(),
                                         page.table.sortByColumn(5, page.table.horizontalHeader().sortIndicatorOrder())))]
        for key, wall, step in steps:
            t, c = time.perf_counter(), time.process_time()
            step()
            app.processEvents()
            wall.append(time.perf_counter() - t)
            cpu[key].append(time.process_time() - c)
        page.close()
        page.deleteLater()
        app.processEvents()
    for name, key, values in [("show 100,000 rows", "show", show),
                              ("search (first search builds the text index)", "search", search),
                              ("column filter", "column", column), ("clear filters and sort by a money column", "sort", sort)]:
        print(f"{name}: median {statistics.median(values):.3f} s over {runs} runs, CPU {statistics.median(cpu[key]):.3f} s "
              "(goal < 0.5 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="a demo store (user demo, passphrase demo-passphrase)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    store = args.store
    if store is None:
        from app.store.paths import demo_store_path
        from app.views.application import make_qapplication, open_demo_store

        store = demo_store_path()
        if not store.exists():
            make_qapplication()
            print(f"creating the demo store at {store} (first run only)…", flush=True)
            open_demo_store(store).close()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    cold_start(store, args.runs)
    big_list(args.runs)


if __name__ == "__main__":
    main()
