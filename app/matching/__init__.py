"""Record-linkage engine: no Qt, no database, no network. See docs/architecture.md ("Matching engine").

Python API (for the GUI): ``link(left_std, right_std, method, progress=..., cancel=...)``,
``dedupe(std, method, ...)`` on standardised frames, or ``run_match(...)`` from files to an output folder.
"""
from app.matching.engine import DedupeResult, LinkResult, MatchCancelled, MatchResult, dedupe, link
from app.matching.method import Method, MethodError, load_method
from app.matching.registry import Approval, MethodNotApproved, Registry, RegistryError

__all__ = ["Approval", "DedupeResult", "LinkResult", "MatchCancelled", "MatchResult", "Method", "MethodError",
           "MethodNotApproved", "Registry", "RegistryError", "dedupe", "link", "load_method"]
