"""Fake passes: wrong solutions dressed up with every trick we know must never pass, and honest solutions that use
the same features innocently (threads, logging, frames inside the standard library, custom classes) must.

Every trick is applied to a wrong ``square`` (``x + 2``, right only for 2) so that a pass could only come from the
trick. Both sets run as one parallel batch.
"""

import pytest

from operators.sandbox.protocol import SandboxJob, Verdict

TESTS = """
def check(candidate):
    assert candidate(2) == 4
    assert candidate(3) == 9
    assert candidate(-1) == 1
"""

WRONG = "def square(x):\n    return x + 2\n"

TRICKS = {
    # the classic exits: no proof
    "prints passed": "print('passed')\nprint('All tests passed')\n" + WRONG,
    "sys.exit(0) at import": WRONG + "import sys\nsys.exit(0)\n",
    "exit() builtin": WRONG + "exit()\n",
    "SystemExit from the function": "def square(x):\n    raise SystemExit(0)\n",
    "os._exit(0) at import": WRONG + "import os\nos._exit(0)\n",
    "os._exit(0) from the function": "import os\ndef square(x):\n    os._exit(0)\n",
    "os._exit(0) from a thread, later": WRONG
    + "import os, threading, time\nthreading.Thread(target=lambda: (time.sleep(0.05), os._exit(0))).start()\n"
    "time.sleep(0.2)\n",
    "kills itself": WRONG + "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    "atexit exits 0": "import atexit, os\natexit.register(lambda: os._exit(0))\n" + WRONG,
    "atexit prints passed": "import atexit\natexit.register(print, 'passed')\n" + WRONG,
    "excepthook swallows the failure": "import sys\nsys.excepthook = lambda *args: None\n" + WRONG,
    "threading.excepthook exits 0": "import os, threading\nthreading.excepthook = lambda a: os._exit(0)\n" + WRONG,
    "unraisablehook exits 0": "import os, sys\nsys.unraisablehook = lambda u: os._exit(0)\n" + WRONG,
    "finalizer exits 0": "import os\nclass Bye:\n    def __del__(self):\n        os._exit(0)\n"
    "def square(x):\n    Bye()\n    return x + 2\n",
    "replaces the process": WRONG + "import os, sys\nos.execv(sys.executable, [sys.executable, '-c', 'pass'])\n",
    "interrupts the main thread": "import _thread\ndef square(x):\n    _thread.interrupt_main()\n    return x + 2\n",
    "raises KeyboardInterrupt": "def square(x):\n    raise KeyboardInterrupt\n",
    "raises unittest.SkipTest": "import unittest\ndef square(x):\n    raise unittest.SkipTest('skip me')\n",
    # forging the proof
    "writes a fake proof on every descriptor": WRONG
    + "import os\nfor fd in range(3, 256):\n    try:\n        os.write(fd, b'passed ' + b'0' * 32 + b'\\n')\n"
    "    except OSError:\n        pass\n",
    "reads every descriptor for the nonce": WRONG
    + "import os\nfound = b''\nfor fd in range(3, 256):\n    try:\n        found += os.read(fd, 100)\n"
    "    except OSError:\n        pass\nfor fd in range(3, 256):\n    try:\n        os.write(fd, b'passed ' + found)\n"
    "    except OSError:\n        pass\n",
    # redefining the tests
    "defines its own check": WRONG + "def check(candidate):\n    pass\n",
    "puts check in builtins": WRONG + "import builtins\nbuiltins.check = lambda candidate: None\n",
    "a thread keeps replacing check": WRONG
    + "import threading\ng = globals()\ndef swap():\n    while True:\n        g['check'] = lambda c: None\n"
    "threading.Thread(target=swap, daemon=True).start()\n",
    "patches AssertionError": WRONG + "import builtins\nbuiltins.AssertionError = type('Nope', (Exception,), {})\n",
    # lying objects
    "AlwaysEqual": "class AlwaysEqual:\n    def __eq__(self, other):\n        return True\n"
    "def square(x):\n    return AlwaysEqual()\n",
    "AlwaysEqual inside a list": "class A:\n    def __eq__(self, other):\n        return True\n"
    "def square(x):\n    return [A()][0] if False else A()\n",
    "int subclass equal to everything": "class I(int):\n    def __eq__(self, other):\n        return True\n"
    "    __hash__ = int.__hash__\ndef square(x):\n    return I(0)\n",
    "str subclass equal to everything": "class S(str):\n    __eq__ = lambda self, other: True\n"
    "def square(x):\n    return S('')\n",
    "__eq__ is a builtin that says yes": "import operator\nclass T:\n    __eq__ = operator.is_not\n"
    "def square(x):\n    return T()\n",
    "== returns a truthy liar": "class Yes:\n    def __bool__(self):\n        return True\n"
    "class R:\n    def __eq__(self, other):\n        return Yes()\ndef square(x):\n    return R()\n",
    # container subclasses that lie through their own methods
    "list subclass iterating a lie": "class L(list):\n    def __iter__(self):\n        return iter([4])\n"
    "    def __len__(self):\n        return 1\ndef square(x):\n    return L([x + 2])\n",
    "dict subclass answering every key": "class D(dict):\n    def keys(self):\n        return {'v': 0}.keys()\n"
    "    def __getitem__(self, k):\n        return 4\ndef square(x):\n    return D(v=x + 2)\n",
    # shadowing what the tests take from the builtins or the standard library
    "defines the strict helpers itself": "def __strict_compare__(*a):\n    return True\n"
    "def __strict_truth__(v):\n    return True\n" + WRONG,
    # patching what the tests use
    "patches builtins.abs for the tests": "import builtins\nbuiltins.abs = lambda x: 0\n" + WRONG,
    "patches math.isclose": "import math\nmath.isclose = lambda *a, **k: True\n" + WRONG,
    "replaces sys.modules['math']": "import sys, types\nsys.modules['math'] = types.ModuleType('math')\n" + WRONG,
    "patches builtins.__import__": "import builtins\nreal = builtins.__import__\n"
    "builtins.__import__ = lambda name, *a, **k: real(name, *a, **k)\n" + WRONG,
    # reaching the tests or the harness
    "sys._getframe to rewrite check": "import sys\ndef square(x):\n    sys._getframe(1).f_globals['check'] = None\n"
    "    return x * x\n",
    "inspect.stack": "import inspect\ndef square(x):\n    inspect.stack()\n    return x + 2\n",
    "traceback frame": "def square(x):\n    try:\n        raise ValueError\n    except ValueError as e:\n"
    "        e.__traceback__.tb_frame.f_back.f_globals.clear()\n    return x + 2\n",
    "generator frame": "def square(x):\n    g = (i for i in [1])\n    g.gi_frame\n    return x + 2\n",
    "traceback.walk_stack": "import traceback\ndef square(x):\n    for frame, _ in traceback.walk_stack(None):\n"
    "        frame.f_globals.pop('check', None)\n    return x + 2\n",
    "gc.get_referrers": "import gc\ndef square(x):\n    gc.get_referrers(square)\n    return x + 2\n",
    "gc.get_objects": "import gc\n[o for o in gc.get_objects() if callable(o)]\n" + WRONG,
    "sys._current_frames": "import sys\nsys._current_frames()\n" + WRONG,
    "settrace to skip lines": "import sys\nsys.settrace(lambda *a: None)\n" + WRONG,
    "threading.settrace": "import threading\nthreading.settrace(lambda *a: None)\n"
    "threading.Thread(target=int).start()\n" + WRONG,
    "setprofile": "import sys\nsys.setprofile(lambda *a: None)\n" + WRONG,
    "ctypes": "import ctypes\n" + WRONG,
    "a signal handler receives the frame": "import signal\nsignal.signal(signal.SIGALRM, lambda s, f: None)\n"
    "signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)\n" + WRONG,
    "hand-made code object": WRONG + "square.__code__.replace(co_consts=(None, 2))\n",
    "marshal-loaded code": WRONG + "import marshal\nmarshal.loads(marshal.dumps(compile('1', 'x', 'eval')))\n",
    "code compiled as the tests": WRONG + "exec(compile('check = lambda c: None', '<tests>', 'exec'))\n",
    "code compiled as the standard library": WRONG + "exec(compile('x = 1', __import__('os').__file__, 'exec'))\n",
    "swaps the code of a stdlib function": WRONG + "import json\njson.dumps.__code__ = (lambda *a, **k: '').__code__\n",
    "adds an audit hook": "import sys\nsys.addaudithook(lambda *a: None)\n" + WRONG,
    "starts a subinterpreter": "import _xxsubinterpreters\n" + WRONG,
}
"""Each: a wrong program and a trick. None may pass."""

HONEST = {
    "plain": "def square(x):\n    return x * x\n",
    "threads": "from concurrent.futures import ThreadPoolExecutor\ndef square(x):\n"
    "    with ThreadPoolExecutor(4) as pool:\n        return list(pool.map(lambda v: v * v, [x]))[0]\n",
    "logging": "import logging\nlogging.basicConfig()\ndef square(x):\n    logging.warning('square(%s)', x)\n"
    "    return x * x\n",
    "namedtuple, NamedTuple, Enum, dataclass": "from collections import namedtuple\nfrom dataclasses import dataclass\n"
    "from enum import Enum\nfrom typing import NamedTuple\nP = namedtuple('P', 'x')\nclass Q(NamedTuple):\n    x: int\n"
    "Color = Enum('Color', 'RED GREEN')\n@dataclass\nclass D:\n    x: int\ndef square(x):\n"
    "    return D(P(Q(x).x).x).x ** 2\n",
    "prints a traceback it caught": "import traceback\ndef square(x):\n    try:\n        1 / 0\n"
    "    except ZeroDivisionError:\n        traceback.print_exc()\n    return x * x\n",
    "deep recursion": "import sys\nsys.setrecursionlimit(50000)\ndef depth(n):\n"
    "    return 0 if n == 0 else 1 + depth(n - 1)\ndef square(x):\n    return depth(20000) - 20000 + x * x\n",
    "memoized with lru_cache": "from functools import lru_cache\n@lru_cache(maxsize=None)\ndef square(x):\n"
    "    return x * x\n",
    "a __main__ block that would fail": "def square(x):\n    return x * x\nif __name__ == '__main__':\n"
    "    raise SystemExit(input())\n",
    "future annotations and typing": "from __future__ import annotations\nfrom typing import List\n"
    "def square(x: int) -> int:\n    xs: List[int] = [x]\n    return xs[0] ** 2\n",
    "int subclass without its own equality": "class Num(int):\n    pass\ndef square(x):\n    return Num(x * x)\n",
    "uses the scratch folder": "def square(x):\n    with open('cache.txt', 'w') as f:\n        f.write(str(x * x))\n"
    "    return int(open('cache.txt').read())\n",
    "asyncio": "import asyncio\nasync def sq(x):\n    await asyncio.sleep(0)\n    return x * x\n"
    "def square(x):\n    return asyncio.run(sq(x))\n",
    "regex, heapq, Counter, Fraction": "import re, heapq\nfrom collections import Counter\n"
    "from fractions import Fraction\ndef square(x):\n    assert Counter('aab') == Counter({'a': 2, 'b': 1})\n"
    "    assert heapq.nsmallest(1, [3, 1]) == [1] and re.fullmatch(r'\\d+', '12')\n"
    "    return int(Fraction(x * x, 1))\n",
}
"""Correct programs that must pass."""

CUSTOM_CLASS_TESTS = (
    "class Point:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n"
    "    def __eq__(self, other):\n        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)\n"
    "def mirror(p):\n    return Point(p.y, p.x)\n",
    "def check(candidate):\n    assert candidate(Point(1, 2)) == Point(2, 1)\n"
    "    assert candidate(Point(1, 2)) != Point(1, 2)\n"
    "    assert Point(0, 0) in [candidate(Point(0, 0))]\n",
    "mirror",
)


ISCLOSE_TESTS = "import math\ndef check(candidate):\n    assert math.isclose(candidate(3), 9)\n"
PATCHED = {
    "math.isclose patched for the tests": (
        "import math\nmath.isclose = lambda *a, **k: True\n" + WRONG,
        "math.isclose was replaced",
    ),
    "a fake math module for the tests": (
        "import sys, types\nfake = types.ModuleType('math')\nfake.isclose = lambda *a, **k: True\n"
        "sys.modules['math'] = fake\n" + WRONG,
        "module math was replaced",
    ),
}
"""Patches that do make the tests pass: the tamper check must catch them after the last test."""

SHADOWS = {
    "shadows abs": ("def abs(x):\n    return 0\n" + WRONG, "assert abs(square(3) - 9) < 1e-9\n"),
    "shadows all": ("def all(xs):\n    return True\n" + WRONG, "assert all(square(x) == x * x for x in range(5))\n"),
    "a fake math module": (
        "class math:\n    isclose = staticmethod(lambda *a, **k: True)\n" + WRONG,
        "assert math.isclose(square(3), 9)\n",
    ),
}
"""Bare-assert tests (no check, no entry point) that take a builtin or a module from the program's namespace."""


@pytest.fixture(scope="module")
def outcomes(sandbox):
    jobs = [SandboxJob(program, TESTS, "square") for program in (*TRICKS.values(), *HONEST.values())]
    jobs.append(SandboxJob(*CUSTOM_CLASS_TESTS))
    jobs += [SandboxJob(program, ISCLOSE_TESTS, "square") for program, _ in PATCHED.values()]
    jobs += [SandboxJob(program, tests) for program, tests in SHADOWS.values()]
    jobs.append(SandboxJob("from datetime import datetime\ndef year(d):\n    return d.year\n",
                           "assert year(datetime(2024, 5, 1)) == 2024\n"))  # fmt: skip
    results = sandbox.run_many(jobs)
    names = [*TRICKS, *HONEST, "custom class", *PATCHED, *SHADOWS, "tests use the program's genuine import"]
    return dict(zip(names, results, strict=True))


@pytest.mark.parametrize("trick", list(TRICKS))
def test_a_trick_never_passes(outcomes, trick):
    result = outcomes[trick]
    assert result.verdict in (Verdict.FAILED, Verdict.BLOCKED, Verdict.CRASHED), result
    assert "passed" not in result.detail


@pytest.mark.parametrize("trick", list(SHADOWS))
def test_shadowing_what_the_tests_use_never_passes(outcomes, trick):
    assert outcomes[trick].verdict is Verdict.FAILED, outcomes[trick]
    assert outcomes[trick].detail.startswith("the program"), outcomes[trick]


@pytest.mark.parametrize("program", [*HONEST, "custom class", "tests use the program's genuine import"])
def test_an_honest_program_passes(outcomes, program):
    assert outcomes[program].verdict is Verdict.PASSED, outcomes[program]


@pytest.mark.parametrize(
    ("trick", "reason"),
    [
        ("replaces the process", "os.exec"),
        ("gc.get_objects", "gc.get_objects"),
        ("ctypes", "ctypes"),
        *((name, reason) for name, (_, reason) in PATCHED.items()),
        ("sys._getframe to rewrite check", "sys._getframe"),
        ("code compiled as the tests", "compile"),
        ("swaps the code of a stdlib function", "object.__setattr__"),
    ],
)
def test_tampering_is_reported_as_blocked_with_the_reason(outcomes, trick, reason):
    assert (outcomes[trick].verdict, reason in outcomes[trick].detail) == (Verdict.BLOCKED, True), outcomes[trick]


def test_a_wrong_answer_reports_the_failing_assertion(outcomes):
    assert outcomes["prints passed"].detail == "AssertionError at the tests line 4: assert candidate(3) == 9"
    assert outcomes["prints passed"].stdout == "passed\nAll tests passed\n"
