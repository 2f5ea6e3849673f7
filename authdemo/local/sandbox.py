"""The file sandbox of a function's worker: Landlock, where the kernel offers it.

Function code runs as the presenter, who owns the server's key, the issuer's private key, the
state file's password and the kept tokens (`AUTHDEMO_HOME`), and `~/.aws`. Landlock (Linux 5.13
and later, unprivileged, no root or user namespace needed) lets the worker give up, before it
loads the function, every file access but: read (and execute) Python's installation and the
system's libraries and configuration, read its own code, read and write its private HOME. It also
keeps the worker from ptrace-ing or reading `/proc` of any process outside it, and (ABI 6+) from
signalling them. Nothing else is restricted: the network (the function's boto3 reaches the
embedded AWS) and system calls stay open.

`lambda_worker` loads this file by path, in isolated mode, before the function's code:
standard library only. Where Landlock is missing (macOS, Windows, an older or a Landlock-less
kernel) `restrict` raises `Unavailable` and the worker runs unconfined.
"""

from __future__ import annotations

import ctypes
import os
import sys

# include/uapi/linux/landlock.h; the three system calls share one number on every architecture
# but alpha (which authdemo does not run on).
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_ABI1_RIGHTS = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | _TRUNCATE | _IOCTL_DEV  # what a file's rule may hold
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
READ = EXECUTE | READ_FILE | READ_DIR

# System paths a Python function needs to read: libraries, certificates, name resolution, time
# zones, users. `/etc` is named file by file (never /etc/shadow, /etc/ssh, ...).
SYSTEM_READ = (
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/bin",
    "/etc/ssl",
    "/etc/pki",
    "/etc/ca-certificates",
    "/etc/ca-certificates.conf",
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/nsswitch.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/mime.types",
    "/etc/passwd",
    "/etc/group",
)
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


class Unavailable(Exception):
    """This platform offers no Landlock (or refused it): the worker runs unconfined."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL:
    if not sys.platform.startswith("linux"):
        raise Unavailable(f"Landlock is Linux's; this is {sys.platform}")
    return ctypes.CDLL(None, use_errno=True)


def abi() -> int:
    """The kernel's Landlock ABI version; 0 when it has none (or is not Linux)."""
    try:
        libc = _libc()
    except Unavailable:
        return 0
    flags = ctypes.c_uint32(_CREATE_RULESET_VERSION)
    version = libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), flags)
    return max(int(version), 0)


def interpreter_paths() -> list[str]:
    """This Python's installation and environment (stdlib, lib-dynload, site-packages)."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return sorted(os.path.realpath(p) for p in prefixes if p)


def restrict(read: list[str], write: list[str]) -> str:
    """Confine this thread (and every process it starts) to `read` + `write` (+ the system's
    paths); returns what was applied, e.g. "Landlock ABI 7". Call it with one thread only."""
    version = abi()
    if version < 1:
        raise Unavailable("this kernel offers no Landlock (Linux 5.13+, with landlock among its LSMs)")
    libc = _libc()
    handled = _ABI1_RIGHTS
    if version >= 2:
        handled |= _REFER
    if version >= 3:
        handled |= _TRUNCATE
    if version >= 5:
        handled |= _IOCTL_DEV
    attr = _RulesetAttr(fs=handled)
    size = 8  # handled_access_fs only (ABI 1-3)
    if version >= 4:
        size = 16  # + handled_access_net (left 0: the network stays open)
    if version >= 6:
        attr.scoped = _SCOPE_SIGNAL | _SCOPE_ABSTRACT_UNIX_SOCKET
        size = 24
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise Unavailable(f"landlock_create_ruleset: {os.strerror(ctypes.get_errno())}")
    try:
        rules = [(p, READ) for p in (*SYSTEM_READ, *interpreter_paths(), *read)]
        rules += [(p, READ_FILE | WRITE_FILE) for p in DEVICES]
        rules += [(p, handled) for p in write]
        for path, rights in rules:
            _allow(libc, ruleset, path, rights & handled)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise Unavailable(f"prctl(NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
        if libc.syscall(_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            raise Unavailable(f"landlock_restrict_self: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(ruleset)
    return f"Landlock ABI {version}"


def _allow(libc: ctypes.CDLL, ruleset: int, path: str, rights: int) -> None:
    """One rule: `rights` beneath `path` (a file's rule keeps only the rights files have)."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # not on this system (/lib32, /etc/pki, ...)
    try:
        if not os.path.isdir(path):
            rights &= _FILE_RIGHTS
        beneath = _PathBeneath(allowed=rights, parent_fd=fd)
        rule = ctypes.byref(beneath)
        added = libc.syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, rule, ctypes.c_uint32(0))
        if added != 0:
            raise Unavailable(f"landlock_add_rule({path}): {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)
