"""P20 WIN Desk: the desk for Connecticut's P20 WIN data-sharing network."""
from importlib.metadata import PackageNotFoundError, version

try:
    # One source of truth for the version: pyproject.toml, read through the installed metadata.
    __version__ = version("p20win-desk")
except PackageNotFoundError:  # running from a bundle or a bare source tree
    __version__ = "0.0.0+unknown"
