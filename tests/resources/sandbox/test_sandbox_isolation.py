"""What a sandboxed program can reach of the host: no file, variable, network, process or write outlives or escapes
it. Each program reports what it managed to do as JSON on stdout; the host side checks the effects too."""

import contextlib
import json
import os
import socket
import threading
import uuid
from pathlib import Path

import pytest

from operators.sandbox.protocol import SandboxLimits, Verdict
from resources.sandbox.client import SandboxClient

PROBE = """
import json, os, socket
report = {}
def attempt(name, action):
    try:
        report[name] = repr(action())
    except BaseException as error:
        report[name] = "refused: " + type(error).__name__
attempt("secret_file", lambda: open(SECRET).read())
attempt("root_home", lambda: os.listdir("/root"))
attempt("passwd", lambda: open("/etc/passwd").read())
attempt("work", lambda: os.listdir("/work"))
attempt("proc", lambda: os.listdir("/proc"))
attempt("write_usr", lambda: open("/usr/planted", "w").write("x"))
attempt("write_etc", lambda: open("/etc/planted", "w").write("x"))
attempt("write_root", lambda: open("/planted", "w").write("x"))
attempt("write_bin", lambda: open("/bin/planted", "w").write("x"))
attempt("write_scratch", lambda: open("/tmp/" + MARKER, "w").write("x"))
attempt("write_dev", lambda: open("/dev/planted", "w").write("x"))
attempt("write_dev_shm", lambda: open("/dev/shm/planted", "w").write("x"))
attempt("memfd", lambda: os.memfd_create("m"))
attempt("dev_null", lambda: open("/dev/null", "w").write("x"))
attempt("connect_local", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=2))
attempt("connect_outside", lambda: socket.create_connection(("1.1.1.1", 53), timeout=2))
attempt("resolve", lambda: socket.gethostbyname("example.org"))
report["root"] = sorted(os.listdir("/"))
report["environment"] = dict(os.environ)
report["uid"] = os.getuid()
report["hostname"] = socket.gethostname()
report["pid"] = os.getpid()
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def probed(sandbox, tmp_path_factory):
    secret = tmp_path_factory.mktemp("host") / "secret.txt"
    secret.write_text("the host's secret")
    os.environ["DATAFLOW_SANDBOX_TEST_SECRET"] = "hunter2"
    marker = f"planted-{uuid.uuid4().hex}"
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    connections: list[object] = []
    accepting = threading.Thread(target=lambda: _accept(listener, connections), daemon=True)
    accepting.start()
    port = listener.getsockname()[1]
    try:
        program = f"SECRET = {str(secret)!r}\nMARKER = {marker!r}\nPORT = {port}\n{PROBE}"
        result = sandbox.run(program, limits=SandboxLimits(wall_s=15))
    finally:
        os.environ.pop("DATAFLOW_SANDBOX_TEST_SECRET")
        listener.close()
        accepting.join(timeout=5)
    assert result.verdict is Verdict.PASSED, result
    return json.loads(result.stdout), marker, connections


def _accept(listener: socket.socket, connections: list[object]) -> None:
    with contextlib.suppress(OSError):  # closed by the fixture, or timed out: nobody came
        connections.append(listener.accept())


def test_no_host_file_is_visible(probed):
    report, _, _ = probed
    for attempt in ("secret_file", "root_home", "passwd", "work", "proc"):
        assert report[attempt] == "refused: FileNotFoundError", attempt
    assert set(report["root"]) <= {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "dev", "tmp"}


def test_no_host_variable_reaches_the_program(probed):
    report, _, _ = probed
    assert "DATAFLOW_SANDBOX_TEST_SECRET" not in report["environment"]
    assert set(report["environment"]) <= {"PATH", "HOME", "LANG", "MALLOC_ARENA_MAX", "PWD", "LC_CTYPE"}


def test_no_network_not_even_the_hosts_loopback(probed):
    report, _, connections = probed
    assert report["connect_local"] == "refused: ConnectionRefusedError"
    assert report["connect_outside"].startswith("refused: ")
    assert report["resolve"].startswith("refused: ")
    assert connections == []  # the listener on the host's 127.0.0.1 saw nobody


def test_only_the_scratch_folder_is_writable_and_it_is_not_the_hosts(probed):
    report, marker, _ = probed
    for attempt in ("write_usr", "write_etc", "write_root", "write_bin", "write_dev", "write_dev_shm"):
        assert report[attempt] == "refused: OSError", attempt  # read-only file system
    assert report["memfd"] == "refused: PermissionError"  # memory outside the limits: refused by seccomp
    assert report["write_scratch"] == report["dev_null"] == "1"
    assert not Path("/tmp", marker).exists()
    assert not Path("/usr/planted").exists() and not Path("/etc/planted").exists()


def test_an_unprivileged_user_in_its_own_namespaces(probed):
    report, _, _ = probed
    assert report["uid"] == 65534
    assert report["hostname"] == "sandbox"
    assert report["pid"] == 1  # its own pid namespace: no host process is visible


def test_the_scratch_folder_is_bounded(sandbox):
    program = (
        "written = 0\ntry:\n    for i in range(100):\n        with open(f'/tmp/f{i}', 'wb') as f:\n"
        "            f.write(b'x' * (1 << 20))\n        written += 1\n"
        "except OSError as e:\n    print(written, e.errno)\n"
    )
    result = sandbox.run(program, limits=SandboxLimits(max_file_mb=4))
    assert result.stdout.split() == ["4", "28"]  # 4 MiB, then ENOSPC


def test_scratch_does_not_survive_a_run(sandbox):
    assert sandbox.run("open('/tmp/left', 'w').write('x')").verdict is Verdict.PASSED
    assert sandbox.run("import os\nassert not os.path.exists('/tmp/left')").verdict is Verdict.PASSED


def test_the_kernel_refuses_new_processes_even_below_the_audit_hook(sandbox):
    # _posixsubprocess.fork_exec raises no audit event: the seccomp filter is what stops it
    program = (
        "import _posixsubprocess, os\n"
        "pipes = [-1] * 6 + list(os.pipe())  # the last two: the pipe that reports a failed exec\n"
        "tails = ([False, False, -1, None, None, None, -1, None, False], [False, False, None, None, None, -1, None])\n"
        "for tail in tails:\n"
        "    try:\n"
        "        _posixsubprocess.fork_exec([b'/bin/true'], [b'/bin/true'], True, (), None, None, *pipes, *tail)\n"
        "    except PermissionError:\n"
        "        print('refused')\n"
        "        break\n"
        "    except TypeError:  # the other Python version's signature\n"
        "        continue\n"
    )
    result = sandbox.run(program)
    assert (result.verdict, result.stdout) == (Verdict.PASSED, "refused\n"), result


def test_threads_are_allowed_up_to_the_process_limit(sandbox):
    program = (
        "import threading, time\nstarted = 0\ntry:\n    for _ in range(500):\n"
        "        threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n        started += 1\n"
        "except RuntimeError:\n    pass\nprint(started)\n"
    )
    result = sandbox.run(program, limits=SandboxLimits(max_processes=16, wall_s=10))
    assert result.verdict is Verdict.PASSED, result
    assert 5 <= int(result.stdout) < 16  # the harness's three threads count too


def test_nothing_is_left_running_after_a_kill(sandbox):
    """A program that blocks the catchable signals and spins in two threads is killed at the wall-clock limit, and
    no process of it survives. The sandbox runs as a uid of its own here, so that other sandboxes on the machine
    (a parallel test run) do not count."""
    stubborn = (
        "import signal, threading\n"
        "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGHUP})\n"
        "threading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=True).start()\n"
        "while True:\n    pass\n"
    )
    if os.geteuid() != 0:
        pytest.skip("the check tells this sandbox's processes apart by a uid only root can give them")
    engine = SandboxClient(SandboxLimits(cpu_s=30, wall_s=2), uid=UID)
    result = engine.run(stubborn)
    assert result.verdict is Verdict.TIMEOUT
    engine.close()  # the spare sandbox started for a next job
    assert _processes_of(UID) == []


UID = 65533


def _processes_of(uid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_reports_the_hosts_view_of_its_files_only_through_the_given_files(sandbox, tmp_path):
    given = {"input.json": json.dumps({"n": 3}), "nested/dir/data.bin": b"\x00\x01"}
    program = (
        "import json\nprint(json.load(open('input.json'))['n'], open('nested/dir/data.bin', 'rb').read())\n"
        "open('input.json', 'w').write('changed')\n"
    )
    result = sandbox.run(program, files=given)
    assert (result.verdict, result.stdout) == (Verdict.PASSED, "3 b'\\x00\\x01'\n"), result
