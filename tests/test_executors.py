"""Where the engine's tasks run on this machine: each at once (InlineExecutor), or on
task threads as their inputs are ready (ThreadedExecutor, what assess uses with more
than one thread). The same tasks on the same inputs give the same numbers, bit for bit.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import geomines
from geomines.assessment import batching
from geomines.engine import LocalEngine, core
from geomines.engine.executors import InlineExecutor, ThreadedExecutor, local_executor

from .test_distributed import _synthetic

COLUMNS = ["people_inside", "people_within_100m", "people_within_500m"]


def _assess(hazards, path, executor):
    engine = LocalEngine(union_tile=32, window_px=4096, executor=executor)
    return geomines.assess(hazards, path, rings_m=(100, 500), engine=engine)


def test_threaded_tasks_give_the_inline_numbers_bit_for_bit(tmp_path, monkeypatch):
    hazards, path = _synthetic(tmp_path)
    monkeypatch.setattr(batching, "BATCH_COORDS", 300)  # many batches, several ahead
    inline = _assess(hazards, path, InlineExecutor())
    threaded = _assess(hazards, path, ThreadedExecutor(workers=2, lookahead=3))
    for col in COLUMNS:
        np.testing.assert_array_equal(threaded.hazards[col], inline.hazards[col])
    np.testing.assert_array_equal(threaded.bands["people"], inline.bands["people"])
    cols = [c for c in inline.by_class.columns if c.startswith("people_")]
    np.testing.assert_array_equal(
        threaded.by_class[cols].to_numpy(float), inline.by_class[cols].to_numpy(float)
    )
    assert threaded.totals.inside == inline.totals.inside
    assert threaded.totals.within_m == inline.totals.within_m
    assert inline.totals.within_m[500] > inline.totals.within_m[100] > 0


def test_assess_runs_its_tasks_on_task_threads(tmp_path, monkeypatch):
    hazards, path = _synthetic(tmp_path)
    seen = set()
    real = core._task_buffers

    def recording(*args):
        seen.add(threading.current_thread().name.split("_")[0])
        return real(*args)

    monkeypatch.setattr(core, "_task_buffers", recording)
    monkeypatch.setenv("GEOMINES_THREADS", "2")
    geomines.assess(hazards, path, rings_m=(100,))
    assert seen == {"geomines-task"}
    assert isinstance(local_executor(), ThreadedExecutor)
    seen.clear()
    monkeypatch.setenv("GEOMINES_THREADS", "1")  # one thread: every task at once, here
    geomines.assess(hazards, path, rings_m=(100,))
    assert seen == {threading.current_thread().name.split("_")[0]}
    assert isinstance(local_executor(), InlineExecutor)


def _fail(x):
    raise ValueError(f"bad input {x}")


def test_a_failed_task_raises_its_own_error_where_it_is_taken():
    ex = ThreadedExecutor(workers=2)
    bad = ex.submit(_fail, 7)
    later = ex.submit(lambda v: v + 1, bad)  # a task taking the failed one's value
    fine = ex.submit(lambda: 5)
    with pytest.raises(ValueError, match="bad input 7"):
        ex.gather([bad])
    with pytest.raises(ValueError, match="bad input 7"):
        ex.gather([later])
    assert ex.gather([fine, 3]) == [5, 3]
    assert ex.tasks == 3


def test_long_chains_on_one_task_thread_finish():
    # each task takes the one before it (as a union builder's states do), with other
    # tasks between: one thread, tasks in the order submitted, nothing waits forever
    ex = ThreadedExecutor(workers=1)
    handle = ex.submit(lambda: 0)
    side = []
    for k in range(1, 200):
        handle = ex.submit(lambda prev, k=k: prev + k, handle)
        side.append(ex.submit(lambda k=k: k * k))
    assert handle.result(timeout=60) == sum(range(200))
    assert ex.gather(side) == [k * k for k in range(1, 200)]
