"""`p20win package ...`: identities, trust and sealed packages from the command line (the hub is headless
more often than not).

    p20win package identity [--create --name HUB-DOL --site hub] [--out FOLDER]
    p20win package trust FILE.p20id [--fingerprint "12345 67890 ..."]
    p20win package peers | revoke PEER-ID | log [--request Q0042]
    p20win package export work-order Q0042 --to FOLDER
    p20win package export completion Q0042 --to FOLDER [--counts matched=120,review=4] [--run run.json]
    p20win package export destruction Q0042 --to FOLDER [--certified-by NAME --statement TEXT] [--attach scan.pdf]
    p20win package export method-approval method.json --approved-on 2026-11-20 --to FOLDER
    p20win package import FILE.p20pkg [--preview]
    p20win package inspect FILE.p20pkg          (no store needed: shows the clear manifest)
    p20win package resend PACKAGE-ID --to FOLDER

The store is `--store` (default: the desk's default store), the user `--user` (default `$P20WIN_USER`, else the
login name), the passphrase `$P20WIN_PASSPHRASE` or a prompt. Exit status: 0 done, 1 refused, 2 usage.
"""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
MAX_RUN_RECORD_BYTES = 2 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 16 * 1024 * 1024


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    """Register `package` and its sub-commands on the `p20win` parser; each sets ``func(args) -> int``."""
    pkg = subparsers.add_parser("package", help="sealed transfer packages between OPM and the hub",
                                description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = pkg.add_subparsers(dest="package_command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable[[argparse.Namespace], int], help_text: str,
                store: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if store:
            p.add_argument("--store", type=Path, help="the store file (default: the desk's default store)")
            p.add_argument("--user", help="your user name in the store (default: $P20WIN_USER or login name)")
        p.set_defaults(func=handler)
        return p

    p = command("identity", _identity, "show (or --create) this installation's identity; --out writes its file")
    p.add_argument("--create", action="store_true", help="create the identity (once, admins only)")
    p.add_argument("--name", help="installation name, e.g. OPM-HARTFORD or HUB-DOL (with --create)")
    p.add_argument("--site", choices=("opm", "hub"), help="which side this installation is (with --create)")
    p.add_argument("--out", type=Path, metavar="FOLDER", help="write the public identity file into FOLDER")

    p = command("trust", _trust, "trust another installation after comparing its fingerprint")
    p.add_argument("file", type=Path, help="the other installation's .p20id file")
    p.add_argument("--fingerprint", help="the fingerprint the other side read to you (prompted if absent)")

    command("peers", _peers, "list trusted installations")
    p = command("revoke", _revoke, "stop trusting an installation (its packages are refused from now on)")
    p.add_argument("peer_id", type=int, help="the installation's id, as `peers` lists it")
    p = command("log", _log, "list packages sent and received")
    p.add_argument("--request", help="only packages about this request number")

    p = command("export", _export, "seal a package into a folder (e.g. a USB drive)")
    p.add_argument("kind", choices=("work-order", "completion", "destruction", "method-approval"))
    p.add_argument("subject", help="the request number (a method file for method-approval)")
    p.add_argument("--to", type=Path, required=True, metavar="FOLDER", help="where to write the .p20pkg file")
    p.add_argument("--peer", type=int, help="the trusted installation's id (when several are trusted)")
    p.add_argument("--counts", default="", help="completion: name=number,... e.g. matched=120,review=4 "
                   "(default: from the run record)")
    p.add_argument("--run", type=Path, help="completion: the match's run.json (default: the hub workspace's last "
                   "recorded run for the request)")
    p.add_argument("--delivered-on", type=date.fromisoformat, help="completion: ID matrix delivered (YYYY-MM-DD)")
    p.add_argument("--delivered-to", help="completion: to whom the ID matrix went")
    p.add_argument("--certified-by", help="destruction: who certifies (default: as on the hub's certificate)")
    p.add_argument("--statement", help="destruction: the statement (default: as on the hub's certificate)")
    p.add_argument("--attach", type=Path, help="destruction: a scan of the signed certificate")
    p.add_argument("--approved-on", type=date.fromisoformat, help="method-approval: the DGB's vote (YYYY-MM-DD)")
    p.add_argument("--approved-by", default="Data Governing Board", help="method-approval: who approved")
    p.add_argument("--motion", default="", help="method-approval: the motion's reference")

    p = command("import", _import, "verify and apply a package (--preview shows the changes only)")
    p.add_argument("file", type=Path)
    p.add_argument("--preview", action="store_true", help="show what would change; change nothing")

    p = command("inspect", _inspect, "show a package's clear manifest (no store or key needed)", store=False)
    p.add_argument("file", type=Path)

    p = command("resend", _resend, "write a sent package's file again (same bytes, same sequence number)")
    p.add_argument("package_id")
    p.add_argument("--to", type=Path, required=True, metavar="FOLDER")


# ---- plumbing ----------------------------------------------------------------------------------------------

def _say(text: str) -> None:
    print(text, flush=True)


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _open(args: argparse.Namespace):  # noqa: ANN202 - (store, ExchangeService)
    from app.services import Desk
    from app.services.exchange import ExchangeService
    from app.store import Store
    from app.store.paths import default_store_path

    path = args.store or default_store_path()
    user = args.user or os.environ.get("P20WIN_USER") or getpass.getuser()
    passphrase = os.environ.get("P20WIN_PASSPHRASE")
    if passphrase is None:
        passphrase = getpass.getpass(f"Passphrase for {user} on {path.name}: ")
    store = Store.open(path, user, passphrase)
    return store, ExchangeService(Desk(store, user))


def _run(args: argparse.Namespace, action: Callable[[Any], int]) -> int:
    from app.services.errors import ServiceError
    from app.store import StoreError

    try:
        store, exchange = _open(args)
    except (StoreError, ServiceError) as exc:
        _err(exc.message)
        return EXIT_REFUSED
    try:
        return action(exchange)
    except (StoreError, ServiceError) as exc:
        _err(exc.message)
        return EXIT_REFUSED
    finally:
        store.close()


# ---- commands ----------------------------------------------------------------------------------------------

def _identity(args: argparse.Namespace) -> int:
    def act(x: Any) -> int:
        if args.create:
            if not args.name or not args.site:
                _err("--create needs --name and --site.")
                return EXIT_USAGE
            x.create_identity(args.name, args.site)
        info = x.identity()
        if info is None:
            _err("This installation has no exchange identity yet: create one with --create --name NAME --site opm|hub.")
            return EXIT_REFUSED
        _say(f"{info.name} ({info.site.value.upper()})\nfingerprint: {info.fingerprint}")
        if args.out:
            _say(f"identity file written: {x.save_public_identity(args.out)}")
        return EXIT_OK

    return _run(args, act)


def _trust(args: argparse.Namespace) -> int:
    from app.exchange.identity import MAX_IDENTITY_BYTES, read_limited
    from app.exchange.errors import ExchangeError

    def act(x: Any) -> int:
        try:
            data = read_limited(args.file, MAX_IDENTITY_BYTES, "identity file")
        except ExchangeError as exc:
            _err(exc.message)
            return EXIT_REFUSED
        pub = x.read_identity(data)
        typed = args.fingerprint
        if typed is None:
            _say(f"{pub.name} ({pub.site.upper()}). Ask the other installation to read its fingerprint to you "
                 "from its own screen; do not copy it from the file.")
            try:
                typed = input("Fingerprint they read: ")
            except EOFError:
                _err("No fingerprint was typed; give it with --fingerprint when running without a terminal.")
                return EXIT_USAGE
        peer = x.trust(data, typed)
        _say(f"Trusted {peer.name} ({peer.site.value.upper()}), fingerprint {peer.fingerprint}.")
        return EXIT_OK

    return _run(args, act)


def _peers(args: argparse.Namespace) -> int:
    def act(x: Any) -> int:
        for p in x.peers():
            state = f"revoked {p.revoked_at:%Y-%m-%d}" if p.revoked_at else "trusted"
            _say(f"{p.id:>3}  {p.name:<24} {p.site.value.upper():<4} {p.fingerprint}  {state}; "
                 f"last sent {p.last_sent}, last received {p.last_received}")
        return EXIT_OK

    return _run(args, act)


def _revoke(args: argparse.Namespace) -> int:
    def act(x: Any) -> int:
        x.revoke(args.peer_id)
        _say(f"Trust withdrawn from installation {args.peer_id}.")
        return EXIT_OK

    return _run(args, act)


def _log(args: argparse.Namespace) -> int:
    def act(x: Any) -> int:
        for e in x.log(request_number=args.request):
            arrow = "->" if e.direction.value == "sent" else "<-"
            _say(f"{e.recorded_at:%Y-%m-%d %H:%M}  {arrow} {e.peer_name:<16} #{e.sequence:<4} {e.kind_title:<24} "
                 f"{e.summary}  [{e.package_id}]")
        return EXIT_OK

    return _run(args, act)


def _counts(text: str) -> dict[str, int]:
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        if not name.strip() or not value.strip().isdigit():
            raise ValueError(f"--counts: {part!r} is not name=number")
        out[name.strip()] = int(value)
    return out


def _read_json_file(path: Path, limit: int, what: str) -> Any:
    from app.exchange.identity import read_limited
    from app.exchange.jsonio import strict_loads

    return strict_loads(read_limited(path, limit, what), what)


def _export(args: argparse.Namespace) -> int:
    from app.exchange.errors import ExchangeError
    from app.exchange.identity import read_limited

    def act(x: Any) -> int:
        attachments = None
        try:
            if args.kind == "work-order":
                kind, payload = "work_order", x.work_order(args.subject)
            elif args.kind == "completion":
                run = _read_json_file(args.run, MAX_RUN_RECORD_BYTES, "run record") if args.run else None
                kind, payload = "completion", x.completion(
                    args.subject, counts=_counts(args.counts) if args.counts else None, run=run,
                    delivered_on=args.delivered_on,
                    delivered_to=args.delivered_to)
            elif args.kind == "destruction":
                name = None
                if args.attach:
                    name = "certificate" + (args.attach.suffix.lower() or ".bin")
                    attachments = {name: read_limited(args.attach, MAX_ATTACHMENT_BYTES, "certificate scan")}
                kind, payload = "destruction_certificate", x.destruction_certificate(
                    args.subject, certified_by=args.certified_by, statement=args.statement, attachment=name)
            else:
                if not args.approved_on:
                    _err("method-approval needs --approved-on YYYY-MM-DD.")
                    return EXIT_USAGE
                document = _read_json_file(Path(args.subject), 1024 * 1024, "method file")
                kind, payload = "method_approval", x.method_approval(
                    document, approved_on=args.approved_on, approved_by=args.approved_by, motion=args.motion)
        except (ExchangeError, ValueError) as exc:
            _err(getattr(exc, "message", str(exc)))
            return EXIT_REFUSED
        result = x.send(kind, payload, args.to, peer_id=args.peer, attachments=attachments)
        p = result.package
        _say(f"Sealed {p.kind_title} #{p.sequence} for {p.peer_name}: {result.path}")
        return EXIT_OK

    return _run(args, act)


def _import(args: argparse.Namespace) -> int:
    from app.services.exchange import read_package_file

    def act(x: Any) -> int:
        data = read_package_file(args.file)
        result = x.preview(data) if args.preview else x.import_package(data)
        _say(("Would import: " if args.preview and not result.already_imported else "") + result.message)
        for change in result.changes:
            _say(f"  - {change}")
        return EXIT_OK

    return _run(args, act)


def _inspect(args: argparse.Namespace) -> int:
    from app.services.errors import ServiceError
    from app.services.exchange import read_package_file, summarise

    try:
        s = summarise(read_package_file(args.file))
    except ServiceError as exc:
        _err(exc.message)
        return EXIT_REFUSED
    _say(json.dumps({
        "type": s.kind, "package_id": s.package_id, "sequence": s.sequence, "created": s.created.isoformat(),
        "sender": {"name": s.sender_name, "site": s.sender_site, "fingerprint": s.sender_fingerprint},
        "recipient": {"name": s.recipient_name, "fingerprint": s.recipient_fingerprint},
        "contents": [{"name": n, "size": size, "sha256": h} for n, size, h in s.contents],
        "file_sha256": s.file_sha256,
        "note": "The manifest is not verified and the contents are encrypted: import checks the signature.",
    }, indent=2))
    return EXIT_OK


def _resend(args: argparse.Namespace) -> int:
    def act(x: Any) -> int:
        _say(f"Written again: {x.save_again(args.package_id, args.to)}")
        return EXIT_OK

    return _run(args, act)
