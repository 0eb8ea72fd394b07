"""The harness that runs inside the sandbox: the program, then its tests, then a proof that they ran to the end.

The sandbox's interpreter runs :data:`BOOTSTRAP`, which reads the job (marshal-encoded: this harness, the program
and the tests, compiled by the host when its Python is the sandbox's, the entry point, the limits) from one
descriptor and runs :func:`main`; nothing here imports the project, only the standard library. A second descriptor
holds a fresh random nonce, read and closed before any program code runs; the host reads the verdict from a third.
Only ``passed <nonce>`` on that channel counts as a pass, so an exit status, "passed" on stdout, ``sys.exit(0)``,
``os._exit(0)``, ``atexit`` or ``excepthook`` tricks and replacing the process (``os.execv``) all end without the
proof, hence as failures.

Why the program cannot produce the proof itself (the threat model is in docs/code.md):

* The nonce lives only in the *vault* thread, which never runs program code. The program and the tests run in a
  *runner* thread; the main thread only waits. When the runner reaches its finish line it wakes the vault, which
  checks with ``sys._current_frames()`` that the runner's own frame, not a copy, is paused on that very line before
  it writes the proof. The runner gets there only if no statement raised; it is *sealed*: every name it uses after
  the program starts is a local bound beforehand, so patching builtins, modules or this module's globals cannot
  bend its control flow (tests/resources/sandbox/test_harness.py checks the bytecode).
* An audit hook (PEP 578), installed before the program runs and impossible to remove, stops the process with the
  verdict ``blocked`` when the program reaches for what would expose the vault or the runner: other threads'
  frames (``sys._current_frames``), the garbage collector's object lists, tracing and profiling, ctypes,
  sub-interpreters, new processes, hand-made bytecode (``code.__new__``, ``marshal`` outside the import of the
  standard library), and frame objects (``sys._getframe``, ``tb_frame``, ``gi_frame``...) requested by program code
  rather than by the tests or by standard-library functions that only use them internally (``namedtuple``,
  ``logging``, ``traceback`` formatting). The kernel adds its own walls: no /proc, a seccomp filter against new
  processes and ptrace, rlimits.
* The tests run in their own namespace with a private copy of the builtins, and their comparisons go through
  :func:`strict_compare` (:func:`compile_tests` rewrites ``==``, ``!=``, ``in``, orderings and ``assert``), so an
  object whose ``__eq__`` always says yes does not satisfy them. Before the finish line, :func:`tampering` looks
  for builtins, standard-library functions or test functions that the program replaced.

Exit statuses: 0 with the proof (written by the vault), 1 failed, 87 blocked, 88 out of memory; the status
line says why.
"""

import _thread
import os
import sys

EXIT_FAILED = 1
EXIT_BLOCKED = 87
EXIT_MEMORY = 88
TESTS_FILENAME = "<tests>"
PROGRAM_FILENAME = "<program>"
FINISH_MARK = "# <- the finish line"
"""Marks the runner's line on which the vault expects to find it paused."""
RUNNER_STACK_BYTES = 64 << 20
FUNCTION_TYPE = type(lambda: None)

DENIED_EVENTS = frozenset(
    {
        "sys._current_frames",
        "sys.settrace",
        "sys.setprofile",
        "sys.addaudithook",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "os.fork",
        "os.forkpty",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.system",
        "os.startfile",
        "subprocess.Popen",
        "cpython.PyInterpreterState_New",
    }
)
"""Events that stop the program wherever they come from (the vault alone may read other threads' frames)."""

DENIED_MODULES = frozenset({"ctypes", "_ctypes", "_xxsubinterpreters", "_xxinterpchannels", "_posixshmem"})
"""Modules the program may not import: raw memory access and interpreters without this audit hook. Modules
whose name starts with ``_test`` (CPython's test helpers) are denied too."""

FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})

FRAME_USERS = frozenset(
    {
        ("collections/__init__.py", "namedtuple"),
        ("enum.py", "_create_"),
        ("typing.py", "_caller"),
        ("logging/__init__.py", "findCaller"),
        ("logging/__init__.py", "handleError"),
        ("warnings.py", "warn"),
        ("traceback.py", "extract_stack"),
        ("traceback.py", "format_stack"),
        ("traceback.py", "print_stack"),
        ("traceback.py", "clear_frames"),
        ("traceback.py", "extract"),
        ("traceback.py", "_extract_from_extended_frame_gen"),
        ("unittest/result.py", "_is_relevant_tb_level"),
        ("unittest/result.py", "_remove_unittest_tb_frames"),
        ("asyncio/coroutines.py", "_format_coroutine"),
    }
)
"""Standard-library functions that take a frame for their own use (a module name, a caller's line, a formatted
traceback) without handing it to their caller: program code may call them."""


def main(argv, job, code):
    """Take the job (read by :data:`BOOTSTRAP`), set the limits, compile what the host did not, then run the
    program in the runner thread and wait."""
    import builtins
    import resource
    import time

    job_fd, nonce_fd, status_fd = (int(a) for a in argv)
    nonce = read_all(os, nonce_fd)
    os.close(job_fd)
    os.close(nonce_fd)
    os.set_inheritable(status_fd, False)
    write, exit_ = os.write, os._exit

    flushes = (sys.stdout.flush, sys.stderr.flush)

    def flush():
        """Write out what the program printed: the process ends with ``os._exit``, which does not."""
        for method in flushes:
            try:
                method()
            except BaseException:  # a stream the program closed
                continue

    def report(kind, text, status):
        flush()
        write(status_fd, (kind + " " + " ".join(text.split())[:2000] + "\n").encode("utf-8", "replace"))
        exit_(status)

    set_limits(resource, job["limits"])
    try:
        for name, data in job["files"].items():  # names checked by the host: relative, inside the folder
            folder = os.path.dirname(name)
            if folder:
                os.makedirs(folder, exist_ok=True)
            with open(name, "wb") as handle:
                handle.write(data)
    except OSError as error:
        report("failed", f"the given files do not fit in the scratch folder: {error}", EXIT_FAILED)
    try:
        program, tests = job["program"], job["tests"]
        if type(program) is str:  # the host compiles when its Python matches this one (see the client)
            program = compile(program, PROGRAM_FILENAME, "exec", dont_inherit=True)
        if type(tests) is str:
            tests = compile_tests(tests)
    except SyntaxError as error:
        where = "the tests" if error.filename == TESTS_FILENAME else "the program"
        report("failed", f"SyntaxError in {where}, line {error.lineno}: {error.msg}", EXIT_FAILED)
    except (ValueError, MemoryError, RecursionError) as error:
        report("failed", f"cannot compile: {type(error).__name__}: {error}", EXIT_FAILED)

    finish_line = job["finish_line"]
    stdlib = os.path.dirname(os.__file__) + "/"
    libraries = tuple(folder.rstrip("/") + "/" for folder in job["libraries"])
    sys.path[:0] = list(job["libraries"])  # -I -S left only the standard library on the path
    module_type = type(sys)
    namespace_name = "__main__" if tests is None else "__program__"
    program_module = module_type(namespace_name)
    program_module.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = program_module  # the harness module is out of the program's reach
    sys.modules[namespace_name] = program_module

    helpers = {"__builtins__": dict(builtins.__dict__), "__name__": "sandbox_helpers"}
    exec(code, helpers)
    test_builtins = dict(builtins.__dict__)
    test_builtins["__strict_compare__"] = helpers["strict_compare"]
    test_builtins["__strict_truth__"] = helpers["strict_truth"]
    test_code_objects = code_objects(tests) if tests is not None else []
    test_codes = frozenset(id(code) for code in test_code_objects)
    test_names = frozenset(name for code in test_code_objects for name in code.co_names)

    handoff = ([], _thread.allocate_lock(), _thread.allocate_lock(), _thread.allocate_lock(), _thread.allocate_lock())
    for lock in handoff[1:]:
        lock.acquire()
    vault_ident = _thread.start_new_thread(
        vault,
        (nonce, status_fd, handoff, finish_line, write, exit_, sys._current_frames, time.sleep, EXIT_BLOCKED),
    )
    hook = make_hook(
        vault_ident, report, sys._getframe, _thread.get_ident, stdlib, HARNESS_FILENAME, sys.modules, libraries
    )
    baseline = snapshot(sys, builtins, test_builtins)
    _thread.stack_size(RUNNER_STACK_BYTES)
    _thread.start_new_thread(
        runner,
        (
            program,
            tests,
            job["entry_point"],
            program_module.__dict__,
            test_builtins,
            test_codes,
            test_names,
            hook,
            handoff,
            (baseline, sys, builtins, stdlib, libraries),
            report,
            flush,
            helpers["failure"],
            helpers["tampering"],
            helpers["tests_namespace"],
            job["program_source"],
            job["tests_source"],
        ),
    )
    _thread.stack_size(0)
    del nonce, job
    try:
        forever = _thread.allocate_lock()
        forever.acquire()
        forever.acquire()
    except BaseException:
        report("failed", "the main thread was interrupted before the tests finished", EXIT_FAILED)


def runner(
    program,
    tests,
    entry_point,
    namespace,
    test_builtins,
    test_codes,
    test_names,
    hook,
    handoff,
    context,
    report,
    flush,
    failure,
    tampering,
    tests_namespace,
    program_source,
    tests_source,
    *,
    _exec=exec,
    _dict=dict,
    _id=id,
    _type=type,
    _function=FUNCTION_TYPE,
    _base_exception=BaseException,
    _name_error=NameError,
    _addaudithook=sys.addaudithook,
    _getframe=sys._getframe,
    _get_ident=_thread.get_ident,
    _exit=os._exit,
    _failed=EXIT_FAILED,
):
    """The thread that runs program code. Sealed: after ``_addaudithook`` it reads nothing but its locals."""
    box, ready, taken, wake, done = handoff
    box.append((_get_ident(), _getframe(0)))
    ready.release()
    taken.acquire()
    _addaudithook(hook)
    finished = False
    try:
        _exec(program, namespace)
        if tests is not None:
            test_namespace, refused = tests_namespace(namespace, test_builtins, test_names, entry_point)
            if refused is not None:
                report("failed", refused, _failed)
                _exit(_failed)
            _exec(tests, test_namespace)
            defined = _dict(test_namespace)
            if entry_point is not None:
                check = test_namespace.get("check")
                if _type(check) is not _function or _id(check.__code__) not in test_codes:
                    report("failed", "the tests define no check(candidate) function to call", _failed)
                    _exit(_failed)
                target = namespace.get(entry_point)
                if target is None:
                    raise _name_error(f"the program defines no {entry_point!r} (the entry point)")
                check(target)
            problems = tampering(context, test_namespace, defined)
        else:
            problems = tampering(context, None, None)
        finished = problems is None
        if not finished:
            report("blocked", problems, 87)
    except _base_exception as error:
        failure(error, report, program_source, tests_source)
    if finished is True:
        flush()
        (wake.release(), done.acquire())  # <- the finish line
    _exit(_failed)


def vault(
    nonce,
    status_fd,
    handoff,
    finish_line,
    write,
    exit_,
    current_frames,
    sleep,
    blocked,
    *,
    _range=range,
):
    """The only holder of the nonce. Writes the proof once the runner's own frame waits on the finish line."""
    box, ready, taken, wake, _ = handoff
    ready.acquire()
    runner_ident, frame = box.pop()
    taken.release()
    wake.acquire()
    for _ in _range(500):
        top = current_frames().get(runner_ident)
        if top is frame:
            if frame.f_lineno == finish_line:
                write(status_fd, b"passed " + nonce + b"\n")
                exit_(0)
            break
        sleep(0.001)
    write(status_fd, b"blocked the harness was woken before the tests finished\n")
    exit_(blocked)


def make_hook(vault_ident, report, getframe, get_ident, stdlib, harness_path, modules, libraries=()):
    """The audit hook: stops the process (verdict ``blocked``) on the events listed in the module docstring.

    ``libraries`` are folders (ending in ``/``) that the host mounted read-only for the program to import from
    (the client's ``libraries``): like the standard library, their files cannot be the program's, so their cached
    bytecode may be loaded and code compiled from them may use frames (pydantic reads its caller's namespace when a
    model class is defined); program code compiled under their names is refused like under the standard
    library's."""
    external = modules["_frozen_importlib_external"]
    compile_bytecode = external._compile_bytecode.__code__
    get_code = (external.SourceLoader.get_code.__code__, external.SourcelessFileLoader.get_code.__code__)
    loader_types = (external.SourceFileLoader, external.SourcelessFileLoader)
    read_file = external.FileLoader.get_data
    trusted_files = frozenset({harness_path, TESTS_FILENAME})
    read_only = (stdlib, *libraries)
    code_type = type(compile_bytecode)
    function_type = type(make_hook)
    busy = {}

    def untrusted(
        frame,
        _len=len,
        _type=type,
        _str=str,
        _stdlib=stdlib,
        _uses=FRAME_USERS,
        _trusted=trusted_files,
        _libraries=libraries,
    ):
        """True when the nearest code above ``frame`` that is not standard library is program code (the tests,
        this harness and the mounted libraries are trusted), unless a standard-library function that only uses
        frames internally is met first."""
        skip = _len(_stdlib)
        while frame is not None:
            code = frame.f_code
            name = code.co_filename
            if _type(name) is not _str:
                return True
            if name.startswith(_stdlib) or name.startswith("<frozen "):
                if code.co_name == "<module>" or (name[skip:], code.co_name) in _uses:
                    return False
                frame = frame.f_back
                continue
            return name not in _trusted and not (_libraries and name.startswith(_libraries))
        return False

    def trusted_name(filename, _type=type, _str=str, _read_only=read_only, _trusted=trusted_files):
        return _type(filename) is not _str or (
            filename in _trusted or filename.startswith(_read_only) or filename.startswith("<frozen ")
        )

    def stdlib_bytecode(frame, _type=type, _str=str, _stdlib=read_only):
        """marshal.loads called by the import system loading the cached bytecode of a module of the standard
        library or of a mounted library."""
        if frame.f_code is not compile_bytecode or frame.f_back is None or frame.f_back.f_code not in get_code:
            return False
        local = frame.f_back.f_locals
        loader = local.get("self")
        path = local.get("source_path", local.get("path"))
        return (
            _type(loader) in loader_types
            and _type(loader).get_data is read_file
            and _type(path) is _str
            and path.startswith(_stdlib)
        )

    def same_as_file(source, filename, _open=open, _type=type, _str=str, _bytes=bytes, _errors=(OSError, ValueError)):
        """True when ``source`` is the text of the standard-library file it claims to be compiled from."""
        try:
            with _open(filename, "rb") as handle:
                return handle.read() == (source.encode() if _type(source) is _str else _bytes(source))
        except _errors:
            return False

    def hook(
        event,
        args,
        _denied=DENIED_EVENTS,
        _modules=DENIED_MODULES,
        _frames=FRAME_ATTRIBUTES,
        _type=type,
        _str=str,
        _code=code_type,
        _function=function_type,
        _base_exception=BaseException,
        _blocked=EXIT_BLOCKED,
    ):
        if event in _denied or event.startswith("ctypes."):
            if get_ident() != vault_ident:
                report("blocked", f"the program used {event}, which the sandbox forbids", _blocked)
            return
        if event == "import":
            name = args[0]
            if _type(name) is not _str or name.partition(".")[0] in _modules or name.startswith("_test"):
                report("blocked", f"the program imported {name}, which the sandbox forbids", _blocked)
            return
        if event == "object.__getattr__" and args[1] not in _frames:
            return
        if event not in (
            "sys._getframe",
            "object.__getattr__",
            "object.__setattr__",
            "object.__delattr__",
            "marshal.loads",
            "marshal.load",
            "code.__new__",
            "function.__new__",
            "compile",
            "exec",
        ):
            return
        ident = get_ident()
        if ident == vault_ident or busy.get(ident):
            return
        busy[ident] = True
        try:
            caller = getframe(1)
            if event == "sys._getframe" or event == "object.__getattr__":
                bad = untrusted(caller)
            elif event == "object.__setattr__" or event == "object.__delattr__":
                target = args[0]
                bad = (
                    _type(target) is _function
                    and args[1] in ("__code__", "__defaults__", "__kwdefaults__")
                    and trusted_name(target.__code__.co_filename)
                    and untrusted(caller)
                )
            elif event == "marshal.loads" or event == "marshal.load":
                bad = not stdlib_bytecode(caller) and untrusted(caller)
            elif event == "code.__new__":
                bad = untrusted(caller)
            elif event == "compile":
                filename = args[1]
                bad = (
                    trusted_name(filename)
                    and untrusted(caller)
                    and not (_type(filename) is _str and filename.startswith(read_only) and same_as_file(*args))
                )
            else:  # exec, function.__new__: the tests' or the harness's code under the program's control
                code = args[0]
                bad = (
                    _type(code) is _code
                    and (
                        code.co_filename in trusted_files
                        or (event == "function.__new__" and trusted_name(code.co_filename))
                    )
                    and untrusted(caller)
                )
        except _base_exception:
            bad = True
        busy[ident] = False
        if bad:
            report("blocked", f"the program used {event} on the harness, the tests or the interpreter", _blocked)

    return hook


def snapshot(sys, builtins, test_builtins):
    """What the tamper check compares against: the builtins, the tests' builtins and the modules loaded so far."""
    modules = {
        name: (module, dict(vars(module)))
        for name, module in list(sys.modules.items())
        if name not in ("sys", "__main__", "__program__") and type(module) is type(sys)
    }
    return dict(vars(builtins)), dict(test_builtins), modules


def tampering(context, test_namespace, defined):
    """None when nothing the tests rely on was replaced by the program; else what was. A mounted library may
    patch the standard library (typing_extensions replaces ``typing._collect_parameters``): its functions count as
    the standard library's own."""
    (builtins_before, test_builtins_before, modules_before), sys, builtins, stdlib, libraries = context
    changed = changed_names(vars(builtins), builtins_before, "builtins")
    if test_namespace is not None:
        changed = (
            changed
            or changed_names(test_namespace["__builtins__"], test_builtins_before, "the tests' builtins")
            or changed_names({k: test_namespace.get(k) for k in defined}, defined, "the tests' namespace")
        )
    if changed:
        return changed
    for name, (module, before) in modules_before.items():
        if sys.modules.get(name) is not module:
            return f"the module {name} was replaced in sys.modules"
        current = vars(module)
        for key, value in before.items():
            now = current.get(key)
            if callable(value) and now is not value and not library_function(now, libraries):
                return f"{name}.{key} was replaced"
    stdlib_names = sys.stdlib_module_names
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] not in stdlib_names or name in modules_before:
            continue
        if type(module) is not type(sys):
            if "." not in name:  # typing.io and typing.re are classes, not modules
                return f"the standard-library module {name} was replaced"
            continue
        origin = getattr(module.__spec__, "origin", None)
        if not (origin in ("built-in", "frozen") or (type(origin) is str and origin.startswith(stdlib))):
            return f"the standard-library module {name} was replaced"
        for key, value in list(vars(module).items()):
            foreign = foreign_code(value, (stdlib, *libraries))
            if foreign:
                return f"{name}.{key} was replaced by code from {foreign}"
    return None


def tests_namespace(namespace, test_builtins, test_names, entry_point):
    """The tests' globals: the program's names (its functions, classes and imports, as HumanEval's shared namespace
    gives them), the private builtins and the strict helpers; or None and why the tests cannot be trusted to run.

    A program that rebinds a builtin the tests use (``abs = lambda x: 0``) or a standard-library module name to
    something else (``class math: isclose = ...``) would answer for the tests: refused, unless the name is the
    entry point itself or a genuine import (``import collections.abc as abc``, ``from datetime import datetime``).
    """
    modules = sys.modules
    for name, value in namespace.items():
        if name == entry_point or name not in test_names or (name.startswith("__") and name.endswith("__")):
            continue
        if name in test_builtins:
            return None, f"the program redefines {name}, which the tests take from the builtins"
        if name.partition(".")[0] in sys.stdlib_module_names and value is not modules.get(name):
            genuine_module = type(value) is type(sys) and modules.get(getattr(value, "__name__", None)) is value
            genuine_import = getattr(modules.get(name), name, None) is value
            if not (genuine_module or genuine_import):
                return None, f"the program binds {name}, a standard-library module the tests use, to something else"
    names = dict(namespace)
    names.update(
        __builtins__=test_builtins,
        __name__="__tests__",
        __strict_compare__=test_builtins["__strict_compare__"],
        __strict_truth__=test_builtins["__strict_truth__"],
    )
    return names, None


def changed_names(current, before, where):
    for key, value in before.items():
        if current.get(key, changed_names) is not value:
            return f"{where}: {key} was replaced or removed"
    extra = [key for key in current if key not in before]
    return f"{where}: {extra[0]} was added" if extra else None


def library_function(value, libraries):
    """True when ``value`` is a function compiled from a file of a mounted library."""
    return bool(libraries) and type(value).__name__ == "function" and value.__code__.co_filename.startswith(libraries)


def foreign_code(value, stdlib):
    """The file of a module-level function, or of a method of a class, that comes from neither the standard
    library nor another folder ``stdlib`` names (a prefix, or a tuple of them): the code a replacement was
    compiled from, if any."""
    if type(value).__name__ == "function":
        filename = value.__code__.co_filename
        return None if filename.startswith(stdlib) or filename.startswith("<frozen ") else filename
    if isinstance(value, type) and value.__flags__ & HEAP_TYPE:
        for member in list(vars(value).values()):
            member = getattr(member, "__func__", member)
            if type(member).__name__ == "function":
                filename = member.__code__.co_filename
                # namedtuple and dataclass methods are compiled from strings: "<string>"
                if not (filename.startswith(stdlib) or filename.startswith("<")) or filename == PROGRAM_FILENAME:
                    return filename
    return None


def failure(error, report, program_source, tests_source):
    """Report an exception of the program or the tests in one line: kind, message and where."""
    try:
        kind = type(error)
        if issubclass(kind, MemoryError):
            report("memory", "MemoryError: the program ran out of memory", EXIT_MEMORY)
        where = ""
        traceback = error.__traceback__
        while traceback is not None:
            code = traceback.tb_frame.f_code
            if code.co_filename in (PROGRAM_FILENAME, TESTS_FILENAME):
                source = program_source if code.co_filename == PROGRAM_FILENAME else tests_source
                lines = (source or "").splitlines()
                line = lines[traceback.tb_lineno - 1].strip() if 0 < traceback.tb_lineno <= len(lines) else ""
                part = "the tests" if code.co_filename == TESTS_FILENAME else "the program"
                where = f" at {part} line {traceback.tb_lineno}: {line}"
            traceback = traceback.tb_next
        if issubclass(kind, SystemExit):
            report("failed", f"the program exited (SystemExit {error.code!r}) before the tests finished", EXIT_FAILED)
        message = str(error)[:500]
        report("failed", f"{kind.__name__}{': ' + message if message else ''}{where}", EXIT_FAILED)
    finally:
        report("failed", "an exception that cannot be described", EXIT_FAILED)


def strict_compare(operator, left, right):
    """``left <operator> right`` (``==``, ``!=``, ``in``, ``not in``, ``<``, ``<=``, ``>``, ``>=``), where an object
    whose class (written by the program) decides the comparison itself is only compared with an object of the
    very same class.

    :func:`compile_tests` rewrites the tests' comparisons into calls of this function, so ``AlwaysEqual() == 3`` and
    ``[AlwaysEqual()] == [3]`` are false while ``Point(1, 2) == Point(1, 2)`` keeps its meaning.
    """
    if operator == "==":
        return strict_equal(left, right, 0)
    if operator == "!=":
        return not strict_equal(left, right, 0)
    if operator in ("in", "not in"):
        if issubclass(type(right), (list, tuple, set, frozenset, dict)) or untrusted_equality(left):
            found = any(strict_equal(left, item, 0) for item in right)
        else:
            found = strict_truth(left in right)
        return found if operator == "in" else not found
    mine, reflected, compare = ORDERINGS[operator]
    if (untrusted_method(type(left), mine) or untrusted_method(type(right), reflected)) and type(left) is not type(
        right
    ):
        return False
    return strict_truth(compare(left, right))


ORDERINGS = {
    "<": ("__lt__", "__gt__", lambda a, b: a < b),
    "<=": ("__le__", "__ge__", lambda a, b: a <= b),
    ">": ("__gt__", "__lt__", lambda a, b: a > b),
    ">=": ("__ge__", "__le__", lambda a, b: a >= b),
}


PLAIN = (int, float, complex, str, bytes, bool, type(None), range, bytearray)
MAX_DEPTH = 100


def strict_equal(left, right, depth):
    kinds = (type(left), type(right))
    if kinds[0] in PLAIN and kinds[1] in PLAIN:
        return left == right
    if untrusted_equality(left) or untrusted_equality(right):
        if kinds[0] is not kinds[1]:
            return False
    elif depth < MAX_DEPTH:  # containers compared through their base type's methods, whatever a subclass overrides
        for container in (list, tuple):
            if issubclass(kinds[0], container) and issubclass(kinds[1], container):
                items = list(container.__iter__(left)), list(container.__iter__(right))
                return len(items[0]) == len(items[1]) and all(
                    strict_equal(a, b, depth + 1) for a, b in zip(*items, strict=True)
                )
        if issubclass(kinds[0], dict) and issubclass(kinds[1], dict):
            keys = list(dict.keys(left)), list(dict.keys(right))
            if any(untrusted_equality(key) for key in (*keys[0], *keys[1])) or set(keys[0]) != set(keys[1]):
                return False
            return all(strict_equal(dict.__getitem__(left, k), dict.__getitem__(right, k), depth + 1) for k in keys[0])
        if issubclass(kinds[0], (set, frozenset)) and issubclass(kinds[1], (set, frozenset)):
            items = [
                frozenset((set if issubclass(k, set) else frozenset).__iter__(v))
                for k, v in zip(kinds, (left, right), strict=True)
            ]
            return not any(untrusted_equality(item) for item in (*items[0], *items[1])) and items[0] == items[1]
    return strict_truth(left == right)


def strict_truth(value):
    """``bool(value)``, except that a truth value decided by a class the program wrote is not trusted."""
    if type(value) is bool:
        return value
    if untrusted_method(type(value), "__bool__") or untrusted_method(type(value), "__len__"):
        return False
    return bool(value)


def untrusted_equality(value):
    kind = type(value)
    return kind not in PLAIN and (untrusted_method(kind, "__eq__") or untrusted_method(kind, "__ne__"))


def untrusted_method(kind, name):
    """True when the method ``name`` of ``kind`` comes from the program: a Python function compiled from its code
    (not the standard library's or the tests'), or any other callable a class of it put there."""
    for klass in kind.__mro__:
        if name in vars(klass):
            method = vars(klass)[name]
            if not klass.__flags__ & HEAP_TYPE or type(method).__name__ in ("wrapper_descriptor", "method_descriptor"):
                return False  # implemented in C: by the interpreter or a standard-library extension module
            method = getattr(method, "__func__", method)
            code = method.__code__ if type(method).__name__ == "function" else None
            return code is None or not trusted_code(code.co_filename)
    return False


def trusted_code(filename):
    return type(filename) is str and (filename == TESTS_FILENAME or filename.startswith(STDLIB))


HEAP_TYPE = 1 << 9
STDLIB = os.path.dirname(os.__file__) + "/"


def compile_tests(source):
    """Compile the tests with their comparisons and assertions routed through :func:`strict_compare` and
    :func:`strict_truth` (``a == b`` becomes ``__strict_compare__("==", a, b)``, ``assert x`` becomes ``assert
    __strict_truth__(x)``); line numbers stay those of the source. A chained comparison evaluates each operand
    once, as Python does, through an assignment expression; where Python forbids one (a class body) the tests are
    compiled as written."""
    import ast
    import itertools

    operators = {
        ast.Eq: "==",
        ast.NotEq: "!=",
        ast.In: "in",
        ast.NotIn: "not in",
        ast.Lt: "<",
        ast.LtE: "<=",
        ast.Gt: ">",
        ast.GtE: ">=",
    }
    names = (f"__strict_operand_{i}__" for i in itertools.count())

    def call(name, node, args):
        return ast.copy_location(ast.Call(ast.Name(name, ast.Load()), args, []), node)

    class Strict(ast.NodeTransformer):
        def visit_Assert(self, node):
            self.generic_visit(node)
            node.test = call("__strict_truth__", node.test, [node.test])
            return node

        def visit_Compare(self, node):
            self.generic_visit(node)
            if not all(type(op) in operators for op in node.ops):
                return node
            left, parts = node.left, []
            for index, (op, right) in enumerate(zip(node.ops, node.comparators, strict=True)):
                following = right
                if index < len(node.ops) - 1:  # shared with the next comparison: evaluated once
                    name = next(names)
                    right = ast.copy_location(ast.NamedExpr(ast.Name(name, ast.Store()), right), right)
                    following = ast.copy_location(ast.Name(name, ast.Load()), right)
                parts.append(call("__strict_compare__", node, [ast.Constant(operators[type(op)]), left, right]))
                left = following
            return parts[0] if len(parts) == 1 else ast.copy_location(ast.BoolOp(ast.And(), parts), node)

    tree = ast.parse(source, TESTS_FILENAME)
    try:
        return compile(ast.fix_missing_locations(Strict().visit(tree)), TESTS_FILENAME, "exec", dont_inherit=True)
    except SyntaxError:
        return compile(source, TESTS_FILENAME, "exec", dont_inherit=True)


def set_limits(resource, limits):
    cpu = max(1, int(limits["cpu_s"] + 0.999))
    for kind, value in (
        (resource.RLIMIT_CPU, (cpu, cpu)),  # SIGKILL: the interpreter is its namespace's init, deaf to SIGXCPU
        (resource.RLIMIT_AS, (limits["memory_mb"] << 20,) * 2),
        (resource.RLIMIT_NPROC, (limits["max_processes"],) * 2),
        (resource.RLIMIT_FSIZE, (limits["max_file_mb"] << 20,) * 2),
        (resource.RLIMIT_NOFILE, (limits["max_open_files"],) * 2),
        (resource.RLIMIT_CORE, (0, 0)),
    ):
        resource.setrlimit(kind, value)


def read_all(os, fd):
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def code_objects(code):
    """``code`` and every code object nested in it (functions, classes, comprehensions of the tests)."""
    found = [code]
    for constant in code.co_consts:
        if type(constant) is type(code):
            found.extend(code_objects(constant))
    return found


def finish_line(source):
    """The number of the line of ``source`` (this file's text) that :data:`FINISH_MARK` marks."""
    return next(number for number, line in enumerate(source.splitlines(), 1) if line.endswith(FINISH_MARK))


HARNESS_FILENAME = "<sandbox harness>"
"""The file name this harness is compiled under: code of that name (or ``<tests>``) is trusted by the audit hook,
and the program may not compile anything under these names."""

BOOTSTRAP = """
import marshal, os, sys
chunks = []
while chunk := os.read(int(sys.argv[1]), 1 << 20):
    chunks.append(chunk)
job = marshal.loads(b"".join(chunks))
del chunks, chunk
harness = job["harness"]
if type(harness) is str:
    harness = compile(harness, "<sandbox harness>", "exec", dont_inherit=True)
core = {"__builtins__": dict(__builtins__.__dict__), "__name__": "sandbox_harness"}
exec(harness, core)
core["main"](sys.argv[1:], job, harness)
"""
"""What the interpreter runs (``python -I -S -B -c BOOTSTRAP JOB_FD NONCE_FD STATUS_FD``): read the job and run
this harness's ``main`` in a namespace of its own, with a private copy of the builtins."""
