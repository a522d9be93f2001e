"""Throughput of the matching input stage: read_matching_file + standardise on a wage-style file.

Generates (once, seeded, with bench/generate.py) a labour wage file of ``--rows`` rows (default 1.7 million:
one quarter of Connecticut wage records), then reads and standardises it ``--runs`` times, each run in a
fresh process so its peak memory is its own, and prints the median rows/second (wall clock, and per CPU
second, which a busy shared machine distorts less) and peak RSS::

    uv run python bench/bench_standardise.py [--rows 1700000] [--runs 3] [--keep DIR | --file WAGE.tsv]
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _one_run(path: Path) -> dict:
    from app.matching.io import read_matching_file
    from app.matching.standardise import standardise

    t0, c0 = time.perf_counter(), time.process_time()
    result = read_matching_file(path)
    t1 = time.perf_counter()
    std = standardise(result.frame)
    t2, c2 = time.perf_counter(), time.process_time()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"rows": len(std), "read": t1 - t0, "standardise": t2 - t1, "cpu": c2 - c0, "peak_mib": peak_kib / 1024,
            "rejected": len(result.rejections), "issues": len(result.issues)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_700_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="write the generated files here and keep them")
    parser.add_argument("--file", type=Path, help="time this existing file instead of generating one")
    parser.add_argument("--run-one", type=Path, help=argparse.SUPPRESS)  # child process: one timed run
    args = parser.parse_args(argv)
    if args.run_one:
        print(json.dumps(_one_run(args.run_one)))
        return 0

    with tempfile.TemporaryDirectory() as scratch:
        if args.file:
            path = args.file
        else:
            from bench.generate import generate

            t = time.perf_counter()
            case = generate("wage", 1000, args.seed, n_right=args.rows)
            path = case.write(args.keep or Path(scratch))["right"]
            print(f"generated {args.rows:,} wage rows ({path.stat().st_size / 2**20:.0f} MiB) in "
                  f"{time.perf_counter() - t:.1f} s")
        runs = []
        for i in range(args.runs):
            child = subprocess.run([sys.executable, __file__, "--run-one", str(path)], capture_output=True,
                                   text=True, check=True, cwd=ROOT)
            run = json.loads(child.stdout)
            runs.append(run)
            total = run["read"] + run["standardise"]
            print(f"run {i + 1}: read {run['read']:.2f} s, standardise {run['standardise']:.2f} s, "
                  f"{run['rows'] / total:,.0f} rows/s, CPU {run['cpu']:.2f} s, peak {run['peak_mib']:,.0f} MiB")
    read = statistics.median(r["read"] for r in runs)
    std = statistics.median(r["standardise"] for r in runs)
    total = statistics.median(r["read"] + r["standardise"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    rows = runs[0]["rows"]
    print(f"median of {len(runs)}: read {read:.2f} s ({rows / read:,.0f} rows/s), standardise {std:.2f} s "
          f"({rows / std:,.0f} rows/s), together {total:.2f} s ({rows / total:,.0f} rows/s, CPU {cpu:.2f} s "
          f"= {rows / cpu:,.0f} rows per CPU-second); "
          f"peak memory {statistics.median(r['peak_mib'] for r in runs):,.0f} MiB "
          f"({runs[0]['rejected']:,} rows rejected, {runs[0]['issues']:,} value issues)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
