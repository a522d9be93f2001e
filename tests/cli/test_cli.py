"""`p20win` end to end on real encrypted stores: in-process through main(argv), and as a real process."""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from app import __version__
from app.cli import main
from app.services import Desk
from app.services.setup import initialise_store
from app.store import KdfParams, Store, keyslots

FAST = KdfParams(n=2**10)
ALICE_PW = "alice's long passphrase"
HOSTILE = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+2", "-3+4", "@SUM(A1)", "\tTAB", "\rCR", "<b>bold</b>"]


@pytest.fixture(autouse=True)
def _environment(monkeypatch, tmp_path):
    monkeypatch.setenv("P20WIN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("P20WIN_PASSPHRASE", raising=False)
    monkeypatch.delenv("P20WIN_USER", raising=False)


@pytest.fixture
def fast_kdf(monkeypatch):
    """Slots the CLI writes or rewraps use a low scrypt cost (the production cost is tested in test_init)."""
    monkeypatch.setattr(keyslots, "PRODUCTION_KDF", FAST)


def secret_file(tmp_path, name: str, content: str):
    path = tmp_path / name
    path.write_text(content + "\n", encoding="utf-8")
    return path


@pytest.fixture
def desk(tmp_path, fast_kdf):
    """A store made by the services' first-run setup; returns the CLI arguments that open it as alice."""
    path = tmp_path / "desk.p20store"
    store, code = initialise_store(path, "alice", ALICE_PW, "Alice Admin", kdf=FAST)
    store.close()
    argv = ["--store", str(path), "--user", "alice", "--passphrase-file", str(secret_file(tmp_path, "pw", ALICE_PW))]
    return path, argv, code


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


def test_init_uses_production_cost_and_shows_a_working_recovery_code(tmp_path, capsys):
    path = tmp_path / "new" / "desk.p20store"
    pw = secret_file(tmp_path, "pw", ALICE_PW)
    rc, out, _ = run(capsys, "--store", path, "--user", "alice", "--passphrase-file", pw, "init", "--display-name", "Al")
    assert rc == 0
    code = next(line.strip() for line in out.splitlines() if line.count("-") == 7)
    store = Store.open_with_recovery(path, code)
    assert store.keyfile.recovery_slot().kdf == keyslots.KdfParams()  # the real production cost
    assert [u.username for u in Desk(store, "alice").users.list()] == ["alice"]
    store.close()
    rc, _, err = run(capsys, "--store", path, "--user", "alice", "--passphrase-file", pw, "init")
    assert rc == 1 and "already a store" in err


def test_verify_passes_then_catches_a_tampered_and_a_deleted_audit_event(tmp_path, desk, capsys):
    path, argv, _ = desk
    rc, out, _ = run(capsys, *argv, "verify")
    assert rc == 0 and "intact" in out and "sound" in out
    store = Store.open(path, "alice", ALICE_PW)
    with store.session() as s:
        s.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = 3"))
    store.close()
    rc, out, _ = run(capsys, "verify", *argv)  # options after the command name work too
    assert rc == 1 and "BROKEN" in out and "#3" in out

    store = Store.open(path, "alice", ALICE_PW)
    with store.session() as s:
        s.execute(text("UPDATE audit_events SET actor = 'setup' WHERE id = 3"))
        s.execute(text("DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)"))
    store.close()
    rc, out, _ = run(capsys, *argv, "verify")
    assert rc == 1 and "deleted" in out


def test_damaged_store_and_wrong_passphrase_give_a_reason_not_a_traceback(tmp_path, desk, capfd):
    capsys = capfd  # file-descriptor level: SQLCipher's own logging would bypass sys.stderr
    path, argv, _ = desk
    rc, _, err = run(capsys, "--store", path, "--user", "alice", "--passphrase-file",
                     secret_file(tmp_path, "bad", "not alice's passphrase"), "verify")
    assert rc == 1 and "Wrong passphrase" in err
    rc, _, err = run(capsys, "--store", tmp_path / "missing.p20store", "--user", "alice", "--passphrase-file",
                     tmp_path / "pw", "verify")
    assert rc == 1 and "no store" in err
    with open(path, "r+b") as fh:
        fh.seek(path.stat().st_size // 2)
        fh.write(os.urandom(256))
    rc, _, err = run(capsys, *argv, "verify")
    assert rc == 1 and "damaged" in err
    assert "hmac" not in err.lower() and "sqlcipher" not in err.lower()  # only our sentence


def test_backup_and_restore(tmp_path, desk, capsys):
    path, argv, code = desk
    backup = tmp_path / "b.p20backup"
    assert run(capsys, *argv, "backup", backup)[0] == 0
    rc, _, err = run(capsys, *argv, "restore", backup)  # onto the live store: refused
    assert rc == 1 and "never overwrites" in err
    restored = tmp_path / "restored.p20store"
    rc, out, _ = run(capsys, *argv, "restore", backup, "--to", restored)
    assert rc == 0 and "integrity checked" in out
    rc, out, _ = run(capsys, "--store", restored, "--user", "alice", "--passphrase-file", tmp_path / "pw", "verify")
    assert rc == 0
    again = tmp_path / "by-code.p20store"
    rc, _, _ = run(capsys, "--recovery", "--passphrase-file", secret_file(tmp_path, "code", code),
                   "restore", backup, "--to", again)
    assert rc == 0 and again.exists()
    assert run(capsys, *argv, "backup")[0] == 0  # default name beside the store
    assert len(list(path.parent.glob("desk-*.p20backup"))) == 1
    junk = secret_file(tmp_path, "junk.p20backup", "not a backup")
    rc, _, err = run(capsys, *argv, "restore", junk, "--to", tmp_path / "x.p20store")
    assert rc == 1 and "not a P20 WIN Desk backup" in err


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_neutralises_formula_cells(tmp_path, desk, capsys, fmt):
    path, argv, _ = desk
    store = Store.open(path, "alice", ALICE_PW)
    d = Desk(store, "alice")
    for i, name in enumerate(HOSTILE):
        d.agencies.create(f"ZZ{i}", name)
    store.close()
    out_file = tmp_path / f"agencies.{fmt}"
    rc, out, _ = run(capsys, *argv, "export", "agencies", "--format", fmt, "--out", out_file)
    assert rc == 0
    if fmt == "csv":
        with open(out_file, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    else:
        rows = [[c if c is not None else "" for c in r] for r in load_workbook(out_file).active.iter_rows(values_only=True)]
    names = [r[rows[0].index("name")] for r in rows[1:]]
    assert len(rows) - 1 >= len(HOSTILE)
    for hostile in HOSTILE:
        cell = next(n for n in names if hostile.strip() in n)
        assert cell[0] not in "=+-@\t\r", cell  # a spreadsheet shows it as text, never runs it
    assert any(n == "<b>bold</b>" for n in names)  # harmless text is left alone
    rc, _, err = run(capsys, *argv, "export", "agencies", "--format", fmt, "--out", tmp_path / "wrong.txt")
    assert rc == 1 and f".{fmt}" in err


def test_users_add_list_and_passwd(tmp_path, desk, capsys):
    path, argv, code = desk
    bob_pw = secret_file(tmp_path, "bobpw", "bob's first passphrase")
    rc, _, _ = run(capsys, *argv, "users", "add", "bob", "--role", "hub", "--display-name", "Bob Hub",
                   "--new-passphrase-file", bob_pw)
    assert rc == 0
    bob = ["--store", path, "--user", "bob", "--passphrase-file", bob_pw]
    rc, out, _ = run(capsys, *bob, "users", "list")
    assert rc == 0 and any(line.split()[:4] == ["bob", "hub", "yes", "yes"] for line in out.splitlines())
    rc, _, err = run(capsys, *bob, "users", "passwd", "alice", "--new-passphrase-file", bob_pw)
    assert rc == 1 and "administrator" in err  # a hub user cannot reset alice
    rc, _, err = run(capsys, *argv, "users", "add", "carol", "--role", "auditor", "--new-passphrase-file",
                     secret_file(tmp_path, "short", "short"))
    assert rc == 1 and "at least" in err
    rc, out, _ = run(capsys, *argv, "users", "list")
    assert "carol" not in out  # a refused passphrase leaves no half-made user

    new_bob = secret_file(tmp_path, "newbob", "bob's second passphrase")
    assert run(capsys, *argv, "users", "passwd", "bob", "--new-passphrase-file", new_bob)[0] == 0
    assert run(capsys, *bob, "users", "list")[0] == 1
    # alice forgets her passphrase: the recovery code sets a new one
    new_alice = secret_file(tmp_path, "newalice", "alice's second passphrase")
    rc, _, _ = run(capsys, "--store", path, "--recovery", "--passphrase-file", secret_file(tmp_path, "code", code),
                   "users", "passwd", "alice", "--new-passphrase-file", new_alice)
    assert rc == 0
    assert run(capsys, *argv, "verify")[0] == 1
    assert run(capsys, "--store", path, "--user", "alice", "--passphrase-file", new_alice, "verify")[0] == 0


def test_real_process_runs_without_qt_and_exits_with_the_reason(tmp_path, desk):
    path, argv, _ = desk
    probe = ("import sys, app.cli; rc = app.cli.main(sys.argv[1:]); "
             "sys.exit(rc if 'PySide6' not in sys.modules else 99)")
    done = subprocess.run([sys.executable, "-c", probe, "--store", str(path), "--user", "nobody",
                           "--passphrase-file", str(tmp_path / "pw"), "verify"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "nobody" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "app.cli", "--version"], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == f"p20win {__version__}"


@pytest.mark.slow
def test_demo_builds_a_store_that_verifies(tmp_path, fast_kdf, capsys):
    path = tmp_path / "demo.p20store"
    rc, out, _ = run(capsys, "--store", path, "demo", "--years", "1")
    assert rc == 0 and "invented" in out
    rc, out, _ = run(capsys, "--store", path, "--demo", "verify")
    assert rc == 0 and "intact" in out
    rc, _, err = run(capsys, "--store", path, "demo")
    assert rc == 1 and "already a store" in err


def test_contributed_commands_get_the_common_options(tmp_path, desk, capsys):
    """`package` (exchange area) reads --store/--user/--passphrase-file given before its name."""
    path, argv, _ = desk
    rc, _, err = run(capsys, *argv, "package", "peers")
    assert rc == 0, err
    rc, _, err = run(capsys, "package", "peers", *argv)  # after the command's name, as for built-in ones
    assert rc == 0, err
    assert "P20WIN_PASSPHRASE" not in os.environ  # handed over for the call only
    rc, _, err = run(capsys, "--store", path, "--user", "alice", "--passphrase-file",
                     secret_file(tmp_path, "bad", "not alice's passphrase"), "package", "peers")
    assert rc == 1 and "Wrong passphrase" in err


def test_demo_data_verifies_and_every_entity_exports(tmp_path, demo_store_file, fast_kdf, capsys):
    """On the session's demo store (tests/conftest.py): real services behind every export entity."""
    from app.cli import EXPORTS
    from tests.conftest import TEST_ADMIN, TEST_PASSPHRASE

    for part in demo_store_file.parent.glob(demo_store_file.name + "*"):
        shutil.copy2(part, tmp_path / part.name)
    argv = ["--store", tmp_path / demo_store_file.name, "--user", TEST_ADMIN,
            "--passphrase-file", secret_file(tmp_path, "pw", TEST_PASSPHRASE)]
    rc, out, _ = run(capsys, *argv, "verify")
    assert rc == 0 and "intact" in out
    counts = {}
    for entity in EXPORTS:
        out_file = tmp_path / f"{entity}.csv"
        rc, _, err = run(capsys, *argv, "export", entity, "--out", out_file)
        assert rc == 0, (entity, err)
        with open(out_file, encoding="utf-8-sig", newline="") as fh:
            counts[entity] = len(list(csv.reader(fh))) - 1
    assert counts["requests"] >= 30 and counts["agencies"] >= 10 and counts["audit"] > counts["requests"]
    assert counts["communications"] > 0 and counts["invoices"] > 0
