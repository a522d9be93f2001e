"""P20 WIN Desk: the desk for Connecticut's P20 WIN data-sharing network."""


def __getattr__(name: str):
    # Looked up on first use: importlib.metadata costs ~40 ms of every start, also the matching engine's.
    if name != "__version__":
        raise AttributeError(f"module 'app' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version
    global __version__
    try:
        # One source of truth for the version: pyproject.toml, read through the installed metadata.
        __version__ = version("p20win-desk")
    except PackageNotFoundError:  # running from a bundle or a bare source tree
        __version__ = "0.0.0+unknown"
    return __version__
