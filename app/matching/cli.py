"""`p20win-match`: link two matching files, de-duplicate one, and manage the approved-methods registry.

Works with no display and no network. Progress goes to stderr; Ctrl-C stops, removes this run's partial
outputs and exits with status 130. Errors a person can fix print one sentence and exit with status 2.
"""
from __future__ import annotations

import argparse
import gc
import getpass
import json
import os
import sys
import time
from pathlib import Path

import app
from app.matching.engine import MatchCancelled
from app.matching.io import MatchInputError
from app.matching.method import MethodError, load_method
from app.matching.registry import MethodNotApproved, Registry, RegistryError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Progress:
    """Percent and ETA on stderr: rewritten in place on a terminal, a line per few percent otherwise."""

    def __init__(self, stream=sys.stderr, quiet: bool = False):
        self.stream, self.quiet = stream, quiet
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.start = time.monotonic()
        self.last_shown = -1.0
        self.last_time = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        step = 0.0 if self.tty else 0.05
        if fraction < 1.0 and (fraction - self.last_shown < step or now - self.last_time < 0.5):
            return
        self.last_shown, self.last_time = fraction, now
        elapsed = now - self.start
        eta = f", about {elapsed / fraction * (1 - fraction):.0f} s left" if 0.05 < fraction < 1 else ""
        line = f"{fraction * 100:5.1f}% {message}{eta}"
        if self.tty:
            self.stream.write("\r" + line[:110].ljust(110) + ("\n" if fraction >= 1.0 else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _column_map(text: str | None) -> dict | None:
    """`--column-map`: a JSON file, or 'their name=CanonicalName' pairs separated by commas."""
    if not text:
        return None
    path = Path(text)
    if path.is_file():
        try:
            mapping = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MatchInputError(f"Column map {path} is not valid JSON: {exc}") from None
        if not isinstance(mapping, dict):
            raise MatchInputError(f"Column map {path} must be a JSON object of their name -> canonical name.")
        return {str(k): str(v) for k, v in mapping.items()}
    mapping = {}
    for part in text.split(","):
        if "=" not in part:
            raise MatchInputError(f"--column-map entry {part!r} is not 'their name=CanonicalName'.")
        theirs, ours = part.split("=", 1)
        mapping[theirs.strip()] = ours.strip()
    return mapping


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError("a match probability strictly between 0 and 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="p20win-match", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"p20win-match {app.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def run_options(p):
        p.add_argument("--out", required=True, type=Path, help="output folder (created if needed)")
        p.add_argument("--method", help="method file (default: the shipped standard method)")
        p.add_argument("--registry", type=Path, help="approved-methods registry file (default: beside the store)")
        p.add_argument("--column-map", help="JSON file or 'their=Canonical,...' for non-standard headers")
        p.add_argument("--encoding", help="text encoding of the input files (default: UTF-8)")
        p.add_argument("--threshold", type=_probability, help="match probability to accept (default: the model's)")
        p.add_argument("--lower", type=_probability, help="lower end of the clerical-review band")
        p.add_argument("--upper", type=_probability, help="upper end of the clerical-review band")
        p.add_argument("--skip-pass", action="append", default=[], metavar="NAME",
                       help="leave out one of the method's deterministic passes (repeatable; run.json says so)")
        p.add_argument("--seed", type=int, default=1, help="random seed (same seed, same result)")
        p.add_argument("--labels", type=Path, help="TSV of clerically decided pairs: left_id right_id is_match")
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")

    link = sub.add_parser("link", help="link two matching files one-to-one")
    link.add_argument("left", type=Path)
    link.add_argument("right", type=Path)
    run_options(link)
    dedupe = sub.add_parser("dedupe", help="find the same person within one file")
    dedupe.add_argument("file", type=Path)
    run_options(dedupe)

    methods = sub.add_parser("methods", help="the approved-methods registry")
    msub = methods.add_subparsers(dest="action", required=True)
    lst = msub.add_parser("list", help="list approved methods")
    lst.add_argument("--registry", type=Path)
    show = msub.add_parser("show", help="show a method file and whether it is approved")
    show.add_argument("method", nargs="?", help="method file (default: the standard method)")
    show.add_argument("--registry", type=Path)
    approve = msub.add_parser("approve", help="record the DGB's approval of a method file")
    approve.add_argument("method", help="method file")
    approve.add_argument("--by", default=None, help="who approved it (default: the current user)")
    approve.add_argument("--note", default="", help="e.g. the DGB decision reference")
    approve.add_argument("--registry", type=Path)
    return parser


def _registry(path: Path | None) -> Registry:
    return Registry(path) if path else Registry.default()


def _methods(args, out) -> int:
    registry = _registry(args.registry)
    if args.action == "list":
        approvals = registry.approvals()
        print(f"Approved methods ({registry.path}):", file=out)
        for a in approvals:
            print(f"  {a.method_id} v{a.version}  sha256 {a.sha256[:16]}...  approved by {a.approved_by} "
                  f"on {a.approved_on}" + (f"  ({a.note})" if a.note and not a.builtin else ""), file=out)
        return 0
    method = load_method(args.method)
    if args.action == "show":
        approval = registry.find(method)
        status = (f"approved by {approval.approved_by} on {approval.approved_on}" if approval
                  else "NOT approved in this registry")
        print(f"{method.label}\nsha256 {method.sha256}\n{status}\n{method.description}", file=out)
        print(json.dumps(method.document, indent=2), file=out)
        return 0
    approval = registry.approve(method, args.by or getpass.getuser(), args.note)
    print(f"Recorded: {method.label} (sha256 {method.sha256[:16]}...) approved by {approval.approved_by} "
          f"on {approval.approved_on} in {registry.path}.", file=out)
    return 0


def _skipping(method_path: str | None, skipped: list[str]):  # noqa: ANN202 - run_match's Chooser or None
    """A chooser leaving out the named deterministic passes; names the method lacks are refused before any
    file is read (MethodError)."""
    if not skipped:
        return None
    names = [d.name for d in load_method(method_path).deterministic_passes]
    unknown = sorted(set(skipped) - set(names))
    if unknown:
        raise MethodError(f"--skip-pass: the method has no deterministic pass {', '.join(unknown)} "
                          f"(it has: {', '.join(names) or 'none'}).")
    return lambda bands, allowed: {"passes": [name for name in allowed if name not in skipped]}


def console() -> None:
    """The `p20win-match` program: `main` on the command line, then the process ends at once.

    Every output is closed by then; Python's own teardown (pandas' modules, the run's objects) took
    another 0.1-0.2 s for nothing. An unexpected exception still ends the usual way, with its traceback.
    Python's cycle collector is off: a run makes next to no reference cycles (peak memory unchanged), and
    the collector kept rescanning its growing heap (~0.07 s of a wage 100k run, more in the helper). The
    run's data is kept to the end instead of being freed object by object (~0.06 s).
    """
    gc.disable()
    status = main(retain=[])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def main(argv: list[str] | None = None, *, retain: list | None = None) -> int:
    """Entry point of `p20win-match`; returns the exit status. retain: see `run_match`."""
    args = _parser().parse_args(argv)
    from app.matching.run import run_match   # after parsing, so --help and --version stay quick

    try:
        if args.command == "methods":
            return _methods(args, sys.stdout)
        mode = args.command
        inputs = [args.left, args.right] if mode == "link" else [args.file]
        record = run_match(mode, inputs, args.out, method_path=args.method, registry_path=args.registry,
                           column_map=_column_map(args.column_map), encoding=args.encoding,
                           threshold=args.threshold, lower=args.lower, upper=args.upper, seed=args.seed,
                           labels_path=args.labels, choose=_skipping(args.method, args.skip_pass),
                           progress=_Progress(quiet=args.quiet), retain=retain)
    except KeyboardInterrupt:
        print("\np20win-match: interrupted; this run's partial outputs were removed.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MatchCancelled:
        print("p20win-match: cancelled; this run's partial outputs were removed.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (MatchInputError, MethodError, MethodNotApproved, RegistryError) as exc:
        print(f"p20win-match: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:   # e.g. cut-offs given out of order
        print(f"p20win-match: {exc}", file=sys.stderr)
        return EXIT_USAGE
    est = record["estimates"]
    matched = next((p["matches"] for p in record["passes"] if p["kind"] == "probabilistic"), 0)
    det = sum(p["matches"] for p in record["passes"] if p["kind"] == "deterministic")
    review = sum(p["review"] for p in record["passes"])
    print(f"{det + matched:,} {'pairs linked' if mode == 'link' else 'duplicate links'} ({det:,} deterministic), "
          f"{review:,} for clerical review; estimated precision {est['precision']:.3f}, recall {est['recall']:.3f}. "
          f"Outputs in {args.out}.", file=sys.stderr)
    return 0
