"""Units of work from several threads: writers are serialised, readers see snapshots and never block."""
from __future__ import annotations

import threading

from sqlalchemy import text


def test_concurrent_read_then_write_units_lose_no_update(store):
    """The audit chain reads its head then appends: two such units must never interleave."""
    with store.session() as s:
        s.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        s.execute(text("INSERT INTO counter VALUES (0)"))
    errors = []

    def bump(times: int) -> None:
        try:
            for _ in range(times):
                with store.session() as s:
                    n = s.execute(text("SELECT n FROM counter")).scalar_one()
                    s.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except Exception as exc:  # collected: an exception in a thread would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(40,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.read_session() as s:
        assert s.execute(text("SELECT n FROM counter")).scalar_one() == 160


def test_reader_sees_a_snapshot_and_does_not_block_a_writer(store):
    with store.session() as s:
        s.execute(text("CREATE TABLE items (n INTEGER)"))
        s.execute(text("INSERT INTO items VALUES (1)"))
    with store.read_session() as reader:
        assert reader.execute(text("SELECT count(*) FROM items")).scalar_one() == 1
        with store.session() as writer:  # would wait for the reader if reads took the write lock
            writer.execute(text("INSERT INTO items VALUES (2)"))
        assert reader.execute(text("SELECT count(*) FROM items")).scalar_one() == 1  # still its snapshot
    with store.read_session() as s:
        assert s.execute(text("SELECT count(*) FROM items")).scalar_one() == 2
