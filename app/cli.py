"""`p20win`: the desk's headless command line. With no command it starts the desktop application.

    p20win [--demo]                              start the desk (--demo: the demo store, made on first use)
    p20win init [--display-name NAME]            create a store with you as its first administrator
    p20win demo [--seed N]                       create a store full of invented, realistic demo data
    p20win verify                                integrity of the file and of the audit chain
    p20win backup [FILE.p20backup]               online backup to one encrypted file
    p20win restore FILE.p20backup [--to STORE]   restore into a new store (never over an existing one)
    p20win export ENTITY --format csv|xlsx --out FILE
    p20win users list | add NAME --role ROLE | passwd [NAME]
    p20win report ... | package ...              PDFs; sealed transfer packages (see their --help)

Every command takes --store PATH (default: the desk's default store), --user NAME (default $P20WIN_USER,
else the login name) and --passphrase-file FILE (its first line; else $P20WIN_PASSPHRASE, else a prompt
without echo). --recovery unlocks with the recovery code instead (verify, backup, restore, users passwd).
Exit status: 0 done (verify: sound), 1 refused or a problem found (the reason is printed), 2 bad usage.
"""
from __future__ import annotations

import argparse
import dataclasses
import enum
import getpass
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import __version__
from app.store.errors import StoreError
from app.store.paths import DEMO_PASSPHRASE, DEMO_USER, default_store_path, demo_store_path

if TYPE_CHECKING:
    from app.store.store import Store

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
MAX_SECRET_FILE_BYTES = 4096
PAGE = 500


class CliError(Exception):
    """A refusal by the command line itself (bad file, mismatched passphrases); `.message` is printed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- what every command shares -----------------------------------------------------------------------

def _say(text: str = "") -> None:
    print(text, flush=True)


def _store_path(args: argparse.Namespace) -> Path:
    if args.store:
        return Path(args.store)
    return demo_store_path() if args.demo else default_store_path()


def _username(args: argparse.Namespace) -> str:
    if args.user:
        return args.user
    if args.demo:
        return DEMO_USER
    return os.environ.get("P20WIN_USER") or getpass.getuser()


def _read_secret_file(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_SECRET_FILE_BYTES + 1)
    except OSError as exc:
        raise CliError(f"Cannot read the passphrase file {path}: {exc.strerror}.") from None
    if len(raw) > MAX_SECRET_FILE_BYTES:
        raise CliError(f"The passphrase file {path} is too large to be a passphrase file.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"The passphrase file {path} is not UTF-8 text.") from None
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise CliError(f"The passphrase file {path} is empty; put the passphrase on its first line.")
    return lines[0]


def _secret(args: argparse.Namespace, prompt: str) -> str:
    """The passphrase (or recovery code) that unlocks: --passphrase-file, $P20WIN_PASSPHRASE, demo, prompt."""
    if args.passphrase_file:
        return _read_secret_file(args.passphrase_file)
    if "P20WIN_PASSPHRASE" in os.environ:
        return os.environ["P20WIN_PASSPHRASE"]
    if args.demo and not args.recovery:
        return DEMO_PASSPHRASE
    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise CliError("No passphrase was given; use --passphrase-file FILE when running without a terminal.") from None


def _new_secret(file: Path | None, whose: str) -> str:
    """A new passphrase: from `file`, else typed twice without echo."""
    if file:
        return _read_secret_file(file)
    try:
        first = getpass.getpass(f"New passphrase for {whose}: ")
        second = getpass.getpass("Type it again: ")
    except EOFError:
        raise CliError("No passphrase was given; use --new-passphrase-file FILE when running without a terminal.") from None
    if first != second:
        raise CliError("The two passphrases differ; nothing was changed.")
    return first


@contextmanager
def _opened(args: argparse.Namespace) -> Iterator[Store]:
    from app.store.store import Store

    path = _store_path(args)
    if args.recovery:
        store = Store.open_with_recovery(path, _secret(args, "Recovery code: "))
    else:
        user = _username(args)
        store = Store.open(path, user, _secret(args, f"Passphrase for {user} on {path.name}: "))
    try:
        yield store
    finally:
        store.close()


def _desk(store: Store):  # noqa: ANN202 - app.services.Desk, imported lazily
    from app.services import Desk

    if store.unlocked_by is None:
        raise CliError("This command acts as a desk user: unlock with --user and a passphrase, not --recovery.")
    return Desk(store, store.unlocked_by)


# --- commands -------------------------------------------------------------------------------------------

def cmd_init(args: argparse.Namespace) -> int:
    from app.services.setup import initialise_store

    path, user = _store_path(args), _username(args)
    if path.exists():
        raise StoreError(f"There is already a store at {path}. Open it, or choose another --store.")
    passphrase = _read_secret_file(args.passphrase_file) if args.passphrase_file else _new_secret(None, user)
    store, code = initialise_store(path, user, passphrase, args.display_name or user)
    store.close()
    _say(f"Created {path} with {user} as its administrator.")
    _print_recovery_code(code)
    return EXIT_OK


def _print_recovery_code(code: str) -> None:
    _say("\nRECOVERY CODE (shown only now):\n")
    _say(f"    {code}\n")
    _say("It opens the store if every passphrase is lost. Write it down or print it, and keep it locked away "
         "from this computer.")


def cmd_demo(args: argparse.Namespace) -> int:
    from app.services.demo import create_demo_store

    path = Path(args.store) if args.store else demo_store_path()
    user = args.user or DEMO_USER
    passphrase = _read_secret_file(args.passphrase_file) if args.passphrase_file else DEMO_PASSPHRASE
    if path.exists():
        raise StoreError(f"There is already a store at {path}; the demo builds a new one. Choose another --store.")
    _say(f"Building demo data in {path} ...")
    store, code, summary = create_demo_store(path, user, passphrase, seed=args.seed, years=args.years)
    store.close()
    _say(f"Demo store ready: {path} ({summary.requests} requests, {summary.audit_events} audit events). "
         f"It holds invented data only. User {user!r}"
         + (f", passphrase {DEMO_PASSPHRASE!r}." if passphrase == DEMO_PASSPHRASE else "."))
    _print_recovery_code(code)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from app.services.audit_chain import verify_audit_chain

    with _opened(args) as store:
        problems = store.verify()
        with store.read_session() as session:
            verdict = verify_audit_chain(session)
    if problems:
        _say(f"Store file: DAMAGED ({len(problems)} problem{'s' if len(problems) != 1 else ''}):")
        for problem in problems[:20]:
            _say(f"  - {problem}")
        _say("Restore it from your latest backup (p20win restore).")
    else:
        _say("Store file: sound (SQLite and SQLCipher integrity checks passed).")
    if verdict.ok:
        _say(f"Audit chain: intact ({verdict.checked} events checked).")
    else:
        _say(f"Audit chain: BROKEN - {verdict.reason}.")
    return EXIT_OK if verdict.ok and not problems else EXIT_REFUSED


def cmd_backup(args: argparse.Namespace) -> int:
    if args.file:
        dest = Path(args.file)
    else:  # beside the store, named by the time it was taken
        path = _store_path(args)
        dest = path.with_name(f"{path.stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.p20backup")
    with _opened(args) as store:
        store.backup(dest)
    _say(f"Backup written: {dest} ({dest.stat().st_size / 1e6:.1f} MB). It opens with today's passphrases and "
         "recovery code.")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from app.store.store import Store

    dest = Path(args.to) if args.to else _store_path(args)
    if args.recovery:
        Store.restore(args.file, dest, recovery_code=_secret(args, "Recovery code valid when the backup was made: "))
    else:
        user = _username(args)
        Store.restore(args.file, dest, user, _secret(args, f"Passphrase of {user} when the backup was made: "))
    _say(f"Restored {args.file} to {dest} (integrity checked).")
    return EXIT_OK


def _cell(value: Any) -> Any:
    """A plain value for a CSV/XLSX cell (numbers stay numbers for spreadsheets)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(str(_cell(v)) for v in value)
    return str(value)


def _paged(fetch: Callable[..., list]) -> Iterator[Any]:
    offset = 0
    while True:
        rows = fetch(offset=offset, limit=PAGE)
        yield from rows
        if len(rows) < PAGE:
            return
        offset += PAGE


# Each entity: how to read its rows from a Desk (frozen dataclasses, as the services return them).
EXPORTS: dict[str, Callable[[Any], Iterable[Any]]] = {
    "agencies": lambda d: d.agencies.list(),
    "recipients": lambda d: d.recipients.list(),
    "requests": lambda d: _paged(d.requests.page),
    "agreements": lambda d: d.agreements.list(),
    "meetings": lambda d: d.meetings.list(),
    "documents": lambda d: d.documents.list(),
    "communications": lambda d: _paged(d.communications.page),
    "invoices": lambda d: d.finance.invoices(),
    "receipts": lambda d: d.finance.receipts(),
    "matchlog": lambda d: _paged(d.matchlog.page),
    "users": lambda d: d.users.list(),
    "audit": lambda d: d.audit.export(),
}


def cmd_export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    fmt = args.format or out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise CliError("Give --format csv or --format xlsx.")
    if out.suffix.lower() != f".{fmt}":
        raise CliError(f"--out should end in .{fmt} for --format {fmt} (e.g. {out.with_suffix('.' + fmt).name}).")
    if not out.parent.is_dir():
        raise CliError(f"The folder {out.parent} does not exist.")
    from app.export import write_table  # no Qt: csv/openpyxl and the shared cell neutraliser

    with _opened(args) as store:
        rows = list(EXPORTS[args.entity](_desk(store)))
    if rows:
        headers = [f.name for f in dataclasses.fields(rows[0])]
        table = [[_cell(getattr(r, h)) for h in headers] for r in rows]
    else:
        headers, table = ["(no rows)"], []
    try:
        write_table(out, headers, table, sheet_title=args.entity)
    except OSError as exc:
        raise CliError(f"Could not write {out}: {exc.strerror or exc}.") from None
    _say(f"Exported {len(table)} {args.entity} to {out}.")
    return EXIT_OK


def cmd_users_list(args: argparse.Namespace) -> int:
    with _opened(args) as store:
        users = _desk(store).users.list()
        keyed = {name.casefold() for name in store.usernames()}
    _say(f"{'USER':<20} {'ROLE':<12} {'ACTIVE':<7} {'KEY':<4} NAME")
    for u in users:
        _say(f"{u.username:<20} {u.role.value:<12} {'yes' if u.active else 'no':<7} "
             f"{'yes' if u.username.casefold() in keyed else 'no':<4} {u.display_name}")
    return EXIT_OK


def cmd_users_add(args: argparse.Namespace) -> int:
    from app.models import Role
    from app.services.users import check_username
    from app.store.keyslots import check_new_passphrase

    name = check_username(args.name)
    with _opened(args) as store:
        desk = _desk(store)
        if name.casefold() in {n.casefold() for n in store.usernames()}:
            raise CliError(f"{name} already has a key to this store.")
        passphrase = _new_secret(args.new_passphrase_file, name)
        check_new_passphrase(passphrase)  # before the desk user is made, so a refusal leaves nothing half-done
        desk.users.add(name, args.display_name or name, Role(args.role))
        store.add_key_slot(name, passphrase)
    _say(f"Added {name} ({args.role}); they can now open the store with their passphrase.")
    return EXIT_OK


def cmd_users_passwd(args: argparse.Namespace) -> int:
    from app.models import Role

    with _opened(args) as store:
        target = args.name or store.unlocked_by
        if target is None:
            raise CliError("With --recovery, name the user whose passphrase to set: p20win users passwd NAME.")
        # Unlocking just proved the caller's own passphrase (or the recovery code); another user's needs admin.
        if store.unlocked_by is not None and target.casefold() != store.unlocked_by.casefold():
            if _desk(store).actor.role is not Role.ADMIN:
                raise CliError("Only an administrator may set another user's passphrase.")
            if target.casefold() not in {n.casefold() for n in store.usernames()}:
                raise CliError(f"{target} has no key to this store; add them with p20win users add.")
        store.set_passphrase(target, _new_secret(args.new_passphrase_file, target))
    _say(f"The passphrase of {target} was changed.")
    return EXIT_OK


def run_gui_command(args: argparse.Namespace) -> int:
    from app.views.application import run_gui  # Qt is imported only here

    return run_gui(Path(args.store) if args.store else None, demo=args.demo, self_test=args.self_test)


# --- the parser -------------------------------------------------------------------------------------------

def _common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every command takes, accepted before or after the command name. On subcommands they
    default to SUPPRESS so a value given before the command name is not overwritten."""
    prefix = "top_" if top else ""
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--store", dest=prefix + "store", type=Path, metavar="PATH", default=default,
                        help="the store file (default: the desk's default store)")
    parser.add_argument("--user", dest=prefix + "user", metavar="NAME", default=default,
                        help="your user name in the store (default: $P20WIN_USER, else your login name)")
    parser.add_argument("--passphrase-file", dest=prefix + "passphrase_file", type=Path, metavar="FILE",
                        default=default, help="read the passphrase from the first line of FILE")
    parser.add_argument("--recovery", dest=prefix + "recovery", action="store_true", default=default,
                        help="unlock with the recovery code instead of a user's passphrase")
    parser.add_argument("--demo", dest=prefix + "demo", action="store_true", default=default,
                        help="use the demo store (user demo, passphrase demo-passphrase)")


# Subcommands other areas contribute: command word -> module with add_subcommand(subparsers).
CONTRIBUTED = {"report": "app.reports.commands", "package": "app.exchange.commands"}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The `p20win` parser. Contributed commands are loaded only when `argv` may need them (their command
    word or a help request; None loads all): their packages are slow to import."""
    parser = argparse.ArgumentParser(prog="p20win", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"p20win {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="open the window, then quit at once (exit 0 when it came up): checks an install")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help_text: str,
                parent=sub) -> argparse.ArgumentParser:  # noqa: ANN001
        p = parent.add_parser(name, help=help_text, description=help_text)
        _common(p, top=False)
        p.set_defaults(func=func)
        return p

    p = command("init", cmd_init, "create a new store with you (--user) as its first administrator")
    p.add_argument("--display-name", help="your name as shown in the desk")
    p = command("demo", cmd_demo, "create a store full of invented demo data (default: the demo store)")
    p.add_argument("--seed", type=int, default=20, help="random seed (same seed, same data)")
    p.add_argument("--years", type=int, default=3, help="fiscal years of history to invent (default 3)")
    command("verify", cmd_verify, "check the store file and the audit chain; exit 0 when both are sound")
    p = command("backup", cmd_backup, "write an online backup of the store to one encrypted file")
    p.add_argument("file", type=Path, nargs="?", metavar="FILE.p20backup",
                   help="default: NAME-YYYYMMDD-HHMMSS.p20backup beside the store")
    p = command("restore", cmd_restore, "restore a backup into a new store (never over an existing one)")
    p.add_argument("file", type=Path, metavar="FILE.p20backup")
    p.add_argument("--to", type=Path, metavar="PATH", help="the new store's path (default: --store)")
    p = command("export", cmd_export, "export a list to CSV or XLSX (cells made safe for spreadsheets)")
    p.add_argument("entity", choices=sorted(EXPORTS))
    p.add_argument("--format", choices=("csv", "xlsx"), help="default: from --out's extension")
    p.add_argument("--out", type=Path, required=True, metavar="FILE")

    users = sub.add_parser("users", help="desk users and their keys to the store")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    command("list", cmd_users_list, "list desk users, their roles and whether they hold a key", users_sub)
    p = command("add", cmd_users_add, "add a desk user with a role and a key (administrators)", users_sub)
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=("coordinator", "hub", "auditor", "admin"))
    p.add_argument("--display-name")
    p.add_argument("--new-passphrase-file", type=Path, metavar="FILE", help="the new user's passphrase")
    p = command("passwd", cmd_users_passwd, "change your passphrase, or (administrators, --recovery) "
                "set another user's", users_sub)
    p.add_argument("name", nargs="?", help="whose passphrase (default: yours)")
    p.add_argument("--new-passphrase-file", type=Path, metavar="FILE", help="the new passphrase")

    helping = argv is None or not {"-h", "--help"}.isdisjoint(argv)
    for word, module in CONTRIBUTED.items():
        if (helping or word in argv) and importlib.util.find_spec(module) is not None:
            importlib.import_module(module).add_subcommand(sub)
            _add_missing_common(sub.choices[word])
    return parser


def _add_missing_common(parser: argparse.ArgumentParser) -> None:
    """Let a contributed command's own parsers take --passphrase-file and --demo after its name too, as
    every built-in command does (argparse exposes sub-parsers only through its private action list)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in set(action.choices.values()):
                _add_missing_common(child)
            return
    if "--passphrase-file" not in parser._option_string_actions:
        parser.add_argument("--passphrase-file", type=Path, metavar="FILE", default=argparse.SUPPRESS,
                            help="read the passphrase from the first line of FILE")
    if "--demo" not in parser._option_string_actions:
        parser.add_argument("--demo", action="store_true", default=argparse.SUPPRESS, help="use the demo store")


def _merge_common(args: argparse.Namespace) -> None:
    """One value per common option, whichever side of the command name it was given on."""
    for name in ("store", "user", "passphrase_file", "recovery", "demo"):
        if getattr(args, name, None) in (None, False):
            setattr(args, name, getattr(args, "top_" + name))


@contextmanager
def _passphrase_for_contributed(args: argparse.Namespace) -> Iterator[None]:
    """`report` and `package` read $P20WIN_PASSPHRASE; hand them --passphrase-file / --demo that way."""
    secret = None
    if args.passphrase_file:
        secret = _read_secret_file(args.passphrase_file)
    elif args.demo and "P20WIN_PASSPHRASE" not in os.environ:
        secret = DEMO_PASSPHRASE
    if secret is None:
        yield
        return
    previous = os.environ.get("P20WIN_PASSPHRASE")
    os.environ["P20WIN_PASSPHRASE"] = secret
    try:
        yield
    finally:
        if previous is None:
            del os.environ["P20WIN_PASSPHRASE"]
        else:
            os.environ["P20WIN_PASSPHRASE"] = previous


def _for_a_person(error: Exception) -> bool:
    """StoreError, ServiceError and CliError carry a message meant for the user, never a traceback."""
    services = sys.modules.get("app.services.errors")  # if never imported, no ServiceError was raised
    kinds = (StoreError, CliError) + ((services.ServiceError,) if services else ())
    return isinstance(error, kinds)


def main(argv: list[str] | None = None) -> int:
    """Run `p20win` with `argv` (default: the process's arguments); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    _merge_common(args)
    try:
        if args.command is None:
            return run_gui_command(args)
        if args.func.__module__ == __name__:
            return args.func(args)
        # Commands contributed by other areas take --store/--user on their own parser.
        args.store = args.store or (demo_store_path() if args.demo else None)
        args.user = args.user or (DEMO_USER if args.demo else None)
        with _passphrase_for_contributed(args):
            return args.func(args)
    except Exception as error:
        if not _for_a_person(error):
            raise
        print(error.message, file=sys.stderr, flush=True)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("Interrupted; nothing more was done.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
