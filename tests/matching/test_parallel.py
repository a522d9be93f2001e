"""The engine's second process (app.matching.parallel): the same outputs with it and without it, errors
and cancels as in one process, no helper left behind, and it works inside a daemonic process (the hub's)."""
import json
import multiprocessing
import os
import socket
import threading
import time

import pytest

from app.matching import parallel
from app.matching.engine import MatchCancelled
from app.matching.run import run_match
from bench.generate import generate

pytestmark = pytest.mark.skipif(not parallel.available(), reason="needs fork and two cores")


def _slow_square(i):
    time.sleep(0.003)   # long enough for the helper to take its share
    return i * i, os.getpid()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_results_come_back_in_order_and_the_helper_is_reaped():
    got = parallel.map_tasks(_slow_square, 60, parallel=True)
    assert [value for value, _ in got] == [i * i for i in range(60)]
    helpers = {pid for _, pid in got} - {os.getpid()}
    assert len(helpers) == 1   # the helper did part of the work...
    assert _gone(helpers.pop())   # ...and was waited for
    assert parallel.map_tasks(_slow_square, 60, parallel=False) == [(i * i, os.getpid()) for i in range(60)]


def test_the_first_failing_task_raises_as_in_a_plain_loop():
    def task(i):
        time.sleep(0.002)
        if i in (5, 40):
            raise ValueError(f"task {i} failed")
        return i

    for shared in (False, True):
        with pytest.raises(ValueError, match="task 5 failed"):
            parallel.map_tasks(task, 60, parallel=shared)


def test_work_of_a_helper_that_dies_is_done_here():
    parent = os.getpid()

    def task(i):
        if os.getpid() != parent and i > 3:
            os._exit(9)   # the helper vanishes mid-run (killed, out of memory)
        time.sleep(0.002)
        return i

    assert parallel.map_tasks(task, 30, parallel=True) == list(range(30))


@pytest.fixture
def forked(monkeypatch):
    """Pids of the helpers forked during the test."""
    pids = []
    real_fork = os.fork

    def fork():
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return pids


def test_a_cancel_from_the_progress_callback_stops_the_helper(forked):
    def after(done, count):
        if done >= 5:
            raise MatchCancelled("stop")

    with pytest.raises(MatchCancelled):
        parallel.map_tasks(_slow_square, 200, parallel=True, after=after)
    assert len(forked) == 1 and _gone(forked[0])


def _in_daemon(queue):
    os.nice(5)   # as the hub's matching child does
    queue.put([value for value, _ in parallel.map_tasks(_slow_square, 20, parallel=True)])


def test_works_inside_a_daemonic_process_as_the_hub_runs_the_engine():
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_in_daemon, args=(queue,), daemon=True)
    child.start()
    assert queue.get(timeout=30) == [i * i for i in range(20)]
    child.join(timeout=30)
    assert child.exitcode == 0


def _report_pids(fd):
    def task(i):
        os.write(fd, os.getpid().to_bytes(4, "little"))
        time.sleep(3)   # long: a helper left alone would live on until its next result
        return i

    parallel.map_tasks(task, 4, parallel=True)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"   # a zombie has ended
    except FileNotFoundError:
        return False


def test_the_helper_dies_with_its_parent():
    """The hub terminates its matching process on a lock or quit: no helper may work on."""
    read, write = os.pipe()
    child = multiprocessing.get_context("fork").Process(target=_report_pids, args=(write,))
    child.start()
    os.close(write)
    pids = set()
    while len(pids - {child.pid}) < 1:
        pids.add(int.from_bytes(os.read(read, 4), "little"))
    helper = (pids - {child.pid}).pop()
    child.kill()
    deadline = time.monotonic() + 1
    while _alive(helper) and time.monotonic() < deadline:
        time.sleep(0.01)
    gone = not _alive(helper)
    child.join(timeout=10)   # also waits for the helper: it holds the child's end of the sentinel pipe
    os.close(read)
    assert gone


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parallel")
    wage = generate("wage", 1500, seed=5).write(folder / "wage")
    full = generate("full", 1500, seed=5).write(folder / "full")
    dedupe = generate("dedupe", 1500, seed=5).write(folder / "dedupe")
    return {"wage": [wage["left"], wage["right"]], "full": [full["left"], full["right"]],
            "dedupe": [dedupe["left"]]}


OUTPUTS = ("crosswalk.tsv", "clusters.tsv", "review.tsv", "id_matrix.tsv", "rejections.tsv", "crosswalk_levels.npy")


@pytest.mark.parametrize("case", ["wage", "full", "dedupe"])
def test_outputs_are_byte_identical_with_and_without_the_helper(case, cases, tmp_path, quick_method_path,
                                                                registry, monkeypatch, forked):
    mode = "dedupe" if case == "dedupe" else "link"
    options = dict(method_path=quick_method_path, registry_path=registry.path, seed=2)
    with parallel.forced(False):
        alone = run_match(mode, cases[case], tmp_path / "alone", **options)
    assert not forked

    def refuse(*args, **kwargs):
        raise AssertionError("the matching engine tried to open a network socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    fractions = []
    with parallel.forced(True):
        shared = run_match(mode, cases[case], tmp_path / "shared", progress=lambda f, m: fractions.append(f),
                           **options)
    assert len(forked) >= 4 and all(_gone(pid) for pid in forked)   # reading, u, blocking, EM, comparing
    compared = [name for name in OUTPUTS if (tmp_path / "alone" / name).exists()]
    assert len(compared) >= 4
    for name in compared:
        assert (tmp_path / "shared" / name).read_bytes() == (tmp_path / "alone" / name).read_bytes(), name
    for key in ("thresholds", "passes", "parameters", "estimates", "weight_histogram"):
        assert json.dumps(shared[key]) == json.dumps(alone[key])
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_cancel_during_a_shared_run_leaves_no_output(cases, tmp_path, quick_method_path, registry):
    cancel = threading.Event()

    def progress(fraction, message):
        if message.startswith("Compared"):
            cancel.set()

    with parallel.forced(True), pytest.raises(MatchCancelled):
        run_match("link", cases["full"], tmp_path / "out", method_path=quick_method_path,
                  registry_path=registry.path, progress=progress, cancel=cancel)
    assert not list((tmp_path / "out").glob("*"))
