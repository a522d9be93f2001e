"""Frozen entry point of `p20win-match` (the matching engine's command line)."""
import multiprocessing

# The hub runs matches in a spawned child process; a frozen program must hand such a child to
# multiprocessing before anything else runs.
multiprocessing.freeze_support()

from app.matching.cli import console  # noqa: E402  (after freeze_support, so a child never imports the GUI)

console()
