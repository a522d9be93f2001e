"""The hub workspace's use cases: intake, run bookkeeping, clerical review, delivery and destruction.

Build it from any ``Desk`` (``HubService(desk)``), as the reporting service is. The match log itself stays
``desk.matchlog``'s: intake calls ``log_files`` (which refuses a request without an executed DSA), a recorded
run calls ``record_match``, delivery ``record_id_matrix_sent``, destruction ``record_inputs_destroyed`` and
``certify_destruction`` — each joined with this module's own rows in one ``desk.batch()``.

Matching files are never copied into the store: a ``HubFile`` keeps the path and SHA-256 of the file where
the transfer put it. The slow parts that touch no database (reading a file, matching, writing the final
matrix, overwriting files) are plain functions a background job can run.
"""
from __future__ import annotations

import csv
import json
import math
import multiprocessing
import os
import queue
import re
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select

from app.matching import MatchCancelled
from app.matching.io import problem_rows, read_matching_file
from app.matching.method import load_method
from app.matching.registry import Registry
from app.matching.run import Chooser, run_match
from app.models import Agency, CertificateKind, DataRequest, MatchLogEntry
from app.models.hub import HubFile, HubRun, ReviewDecision
from app.resources import resource_path

from .audit_chain import record_of
from .base import HUB_WORK, Kind, Service
from .errors import NotFound, RuleViolation, ServiceError, ValidationFailed

DECISIONS = ("match", "non-match", "skip")
FINAL_MATRIX = "id_matrix_final.tsv"


# ---- plain data handed to the screens -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FileCheck:
    """What reading a matching file found (no personal values: the input area's reports hold none)."""

    path: str
    sha256: str
    size: int
    rows: int
    rejected: int
    kind: str
    fields: tuple[str, ...]
    warnings: tuple[str, ...]
    problems: pd.DataFrame  # row_number, record_id, field, action, reason


@dataclass(frozen=True, slots=True)
class HubFileInfo:
    id: int
    match_log_id: int
    request_id: int
    request_number: str | None
    agency: str
    file_name: str
    path: str
    sha256: str
    size: int
    rows: int
    rejected: int
    kind: str
    received_on: date
    destroyed_at: datetime | None


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    request_id: int
    request_number: str | None
    left_file_id: int
    right_file_id: int
    method: str
    out_dir: str
    record: dict
    two_person_review: bool
    finished_at: datetime
    delivered_on: date | None
    delivered_to: str
    destroyed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Decision:
    left_id: str
    right_id: str
    decision: str
    reviewer: str
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class MethodChoice:
    label: str
    path: str


# ---- work without the store (run these in a job) ---------------------------------------------------------

def check_file(path: str | Path) -> FileCheck:
    """Read and validate a matching file in place; raises MatchInputError (``.message``) if it is unusable."""
    path = Path(path)
    result = read_matching_file(path)
    problems = problem_rows(result)
    fields = tuple(c for c in result.frame.columns if result.frame[c].notna().any())
    return FileCheck(str(path), result.sha256, path.stat().st_size, int(result.rows_in_file),
                     int(len(result.rejections)), result.kind, fields, tuple(result.warnings), problems)


def approved_methods(registry: Registry | None = None) -> list[MethodChoice]:
    """The shipped method files whose exact content the registry holds an approval for."""
    registry = registry or Registry.default()
    out = []
    for path in sorted(resource_path("methods").glob("*.json")):
        if path.name == "builtin-approvals.json":
            continue
        method = load_method(path)
        if registry.find(method) is not None:
            out.append(MethodChoice(f"{method.label} (approved)", str(path)))
    return out


def match_files(left: HubFileInfo, right: HubFileInfo, out_dir: str | Path, *, method_path: str | None = None,
                lower: float | None = None, upper: float | None = None, threshold: float | None = None,
                passes: list[str] | None = None, choose: Chooser | None = None,
                registry_path: str | None = None, column_map: dict[str, str] | None = None,
                progress: Callable[[float, str], None] | None = None,
                cancel: threading.Event | None = None) -> dict:
    """Run the engine on two registered files into ``out_dir``; returns the run record (run.json).

    passes and choose as ``run_match``'s: the deterministic passes to apply, and a chooser of passes and
    cut-offs once the pairs are scored. Refused (RuleViolation) when a file changed since intake: the hash
    in the run record must equal the registered one. Engine errors (MatchInputError, MethodNotApproved,
    MatchCancelled) pass through.
    """
    record = run_match("link", [left.path, right.path], out_dir, method_path=method_path, registry_path=registry_path,
                       column_map=column_map, lower=lower, upper=upper, threshold=threshold, passes=passes,
                       choose=choose, progress=progress, cancel=cancel)
    for registered, used in zip((left, right), record["inputs"]):
        if used["sha256"] != registered.sha256:
            destroy_folder(Path(out_dir))
            raise RuleViolation(f"{registered.file_name} changed since it was registered (SHA-256 differs); "
                                "register the file again before matching it.")
    return record


def relay_chooser(offer: Callable, commands: queue.Queue, stopped: Callable[[], bool],
                  passes: list[str] | None = None) -> Chooser:
    """A ``run_match`` chooser that someone else answers: it hands ``offer(bands, allowed)`` the bands of
    ``passes`` and then of each ``("passes", [...])`` read from ``commands``, and returns the options of the
    first ``("decide", {...})``; ``stopped()`` (checked every 0.1 s) raises MatchCancelled."""
    def choose(bands, allowed):  # noqa: ANN001, ANN202 - run_match's Chooser
        offer(bands(passes), allowed)
        while True:
            if stopped():
                raise MatchCancelled("Matching was cancelled.")
            try:
                kind, value = commands.get(timeout=0.1)
            except queue.Empty:
                continue
            if kind == "decide":
                return value
            offer(bands(value), allowed)
    return choose


def match_files_in_process(left: HubFileInfo, right: HubFileInfo, out_dir: str | Path, *,
                           progress: Callable[[float, str], None] | None = None,
                           cancel: threading.Event | None = None, choose: Chooser | None = None,
                           **options) -> dict:
    """``match_files`` in a child process, relaying progress and cancel; returns the run record.

    Why a process: numpy, pandas and rapidfuzz hold the GIL for up to hundreds of milliseconds at a time,
    which froze the GUI thread while a match ran on a worker thread. ``choose`` is called here, in this
    process, while the child waits with the scored pairs (each ``bands(passes)`` is asked of the child; the
    personal data never leaves it). Errors come back as ServiceError (the engine's ``.message``) or
    MatchCancelled. A frozen (PyInstaller) build must call ``multiprocessing.freeze_support()`` at start-up.
    """
    context = multiprocessing.get_context("spawn")
    messages, replies = context.Queue(), context.Queue()
    stop = context.Event()
    child = context.Process(target=_match_child,
                            args=(messages, replies, stop, left, right, str(out_dir), options, choose is not None),
                            daemon=True)
    child.start()

    def receive() -> tuple:
        """The child's next message that is not progress; raises on its failure or cancellation."""
        while True:
            if cancel is not None and cancel.is_set():
                stop.set()
            try:
                kind, *payload = messages.get(timeout=0.1)
            except queue.Empty:
                if not child.is_alive():
                    raise ServiceError("The matching process stopped unexpectedly; nothing of this run was "
                                       "kept.") from None
                continue
            if kind == "progress":
                if progress is not None:
                    progress(*payload)
            elif kind == "cancelled":
                raise MatchCancelled("Matching was cancelled.")
            elif kind == "error":
                raise ServiceError(payload[0])
            else:
                return kind, payload

    try:
        kind, payload = receive()
        if kind == "bands":
            def key(passes: list[str] | None) -> tuple[str, ...] | None:
                return None if passes is None else tuple(sorted(passes))

            known = {key(options.get("passes")): payload[0]}
            allowed = payload[1]

            def bands(passes: list[str] | None):  # -> engine.Bands, made in the child
                if key(passes) not in known:
                    replies.put(("passes", passes))
                    known[key(passes)] = receive()[1][0]
                return known[key(passes)]

            replies.put(("decide", choose(bands, allowed)))
            kind, payload = receive()
        return payload[0]
    except BaseException:
        stop.set()   # the child may be waiting for a choice that will not come
        raise
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.terminate()


def _match_child(messages, replies, stop, left, right, out_dir, options, ask) -> None:  # noqa: ANN001 - child
    import gc
    import threading as _threading

    if hasattr(os, "nice"):  # on a 2-core workstation the window must win the CPU over the match
        os.nice(5)
    gc.disable()   # as in p20win-match: one run, next to no reference cycles, and the process ends after it

    cancel = _threading.Event()

    def report(fraction: float, message: str) -> None:
        if stop.is_set():
            cancel.set()
        messages.put(("progress", fraction, message))

    choose = relay_chooser(lambda bands, allowed: messages.put(("bands", bands, allowed)), replies, stop.is_set,
                           options.get("passes"))   # run_match's chooser, answered by the parent
    try:
        messages.put(("done", match_files(left, right, out_dir, progress=report, cancel=cancel,
                                          choose=choose if ask else None, **options)))
    except MatchCancelled:
        messages.put(("cancelled",))
    except Exception as exc:  # noqa: BLE001 - every failure must reach the parent as a sentence
        message = getattr(exc, "message", None)
        messages.put(("error", message if isinstance(message, str) and message else
                      f"Matching failed ({exc.__class__.__name__}); nothing of this run was kept."))


def load_review(run: RunInfo) -> pd.DataFrame:
    """The review-band pairs of a run (personal data: only ever on the hub workstation, until destroyed)."""
    path = Path(run.out_dir) / "review.tsv"
    if not path.exists():
        raise RuleViolation(f"The review file of run {run.id} is gone (destroyed or moved).")
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)


def load_links(run: RunInfo, *, chunk_rows: int | None = None) -> pd.DataFrame:
    """The run's linked pairs (crosswalk.tsv) with each comparison's level as a ``{name}_level`` column, as
    review rows have them, so that ``why`` explains any linked pair. No personal values: IDs and levels.

    chunk_rows: read that many rows at a time, so that a window's thread gets the GIL between chunks when
    this runs on its worker thread (one read of 800k rows held it for about half a second)."""
    out = Path(run.out_dir)
    if not (out / "crosswalk.tsv").exists():
        raise RuleViolation(f"The crosswalk of run {run.id} is gone (destroyed or moved).")
    options = {"sep": "\t", "dtype": str, "keep_default_na": False, "quoting": csv.QUOTE_NONE}
    if chunk_rows:
        with pd.read_csv(out / "crosswalk.tsv", chunksize=chunk_rows, **options) as reader:
            parts = list(reader)
        links = pd.concat(parts, ignore_index=True) if parts else pd.read_csv(out / "crosswalk.tsv", **options)
    else:
        links = pd.read_csv(out / "crosswalk.tsv", **options)
    try:
        levels = np.load(out / "crosswalk_levels.npy", allow_pickle=False)
    except (OSError, ValueError):   # a run from before the levels were kept, or a damaged file
        return links
    compared = run.record.get("parameters", {}).get("comparisons", [])
    if levels.shape != (len(links), len(compared)):
        return links
    for k, comp in enumerate(compared):
        labels = ["", *(lv["label"] for lv in comp["levels"])]
        # Categorical: the codes as they are, no Python string per pair.
        links[f"{comp['name']}_level"] = (pd.Categorical.from_codes(levels[:, k], labels)
                                          if len(set(labels)) == len(labels)
                                          else np.array(labels, dtype=object)[levels[:, k]])
    return links


def why(record: dict, pair: pd.Series) -> list[tuple[str, float]]:
    """Each contribution to a pair's match weight (a review row or a ``load_links`` row): the prior, one line per comparison (its level's
    weight from the run's m/u), and term-frequency adjustments (what is left of the engine's weight)."""
    lam = float(record["parameters"]["lambda"])
    parts = [("prior (share of pairs that match)", math.log2(lam / (1 - lam)))]
    for comp in record["parameters"]["comparisons"]:
        label = pair.get(f"{comp['name']}_level", "")
        weight = next((lv["weight"] for lv in comp["levels"] if lv["label"] == label), 0.0)
        parts.append((f"{comp['name']}: {label or 'missing'}", float(weight)))
    rest = float(pair["match_weight"]) - sum(w for _, w in parts)
    if abs(rest) > 0.005:
        parts.append(("name frequency adjustment", rest))
    return parts


_PERSONAL_HEADER = re.compile(r"^(first|last|middle|given|family|sur|full)?name$|^(dob|dateofbirth|birthdate|birthday)$"
                              r"|^(ssn|socialsecuritynumber|sasid)$|^firstinitial$")
_SSN_VALUE = re.compile(r"^\d{3}-?\d{2}-?\d{4}$")
_DATE_VALUE = re.compile(r"^(19|20)\d\d-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])$|^\d{1,2}/\d{1,2}/(19|20)\d\d$")
_NAME_VALUE = re.compile(r"^[A-Za-z][A-Za-z' .-]*$")


# The input columns whose values must never leave the hub (record IDs are the deliverable).
_PERSONAL_INPUT_COLUMNS = ("LastName", "MiddleName", "FirstName", "DOB", "SSN", "SASID")


def _value_keys(values: pd.Series) -> set[str]:
    """Values compared without case, spaces or punctuation ("123-45-6789" is "123456789"); keys shorter than
    three characters (initials) say nothing."""
    keys = values.astype(str).str.upper().str.replace(r"[^0-9A-Z]", "", regex=True)
    return {k for k in keys.unique() if len(k) >= 3}


def check_matrix(path: str | Path, *, inputs: Sequence[str | Path] = (), sample: int = 2000) -> list[str]:
    """Why the file may not leave the hub: columns named or shaped like names, dates of birth or SSNs, and
    columns holding the personal values of the run's ``inputs`` (the files matched, while they still exist).

    The shape check reads ``sample`` rows: synthetic IDs contain digits, so a column of mostly letter-only
    values reads as names. The value check reads everything and names the input column a matrix column
    copies (at least 5 values and 5 % of its distinct values: numeric IDs meet a few SSNs by chance).
    An empty list means the matrix may be delivered.
    """
    try:
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        return [f"the file cannot be read as a tab-delimited table ({exc.__class__.__name__})"]
    problems = []
    for column in frame.columns:
        key = re.sub(r"[^a-z]", "", str(column).lower())
        if _PERSONAL_HEADER.match(key):
            problems.append(f"column '{column}' is named like a name, date of birth or SSN")
            continue
        values = frame[column].head(sample).str.strip()
        values = values[values != ""]
        if values.empty:
            continue
        for pattern, what in ((_SSN_VALUE, "SSNs"), (_DATE_VALUE, "dates"), (_NAME_VALUE, "names")):
            if values.str.match(pattern).mean() >= 0.5:
                problems.append(f"column '{column}' holds values shaped like {what}")
                break
    columns = {column: _value_keys(frame[column]) for column in frame.columns}
    for source in inputs:
        read = read_matching_file(source).frame
        for field in (f for f in _PERSONAL_INPUT_COLUMNS if f in read.columns):
            known = _value_keys(read[field])
            for column, keys in columns.items():
                hits = len(keys & known)
                if hits >= 5 and hits >= 0.05 * len(keys):
                    problems.append(f"column '{column}' holds {hits:,} values of {Path(source).name}'s {field} "
                                    "column")
    return problems


def _overwrite_and_delete(path: Path) -> None:
    """Overwrite the file's bytes with zeros (flushed to disk), then delete it."""
    size = path.stat().st_size
    with open(path, "r+b", buffering=0) as f:
        block = b"\0" * (1 << 20)
        left = size
        while left > 0:
            left -= f.write(block[:min(left, len(block))])
        os.fsync(f.fileno())
    path.unlink()


def destroy_folder(folder: Path) -> None:
    """Overwrite every file under ``folder`` with zeros, delete them and the folder (gone already: nothing)."""
    if not folder.exists():
        return
    for item in sorted(folder.rglob("*"), reverse=True):
        if item.is_symlink():
            item.unlink()
        elif item.is_file():
            _overwrite_and_delete(item)
        else:
            item.rmdir()
    folder.rmdir()


# ---- the service ---------------------------------------------------------------------------------------

class HubService(Service):
    """``HubService(desk)``: the hub workspace's units of work and reads (hub staff, coordinators, admins)."""

    # -- intake
    def register_file(self, request_id: int, check: FileCheck, *, sender_agency_id: int, received_on: date,
                      sender: str = "") -> int:
        """Log a checked file in the match log and register it in place. Refused (RuleViolation, the match
        log's reason) unless the request has an executed DSA and the sender is one of its agencies."""
        with self._desk.batch():
            entry = self._desk.matchlog.log_files(
                request_id, sender_agency_id=sender_agency_id, files_received_on=received_on,
                file_name=Path(check.path).name, fields_included=list(check.fields) or ["(none)"], sender=sender,
                received_by=self.actor.display_name or self.actor.username)
            with self._write("register matching files", [Kind.MATCHLOG], roles=HUB_WORK) as uow:
                f = HubFile(match_log_id=entry, path=check.path, sha256=check.sha256, size=check.size, rows=check.rows,
                            rejected=check.rejected, kind=check.kind)
                uow.created(f, action="register_file")
                return f.id

    def files(self, request_id: int | None = None) -> list[HubFileInfo]:
        with self._read() as s:
            stmt = (select(HubFile.id, HubFile.match_log_id, MatchLogEntry.request_id, DataRequest.number, Agency.code,
                           MatchLogEntry.file_name, HubFile.path, HubFile.sha256, HubFile.size, HubFile.rows,
                           HubFile.rejected, HubFile.kind, MatchLogEntry.files_received_on, HubFile.destroyed_at)
                    .join(MatchLogEntry, MatchLogEntry.id == HubFile.match_log_id)
                    .join(DataRequest, DataRequest.id == MatchLogEntry.request_id)
                    .join(Agency, Agency.id == MatchLogEntry.sender_agency_id).order_by(HubFile.id))
            if request_id is not None:
                stmt = stmt.where(MatchLogEntry.request_id == request_id)
            return [HubFileInfo(*row) for row in s.execute(stmt)]

    def file(self, file_id: int) -> HubFileInfo:
        for f in self.files():
            if f.id == file_id:
                return f
        raise NotFound(f"There is no registered file with id {file_id}.")

    # -- runs
    def record_run(self, request_id: int, left_file_id: int, right_file_id: int, out_dir: str | Path, record: dict,
                   *, two_person_review: bool = False, on: date | None = None) -> int:
        """Keep a finished run and write its match date into both files' match log lines."""
        on = on or date.today()
        left, right = self.file(left_file_id), self.file(right_file_id)
        if {left.request_id, right.request_id} != {request_id}:
            raise RuleViolation("Both files must be registered for the request being matched.")
        method = record.get("method", {})
        with self._desk.batch():
            matched = {r.id for r in self._desk.matchlog.page(request_id=request_id) if r.matched_on}
            for f in (left, right):
                if f.match_log_id not in matched:
                    self._desk.matchlog.record_match(f.match_log_id, on)
            with self._write("record match runs", [Kind.MATCHLOG], roles=HUB_WORK) as uow:
                run = HubRun(request_id=request_id, left_file_id=left_file_id, right_file_id=right_file_id,
                             method=f"{method.get('id', '?')} {method.get('version', '?')} "
                                    f"({str(method.get('sha256', ''))[:12]})",
                             out_dir=str(out_dir), run_record=json.dumps(record), two_person_review=two_person_review,
                             finished_at=datetime.now(UTC))
                uow.created(run, action="record_run")
                return run.id

    def runs(self, request_id: int | None = None) -> list[RunInfo]:
        with self._read() as s:
            stmt = select(HubRun, DataRequest.number).join(DataRequest, DataRequest.id == HubRun.request_id)
            if request_id is not None:
                stmt = stmt.where(HubRun.request_id == request_id)
            return [RunInfo(r.id, r.request_id, number, r.left_file_id, r.right_file_id, r.method, r.out_dir,
                            json.loads(r.run_record), r.two_person_review, r.finished_at, r.delivered_on,
                            r.delivered_to, r.destroyed_at)
                    for r, number in s.execute(stmt.order_by(HubRun.id))]

    def run(self, run_id: int) -> RunInfo:
        for r in self.runs():
            if r.id == run_id:
                return r
        raise NotFound(f"There is no match run with id {run_id}.")

    # -- clerical review
    def decide(self, run_id: int, left_id: str, right_id: str, decision: str, *, round: int = 1) -> int:
        """Record the actor's decision on a review pair. Round 2 (two-person review) must be someone else."""
        if decision not in DECISIONS:
            raise ValidationFailed({"decision": f"must be one of {', '.join(DECISIONS)}"})
        with self._write("review matches", [Kind.MATCHLOG], roles=HUB_WORK) as uow:
            run = uow.get(HubRun, run_id, "match run")
            if run.destroyed_at is not None:
                raise RuleViolation("This run's working files were destroyed; it can no longer be reviewed.")
            if round == 2:
                if not run.two_person_review:
                    raise RuleViolation("This run was not set up for a two-person review.")
                first = set(uow.session.scalars(select(ReviewDecision.reviewer).where(
                    ReviewDecision.run_id == run_id, ReviewDecision.round == 1)))
                if self.actor.username in first:
                    raise RuleViolation("The second review must be done by someone other than the first reviewer.")
            d = ReviewDecision(run_id=run_id, round=round, left_id=left_id, right_id=right_id, decision=decision,
                               reviewer=self.actor.username, decided_at=datetime.now(UTC))
            uow.created(d, action="review_decision")
            return d.id

    def undo(self, run_id: int, *, round: int = 1) -> Decision | None:
        """Withdraw the actor's latest decision in that round; returns it (None when there was none)."""
        with self._write("review matches", [Kind.MATCHLOG], roles=HUB_WORK) as uow:
            last = uow.session.scalar(select(ReviewDecision).where(
                ReviewDecision.run_id == run_id, ReviewDecision.round == round,
                ReviewDecision.reviewer == self.actor.username).order_by(ReviewDecision.id.desc()).limit(1))
            if last is None:
                return None
            out = Decision(last.left_id, last.right_id, last.decision, last.reviewer, last.decided_at)
            uow.deleted(last, action="undo_review_decision")
            return out

    def decisions(self, run_id: int, *, round: int = 1) -> list[Decision]:
        """The round's decisions in order; a pair decided twice keeps both rows (the later one counts)."""
        with self._read() as s:
            rows = s.scalars(select(ReviewDecision)
                             .where(ReviewDecision.run_id == run_id, ReviewDecision.round == round)
                             .order_by(ReviewDecision.id))
            return [Decision(d.left_id, d.right_id, d.decision, d.reviewer, d.decided_at) for d in rows]

    def final_decisions(self, run_id: int) -> dict[tuple[str, str], str]:
        """Clerical verdicts that override the model: the latest match/non-match per pair; with a two-person
        review only the pairs on which both reviewers agree."""
        def latest(round_: int) -> dict[tuple[str, str], str]:
            out: dict[tuple[str, str], str] = {}
            for d in self.decisions(run_id, round=round_):
                if d.decision != "skip":
                    out[(d.left_id, d.right_id)] = d.decision
            return out
        first = latest(1)
        if not self.run(run_id).two_person_review:
            return first
        second = latest(2)
        return {pair: v for pair, v in first.items() if second.get(pair) == v}

    def write_final_matrix(self, run_id: int) -> tuple[Path, int]:
        """The crosswalk with clerical decisions applied, as ``id_matrix_final.tsv`` (synthetic IDs only).
        A pair confirmed by review is added only if neither record is already linked (one-to-one)."""
        run = self.run(run_id)
        folder = Path(run.out_dir)
        crosswalk = pd.read_csv(folder / "crosswalk.tsv", sep="\t", dtype=str, keep_default_na=False,
                                quoting=csv.QUOTE_NONE, usecols=["left_id", "right_id"])
        verdicts = self.final_decisions(run_id)
        rejected = {p for p, v in verdicts.items() if v == "non-match"}
        keep = [(l, r) not in rejected for l, r in zip(crosswalk["left_id"], crosswalk["right_id"])]
        crosswalk = crosswalk[keep]
        used_l, used_r = set(crosswalk["left_id"]), set(crosswalk["right_id"])
        added = [(l, r) for (l, r), v in verdicts.items() if v == "match" and l not in used_l and r not in used_r]
        final = pd.concat([crosswalk, pd.DataFrame(added, columns=["left_id", "right_id"])], ignore_index=True)
        path = folder / FINAL_MATRIX
        tmp = folder / f".{FINAL_MATRIX}.partial"
        final.to_csv(tmp, sep="\t", index=False, quoting=csv.QUOTE_NONE, lineterminator="\n")
        tmp.replace(path)
        return path, len(final)

    # -- delivery
    def deliver(self, run_id: int, dest: str | Path, recipient: str, *, matrix: str | Path | None = None,
                on: date | None = None) -> list[Path]:
        """Copy the ID matrix (default: the final matrix), run.json and quality.html into ``dest`` and write
        the delivery into the match log. Refused (RuleViolation, with the reasons) when the matrix has any
        column named or shaped like names, dates of birth or SSNs, or holding the run's inputs' personal values.
        Reads both inputs: run it in a job."""
        if not recipient.strip():
            raise ValidationFailed({"recipient": "is required"})
        run = self.run(run_id)
        if run.destroyed_at is not None:
            raise RuleViolation("This run's working files were destroyed; nothing is left to deliver.")
        source = Path(matrix) if matrix else self.write_final_matrix(run_id)[0]
        inputs = [f.path for f in (self.file(run.left_file_id), self.file(run.right_file_id))
                  if f.destroyed_at is None and Path(f.path).exists()]
        problems = check_matrix(source, inputs=inputs)
        if problems:
            raise RuleViolation(f"{source.name} was not delivered: the ID matrix must hold synthetic IDs only, but "
                                + "; ".join(problems) + ".")
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        written = []
        for src, name in ((source, "id_matrix.tsv"), (Path(run.out_dir) / "run.json", "run.json"),
                          (Path(run.out_dir) / "quality.html", "quality.html")):
            if src.exists():
                shutil.copyfile(src, dest / name)
                written.append(dest / name)
        on = on or date.today()
        with self._desk.batch():
            for f in (self.file(run.left_file_id), self.file(run.right_file_id)):
                self._desk.matchlog.record_id_matrix_sent(f.match_log_id, on, recipient.strip())
            with self._write("deliver ID matrices", [Kind.MATCHLOG], roles=HUB_WORK) as uow:
                row = uow.get(HubRun, run_id, "match run")
                before = record_of(row)
                row.delivered_on, row.delivered_to = on, recipient.strip()
                uow.updated(row, before, action="deliver")
        return written

    # -- destruction
    def destroy(self, request_id: int, *, on: date | None = None) -> list[str]:
        """Overwrite and delete every registered input file and every run's working folder of the request,
        record it in the match log and file the hub's destruction certificate. Returns what was destroyed.
        A file already gone counts as destroyed; a file that cannot be overwritten stops the whole action."""
        on = on or date.today()
        files = [f for f in self.files(request_id) if f.destroyed_at is None]
        runs = [r for r in self.runs(request_id) if r.destroyed_at is None]
        if not files and not runs:
            raise RuleViolation("Nothing is left to destroy for this request.")
        done = []
        for f in files:
            p = Path(f.path)
            try:
                if p.exists():
                    _overwrite_and_delete(p)
            except OSError as exc:
                raise RuleViolation(f"{f.file_name} could not be overwritten ({exc.strerror}); nothing was recorded "
                                    "for it. Close any program using it and try again.") from None
            done.append(f"{f.file_name} (SHA-256 {f.sha256})")
        for r in runs:
            try:
                destroy_folder(Path(r.out_dir))
            except OSError as exc:
                raise RuleViolation(f"The working folder of run {r.id} could not be destroyed "
                                    f"({exc.strerror}).") from None
            done.append(f"working files of run {r.id}")
        now = datetime.now(UTC)
        with self._desk.batch():
            with self._write("destroy input files", [Kind.MATCHLOG], roles=HUB_WORK) as uow:
                for f in files:
                    row = uow.get(HubFile, f.id, "registered file")
                    row.destroyed_at = now
                    uow.audit("destroy", "hub_files", f.id, None, {"destroyed_at": now.isoformat()})
                for r in runs:
                    row = uow.get(HubRun, r.id, "match run")
                    row.destroyed_at = now
                    uow.audit("destroy", "hub_runs", r.id, None, {"destroyed_at": now.isoformat()})
            for f in files:
                self._desk.matchlog.record_inputs_destroyed(f.match_log_id, on)
            self._desk.matchlog.certify_destruction(
                request_id, CertificateKind.HUB_INPUTS, destroyed_on=on,
                certified_by=self.actor.display_name or self.actor.username, received_on=on,
                notes="Overwritten and deleted by P20 WIN Desk: " + "; ".join(done))
        return done

    def certificate_pdf(self, request_id: int, out: str | Path) -> int:
        """Render the request's destruction certificate (the reports area's form) to ``out``; page count."""
        from app.reports import render
        from .reporting import ReportingService
        return render(ReportingService(self._desk).destruction_certificate(request_id), out)

    def destruction_due(self) -> list:
        """Open, overdue (and met) hub input destruction deadlines, soonest first (``lifecycle.deadlines``)."""
        return [d for d in self._desk.requests.deadlines(include_met=True) if d.kind == "destroy_inputs"]
