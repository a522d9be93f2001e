"""Store figures: unlock time at the production scrypt cost, 100k inserts, backup, restore and verify.

    uv run python bench/bench_store.py [--rows 100000] [--runs 3]

Prints medians over --runs runs (unlock: 2 * runs). Uses a temporary folder; nothing is kept.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from app.store import PRODUCTION_KDF, KdfParams, Store

PASSPHRASE = "benchmark passphrase"


def timed(fn) -> float:  # noqa: ANN001
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(fn, runs: int) -> float:  # noqa: ANN001
    return statistics.median(timed(fn) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        path = root / "bench.p20store"
        t_create = timed(lambda: Store.create(path, "bench", PASSPHRASE)[0].close())
        print(f"create (schema + 2 slots, scrypt N={PRODUCTION_KDF.n} r={PRODUCTION_KDF.r} p={PRODUCTION_KDF.p}): "
              f"{t_create:.2f} s")
        print(f"unlock (passphrase -> open, quick check): "
              f"{median(lambda: Store.open(path, 'bench', PASSPHRASE).close(), 2 * args.runs):.3f} s median")

        store = Store.open(path, "bench", PASSPHRASE)
        with store.session() as s:
            s.execute(text("CREATE TABLE bench (id INTEGER PRIMARY KEY, name TEXT, note TEXT, amount REAL)"))
        rows = [{"name": f"Person {i}", "note": "lorem ipsum dolor sit amet " * 3, "amount": i * 0.5}
                for i in range(args.rows)]

        def insert_all() -> None:
            with store.session() as s:
                s.execute(text("DELETE FROM bench"))
                s.execute(text("INSERT INTO bench (name, note, amount) VALUES (:name, :note, :amount)"), rows)

        t_insert = median(insert_all, args.runs)
        print(f"{args.rows:,} inserts in one unit of work: {t_insert:.2f} s median ({args.rows / t_insert:,.0f} rows/s)")

        def one_commit() -> None:
            with store.session() as s:
                s.execute(text("INSERT INTO bench (name) VALUES ('x')"))

        print(f"one small committed unit of work (fsync): {median(one_commit, 20) * 1000:.1f} ms median")
        store.checkpoint()
        size = path.stat().st_size / 1e6
        backups = iter(range(1000))
        t_backup = median(lambda: store.backup(root / f"b{next(backups)}.p20backup"), args.runs)
        print(f"backup of a {size:.1f} MB store: {t_backup:.2f} s median")
        print(f"verify (integrity + cipher HMAC + foreign keys): {median(store.verify, args.runs):.2f} s median")
        key = store.data_key
        store.close()
        t_open = median(lambda: Store.open_with_data_key(path, key).close(), args.runs)
        print(f"open of the {size:.1f} MB store beyond the KDF (quick check, schema revision): {t_open:.3f} s median")
        restores = iter(range(1000))
        t_restore = median(lambda: Store.restore(root / "b0.p20backup", root / f"r{next(restores)}.p20store",
                                                 "bench", PASSPHRASE), args.runs)
        print(f"restore (unwrap + copy + full integrity check): {t_restore:.2f} s median")
        fast = KdfParams(n=2**14)
        print(f"for scale: one scrypt derivation at N=2^14 takes {median(lambda: fast.derive(b'x', b'y' * 16), 5) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
