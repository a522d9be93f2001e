"""Frozen entry point of `p20win` (the application and its headless commands)."""
import sys

from app.cli import main

sys.exit(main())
