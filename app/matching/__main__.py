"""`python -m app.matching` runs the `p20win-match` command line."""
import sys

from app.matching.cli import main

sys.exit(main())
