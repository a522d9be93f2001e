"""The second core for the matching engine: a list of tasks shared with one forked helper process.

numpy, pandas and rapidfuzz hold the GIL most of the time, so threads do not help the engine (see
docs/architecture.md, "Speed"); a forked process does, and it starts in milliseconds with every array of
the parent already in place (copy-on-write), so tasks need no arguments sent to them. Only Linux forks:
elsewhere (Windows, and macOS where system libraries are not fork-safe) and for small work everything runs
in the calling process, with the same results, since a task's result never depends on where it ran.

The helper takes tasks from a pipe of task numbers that both processes read (a read of a few bytes from a
pipe is atomic, so each task is taken once), sends each result back pickled through another pipe and ends
with `os._exit`. Nothing is written to disk and no socket is opened. If the helper fails or dies, the
tasks it took are done again here, so an error surfaces in the calling process with its own traceback.
Set P20WIN_MATCH_PROCESSES=1 to keep a run in one process.
"""
from __future__ import annotations

import contextlib
import os
import pickle
import queue
import signal
import struct
import sys
import threading
from multiprocessing.connection import Connection, Pipe
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")
_TOKEN = struct.Struct("=I")
_MAX_TASKS = 200_000      # task numbers must fit the token pipe (1 MiB, the unprivileged maximum on Linux)
_RESULT_PIPE = 1 << 20     # bytes: /proc/sys/fs/pipe-max-size's default
PAIR_COMPARISONS = 1_000_000   # pairs x comparisons (~0.1 s of work) from which a helper pays for itself
_forced: bool | None = None


def available() -> bool:
    """True when tasks can go to a forked helper: Linux, two or more usable cores, not switched off."""
    if not sys.platform.startswith("linux") or os.environ.get("P20WIN_MATCH_PROCESSES", "").strip() == "1":
        return False
    return len(os.sched_getaffinity(0)) >= 2


@contextlib.contextmanager
def forced(enabled: bool) -> Iterator[None]:
    """Within the block, share tasks with a helper whenever possible (True) or never (False), whatever
    their size. For tests: both ways must give identical results."""
    global _forced
    before, _forced = _forced, enabled
    try:
        yield
    finally:
        _forced = before


def worth_it(work: float, threshold: float) -> bool:
    """Whether a step of `work` units (caller's measure) should use the helper, `threshold` being the
    amount below which forking does not pay."""
    if _forced is not None:
        return _forced and available()
    return available() and work >= threshold


def map_tasks(task: Callable[[int], T], count: int, *, parallel: bool,
              after: Callable[[int, int], None] | None = None, before: Callable[[], None] | None = None) -> list[T]:
    """[task(0), ..., task(count - 1)], shared with a forked helper when `parallel` (see `worth_it`).

    task(i) must return the same value in any process (a picklable one) and must not rely on changes
    other tasks make to shared state: the helper's changes stay in the helper. `after(done, count)` is
    called here after each result arrives; an exception from it (a cancel) stops the helper and
    propagates. An exception from a task propagates as it would in a plain loop: tasks before it are
    completed first, so the same error comes out either way. `before()` runs here before any task, once
    the helper has started: work this process needs later (filling caches) that the helper's tasks can
    do without, since they compute what they use. Task 0 is always done here: put the task with the
    largest result first (the bigger file), and it is never pickled.
    """
    results: list = [_Missing] * count
    helper = _Helper.start(task, count) if parallel and 2 <= count <= _MAX_TASKS else None
    done, first = 0, helper is not None
    try:
        if before is not None:
            before()
        while True:
            if first:
                i, first = 0, False
            else:
                i = helper.claim() if helper else (done if done < count else None)
            if i is None:
                break
            try:
                results[i] = task(i)
            except BaseException:
                if helper:
                    helper.stop()
                    helper = None
                for j in range(i):   # an earlier task's error comes first, as in a plain loop
                    if results[j] is _Missing:
                        results[j] = task(j)
                raise
            done += 1
            if helper:
                done += helper.collect(results, block=False)
            if after:
                after(done, count)
        if helper:
            while helper.running:
                done += helper.collect(results, block=True)
                if after:
                    after(done, count)
            helper.stop()
            helper = None
        for i in range(count):   # taken by a helper that failed or died
            if results[i] is _Missing:
                results[i] = task(i)
                done += 1
                if after:
                    after(done, count)
    finally:
        if helper:
            helper.stop()
    return results


class _Missing:
    """Marks a result not yet known (None is a valid result)."""


class _Helper:
    """One forked process taking tasks from the shared token pipe; results come back on a pipe read by
    a thread here, so the helper never waits for the parent to finish a task before it can send."""

    def __init__(self, pid: int, tokens: int, results: Connection):
        self.pid, self.tokens, self.conn = pid, tokens, results
        self.inbox: queue.Queue = queue.Queue()
        self.running = True
        self.reader = threading.Thread(target=self._read, name="match-helper-reader", daemon=True)
        self.reader.start()

    @classmethod
    def start(cls, task: Callable[[int], object], count: int) -> _Helper | None:
        import fcntl   # POSIX only, and only reached where `available()` holds

        try:
            token_r, token_w = os.pipe()
        except OSError:
            return None
        try:
            if count * _TOKEN.size > 65536:   # the default pipe holds 16,384 tasks
                fcntl.fcntl(token_w, fcntl.F_SETPIPE_SZ, count * _TOKEN.size)
            os.write(token_w, b"".join(_TOKEN.pack(i) for i in range(1, count)))   # task 0 stays here
        except OSError:
            os.close(token_r)
            return None
        finally:
            os.close(token_w)   # readers see the end of the pipe once every task is taken
        receive, send = Pipe(duplex=False)
        # Each refill of the result pipe waits for this process's reader thread to get the GIL, which a busy
        # main thread yields only every few milliseconds: at the default 64 KiB the helper sat blocked on a
        # full pipe (~13 MB/s; a 100k file's frame is 8 MB). The unprivileged maximum makes that rare.
        with contextlib.suppress(OSError):
            fcntl.fcntl(send.fileno(), fcntl.F_SETPIPE_SZ, _RESULT_PIPE)
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:   # no memory or process slots: the caller does every task itself
            os.close(token_r)
            receive.close()
            send.close()
            return None
        if pid == 0:   # the helper: never returns into the caller's code
            status = 1
            try:
                receive.close()
                signal.signal(signal.SIGINT, signal.SIG_DFL)   # Ctrl-C ends it at once; the parent cleans up
                _die_with(parent)
                while True:
                    i = _take(token_r)
                    if i is None:
                        break
                    send.send_bytes(_TOKEN.pack(i) + pickle.dumps(task(i), protocol=pickle.HIGHEST_PROTOCOL))
                status = 0
            finally:
                os._exit(status)
        send.close()
        return cls(pid, token_r, receive)

    def claim(self) -> int | None:
        return _take(self.tokens)

    def _read(self) -> None:
        try:
            while True:
                self.inbox.put(self.conn.recv_bytes())
        except (EOFError, OSError):
            pass   # the helper has ended
        finally:
            self.inbox.put(None)   # always: the caller waits for it

    def collect(self, results: list, *, block: bool) -> int:
        """Store the results that arrived (waiting for one if `block`); returns how many were new."""
        new = 0
        while self.running:
            try:
                message = self.inbox.get(block=block and not new)
            except queue.Empty:
                break
            if message is None:
                self.running = False
                break
            (i,) = _TOKEN.unpack_from(message)
            results[i] = pickle.loads(memoryview(message)[_TOKEN.size:])
            new += 1
        return new

    def stop(self) -> None:
        """End the helper (at once if it is still working) and release its pipes."""
        if self.pid:
            with contextlib.suppress(ProcessLookupError):   # harmless once it has ended
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0
            self.reader.join()
            self.running = False
            self.conn.close()
            os.close(self.tokens)


def _die_with(parent: int) -> None:
    """Have Linux kill this helper when its parent dies (the hub terminates its matching process on a
    lock or quit), instead of working on until its next result finds no reader."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, ctypes.c_ulong(signal.SIGKILL))   # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:   # the parent was already gone when the request took effect
        os._exit(1)


def _take(fd: int) -> int | None:
    data = os.read(fd, _TOKEN.size)
    return _TOKEN.unpack(data)[0] if data else None
