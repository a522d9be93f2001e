"""Where stores live by default."""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP_FOLDER_WINDOWS = "P20WIN Desk"
APP_FOLDER_POSIX = "p20win-desk"
STORE_SUFFIX = ".p20store"
BACKUP_SUFFIX = ".p20backup"
DEFAULT_STORE_NAME = "desk" + STORE_SUFFIX
DEMO_STORE_NAME = "demo" + STORE_SUFFIX
# The demo store holds invented data only, so its credentials can be public (the GUI and CLI say so).
DEMO_USER = "demo"
DEMO_PASSPHRASE = "demo-passphrase"


def data_folder() -> Path:
    """The application's data folder: `P20WIN_HOME` if set, else `%LOCALAPPDATA%\\P20WIN Desk` on Windows,
    `$XDG_DATA_HOME/p20win-desk` (default `~/.local/share/p20win-desk`) elsewhere. Not created here."""
    override = os.environ.get("P20WIN_HOME")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / APP_FOLDER_WINDOWS
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / APP_FOLDER_POSIX


def default_store_path() -> Path:
    """The store used when none is named (`desk.p20store` in `data_folder()`)."""
    return data_folder() / DEFAULT_STORE_NAME


def demo_store_path() -> Path:
    """The demo store `p20win --demo` opens or creates, kept apart from real data."""
    return data_folder() / DEMO_STORE_NAME
