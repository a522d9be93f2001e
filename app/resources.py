"""Locate files shipped in `resources/` whether run from source, an installed wheel or a PyInstaller bundle."""
from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _candidates() -> list[Path]:
    roots = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.append(Path(bundle) / "resources")
    roots.append(_HERE / "resources")  # installed wheel: force-included into the package
    roots.append(_HERE.parent / "resources")  # source checkout / editable install
    return roots


def resource_path(*parts: str) -> Path:
    """Path of a shipped resource, e.g. ``resource_path("nicknames.tsv")``.

    Raises FileNotFoundError naming every place looked in, so a broken install says what is missing.
    """
    tried = []
    for root in _candidates():
        path = root.joinpath(*parts)
        if path.exists():
            return path
        tried.append(str(path))
    raise FileNotFoundError(f"resource {'/'.join(parts)!r} not found; looked in: {', '.join(tried)}")
