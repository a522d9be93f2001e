"""`python -m app.matching` runs the `p20win-match` command line."""
from app.matching.cli import console

console()
