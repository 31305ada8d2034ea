"""Bubblewrap isolation for the grading worker: what a student's code can see and do.

With Debian's ``bubblewrap`` (``bwrap``) the worker of :mod:`seqlearn.grading.sandbox` runs in
new user, PID, IPC, UTS, cgroup and network namespaces:

* no network at all (only a loopback device that nothing listens on; no resolver configuration);
* the system's libraries, the Python installation and the ``seqlearn`` package mounted
  read-only, and nothing else of the machine: not the submissions, the gradebook, the source
  notebooks or anyone's home folder;
* one writable folder, ``/tmp``, a private memory file system of at most
  :data:`SCRATCH_BYTES`, gone when the worker ends;
* a seccomp filter that refuses to create processes (``fork``, ``vfork``, and ``clone`` without
  ``CLONE_THREAD``; threads stay allowed), so neither ``os.fork`` nor a ``ctypes`` call into the
  C library can start one, whoever runs the grader;
* no nested user namespaces, and a PID namespace whose processes all die with the worker.

It works the same whether the grader runs as root or as an ordinary user: the namespaces do not
depend on who starts them (as root the sandbox's files are still read with root's permissions,
so a Python installed in a root-only folder stays importable). The resource limits and the
audit hook of the worker apply inside, as a second line.

:func:`bwrap_status` says whether the machine offers this; ``seqlearn grade`` refuses to run
without it unless ``--no-sandbox`` is given, and ``seqlearn doctor`` reports it.
"""

import functools
import os
import platform
import shutil
import site
import struct
import subprocess
import sys
from pathlib import Path

#: Size of the sandbox's private writable folder, ``/tmp`` (a memory file system).
SCRATCH_BYTES = 64 << 20

#: The working folder of the student's code inside the sandbox.
SCRATCH = "/tmp"

# seccomp: struct seccomp_data is {int nr; u32 arch; u64 ip; u64 args[6]}.
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_EPERM, _ENOSYS = 1, 38
_CLONE_THREAD = 0x00010000
# (audit arch, {name: syscall number}) of the architectures the filter knows.
_SYSCALLS = {
    "x86_64": (0xC000003E, {"clone": 56, "fork": 57, "vfork": 58, "clone3": 435}),
    "aarch64": (0xC00000B7, {"clone": 220, "clone3": 435}),
}


def _bpf(code, jt, jf, k):
    return struct.pack("=HBBI", code, jt, jf, k)


def no_new_processes_filter(machine=None):
    """A seccomp BPF program (bytes, for ``bwrap --seccomp FD``) that lets a process start
    threads but no processes: ``fork``/``vfork`` fail with EPERM, ``clone`` without
    ``CLONE_THREAD`` with EPERM, ``clone3`` with ENOSYS (the C library then falls back to
    ``clone``), and so do the x32 system calls on x86-64. ``None`` on an architecture it does
    not know."""
    machine = machine or platform.machine()
    if machine not in _SYSCALLS:
        return None
    arch, numbers = _SYSCALLS[machine]
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    # Each instruction is (code, true target, false target, k); a target is a label or None
    # (the next instruction). Labels are resolved into BPF's forward offsets below.
    program = [("ld", None, None, 4), ("jeq", None, "allow", arch), ("ld", None, None, 0)]
    if machine == "x86_64":
        program.append(("jge", "deny", None, 0x40000000))
    program += [("jeq", "deny", None, numbers[n]) for n in ("fork", "vfork") if n in numbers]
    program += [("jeq", "nosys", None, numbers["clone3"]), ("jeq", "flags", None, numbers["clone"]),
                ("allow", None, None, _SECCOMP_RET_ALLOW),
                ("deny", None, None, _SECCOMP_RET_ERRNO | _EPERM),
                ("nosys", None, None, _SECCOMP_RET_ERRNO | _ENOSYS),
                # clone's flags: the low 32 bits of its first argument (little-endian, offset 16)
                ("flags", None, None, 16), ("jset", "thread", "process", _CLONE_THREAD),
                ("thread", None, None, _SECCOMP_RET_ALLOW),
                ("process", None, None, _SECCOMP_RET_ERRNO | _EPERM)]
    returns = ("allow", "deny", "nosys", "thread", "process")
    labels = {name: i for i, (name, *_) in enumerate(program) if name in returns + ("flags",)}
    codes = {"ld": ld, "flags": ld, "jeq": jeq, "jge": jge, "jset": jset, **dict.fromkeys(returns, ret)}
    out = []
    for i, (name, true, false, k) in enumerate(program):
        jt = labels[true] - i - 1 if true else 0
        jf = labels[false] - i - 1 if false else 0
        out.append(_bpf(codes[name], jt, jf, k))
    return b"".join(out)


def _readable_roots():
    """The folders and files the worker needs, read-only: system libraries, the interpreter and
    its installations, the ``seqlearn`` package; deduplicated, outermost first."""
    import seqlearn

    candidates = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
                  "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                  "/etc/alternatives", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf"]
    candidates += [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                   str(Path(sys.executable).parent),
                   str(Path(os.path.realpath(sys.executable)).parent.parent)]
    candidates += site.getsitepackages() + [site.getusersitepackages()]
    # Installations reached through .pth files or PYTHONPATH; never the current folder or
    # a project folder, which may hold the submissions.
    candidates += [p for p in sys.path
                   if Path(p).name in ("site-packages", "dist-packages", "lib-dynload")
                   or Path(p).name.startswith("python3") or p.endswith(".zip")]
    candidates.append(str(Path(seqlearn.__file__).resolve().parent))
    # Packages linked into an installation from elsewhere are read through their links' targets.
    for folder in [p for p in candidates if p and os.path.isdir(p) and Path(p).name in
                   ("site-packages", "dist-packages")]:
        for entry in os.scandir(folder):
            if entry.is_symlink():
                candidates.append(os.path.realpath(entry.path))
    chosen = []
    for path in sorted({os.path.abspath(p) for p in candidates if p}, key=len):
        if os.path.lexists(path) and not any(path == c or path.startswith(c + os.sep) for c in chosen):
            chosen.append(path)
    return chosen


def package_parent():
    """The folder to put on ``PYTHONPATH`` so that the sandbox imports this ``seqlearn``."""
    import seqlearn

    return str(Path(seqlearn.__file__).resolve().parent.parent)


def bwrap_command(argv, seccomp_fd=None):
    """The ``bwrap`` command line that runs ``argv`` in the sandbox described above."""
    cmd = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
           "--uid", "65534", "--gid", "65534", "--hostname", "sandbox",
           "--proc", "/proc", "--dev", "/dev",
           "--size", str(SCRATCH_BYTES), "--tmpfs", SCRATCH]
    for path in _readable_roots():
        if os.path.islink(path):
            cmd += ["--symlink", os.readlink(path), path]
        else:
            cmd += ["--ro-bind", path, path]
    if seccomp_fd is not None:
        cmd += ["--seccomp", str(seccomp_fd)]
    # bwrap's own root (where it made the folders above the mounts) is read-only too: /tmp is
    # the only writable place.
    return cmd + ["--remount-ro", "/", "--chdir", SCRATCH, "--", *argv]


def spawn(argv, env, **popen_kwargs):
    """Start ``argv`` under :func:`bwrap_command` with the process filter; returns the Popen."""
    program = no_new_processes_filter()
    if program is None:
        return subprocess.Popen(bwrap_command(argv), env=env, **popen_kwargs)
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, program)
        os.close(write_end)
        write_end = None
        return subprocess.Popen(bwrap_command(argv, seccomp_fd=read_end), env=env,
                                pass_fds=(read_end,), **popen_kwargs)
    finally:
        os.close(read_end)
        if write_end is not None:
            os.close(write_end)


@functools.lru_cache(maxsize=1)
def bwrap_status():
    """``(True, "")`` when ``bwrap`` can build the sandbox on this machine, else ``(False,
    reason)`` naming what is missing."""
    if shutil.which("bwrap") is None:
        return False, ("bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)")
    if no_new_processes_filter() is None:
        return False, (f"the process filter does not know this machine's architecture "
                       f"({platform.machine()})")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": package_parent()}
    probe = ("import os, socket\n"
             "assert os.getcwd() == '/tmp'\n"
             "try:\n    open('/escaped', 'w')\nexcept OSError:\n    pass\nelse:\n    raise SystemExit(4)\n"
             "try:\n    os.fork()\nexcept OSError:\n    pass\nelse:\n    raise SystemExit(3)\n"
             "print('sandbox ok')\n")
    try:
        proc = spawn([sys.executable, "-c", probe], env, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
        out, err = proc.communicate(timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap could not be started ({exc})"
    if proc.returncode != 0 or "sandbox ok" not in out:
        detail = (err or out).strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        return False, f"bwrap cannot create the sandbox here: {detail[0]}"
    return True, ""


__all__ = ["SCRATCH_BYTES", "SCRATCH", "no_new_processes_filter", "package_parent",
           "bwrap_command", "spawn", "bwrap_status"]
