"""Frozen entry point of `p20win-match` (the matching engine's command line)."""
import sys

from app.matching.cli import main

sys.exit(main())
