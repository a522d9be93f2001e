"""`p20win report KIND ... --out F.pdf`: every report from the command line.

    p20win report annual --fiscal-year 2026 --out annual.pdf
    p20win report status [--request Q0042] --out status.pdf
    p20win report dsa-register --out register.pdf
    p20win report meeting --meeting 2026-04-21 [--board dgb] --out minutes.pdf
    p20win report invoice --invoice INV-2026-0007 --out invoice.pdf
    p20win report distribution --agency DOL --from 2025-07-01 --to 2026-06-30 --out letter.pdf
    p20win report destruction-certificate --request Q0042 --out certificate.pdf
    p20win report audit --from 2026-01-01 --to 2026-03-31 --out audit.pdf

The store is `--store` (default: the desk's default store), the user `--user` (default `$P20WIN_USER`, else the
login name), the passphrase `$P20WIN_PASSPHRASE` or a prompt. Exit status: 0 done, 1 refused, 2 usage.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    """Register `report` and its kinds on the `p20win` parser; each sets ``func(args) -> int``."""
    rep = subparsers.add_parser("report", help="PDF reports: annual report, registers, minutes, invoices ...",
                                description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = rep.add_subparsers(dest="report_kind", required=True, metavar="KIND")

    def kind(name: str, build: Callable[[Any, argparse.Namespace], object], help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--out", type=Path, required=True, metavar="FILE.pdf", help="where to write the PDF")
        p.add_argument("--store", type=Path, help="the store file (default: the desk's default store)")
        p.add_argument("--user", help="your user name in the store (default: $P20WIN_USER or login name)")
        p.set_defaults(func=lambda args: _run(args, build))
        return p

    p = kind("annual", lambda r, a: r.annual(a.fiscal_year), "annual report to the legislature for a fiscal year")
    p.add_argument("--fiscal-year", type=int, required=True, metavar="YEAR",
                   help="the year the fiscal year ends (2026 = July 1, 2025 to June 30, 2026)")
    p = kind("status", lambda r, a: r.request_status(r.request_id(a.request) if a.request else None),
             "status of one request (--request) or of all open requests")
    p.add_argument("--request", metavar="NUMBER", help="a request number such as Q0042")
    kind("dsa-register", lambda r, a: r.dsa_register(), "register of data sharing agreements")
    p = kind("meeting", lambda r, a: r.meeting(_meeting(r, a)), "agenda and minutes of a board meeting, with votes")
    p.add_argument("--meeting", required=True, metavar="DATE|ID",
                   help="the meeting's date (YYYY-MM-DD) or its id")
    p.add_argument("--board", choices=("dgb", "executive"), help="which board, when both met that day")
    p = kind("invoice", lambda r, a: r.invoice(r.invoice_id(a.invoice)), "fee invoice for a data recipient")
    p.add_argument("--invoice", required=True, metavar="NUMBER", help="an invoice number such as INV-2026-0007")
    p = kind("distribution", lambda r, a: r.distribution_letter(r.agency_id(a.agency), a.date_from, a.date_to),
             "fund-distribution letter to an agency for a period")
    p.add_argument("--agency", required=True, metavar="CODE", help="the agency's code, e.g. DOL")
    _period(p)
    p = kind("destruction-certificate", lambda r, a: r.destruction_certificate(r.request_id(a.request)),
             "destruction certificate form for a request")
    p.add_argument("--request", required=True, metavar="NUMBER", help="a request number such as Q0042")
    p = kind("audit", lambda r, a: r.audit(a.date_from, a.date_to), "audit events for a period, chain verified")
    _period(p)


def _meeting(reports: Any, args: argparse.Namespace) -> int:
    from app.models import Board

    if args.meeting.isdigit():
        return int(args.meeting)
    return reports.meeting_id(_date(args.meeting), Board(args.board) if args.board else None)


def _period(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="date_from", type=_date, required=True, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", type=_date, required=True, metavar="YYYY-MM-DD")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; write it as YYYY-MM-DD") from None


def _run(args: argparse.Namespace, build: Callable[[Any, argparse.Namespace], object]) -> int:
    from app.reports import render
    from app.services import Desk
    from app.services.errors import ServiceError
    from app.services.reporting import ReportingService
    from app.store import Store, StoreError
    from app.store.paths import default_store_path

    out: Path = args.out
    if out.suffix.lower() != ".pdf":
        print(f"{out} does not end in .pdf; give the report a .pdf file name.", file=sys.stderr)
        return EXIT_USAGE
    if not out.parent.is_dir():
        print(f"The folder {out.parent} does not exist.", file=sys.stderr)
        return EXIT_USAGE
    path = args.store or default_store_path()
    user = args.user or os.environ.get("P20WIN_USER") or getpass.getuser()
    try:
        passphrase = os.environ.get("P20WIN_PASSPHRASE")
        if passphrase is None:
            passphrase = getpass.getpass(f"Passphrase for {user} on {path.name}: ")
        store = Store.open(path, user, passphrase)
    except StoreError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_REFUSED
    try:
        data = build(ReportingService(Desk(store, user)), args)
    except (StoreError, ServiceError) as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_REFUSED
    except argparse.ArgumentTypeError as exc:  # e.g. --meeting with a malformed date
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
    # Write beside the target first, so a failed render never leaves half a PDF under the real name.
    partial = out.with_name(out.name + ".part")
    try:
        pages = render(data, partial)
        partial.replace(out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        print(f"Could not write {out}: {exc.strerror or exc}.", file=sys.stderr)
        return EXIT_REFUSED
    print(f"Wrote {out} ({pages} page{'s' if pages != 1 else ''}).")
    return EXIT_OK
