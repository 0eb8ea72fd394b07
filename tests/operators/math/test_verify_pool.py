"""The worker pool: outcomes in order, errors and crashes contained, a stuck task timed out and its worker replaced.

Tasks are stdlib functions so that the workers run exactly what the test names: ``operator:truediv`` computes,
``time:sleep`` hangs, ``os:_exit`` kills its worker.
"""

import pytest

from operators.math.verify_pool import WorkerPool


@pytest.fixture
def divide():
    pool = WorkerPool("operator:truediv", workers=2, timeout_s=30)
    yield pool
    pool.close()


def test_outcomes_come_back_in_task_order(divide):
    outcomes = divide.run([(i, 2) for i in range(400)])
    assert [o.value for o in outcomes] == [i / 2 for i in range(400)]
    assert divide.size == 2  # enough tasks to start the second worker
    assert all(o.ok for o in outcomes)


def test_an_exception_is_the_task_outcome_and_the_worker_carries_on(divide):
    outcomes = divide.run([(1, 0), (1, 4)])
    assert outcomes[0].status == "error" and "ZeroDivisionError" in outcomes[0].value
    assert outcomes[1].value == 0.25
    assert divide.replaced == 0


def test_a_stuck_task_times_out_its_worker_is_replaced_and_the_rest_still_run():
    pool = WorkerPool("time:sleep", workers=1, timeout_s=2)
    try:
        outcomes = pool.run([(0,), (30,), (0,), (0,)])
        assert [o.status for o in outcomes] == ["ok", "timeout", "ok", "ok"]
        assert pool.replaced == 1
        assert [o.status for o in pool.run([(0,)])] == ["ok"]  # the pool keeps serving
    finally:
        pool.close()


def test_a_dying_worker_costs_only_its_task():
    pool = WorkerPool("os:_exit", workers=1, timeout_s=30)
    try:
        outcomes = pool.run([(3,), (4,)])
        assert [o.status for o in outcomes] == ["crashed", "crashed"]
        assert pool.replaced == 2
    finally:
        pool.close()


def test_the_workers_report_their_cpu_time(divide):
    divide.run([(1, 2)] * 4)
    assert divide.worker_cpu_seconds() > 0
