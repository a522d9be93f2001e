"""Collect every wheel P20 WIN Desk needs into one folder that installs with no network.

For the air-gapped hub workstations: run this on a connected machine, carry the folder across, run its
install script there. Versions come from `uv.lock` (exported with their SHA-256 hashes), so the offline
install is exactly what CI tested, and pip refuses any wheel whose hash differs.

    uv run python installer/offline_bundle.py --out dist/offline            # this machine's platform
    uv run python installer/offline_bundle.py --out dist/win --target win_amd64

Environment markers are evaluated for the *target* (not for the machine running this script), so a Linux
machine can prepare a Windows bundle.
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent

# What pip and packaging need to know about each supported target.
TARGETS = {
    "win_amd64": {
        "pip_platforms": ["win_amd64"],
        "markers": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                    "platform_machine": "AMD64"},
    },
    "manylinux_x86_64": {
        "pip_platforms": [f"manylinux_2_{minor}_x86_64" for minor in range(40, 16, -1)]
        + ["manylinux2014_x86_64", "linux_x86_64"],
        "markers": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                    "platform_machine": "x86_64"},
    },
}

INSTALL_SH = """#!/bin/sh
# Installs P20 WIN Desk from this folder into ./venv with no network access.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python="${PYTHON:-python3}"
"$python" -m venv "$here/venv"
"$here/venv/bin/python" -m pip install --no-index --find-links "$here/wheels" --require-hashes \\
    --no-deps -r "$here/requirements.txt"
echo "Installed. Start with: $here/venv/bin/p20win   (matching engine: $here/venv/bin/p20win-match)"
"""

INSTALL_PS1 = r"""# Installs P20 WIN Desk from this folder into .\venv with no network access.
$ErrorActionPreference = "Stop"
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$python = if ($env:PYTHON) { $env:PYTHON } else { "py" }
& $python -{python_version} -m venv "$here\venv"
& "$here\venv\Scripts\python.exe" -m pip install --no-index --find-links "$here\wheels" --require-hashes `
    --no-deps -r "$here\requirements.txt"
Write-Host "Installed. Start with: $here\venv\Scripts\p20win.exe"
"""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current_target() -> str:
    if sys.platform == "win32":
        return "win_amd64"
    if sys.platform == "linux" and sysconfig.get_platform().endswith("x86_64"):
        return "manylinux_x86_64"
    raise SystemExit(f"no offline target for this platform ({sysconfig.get_platform()}); name one with --target")


def locked_requirements(target: str, python_version: str) -> list[str]:
    """The locked runtime requirements (with hashes) that apply on the target, markers resolved."""
    exported = subprocess.run(
        ["uv", "export", "--frozen", "--no-dev", "--no-default-groups", "--no-emit-project",
         "--format", "requirements-txt"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    env = {
        "python_version": ".".join(python_version.split(".")[:2]),
        "python_full_version": python_version if python_version.count(".") == 2 else python_version + ".0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        **TARGETS[target]["markers"],
    }
    lines: list[str] = []
    # uv writes one requirement per logical line, continued with backslashes.
    for logical in exported.replace("\\\n", " ").splitlines():
        logical = logical.strip()
        if not logical or logical.startswith("#"):
            continue
        spec, _, hashes = logical.partition(" --hash")
        requirement = Requirement(spec.strip())
        if requirement.marker is not None and not Marker(str(requirement.marker)).evaluate(env):
            continue
        requirement.marker = None
        lines.append(f"{requirement} --hash{hashes}" if hashes else str(requirement))
    return lines


def build(out: Path, target: str, python_version: str) -> Path:
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} is not empty; choose a new folder so nothing old is mixed in")
    wheels = out / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    requirements = locked_requirements(target, python_version)
    (out / "requirements.in.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")

    platform_args = [arg for plat in TARGETS[target]["pip_platforms"] for arg in ("--platform", plat)]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
         "--only-binary=:all:", "--implementation", "cp",
         "--python-version", python_version, *platform_args,
         "-r", str(out / "requirements.in.txt"), "-d", str(wheels)],
        check=True,
    )
    (out / "requirements.in.txt").unlink()

    # The project itself, pinned by the hash of the wheel just built.
    subprocess.run(["uv", "build", "--wheel", "--out-dir", str(wheels)], cwd=ROOT, check=True,
                   capture_output=True)
    own = sorted(wheels.glob("p20win_desk-*.whl"))[-1]
    requirements.append(f"p20win-desk=={own.name.split('-')[1]} --hash=sha256:{sha256(own)}")
    (out / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")

    (out / "install.sh").write_text(INSTALL_SH, encoding="utf-8")
    (out / "install.sh").chmod(0o755)
    (out / "install.ps1").write_text(INSTALL_PS1.replace("{python_version}", python_version), encoding="utf-8")
    shutil.copy(ROOT / "installer" / "OFFLINE-INSTALL.md", out / "README.md")

    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    (out / "SHA256SUMS").write_text(
        "".join(f"{sha256(p)}  {p.relative_to(out).as_posix()}\n" for p in files), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="empty or new folder to fill")
    parser.add_argument("--target", choices=sorted(TARGETS), help="default: this machine's platform")
    parser.add_argument("--python-version", default=f"{sys.version_info.major}.{sys.version_info.minor}",
                        help="Python the target runs (default: this one)")
    args = parser.parse_args(argv)
    out = build(args.out, args.target or current_target(), args.python_version)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"offline bundle: {out} ({size / 2**20:.0f} MiB); verify with: sha256sum -c SHA256SUMS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
