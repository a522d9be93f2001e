"""`p20win package ...` end to end through `app.cli.main`, on two real stores."""
from __future__ import annotations

import json

from app.cli import main
from app.exchange.identity import parse_identity_file
from app.services import Desk
from app.services.setup import initialise_store
from app.store import Store

from .conftest import FAST_KDF, PASSPHRASE, executed_request


def _p20win(capsys, store, *words: str) -> tuple[int, str, str]:
    code = main(["package", *words, "--store", str(store), "--user", "admin"] if store else ["package", *words])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_round_trip(tmp_path, capsys, monkeypatch, registry_home):
    monkeypatch.setenv("P20WIN_PASSPHRASE", PASSPHRASE)
    # Every command unlocks the store; at the production scrypt cost that alone would take most of the budget.
    real_open = Store.open.__func__
    monkeypatch.setattr(Store, "open", classmethod(lambda cls, *a, **k: real_open(cls, *a, **{**k, "kdf": FAST_KDF})))
    usb = tmp_path / "usb"
    usb.mkdir()
    opm_path, hub_path = tmp_path / "opm.p20store", tmp_path / "hub.p20store"
    opm_store, _ = initialise_store(opm_path, "admin", PASSPHRASE, "OPM admin", kdf=FAST_KDF)
    number = executed_request(Desk(opm_store, "admin"))
    opm_store.close()
    initialise_store(hub_path, "admin", PASSPHRASE, "Hub admin", kdf=FAST_KDF)[0].close()

    code, out, _ = _p20win(capsys, opm_path, "identity", "--create", "--name", "OPM-HARTFORD", "--site", "opm",
                           "--out", str(usb))
    assert code == 0 and "fingerprint:" in out
    code, out, _ = _p20win(capsys, hub_path, "identity", "--create", "--name", "HUB-DOL", "--site", "hub",
                           "--out", str(usb))
    assert code == 0
    opm_id, hub_id = usb / "OPM-HARTFORD.p20id", usb / "HUB-DOL.p20id"
    code, _, err = _p20win(capsys, hub_path, "trust", str(opm_id), "--fingerprint", "00000 00000 00000 00000 00000")
    assert code == 1 and "does not match the identity file" in err
    for path, other in ((opm_path, hub_id), (hub_path, opm_id)):
        fingerprint = parse_identity_file(other.read_bytes()).fingerprint  # as read aloud by the other side
        code, out, err = _p20win(capsys, path, "trust", str(other), "--fingerprint", fingerprint.replace(" ", "-"))
        assert code == 0, err

    code, out, err = _p20win(capsys, opm_path, "export", "work-order", number, "--to", str(usb))
    assert code == 0, err
    package = next(usb.glob("*.p20pkg"))
    code, out, _ = _p20win(capsys, None, "inspect", str(package))
    manifest = json.loads(out)
    assert code == 0 and manifest["type"] == "work_order" and manifest["sequence"] == 1
    assert manifest["sender"]["name"] == "OPM-HARTFORD" and manifest["recipient"]["name"] == "HUB-DOL"

    code, out, err = _p20win(capsys, hub_path, "import", str(package), "--preview")
    assert code == 0 and out.startswith("Would import") and f"create work order {number}" in out, err
    code, out, err = _p20win(capsys, hub_path, "import", str(package))
    assert code == 0 and out.startswith("Imported work order 1 from OPM-HARTFORD"), err
    code, out, _ = _p20win(capsys, hub_path, "import", str(package))
    assert code == 0 and "already imported" in out

    bad = tmp_path / "bad.p20pkg"
    data = bytearray(package.read_bytes())
    data[-10] ^= 1
    bad.write_bytes(bytes(data))
    code, out, err = _p20win(capsys, hub_path, "import", str(bad))
    assert code == 1 and "does not verify" in err and out == ""
    code, _, err = _p20win(capsys, None, "inspect", str(tmp_path / "missing.p20pkg"))
    assert code == 1 and "does not exist" in err
