"""Retake the report pictures in this folder: every page of the annual report and page 1 of each other
report, rendered from a fresh demo store at 60 dpi (``pdftoppm``, from poppler-utils).

    uv run python docs/reports/retake.py

Takes about a minute (most of it building the demo store). Look at every picture after retaking them.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from sqlalchemy import select  # noqa: E402

from app.models import DataSharingAgreement, FundDistribution, Invoice, Meeting  # noqa: E402
from app.reports import render  # noqa: E402
from app.reports.formatting import fiscal_year_bounds, fiscal_year_of  # noqa: E402
from app.services import Desk  # noqa: E402
from app.services.demo import build_demo  # noqa: E402
from app.services.reporting import ReportingService  # noqa: E402
from app.services.setup import initialise_store  # noqa: E402
from app.store import KdfParams  # noqa: E402

AS_OF = date(2026, 7, 15)
YEARS = 3


def main() -> int:
    for old in HERE.glob("*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store, _ = initialise_store(folder / "demo.p20store", "admin", "demo passphrase, pictures only", "Admin",
                                    kdf=KdfParams(n=2**10, r=8, p=1))
        try:
            build_demo(store, "admin", seed=20, years=YEARS, as_of=AS_OF)
            r = ReportingService(Desk(store, "admin"))
            with store.read_session() as s:
                request_id = s.scalar(select(DataSharingAgreement.request_id).order_by(DataSharingAgreement.id))
                invoice_id = s.scalar(select(Invoice.id).order_by(Invoice.id))
                meeting_id = s.scalar(select(Meeting.id).where(Meeting.motions.any()).order_by(Meeting.id.desc()))
                agency_id = s.scalar(select(FundDistribution.agency_id))
            # Show the fullest complete year (the demo's newest requests are still early in their life cycle,
            # so its latest year has little delivered yet).
            first = fiscal_year_of(AS_OF) - YEARS
            candidates = [r.annual(fy, as_of=AS_OF) for fy in range(first, fiscal_year_of(AS_OF))]
            annual = max(candidates, key=lambda d: (d.totals.fulfilled + d.matches_run, d.fiscal_year))
            start, end = fiscal_year_bounds(annual.fiscal_year)
            reports = {
                "annual": (annual, None),
                "request-status": (r.request_status(as_of=AS_OF), 1),
                "dsa-register": (r.dsa_register(as_of=AS_OF), 1),
                "meeting": (r.meeting(meeting_id, as_of=AS_OF), 1),
                "invoice": (r.invoice(invoice_id, as_of=AS_OF), 1),
                "distribution-letter": (r.distribution_letter(agency_id, start, end, as_of=AS_OF), 1),
                "destruction-certificate": (r.destruction_certificate(request_id, as_of=AS_OF), 1),
                "audit": (r.audit(date(2000, 1, 1), date.today()), 1),  # events carry real times
            }
        finally:
            store.close()
        for name, (data, last_page) in reports.items():
            pdf = folder / f"{name}.pdf"
            pages = render(data, pdf)
            args = ["pdftoppm", "-r", "60", "-png"] + (["-f", "1", "-l", str(last_page)] if last_page else [])
            subprocess.run([*args, str(pdf), str(HERE / name)], check=True)
            print(f"{name}: {pages} page{'s' if pages != 1 else ''}")
    for png in sorted(HERE.glob("*.png")):
        print(f"{png.name}: {png.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
