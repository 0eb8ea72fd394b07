"""A seccomp filter that lets the sandboxed interpreter start threads but never a new process, nor trace one,
nor reach kernel interfaces it has no use for.

bubblewrap loads it (``--seccomp FD``) just before it executes the interpreter. With it, a fork bomb fails at the
first ``fork`` whatever the program does, no helper process can read the harness's memory through ptrace or
``process_vm_readv``, and nothing can outlive the run, even if the harness's audit hook were bypassed. ``clone`` is
allowed only with ``CLONE_THREAD``; ``clone3`` answers ``ENOSYS`` (its flags are in memory a filter cannot read),
so the C library falls back to ``clone`` for new threads.

The program is classic BPF over ``struct seccomp_data`` (``linux/seccomp.h``), assembled here because libseccomp's
Python binding is not packaged for pip; it is twenty instructions. Architectures: x86_64 (the x32 ABI refused) and
aarch64; elsewhere :func:`process_filter` returns None and the sandbox runs without it (the rlimit on processes and
the audit hook still apply).
"""

from __future__ import annotations

import errno
import platform
import struct

_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET = 0x06  # BPF_RET | BPF_K

_ALLOW = 0x7FFF0000
_KILL_PROCESS = 0x80000000
_ERRNO = 0x00050000
_CLONE_THREAD = 0x00010000
_X32_BIT = 0x40000000

# offsets in struct seccomp_data
_NR, _ARCH, _ARG0 = 0, 4, 16

_ARCHES = {
    # machine: (AUDIT_ARCH_*, {syscall: number})
    "x86_64": (
        0xC000003E,
        {"clone": 56, "fork": 57, "vfork": 58, "clone3": 435, "ptrace": 101, "process_vm_readv": 310,
         "process_vm_writev": 311, "memfd_create": 319, "userfaultfd": 323, "bpf": 321, "perf_event_open": 298,
         "keyctl": 250, "add_key": 248, "request_key": 249, "io_uring_setup": 425},
    ),
    "aarch64": (
        0xC00000B7,
        {"clone": 220, "clone3": 435, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
         "memfd_create": 279, "userfaultfd": 282, "bpf": 280, "perf_event_open": 241, "keyctl": 219, "add_key": 217,
         "request_key": 218, "io_uring_setup": 425},
    ),
}  # fmt: skip


def process_filter(machine: str | None = None) -> bytes | None:
    """The compiled filter (an array of ``struct sock_filter``) for this machine, or None where unsupported."""
    machine = machine or platform.machine()
    if machine not in _ARCHES:
        return None
    audit_arch, numbers = _ARCHES[machine]
    refused = [numbers[name] for name in _REFUSED if name in numbers]
    program: list[tuple] = [("ld", _ARCH), ("jump", _JEQ, audit_arch, "next", "kill"), ("ld", _NR)]
    if machine == "x86_64":
        program.append(("jump", _JGE, _X32_BIT, "eperm", "next"))
    program += [("jump", _JEQ, number, "eperm", "next") for number in refused]
    program += [
        ("jump", _JEQ, numbers["clone3"], "enosys", "next"),
        ("jump", _JEQ, numbers["clone"], "next", "allow"),
        ("ld", _ARG0),  # clone's flags: the low 32 bits of its first argument
        ("jump", _JSET, _CLONE_THREAD, "allow", "eperm"),
        ("label", "allow"),
        ("ret", _ALLOW),
        ("label", "eperm"),
        ("ret", _ERRNO | errno.EPERM),
        ("label", "enosys"),
        ("ret", _ERRNO | errno.ENOSYS),
        ("label", "kill"),
        ("ret", _KILL_PROCESS),
    ]
    return _assemble(program)


_REFUSED = (
    "fork",
    "vfork",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "memfd_create",  # memory outside the address-space limit, as many 16 MiB files as descriptors
    "userfaultfd",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "io_uring_setup",
)
"""Calls that fail with EPERM: new processes, reading other processes' memory, memory outside the rlimits, and
kernel interfaces a program has no use for (attack surface)."""


def _assemble(program: list[tuple]) -> bytes:
    """Resolve the labels of ``program`` into relative jumps (BPF jumps only forward) and pack it."""
    labels: dict[str, int] = {}
    position = 0
    for instruction in program:
        if instruction[0] == "label":
            labels[instruction[1]] = position
        else:
            position += 1
    packed: list[bytes] = []
    for instruction in program:
        kind = instruction[0]
        if kind == "label":
            continue
        here = len(packed)
        if kind == "ld":
            packed.append(struct.pack("=HBBI", _LD_W_ABS, 0, 0, instruction[1]))
        elif kind == "ret":
            packed.append(struct.pack("=HBBI", _RET, 0, 0, instruction[1]))
        else:
            _, code, k, if_true, if_false = instruction
            jumps = [0 if label == "next" else labels[label] - here - 1 for label in (if_true, if_false)]
            packed.append(struct.pack("=HBBI", code, *jumps, k))
    return b"".join(packed)
