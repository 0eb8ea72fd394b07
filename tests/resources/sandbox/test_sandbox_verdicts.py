"""Every verdict of the sandbox, each from a program written to reach it, through one parallel batch."""

import pytest

from operators.sandbox.protocol import SandboxJob, SandboxLimits, Verdict

HUMANEVAL_TESTS = """
def check(candidate):
    assert candidate([1, 2, 3]) == 6
    assert candidate([]) == 0
    assert candidate([-1, 1]) == 0
"""

MBPP_TESTS = "assert total([1, 2, 3]) == 6\nassert total([]) == 0\n"

SHORT = SandboxLimits(cpu_s=1, wall_s=3, memory_mb=256, max_output_bytes=16 * 1024)

JOBS = {
    # passed
    "correct, check(entry point)": (
        SandboxJob("def total(xs):\n    return sum(xs)\n", HUMANEVAL_TESTS, "total"),
        Verdict.PASSED,
        "",
    ),
    "correct, bare asserts": (SandboxJob("def total(xs):\n    return sum(xs)\n", MBPP_TESTS), Verdict.PASSED, ""),
    "a script without tests that runs to its end": (SandboxJob("print(sum(range(10)))"), Verdict.PASSED, ""),
    "reads stdin and a given file": (
        SandboxJob(
            "name = input()\ndef total(xs):\n    return sum(xs) + len(open('data/n.txt').read()) - 3\n",
            HUMANEVAL_TESTS,
            "total",
            files={"data/n.txt": "abc"},
            stdin="ada\n",
        ),
        Verdict.PASSED,
        "",
    ),
    # failed
    "off by one": (
        SandboxJob("def total(xs):\n    return sum(xs) + 1\n", HUMANEVAL_TESTS, "total"),
        Verdict.FAILED,
        "AssertionError at the tests line 3: assert candidate([1, 2, 3]) == 6",
    ),
    "wrong on the edge case only": (
        SandboxJob("def total(xs):\n    return sum(xs) if xs else None\n", MBPP_TESTS),
        Verdict.FAILED,
        "AssertionError at the tests line 2",
    ),
    "raises": (
        SandboxJob("def total(xs):\n    return xs[0] + total(xs[1:])\n", HUMANEVAL_TESTS, "total"),
        Verdict.FAILED,
        "IndexError: list index out of range at the program line 2",
    ),
    "syntax error": (SandboxJob("def total(xs)\n    return 0\n", HUMANEVAL_TESTS, "total"), Verdict.FAILED, "line 1"),
    "no such entry point": (
        SandboxJob("def sum_all(xs):\n    return sum(xs)\n", HUMANEVAL_TESTS, "total"),
        Verdict.FAILED,
        "the program defines no 'total'",
    ),
    "tests without check()": (
        SandboxJob("def total(xs):\n    return sum(xs)\n", MBPP_TESTS, "total"),
        Verdict.FAILED,
        "no check(candidate)",
    ),
    "a non-zero exit": (SandboxJob("import os\nos._exit(3)"), Verdict.FAILED, "exit status 3"),
    # timeout
    "endless loop: CPU limit": (SandboxJob("while True:\n    pass\n", limits=SHORT), Verdict.TIMEOUT, ""),
    "sleeps: wall-clock limit": (SandboxJob("import time\ntime.sleep(60)\n", limits=SHORT), Verdict.TIMEOUT, "wall"),
    "blocks every catchable signal, then loops": (
        SandboxJob(
            "import signal\nsignal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals) - {signal.SIGKILL, "
            "signal.SIGSTOP})\nwhile True:\n    pass\n",
            limits=SHORT,
        ),
        Verdict.TIMEOUT,
        "",
    ),
    # memory
    "one huge allocation": (SandboxJob("x = bytearray(8 * 1024**3)\n", limits=SHORT), Verdict.MEMORY, "256 MiB"),
    "a growing list": (
        SandboxJob("xs = []\nwhile True:\n    xs.append(' ' * 10**6)\n", limits=SHORT),
        Verdict.MEMORY,
        "",
    ),
    # crashed: C recursion past the stack (the recursion limit lifted)
    "stack overflow in C": (
        SandboxJob(
            "import json, sys\nsys.setrecursionlimit(10**8)\nx = []\nfor _ in range(2 * 10**6):\n    x = [x]\n"
            "json.dumps(x)\n",
            limits=SandboxLimits(cpu_s=5, wall_s=8, memory_mb=1024),
        ),
        Verdict.CRASHED,
        "SIGSEGV",
    ),
    # output_limit
    "floods stdout": (SandboxJob("while True:\n    print('y' * 1000)\n", limits=SHORT), Verdict.OUTPUT_LIMIT, ""),
    # blocked
    "starts a process": (SandboxJob("import subprocess\nsubprocess.run(['true'])\n"), Verdict.BLOCKED, "subprocess"),
    "imports ctypes": (SandboxJob("import ctypes\n"), Verdict.BLOCKED, "ctypes"),
}


@pytest.fixture(scope="module")
def results(sandbox):
    names = list(JOBS)
    return dict(zip(names, sandbox.run_many([JOBS[name][0] for name in names]), strict=True))


@pytest.mark.parametrize("name", list(JOBS))
def test_verdict(results, name):
    _, verdict, detail = JOBS[name]
    result = results[name]
    assert (result.verdict, detail in result.detail) == (verdict, True), result
    assert result.passed is (verdict is Verdict.PASSED)


def test_output_is_captured_and_capped(results):
    assert results["a script without tests that runs to its end"].stdout == "45\n"
    flooded = results["floods stdout"]
    assert len(flooded.stdout) + len(flooded.stderr) <= SHORT.max_output_bytes
    assert flooded.stdout.startswith("y" * 1000)
    assert flooded.exit_status is None  # killed by the host


def test_cpu_and_wall_time_are_measured(results):
    looped = results["endless loop: CPU limit"]
    assert (looped.cpu_s >= 0.5 and looped.wall_s >= looped.cpu_s * 0.9) or looped.detail.startswith("wall")
    assert 0 < results["correct, check(entry point)"].cpu_s < 2


def test_usage_counts_runs_and_verdicts(sandbox, results):
    usage = sandbox.usage().metadata()
    assert usage["runs"] >= len(JOBS)
    assert usage["verdict_passed"] >= 4 and usage["verdict_blocked"] >= 2
    assert "bwrap" in sandbox.identity and "cpu=2s" in sandbox.identity


def test_limits_of_one_run_override_the_engines(sandbox):
    generous = sandbox.run("x = bytearray(450 * 1024**2)\n", limits=SandboxLimits(memory_mb=1024))
    assert generous.verdict is Verdict.PASSED  # the engine's own 512 MiB would refuse it
    assert sandbox.run("x = bytearray(450 * 1024**2)\n").verdict is Verdict.MEMORY
