"""Annual report for a 10-year demo store: query + render time, median of ``--repeat`` runs (target < 5 s).

Builds the demo store in a temporary folder (about a minute), or reuses one given with ``--store`` (user
``admin``, passphrase ``$P20WIN_PASSPHRASE``). Also times every other report once for scale. Prints a table.

    uv run python bench/bench_reports.py [--years 10] [--repeat 3] [--store PATH]
"""
from __future__ import annotations

import argparse
import os
import statistics
from collections import Counter
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from app.models import AuditEvent, DataRequest, Invoice, Meeting  # noqa: E402
from app.reports import render  # noqa: E402
from app.reports.formatting import fiscal_year_of  # noqa: E402
from app.services import Desk  # noqa: E402
from app.services.demo import build_demo  # noqa: E402
from app.services.reporting import ReportingService  # noqa: E402
from app.services.setup import initialise_store  # noqa: E402
from app.store import KdfParams, Store  # noqa: E402

PASSPHRASE = "bench passphrase, demo data only"


def _timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", type=Path, help="reuse this store instead of building a demo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.store:
            store = Store.open(args.store, "admin", os.environ.get("P20WIN_PASSPHRASE", PASSPHRASE))
        else:
            build_s, (store, _) = _timed(lambda: initialise_store(folder / "bench.p20store", "admin", PASSPHRASE,
                                                                  "Bench", kdf=KdfParams(n=2**10, r=8, p=1)))
            build_s += _timed(lambda: build_demo(store, "admin", seed=20, years=args.years))[0]
            print(f"built a {args.years}-year demo store in {build_s:.1f} s")
        try:
            reports = ReportingService(Desk(store, "admin"))
            with store.read_session() as s:
                events = s.scalar(select(func.count()).select_from(AuditEvent))
                requests = s.scalar(select(func.count()).select_from(DataRequest))
                received = list(s.scalars(select(DataRequest.received_on)))
                invoice = s.scalar(select(Invoice.number).limit(1))
                meeting = s.scalar(select(Meeting.id).where(Meeting.motions.any()).limit(1))
            # The busiest fiscal year: the report with the most in it.
            fy = Counter(fiscal_year_of(d) for d in received).most_common(1)[0][0] if received else 2026
            print(f"store: {requests} requests, {events} audit events; annual report for FY{fy}")
            rows = []
            query_t, render_t, total_t, pages = [], [], [], 0
            for _ in range(args.repeat):
                q, data = _timed(lambda: reports.annual(fy))
                r, pages = _timed(lambda: render(data, folder / "annual.pdf"))
                query_t.append(q), render_t.append(r), total_t.append(q + r)
            rows.append(("annual (median of %d)" % args.repeat, statistics.median(query_t),
                         statistics.median(render_t), statistics.median(total_t), pages))
            others = {
                "request status (all open)": lambda: reports.request_status(),
                "DSA register": lambda: reports.dsa_register(),
                "audit report (all events)": lambda: reports.audit(date(2000, 1, 1), date.today()),
                "invoice": lambda: reports.invoice(reports.invoice_id(invoice)),
                "meeting minutes": lambda: reports.meeting(meeting),
            }
            for name, query in others.items():
                q, data = _timed(query)
                r, n = _timed(lambda: render(data, folder / "other.pdf"))
                rows.append((name, q, r, q + r, n))
        finally:
            store.close()
    print(f"{'report':28} {'query s':>8} {'render s':>9} {'total s':>8} {'pages':>6}")
    for name, q, r, t, n in rows:
        print(f"{name:28} {q:8.2f} {r:9.2f} {t:8.2f} {n:6d}")
    verdict = "meets" if rows[0][3] < 5 else "MISSES"
    print(f"annual report: {rows[0][3]:.2f} s median, {verdict} the 5 s target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
