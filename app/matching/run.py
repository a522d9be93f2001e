"""A whole matching run from files to an output folder: read, standardise, match, write, record.

Writes into DIR: crosswalk.tsv and crosswalk_levels.npy (link) or clusters.tsv (dedupe), review.tsv,
id_matrix.tsv, rejections.tsv, quality.html (when the quality module is present) and run.json last, holding the SHA-256
of every input and output. If the run fails or is cancelled, every file it wrote is removed again.
"""
from __future__ import annotations

import csv
import hashlib
import json
import platform
import threading
import time
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

import app
from app.matching import engine, parallel
from app.matching.io import MatchInputError, excel_safe_cells, read_and_standardise, rejection_report
from app.matching.method import load_method
from app.matching.registry import Registry

Chooser = Callable[[Callable[[list[str] | None], "engine.Bands"], list[str]], dict]
TSV_PARALLEL_ROWS = 20_000   # rows of output tables from which they are made two at a time
OUTPUT_NAMES = ("crosswalk.tsv", "crosswalk_levels.npy", "clusters.tsv", "review.tsv", "id_matrix.tsv",
                "rejections.tsv", "quality.html", "run.json")


def _software() -> dict:
    def ver(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"
    return {"p20win_desk": app.__version__, "python": platform.python_version(), "numpy": np.__version__,
            "pandas": pd.__version__, "rapidfuzz": ver("rapidfuzz"), "jellyfish": ver("jellyfish")}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class _Outputs:
    """Files of this run: each written to a hidden temporary name, then renamed into place."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.written: list[Path] = []
        self.rows: dict[str, int] = {}

    def path(self, name: str) -> Path:
        return self.folder / name

    def tsv(self, name: str, text: tuple[str, int]) -> None:
        """Write a TSV from `_tsv_texts`' (text, rows)."""
        self._place(name, lambda tmp: tmp.write_text(text[0], encoding="utf-8"))
        self.rows[name] = text[1]

    def _place(self, name: str, write) -> None:
        final = self.folder / name
        tmp = self.folder / f".{name}.partial"
        self.written.append(tmp)
        write(tmp)
        tmp.replace(final)
        self.written[-1] = final

    def adopt(self, name: str, write, rows: int | None = None) -> None:
        self._place(name, write)
        if rows is not None:
            self.rows[name] = rows

    def remove_all(self) -> None:
        for path in self.written:
            path.unlink(missing_ok=True)
        self.written.clear()


def run_match(mode: str, inputs: list[str | Path], out_dir: str | Path, *, method_path: str | Path | None = None,
              registry_path: str | Path | None = None,
              column_map: Mapping[str, str] | list[Mapping[str, str] | None] | None = None,
              encoding: str | None = None, threshold: float | None = None, lower: float | None = None,
              upper: float | None = None, seed: int = 1, labels_path: str | Path | None = None,
              passes: list[str] | None = None, choose: Chooser | None = None,
              progress: engine.Progress | None = None, cancel: threading.Event | None = None,
              retain: list | None = None) -> dict:
    """Run a link (two inputs) or dedupe (one input) and write the outputs; returns the run record.

    column_map: one map for every input, or a list with one map (or None) per input.
    passes: the method's deterministic passes to apply (None: all of them).
    choose: for choosing passes and cut-offs by hand once the pairs are scored: ``choose(bands, allowed)``
    gets ``bands(passes)`` (an `engine.Bands` for a choice of deterministic passes, None: all; call it any
    number of times) and the names of the passes these files allow, and returns the decision's options
    (any of threshold, lower, upper, passes) or raises MatchCancelled. Without it the arguments above decide.
    retain: a list that is given the run's working data (frames, scores, result) instead of their being freed
    on return: for a process that ends at once (`p20win-match`), where freeing them cost ~0.06 s at 100k.
    labels_path: optional TSV of clerically decided pairs (`left_id right_id is_match`, is_match 1/0 or
    yes/no; for dedupe the two columns name records of the one file) used when estimating m.

    Raises MatchInputError, MethodError, MethodNotApproved or RegistryError (each with `.message`) before
    writing anything, MatchCancelled if `cancel` is set; on any failure no output of this run remains.
    """
    if mode not in ("link", "dedupe") or len(inputs) != (2 if mode == "link" else 1):
        raise ValueError("link takes two input files, dedupe one")
    started = _now()
    report = progress or (lambda fraction, message: None)
    method = load_method(method_path)
    registry = Registry(registry_path) if registry_path else Registry.default()
    registry.require(method)   # refuse before reading any personal data
    labels = read_labels(labels_path) if labels_path else None
    maps = column_map if isinstance(column_map, list) else [column_map] * len(inputs)

    def files_read(done: int, count: int):
        if cancel is not None and cancel.is_set():
            raise engine.MatchCancelled("Matching was cancelled.")
        report(0.02 + 0.08 * done / count, f"Read {done} of {count} files")

    report(0.02, f"Reading {' and '.join(Path(p).name for p in inputs)}")
    t = time.perf_counter()
    done = read_and_standardise(list(inputs), maps, encoding=encoding, after=files_read)
    reads, frames = [d[0] for d in done], [d[1] for d in done]
    # The two files may be read at once: the stages share the wall time in proportion to their work.
    spent, reading, standardising = time.perf_counter() - t, sum(d[2] for d in done), sum(d[3] for d in done)
    share = spent / max(reading + standardising, 1e-9)
    timings = {"read": reading * share, "standardise": standardising * share}

    def inner(fraction: float, message: str):
        report(0.1 + 0.85 * fraction, message)

    engine.check_cutoffs(threshold, lower, upper)
    options = dict(registry=registry, seed=seed, labelled_pairs=labels, progress=inner, cancel=cancel,
                   value_codes=[d[4] for d in done])
    if mode == "link":
        scoring = engine.prepare_link(frames[0], frames[1], method, **options)
    else:
        scoring = engine.prepare_dedupe(frames[0], method, **options)
    decision = {"threshold": threshold, "lower": lower, "upper": upper, "passes": passes}
    if choose is not None:
        decision.update(choose(scoring.bands, scoring.deterministic_passes))
    result = scoring.decide(**decision)
    report(0.96, "Writing outputs")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    outputs = _Outputs(out)
    try:
        t = time.perf_counter()
        _write(outputs, mode, result, reads, frames)
        record = {"software": _software(), "mode": mode, "seed": seed}
        roles = ("left", "right") if mode == "link" else ("input",)
        record["inputs"] = [{"role": role, "file_name": Path(p).name, "sha256": r.sha256, "rows": r.rows_in_file,
                             "rejected": int(len(r.rejections))} for role, p, r in zip(roles, inputs, reads)]
        record.update({k: v for k, v in result.record.items() if k not in ("mode", "seed", "timings")})
        # Which cut-offs a person set (on the command line or in the hub's wizard); the rest are the model's.
        record["thresholds"]["set_by_hand"] = [k for k in ("lower", "threshold", "upper") if decision[k] is not None]
        record["warnings"] = [w for r in reads for w in r.warnings]
        timings.update(result.record["timings"])
        timings.pop("total", None)
        timings["write"] = time.perf_counter() - t
        timings["total"] = sum(timings.values())   # stages only: time spent choosing by hand is no work
        record["timings"] = {k: round(v, 3) for k, v in timings.items()}
        record["started"] = started
        record["finished"] = _now()
        record["outputs"] = [{"file": p.name, "sha256": _sha256(p), "rows": outputs.rows.get(p.name)}
                             for p in outputs.written]
        if _write_quality(outputs, record):   # the report shows the record, run.json also lists the report
            report_file = outputs.path("quality.html")
            record["outputs"].append({"file": report_file.name, "sha256": _sha256(report_file), "rows": None})
        text = json.dumps(record, indent=2, sort_keys=False, default=_json_default)
        outputs.adopt("run.json", lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
        if cancel is not None and cancel.is_set():
            raise engine.MatchCancelled("Matching was cancelled.")
    except BaseException:
        outputs.remove_all()
        raise
    # An earlier run's outputs of the other mode (clusters.tsv beside a new crosswalk.tsv) would mislead.
    for stale in set(OUTPUT_NAMES) - {p.name for p in outputs.written}:
        (out / stale).unlink(missing_ok=True)
    report(1.0, "Done")
    if retain is not None:
        retain.extend((reads, frames, done, scoring, result))
    return record


def read_labels(path: str | Path) -> pd.DataFrame:
    """Labelled pairs from a TSV (`left_id right_id is_match`); MatchInputError if unusable."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise MatchInputError(f"Labelled pairs {path.name} cannot be read: {exc}") from None
    missing = {"left_id", "right_id", "is_match"} - set(frame.columns)
    if missing:
        raise MatchInputError(f"Labelled pairs {path.name} lack the column(s) {', '.join(sorted(missing))}.")
    decision = frame["is_match"].str.strip().str.lower()
    known = decision.isin(["1", "0", "yes", "no", "true", "false", "match", "non-match"])
    if not known.all():
        rows = [str(i + 2) for i in frame.index[~known][:5]]
        raise MatchInputError(f"Labelled pairs {path.name}: is_match must be 1/0 or yes/no (lines {', '.join(rows)}).")
    return pd.DataFrame({"left_id": frame["left_id"], "right_id": frame["right_id"],
                         "is_match": decision.isin(["1", "yes", "true", "match"]).to_numpy()})


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")


def _tsv_cells(frame: pd.DataFrame, floats: tuple[str, ...]) -> dict[str, list[str]]:
    """Each column's TSV cells: text made spreadsheet-safe, the `floats` columns with six decimals (NaN
    blank)."""
    columns = {}
    for col in frame.columns:
        if col in floats:
            values = frame[col].to_numpy(dtype=np.float64)
            # One %-format over the whole column: a third faster than formatting cell by cell.
            cells = ("%.6f\n" * len(values) % tuple(values.tolist())).split("\n")[:-1]
            for i in np.flatnonzero(np.isnan(values)).tolist():
                cells[i] = ""
            columns[col] = cells
        else:
            columns[col] = excel_safe_cells(frame[col])
    return columns


def _tsv_texts(tables: list[tuple[pd.DataFrame, tuple[str, ...], dict[str, list[str]]]]) -> dict[str, tuple[str, int]]:
    """TSV text and rows of each output file, as ``{file: (text, rows)}``.

    tables: (frame, its float columns, {file: the frame's columns it holds}): files cut from one frame (the
    ID matrix from the crosswalk) share its cells. The frames are made two at a time when they are large
    (app.matching.parallel).
    """
    def texts(i: int) -> dict[str, tuple[str, int]]:
        frame, floats, files = tables[i]
        cells = _tsv_cells(frame, floats)
        # Joined by hand: pandas' to_csv formats cell by cell through several layers and took ~1 s at 100k.
        return {name: ("\n".join(["\t".join(cols), *map("\t".join, zip(*(cells[c] for c in cols)))]) + "\n",
                       len(frame)) for name, cols in files.items()}

    shared = parallel.worth_it(sum(len(frame) for frame, _, _ in tables), TSV_PARALLEL_ROWS)
    out: dict[str, tuple[str, int]] = {}
    for part in parallel.map_tasks(texts, len(tables), parallel=shared):
        out.update(part)
    return out


def _write(outputs: _Outputs, mode: str, result: engine.MatchResult, reads, frames) -> None:
    floats = ("match_probability", "match_weight")
    review = (result.review, floats, {"review.tsv": list(result.review.columns)})
    if mode == "link":
        # The deliverable ID matrix: synthetic IDs of linked records only, no scores and no personal fields.
        text = _tsv_texts([(result.crosswalk, floats, {"crosswalk.tsv": list(result.crosswalk.columns),
                                                       "id_matrix.tsv": ["left_id", "right_id"]}), review])
        outputs.tsv("crosswalk.tsv", text["crosswalk.tsv"])
        # Level codes only (no values): each crosswalk row's level per comparison, in run.json's order, for
        # the hub's "why" of any linked pair. Binary: a text copy cost ~0.1 s at 100k pairs.
        outputs.adopt("crosswalk_levels.npy", lambda tmp: _save_array(tmp, result.levels), rows=len(result.levels))
        outputs.tsv("id_matrix.tsv", text["id_matrix.tsv"])
    else:
        text = _tsv_texts([(result.clusters, (), {"clusters.tsv": list(result.clusters.columns),
                                                  "id_matrix.tsv": ["cluster_id", "record_id"]}), review])
        outputs.tsv("clusters.tsv", text["clusters.tsv"])
        outputs.tsv("id_matrix.tsv", text["id_matrix.tsv"])
    outputs.tsv("review.tsv", text["review.tsv"])
    roles = ("left", "right") if mode == "link" else ("input",)
    parts = []
    for role, read in zip(roles, reads):
        part = rejection_report(read)   # in memory: written to a file and read back, it cost ~0.03 s
        part.insert(0, "file", role)
        parts.append(part)
    rejections = pd.concat(parts, ignore_index=True)
    outputs.adopt("rejections.tsv", lambda tmp: rejections.to_csv(
        tmp, sep="\t", index=False, quoting=csv.QUOTE_NONE, lineterminator="\n", encoding="utf-8"),
        rows=len(rejections))


def _save_array(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as handle:   # np.save on a name would append ".npy" to the temporary name
        np.save(handle, array, allow_pickle=False)


def _write_quality(outputs: _Outputs, record: dict) -> bool:
    try:
        from app.matching.quality import write_quality_report
    except ImportError:   # the report module is optional for a run; run.json carries everything it shows
        return False
    outputs.adopt("quality.html", lambda tmp: write_quality_report(record, tmp))
    return True
