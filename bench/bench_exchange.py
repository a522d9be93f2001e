"""Sealed packages: cost of sealing and opening by payload size, and of a full import into a real store.

Sealing and opening are timed in-process (median of ``--repeat`` runs) for payloads of a run record's typical
and maximum sizes; the import is a work order applied to a fresh hub store (including the preview, which
runs the same import and rolls it back). Prints one table.

    uv run python bench/bench_exchange.py --repeat 7
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.exchange.identity import Identity  # noqa: E402
from app.exchange.package import open_envelope, read_envelope, read_payload, seal  # noqa: E402


def _median_ms(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _run_record(approx_bytes: int) -> dict:
    row = {"name": "pass", "kind": "probabilistic", "pairs": 123456, "matches": 3456, "review": 78}
    per_row = len(str(row)) + 10
    return {"passes": [dict(row, name=f"pass-{i}") for i in range(max(1, approx_bytes // per_row))]}


def bench_crypto(repeat: int) -> list[tuple[str, float, float, int]]:
    opm, hub = Identity.generate("OPM-BENCH", "opm"), Identity.generate("HUB-BENCH", "hub")
    rows = []
    for label, size in (("1 KiB", 1024), ("100 KiB", 100 * 1024), ("2 MiB", 2 * 1024 * 1024)):
        payload = {"run": _run_record(size)}
        _, data = seal("completion", payload, sender=opm, recipient=hub.public(), sequence=1)
        sealing = _median_ms(lambda: seal("completion", payload, sender=opm, recipient=hub.public(), sequence=1),
                             repeat)

        def opening() -> None:
            env = read_envelope(data)
            read_payload(open_envelope(env, sender=opm.public(), me=hub), env.manifest)

        rows.append((label, sealing, _median_ms(opening, repeat), len(data)))
    return rows


def bench_import(repeat: int) -> tuple[float, float]:
    from tests.exchange.conftest import executed_request, make_site, trust_each_other

    previews, imports = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            opm, hub = make_site(tmp, "opm-bench", "opm"), make_site(tmp, "hub-bench", "hub")
            trust_each_other(opm, hub)
            number = executed_request(opm.desk)
            data = opm.exchange.send("work_order", opm.exchange.work_order(number), tmp).path.read_bytes()
            previews.append(_median_ms(lambda: hub.exchange.preview(data), 1))
            imports.append(_median_ms(lambda: hub.exchange.import_package(data), 1))
            opm.store.close()
            hub.store.close()
    return statistics.median(previews), statistics.median(imports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'payload':>10} {'seal ms':>9} {'open ms':>9} {'file bytes':>11}")
    for label, sealing, opening, size in bench_crypto(args.repeat):
        print(f"{label:>10} {sealing:9.2f} {opening:9.2f} {size:11,}")
    preview, imported = bench_import(args.repeat)
    print(f"work order into a fresh hub store: preview {preview:.1f} ms, import {imported:.1f} ms "
          f"(medians of {args.repeat})")


if __name__ == "__main__":
    main()
