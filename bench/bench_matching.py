"""Side-by-side benchmark: this engine (``p20win-match``) and Splink 5 (DuckDB) on the same generated files.

Each tool runs in its own subprocess; wall time is the subprocess's, peak memory its maximum resident set
size (``os.wait4`` rusage: the process and any children it waited for). Accuracy is measured against the
generator's truth at each tool's default threshold: this engine's ``crosswalk.tsv`` (the review band is not
counted as linked) or ``clusters.tsv``; Splink's ``predict(threshold_match_probability=0.5)`` pairs, and
the same after Splink's one-to-one ``cluster_using_single_best_links`` (reported as ``splink 1:1``).
Medians over ``--repeat`` runs. Prints a table and the Splink/ours ratios and writes JSON to ``bench/out/``.

    uv run --group bench python bench/bench_matching.py --sizes 10000 100000 --cases full wage --repeat 3
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.febrl import write_febrl4  # noqa: E402
from bench.generate import generate  # noqa: E402

OUT = HERE / "out"


def _child_env() -> dict:
    """The environment for measured runs: bytecode allowed, as an installed application would have it.

    Some shells set PYTHONDONTWRITEBYTECODE, which makes every start recompile all imported sources (~2 s
    for pandas and friends) and would charge both tools a cost no real install pays.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def precompile(python: str = sys.executable) -> None:
    """Compile the project and `python`'s installed packages once, so no measured run pays for compiling."""
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([python, "-m", "compileall", "-q", "-j", "0", site, str(ROOT / "app"),
                    str(HERE)], cwd=ROOT, env=_child_env(), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)   # template files in some packages are not Python: ignored


def run_measured(cmd: list[str], log: Path, timeout: float) -> dict:
    """Run ``cmd``; return wall seconds, peak RSS (MiB) and exit status. stdout/stderr go to ``log``."""
    load_before = round(os.getloadavg()[0], 2)
    with open(log, "wb") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT, env=_child_env())
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                return {"ok": False, "error": f"timed out after {timeout:.0f} s",
                        "seconds": time.perf_counter() - t0, "peak_mib": usage.ru_maxrss / 1024}
            time.sleep(0.05)
        wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    # The machine is shared: the load average says how far other work may have slowed this run.
    result = {"ok": code == 0, "seconds": wall, "peak_mib": usage.ru_maxrss / 1024,
              "cpu_seconds": usage.ru_utime + usage.ru_stime, "load_before": load_before,
              "load_after": round(os.getloadavg()[0], 2)}
    if code != 0:
        tail = log.read_text("utf-8", "replace").strip().splitlines()[-3:]
        result["error"] = f"exit {code}: " + " | ".join(tail)
    return result


def link_scores(pred: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Precision, recall and F1 of predicted (left_id, right_id) pairs against the truth pairs."""
    pred = pred[["left_id", "right_id"]].astype(str).drop_duplicates()
    tp = len(pred.merge(truth[["left_id", "right_id"]].astype(str), on=["left_id", "right_id"]))
    return _prf(tp, len(pred), len(truth))


def cluster_scores(pred: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Pairwise precision, recall and F1 of a clustering (``record_id cluster_id``) against the truth's."""
    both = truth.astype(str).merge(pred[["record_id", "cluster_id"]].astype(str), on="record_id",
                                   suffixes=("_t", "_p"), how="left")
    missing = both["cluster_id_p"].isna()
    both.loc[missing, "cluster_id_p"] = "singleton:" + both.loc[missing, "record_id"]

    def pairs(counts: pd.Series) -> int:
        return int((counts * (counts - 1) // 2).sum())

    tp = pairs(both.groupby(["cluster_id_t", "cluster_id_p"]).size())
    return _prf(tp, pairs(both.groupby("cluster_id_p").size()), pairs(both.groupby("cluster_id_t").size()))


def _prf(tp: int, predicted: int, true: int) -> dict:
    precision = tp / predicted if predicted else 0.0
    recall = tp / true if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "predicted": predicted, "true_pairs": true,
            "true_positives": tp}


def _read_tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


def run_ours(case: str, files: dict, work: Path, timeout: float, python: str = sys.executable) -> dict:
    out = work / "ours"
    cmd = [python, "-m", "app.matching"]
    cmd += ["dedupe", str(files["left"])] if case == "dedupe" else ["link", str(files["left"]), str(files["right"])]
    cmd += ["--out", str(out)]
    res = run_measured(cmd, work / "ours.log", timeout)
    if res["ok"]:
        truth = _read_tsv(files["truth"])
        if case == "dedupe":
            res.update(cluster_scores(_read_tsv(out / "clusters.tsv"), truth))
        else:
            res.update(link_scores(_read_tsv(out / "crosswalk.tsv"), truth))
        record = json.loads((out / "run.json").read_text("utf-8"))
        est = record.get("estimates") or {}
        res["estimated_precision"] = est.get("precision")
        res["estimated_recall"] = est.get("recall")
        res["review_pairs"] = sum(p.get("review", 0) for p in record.get("passes", []))
        res["stages"] = record.get("timings")
    return {"ours": res}


def run_splink(case: str, files: dict, work: Path, timeout: float, memory_limit: str | None) -> dict:
    out = work / "splink"
    layout = "full" if case == "febrl4" else case   # FEBRL 4 is mapped to the full P20 WIN layout
    cmd = [sys.executable, str(HERE / "splink_runner.py"), "--case", layout, str(files["left"])]
    if case != "dedupe":
        cmd.append(str(files["right"]))
    cmd += ["--out", str(out)]
    if memory_limit:
        cmd += ["--memory-limit", memory_limit]
    res = run_measured(cmd, work / "splink.log", timeout)
    if not res["ok"]:
        return {"splink": res}
    stages = json.loads((out / "timings.json").read_text("utf-8"))
    truth = _read_tsv(files["truth"])
    if case == "dedupe":
        res.update(cluster_scores(_read_tsv(out / "clusters.tsv"), truth))
        res["stages"] = stages
        return {"splink": res}
    one_to_one = dict(res)
    # Splink's default output is the predict() pairs; the one-to-one step ran after it in the same process.
    res = dict(res, seconds=res["seconds"] - stages.get("one_to_one", 0.0), stages=stages)
    res.update(link_scores(_read_tsv(out / "pairs.tsv"), truth))
    one_to_one.update(link_scores(_read_tsv(out / "pairs_one_to_one.tsv"), truth), stages=stages)
    return {"splink": res, "splink 1:1": one_to_one}


def _median_runs(runs: list[dict]) -> dict:
    ok = [r for r in runs if r.get("ok")]
    if not ok:
        return {"ok": False, "error": runs[-1].get("error", "failed"), "runs": len(runs)}
    med = dict(ok[len(ok) // 2])
    for key in ("seconds", "cpu_seconds", "peak_mib", "precision", "recall", "f1"):
        if key in ok[0]:
            med[key] = statistics.median(r[key] for r in ok)
    med["runs"] = len(ok)
    med["seconds_all"] = [round(r["seconds"], 2) for r in ok]
    med["load_all"] = [r.get("load_before") for r in ok]
    return med


def _fmt(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def print_table(results: list[dict]) -> None:
    head = (f"{'case':7} {'size':>9} {'tool':11} {'precision':>9} {'recall':>7} {'F1':>7} {'time s':>8} "
            f"{'CPU s':>7} {'peak MiB':>9}")
    print(head)
    print("-" * len(head))
    for row in results:
        for tool, r in row["tools"].items():
            if not r.get("ok"):
                print(f"{row['case']:7} {row['size']:>9,} {tool:11} failed: {r.get('error')}")
                continue
            est = ""
            if r.get("estimated_precision") is not None:
                est = f"  (estimated P {r['estimated_precision']:.4f}, R {r['estimated_recall']:.4f})"
            print(f"{row['case']:7} {row['size']:>9,} {tool:11} {r['precision']:9.4f} {r['recall']:7.4f} "
                  f"{r['f1']:7.4f} {r['seconds']:8.1f} {r.get('cpu_seconds', 0):7.1f} {r['peak_mib']:9.0f}{est}")
        ours, sp = row["tools"].get("ours", {}), row["tools"].get("splink", {})
        if ours.get("ok") and sp.get("ok"):
            row["ratios"] = {"time_splink_over_ours": sp["seconds"] / ours["seconds"],
                             "cpu_splink_over_ours": sp["cpu_seconds"] / ours["cpu_seconds"],
                             "memory_splink_over_ours": sp["peak_mib"] / ours["peak_mib"],
                             "f1_ours_minus_splink": ours["f1"] - sp["f1"]}
            r = row["ratios"]
            print(f"{'':7} {'':>9} Splink/ours: time x{r['time_splink_over_ours']:.2f}, "
                  f"CPU x{r['cpu_splink_over_ours']:.2f}, "
                  f"memory x{r['memory_splink_over_ours']:.2f}; F1 ours - Splink {r['f1_ours_minus_splink']:+.4f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", default=["full", "wage"],
                        choices=["full", "wage", "dedupe", "febrl4"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000],
                        help="rows per file (left and right the same); febrl4 is always 5,000")
    parser.add_argument("--tools", nargs="+", default=["ours", "splink"], choices=["ours", "splink"])
    parser.add_argument("--splink-max-size", type=int, default=None,
                        help="skip Splink above this size (e.g. when it would not fit in memory)")
    parser.add_argument("--splink-memory-limit", default=None, help="DuckDB memory_limit for Splink, e.g. 16GB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "p20win-bench",
                        help="scratch folder for generated files and outputs (holds synthetic data only)")
    parser.add_argument("--ours-python", default=sys.executable,
                        help="interpreter for our engine, e.g. of an environment with only the application's "
                             "dependencies, as installed (see bench/README.md)")
    args = parser.parse_args(argv)
    if "splink" in args.tools:
        try:
            import splink  # noqa: F401
        except ImportError:
            parser.error("Splink is not installed here: run with `uv run --group bench python bench/bench_matching.py`")
    precompile()
    if args.ours_python != sys.executable:
        precompile(args.ours_python)
    results = []
    for case in args.cases:
        for size in args.sizes:
            if case == "febrl4" and size != args.sizes[0]:
                continue   # FEBRL 4 has one size (5,000 x 5,000)
            data = args.work / (f"{case}-{size}-seed{args.seed}" if case != "febrl4" else "febrl4")
            files = {k: data / f"{k}.tsv" for k in ("left", "right", "truth")}
            if case == "febrl4":
                write_febrl4(data)
                size = 5000
            elif not files["truth"].exists():
                t = time.perf_counter()
                generate(case, size, args.seed).write(data)
                print(f"generated {case} {size:,} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
            row = {"case": case, "size": size, "seed": args.seed, "tools": {}}
            tools = [t for t in args.tools
                     if not (t == "splink" and args.splink_max_size and size > args.splink_max_size)]
            runs: dict[str, list] = {}
            failed: set[str] = set()
            # The tools take turns, run by run: a slow spell of this shared machine then falls on both.
            for i in range(args.repeat):
                for tool in tools:
                    if tool in failed:
                        continue   # a failure (e.g. out of memory) will not go better on repeat
                    work = data / f"run-{tool}-{i}"
                    work.mkdir(parents=True, exist_ok=True)
                    print(f"{case} {size:,} {tool} run {i + 1}/{args.repeat}", file=sys.stderr)
                    got = (run_ours(case, files, work, args.timeout, args.ours_python) if tool == "ours"
                           else run_splink(case, files, work, args.timeout, args.splink_memory_limit))
                    for name, res in got.items():
                        runs.setdefault(name, []).append(res)
                    if not all(r.get("ok") for r in got.values()):
                        failed.add(tool)
            for name, rs in runs.items():
                row["tools"][name] = _median_runs(rs)
            results.append(row)
    print()
    print_table(results)
    OUT.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    doc = {"when": stamp, "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                      "python": platform.python_version()},
           # The engine changes often: say which commit was measured (uncommitted edits are not captured).
           "commit": commit.stdout.strip() or None,
           "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
           "results": results}
    (OUT / f"results-{stamp}.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"\nresults: {OUT / f'results-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
