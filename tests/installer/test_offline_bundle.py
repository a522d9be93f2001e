"""The offline bundle installs with no network and runs the matching engine.

Builds the real wheelhouse from uv.lock (this part downloads), then installs it into a fresh virtual
environment with pip's index switched off and, where the kernel allows, inside a network namespace that has
no network at all.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("uv") is None, reason="the bundle is built with uv")


def _offline_prefix() -> list[str]:
    """`unshare -rn` cuts the network off entirely when user namespaces are available."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        return [unshare, "-rn"]
    return []


def test_bundle_installs_offline_and_matches(tmp_path):
    out = tmp_path / "offline"
    subprocess.run([sys.executable, str(ROOT / "installer" / "offline_bundle.py"), "--out", str(out)],
                   check=True, cwd=ROOT)

    # Every file is listed in SHA256SUMS with its real hash.
    listed = dict(line.split("  ", 1)[::-1] for line in (out / "SHA256SUMS").read_text().splitlines())
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != "SHA256SUMS"}
    assert set(listed) == files
    for name, digest in listed.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name

    # Every requirement is pinned by hash, and the project's own wheel is among them.
    requirements = (out / "requirements.txt").read_text().splitlines()
    assert requirements and all("--hash=sha256:" in line for line in requirements)
    assert any(line.startswith("p20win-desk==") for line in requirements)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV"))}
    # A venv's own python would make a venv inside a venv; use the interpreter it was made from.
    env["PYTHON"] = getattr(sys, "_base_executable", sys.executable)
    offline = _offline_prefix()
    subprocess.run([*offline, "sh", str(out / "install.sh")], check=True, env=env)

    python = out / "venv" / "bin" / "python"
    probe = subprocess.run([*offline, str(python), "-c", "import app, sqlcipher3, PySide6.QtWidgets; print(app.__version__)"],
                           check=True, capture_output=True, text=True, env=env)
    assert probe.stdout.strip() == subprocess.run(
        [sys.executable, "-c", "import app; print(app.__version__)"], capture_output=True, text=True,
        check=True).stdout.strip()

    # The installed matching engine links two tiny P20 WIN files.
    header = "LastName\tMiddleName\tFirstName\tDOB\tGender\tHighSchoolCode\tHighSchoolName\tSASID\tSSN\tSyntheticID\n"
    people = [("RIVERA", "ANA", "20040312", "F"), ("KOWALSKI", "PIOTR", "20050701", "M"),
              ("NGUYEN", "LINH", "20031130", "F"), ("OBRIEN", "SEAN", "20040918", "M")]
    (tmp_path / "left.tsv").write_text(header + "".join(
        f"{last}\t\t{first}\t{dob}\t{sex}\t070123\tHARTFORD HS\t\t\tL{i}\n"
        for i, (last, first, dob, sex) in enumerate(people)), encoding="utf-8")
    (tmp_path / "right.tsv").write_text(header + "".join(
        f"{last}\t\t{first}\t{dob}\t{sex}\t\t\t\t\tR{i}\n"
        for i, (last, first, dob, sex) in enumerate(reversed(people))), encoding="utf-8")
    subprocess.run([*offline, str(out / "venv" / "bin" / "p20win-match"), "link", str(tmp_path / "left.tsv"),
                    str(tmp_path / "right.tsv"), "--out", str(tmp_path / "run")], check=True, env=env)
    crosswalk = (tmp_path / "run" / "crosswalk.tsv").read_text().splitlines()
    pairs = {tuple(line.split("\t")[:2]) for line in crosswalk[1:]}
    assert pairs == {(f"L{i}", f"R{len(people) - 1 - i}") for i in range(len(people))}
