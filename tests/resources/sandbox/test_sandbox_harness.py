"""The harness's guarantees that do not need a sandbox to check: the sealed functions read no global name, the
strict comparisons, the host's verdict rules and the seccomp filter's shape."""

import dis
import importlib.util
import struct
from types import CodeType

import pytest

from operators.sandbox.protocol import SandboxLimits, Verdict
from resources.sandbox import client
from resources.sandbox.client import HARNESS, _Outcome, judge
from resources.sandbox.seccomp import process_filter


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location("sandbox_harness_under_test", HARNESS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def names_looked_up(code: CodeType) -> set[str]:
    """Global, builtin and closure names ``code`` (and the code nested in it) reads at run time."""
    found = {
        ins.argval
        for ins in dis.get_instructions(code)
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL", "LOAD_DEREF", "LOAD_CLASSDEREF")
    }
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            found |= names_looked_up(constant)
    return found


def nested(code: CodeType, name: str) -> CodeType:
    return next(c for c in code.co_consts if isinstance(c, CodeType) and c.co_name == name)


def test_the_runner_and_the_vault_read_nothing_but_their_locals(harness):
    """Patching builtins, modules or the harness's globals cannot bend the code that leads to the proof."""
    assert names_looked_up(harness.runner.__code__) == set()
    assert names_looked_up(harness.vault.__code__) == set()


def test_the_audit_hook_reads_no_global(harness):
    for name in ("hook", "untrusted", "trusted_name", "stdlib_bytecode", "same_as_file"):
        code = nested(harness.make_hook.__code__, name)
        globals_read = {ins.argval for ins in dis.get_instructions(code) if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
        assert globals_read == set(), name


def test_the_finish_line_is_one_statement_of_the_runner(harness):
    source = HARNESS.read_text().splitlines()
    marked = [number for number, line in enumerate(source, 1) if line.endswith(harness.FINISH_MARK)]
    assert len(marked) == 1
    runner_lines = {line for _, _, line in harness.runner.__code__.co_lines() if line}
    assert marked[0] in runner_lines
    assert "wake.release(), done.acquire()" in source[marked[0] - 1]


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __hash__(self):
        return hash(3)

    def __lt__(self, other):
        return True


class Point:
    def __init__(self, x):
        self.x = x

    def __eq__(self, other):
        return isinstance(other, Point) and other.x == self.x


def test_strict_comparisons(harness):
    # this test file plays the program: its classes are not the standard library's nor the tests'
    compare = harness.strict_compare
    assert compare("==", 3, 3) and compare("==", [1, (2, {"a": {3}})], [1, (2, {"a": {3}})])
    assert not compare("==", AlwaysEqual(), 3)
    assert not compare("==", 3, AlwaysEqual())
    assert not compare("==", [AlwaysEqual()], [3])
    assert not compare("==", {"k": AlwaysEqual()}, {"k": 3})
    assert not compare("==", {AlwaysEqual()}, {3})
    assert compare("!=", AlwaysEqual(), 3)
    assert compare("==", Point(1), Point(1)) and not compare("==", Point(1), Point(2))
    assert compare("in", 2, [1, 2]) and not compare("in", AlwaysEqual(), [1, 2])
    assert compare("not in", AlwaysEqual(), (1, 2)) and compare("in", "b", "abc")
    assert compare("<", 1, 2) and not compare("<", AlwaysEqual(), 2)
    assert compare("==", 1, 1.0) and compare("==", True, 1)  # Python's own equalities are kept


def test_strict_truth(harness):
    class Liar:
        def __bool__(self):
            return True

    assert harness.strict_truth(True) and not harness.strict_truth(Liar())
    assert harness.strict_truth([1]) and not harness.strict_truth([])


def test_tests_are_compiled_with_strict_comparisons_on_their_own_lines(harness):
    code = harness.compile_tests("x = 1\n\nassert x == 1 < 2\n")
    namespace = {"__builtins__": {"__strict_compare__": harness.strict_compare, "__strict_truth__": bool}}
    exec(code, namespace)
    failing = harness.compile_tests("x = 1\n\nassert x == 2\n")
    with pytest.raises(AssertionError) as caught:
        exec(failing, dict(namespace))
    assert caught.traceback[-1].lineno == 2  # 0-based: the third line, as written


NONCE = b"0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("outcome", "verdict"),
    [
        (_Outcome(status=b"passed " + NONCE + b"\n", exit_status=0), Verdict.PASSED),
        (_Outcome(status=b"passed " + NONCE[::-1] + b"\n", exit_status=0), Verdict.FAILED),  # another run's nonce
        (_Outcome(status=b"junk\npassed " + NONCE + b"\n", exit_status=0), Verdict.FAILED),  # forged lines before it
        (_Outcome(status=b"passed " + NONCE + b"\n", exit_status=1), Verdict.FAILED),
        (_Outcome(status=b"", exit_status=0), Verdict.FAILED),
        (_Outcome(status=b"blocked the program used os.fork\n", exit_status=87), Verdict.BLOCKED),
        (_Outcome(status=b"memory MemoryError\n", exit_status=88), Verdict.MEMORY),
        (_Outcome(exit_status=128 + 9, cpu_s=2.0), Verdict.TIMEOUT),  # the kernel's RLIMIT_CPU
        (_Outcome(exit_status=128 + 11, cpu_s=0.1), Verdict.CRASHED),
        (_Outcome(exit_status=-11, cpu_s=0.1), Verdict.CRASHED),  # unsafe mode: no bubblewrap in between
        (_Outcome(killed="timeout", status=b"passed " + NONCE + b"\n"), Verdict.TIMEOUT),
        (_Outcome(killed="output_limit"), Verdict.OUTPUT_LIMIT),
    ],
)
def test_judge(outcome, verdict):
    assert judge(outcome, NONCE, SandboxLimits(cpu_s=2)).verdict is verdict


def test_seccomp_filter_shape():
    for machine, instructions in (("x86_64", 25), ("aarch64", 22)):
        program = process_filter(machine)
        assert len(program) == 8 * instructions
        code, _, jump_if_other_arch, _ = struct.unpack("=HBBI", program[8:16])
        assert code == 0x15 and jump_if_other_arch > 0  # a foreign architecture jumps to the kill
    assert process_filter("sparc") is None


def test_scratch_file_names_stay_inside():
    for bad in ("/etc/passwd", "../up", "a/../../b", ""):
        with pytest.raises(ValueError, match="relative path inside the scratch folder"):
            client._scratch_name(bad)
    assert client._scratch_name("a/b.txt") == "a/b.txt"
