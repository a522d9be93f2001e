"""The services' speed on real encrypted stores: demo build, list paging over 100k rows, life-cycle checks
and audit verification. Prints medians of ``--repeat`` runs.

    uv run python bench/bench_services.py --repeat 5 --rows 100000
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.services import Desk  # noqa: E402
from app.services.demo import build_benchmark, build_demo  # noqa: E402
from app.services.setup import initialise_store  # noqa: E402
from app.store import KdfParams  # noqa: E402

USER, PASSPHRASE = "admin", "benchmark passphrase"


def _median_ms(action, repeat: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store, _ = initialise_store(Path(folder) / "bench.p20store", USER, PASSPHRASE, "Bench", kdf=KdfParams(n=2**10))
        start = time.perf_counter()
        summary = build_demo(store, USER, seed=20, as_of=date(2026, 6, 15))
        print(f"demo build: {time.perf_counter() - start:.1f} s ({summary.requests} requests, "
              f"{summary.audit_events} audit events; one run)")
        start = time.perf_counter()
        build_benchmark(store, USER, communications=args.rows, requests=args.rows)
        print(f"bulk load {args.rows:,} communications + {args.rows:,} requests: {time.perf_counter() - start:.1f} s")
        desk = Desk(store, USER)
        r = args.repeat
        last = args.rows - 200
        rows = [
            ("communications.page(0, 200)", lambda: desk.communications.page(limit=200)),
            (f"communications.page({last:,}, 200)", lambda: desk.communications.page(offset=last, limit=200)),
            ("communications.count()", desk.communications.count),
            ("communications.count(search='message 99')", lambda: desk.communications.count(search="message 99")),
            ("requests.page(0, 200)", lambda: desk.requests.page(limit=200)),
            (f"requests.page({last:,}, 200)", lambda: desk.requests.page(offset=last, limit=200)),
            ("requests.count(states=[closed])", lambda: desk.requests.count(states=["closed"])),
            ("requests.transitions(demo request)", lambda: desk.requests.transitions(5)),
            ("requests.deadlines() (demo requests)", desk.requests.deadlines),
            ("audit.verify() (whole chain)", desk.audit.verify),
        ]
        print(f"{'operation':<44} median ms (of {r})")
        for label, action in rows:
            print(f"{label:<44} {_median_ms(action, r):9.1f}")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
