"""Record-linkage engine: no Qt, no database, no network. See docs/architecture.md ("Matching engine").

Python API (for the GUI): ``link(left_std, right_std, method, progress=..., cancel=...)``,
``dedupe(std, method, ...)`` on standardised frames, or ``run_match(...)`` from files to an output folder.
``prepare_link``/``prepare_dedupe`` stop after scoring, so that passes and cut-offs can be chosen by hand
(``Scoring.bands``) before ``Scoring.decide``.
"""
from app.matching.engine import (
    Bands, DedupeResult, LinkResult, MatchCancelled, MatchResult, Scoring, dedupe, link, prepare_dedupe, prepare_link,
)
from app.matching.method import Method, MethodError, load_method
from app.matching.registry import Approval, MethodNotApproved, Registry, RegistryError

__all__ = ["Approval", "Bands", "DedupeResult", "LinkResult", "MatchCancelled", "MatchResult", "Method", "MethodError",
           "MethodNotApproved", "Registry", "RegistryError", "Scoring", "dedupe", "link", "load_method",
           "prepare_dedupe", "prepare_link"]
