"""Run a student's code with limits: memory, CPU time, files, and no view of the course folder.

Two layers, both unprivileged and both inherited by every child process:

- **resource limits** (``setrlimit``): address space (``RLIMIT_AS``, so that a huge allocation
  raises ``MemoryError`` instead of waking the OOM killer), CPU seconds, size of written files,
  no core dumps;
- **Landlock** (Linux >= 5.13, no root needed): the process may read only the paths it is
  given (the Python installation, NumPy, the copy of the submission) and write only its work
  folder. The course folder (gradebook, ``solutions/``, ``source/``, other students), the
  instructor's reference ``cnnlib`` and the hidden tests are not readable. From Landlock ABI 4
  TCP is denied too (judge only), and from ABI 6 the process may not signal processes outside
  its sandbox (it cannot kill the grader).

Where Landlock is unavailable (an old kernel, some container runtimes), :func:`describe` says
so, the limits still apply, and a process started as root drops to the ``nobody`` user where
that exists. The grader prints :func:`describe` at the start of every autograde run.

Also a command line wrapper, used as the kernel command of nbgrader's autograde::

    python -m cnngrader.sandbox [--read P]... [--write P]... [--memory BYTES] -- CMD ARGS...
"""
from __future__ import annotations

import argparse
import ctypes
import os
import resource
import sys
from typing import Iterable, Sequence

# Landlock uapi (include/uapi/linux/landlock.h), x86_64 and aarch64 syscall numbers agree.
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446
_PR_SET_NO_NEW_PRIVS = 38
_RULE_PATH_BENEATH = 1
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ALL_V1 = (1 << 13) - 1
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_ONLY = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1
READ = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where Landlock is not available."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        abi = _libc().syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except (OSError, AttributeError):
        return 0
    return max(int(abi), 0)


def _handled_fs(abi: int) -> int:
    fs = _FS_ALL_V1
    if abi >= 2:
        fs |= _FS_REFER
    if abi >= 3:
        fs |= _FS_TRUNCATE
    if abi >= 5:
        fs |= _FS_IOCTL_DEV
    return fs


def landlock(read: Iterable[str], write: Iterable[str], *, deny_tcp: bool = True) -> int:
    """Restrict this process (and its future children) to reading ``read`` and writing ``write``.

    Returns the ABI used, or 0 (nothing restricted) where Landlock is unavailable. Paths that do
    not exist are skipped. Raises OSError when Landlock exists but refuses the ruleset.
    """
    abi = landlock_abi()
    if abi < 1:
        return 0
    libc = _libc()
    fs = _handled_fs(abi)
    attr = _RulesetAttr(fs, (_NET_BIND_TCP | _NET_CONNECT_TCP) if (deny_tcp and abi >= 4) else 0,
                        (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for paths, access in ((read, READ), (write, fs)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    allowed = access & fs
                    if not os.path.isdir(path):
                        allowed &= _FILE_ONLY
                    rule = _PathBeneath(allowed, fd)
                    if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule),
                                    ctypes.c_uint32(0)) < 0:
                        raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
                finally:
                    os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_SYS_RESTRICT, ruleset, ctypes.c_uint32(0)) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


def limit(memory_bytes: int | None, cpu_seconds: int | None = None, file_bytes: int = 1 << 30) -> None:
    """Resource limits for this process and its children (no core dumps, bounded files)."""
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if cpu_seconds:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def nobody() -> tuple[int, int] | None:
    """(uid, gid) of the unprivileged user to drop to when running as root, else None."""
    if os.geteuid() != 0:
        return None
    try:
        import pwd

        entry = pwd.getpwnam("nobody")
    except (ImportError, KeyError):
        return None
    return entry.pw_uid, entry.pw_gid


def drop_root() -> None:
    """When running as root without Landlock, become ``nobody`` (the fallback isolation)."""
    ids = nobody()
    if ids is not None:
        os.setgroups([])
        os.setgid(ids[1])
        os.setuid(ids[0])


def system_read_paths() -> list[str]:
    """What any Python process needs to read: the system libraries and the Python installation."""
    paths = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc", "/proc", "/sys", "/dev", "/opt"]
    paths += [sys.prefix, sys.base_prefix, sys.base_exec_prefix, os.path.dirname(os.path.realpath(sys.executable))]
    return sorted({p for p in paths if os.path.exists(p)})


def describe() -> str:
    """One line: which isolation the student's code gets on this machine."""
    abi = landlock_abi()
    if abi >= 1:
        extras = [x for x, need in (("no TCP", 4), ("no signals outside", 6)) if abi >= need]
        how = f"Landlock ABI {abi} (reads only Python, NumPy and the submission{', ' + ', '.join(extras) if extras else ''})"
    else:
        how = "NO Landlock on this kernel: files are protected by Unix permissions only"
        if nobody() is not None:
            how += " (the judge's runner drops to user nobody)"
    return f"sandbox: {how}; memory and CPU limits by setrlimit"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run CMD with Landlock and resource limits.")
    parser.add_argument("--read", action="append", default=[], help="a path CMD may read (repeatable)")
    parser.add_argument("--write", action="append", default=[], help="a path CMD may read and write")
    parser.add_argument("--memory", type=int, default=0, help="address-space limit in bytes (0: none)")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("no command given after --")
    limit(args.memory or None)
    landlock(system_read_paths() + args.read, args.write, deny_tcp=False)  # kernels talk over TCP
    os.execvp(cmd[0], cmd)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main())
