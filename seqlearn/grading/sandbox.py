"""The worker process that runs one student's exercise cell (``python -m seqlearn.grading.sandbox``).

The grader never executes student code itself. For each exercise it starts this module in a
fresh process, sends it (pickled, over stdin) the cell source and the limits, and then one
call at a time the keyword arguments chosen by the check. The worker

1. drops root privileges (to ``nobody``), applies resource limits (address space, CPU time,
   file size, processes) and moves to a fresh empty directory;
2. sends its answers on a private copy of the stdout pipe and points file descriptors 0/1/2 at
   ``/dev/null``; ``print`` goes to a buffer that keeps only the first few kilobytes;
3. installs an audit hook that refuses writes outside its directory and starting processes;
4. wraps the public functions of every ``seqlearn`` module it can reach, so that a call into
   the course's reference implementation is recorded and reported;
5. executes the definitions from the cells above that the exercise uses (imports and helpers,
   chosen by :func:`seqlearn.grading.submission.context_before`), then the cell, and serves the
   calls.

Under Bubblewrap (:mod:`seqlearn.grading.isolation`, the default) all of this happens inside
namespaces that hide the machine; steps 1 and 3 are then a second line of defence.

Answers go back as a JSON header followed by ``.npy`` blobs (no pickle), so a hostile worker
cannot make the grader execute anything.
"""

import functools
import io
import json
import math
import os
import pickle
import struct
import sys
import types

OUTPUT_CAP = 8192  # characters of printed output kept per worker

# Imported before privileges are dropped: when the interpreter lives in a folder that the
# unprivileged user cannot read (e.g. under /root), these remain importable by student code.
PRELOAD = (
    "abc array bisect cmath collections collections.abc contextlib copy dataclasses decimal "
    "enum fractions functools heapq importlib importlib.machinery importlib.resources "
    "importlib.metadata itertools json logging math "
    "numbers "
    "operator random re resource shutil statistics string textwrap time traceback typing "
    "warnings "
    "numpy numpy.linalg numpy.random numpy.fft"
).split()


# --- framing shared with the grader ---------------------------------------------------------

def write_frame(fd, payload):
    data = struct.pack("!Q", len(payload)) + payload
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_exact(fd, n):
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("pipe closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd):
    (n,) = struct.unpack("!Q", read_exact(fd, 8))
    return read_exact(fd, n)


def encode_arrays(header, arrays):
    """JSON header + ``.npy`` blobs (object arrays are refused) -> bytes."""
    import numpy as np

    blobs = []
    for a in arrays:
        buf = io.BytesIO()
        np.save(buf, a, allow_pickle=False)
        blobs.append(buf.getvalue())
    header = dict(header, sizes=[len(b) for b in blobs])
    head = json.dumps(header).encode()
    return struct.pack("!Q", len(head)) + head + b"".join(blobs)


def decode_arrays(payload, max_header=1 << 20):
    """Inverse of :func:`encode_arrays`, never unpickling anything."""
    import numpy as np

    (n,) = struct.unpack("!Q", payload[:8])
    if n > max_header:
        raise ValueError("malformed answer from the worker")
    header = json.loads(payload[8 : 8 + n].decode())
    arrays, pos = [], 8 + n
    for size in header.get("sizes", []):
        arrays.append(np.load(io.BytesIO(payload[pos : pos + int(size)]), allow_pickle=False))
        pos += int(size)
    return header, arrays


# --- the worker -----------------------------------------------------------------------------

class CappedText(io.TextIOBase):
    """A text stream that keeps the first ``cap`` characters and silently drops the rest."""

    def __init__(self, cap=OUTPUT_CAP):
        self.cap = cap
        self.parts = []
        self.size = 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        return len(text)


def strip_magics(source):
    """Drop IPython magics and shell escapes (lines starting with ``%`` or ``!``)."""
    return "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
    )


def mentions_torch(source):
    """Import torch (about 2 s) only for cells that mention it."""
    return "torch" in source


def _apply_limits(cfg):
    import resource

    def setlimit(which, soft, hard=None):
        hard = soft if hard is None else hard
        try:
            cur_soft, cur_hard = resource.getrlimit(which)
            if cur_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, cur_hard), min(hard, cur_hard)
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            pass

    # RLIMIT_CPU counts the whole process: add the time the interpreter and imports already used.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(usage.ru_utime + usage.ru_stime + cfg["timeout"]) + 1
    setlimit(resource.RLIMIT_CPU, cpu, cpu + 2)
    setlimit(resource.RLIMIT_FSIZE, 1 << 20)
    setlimit(resource.RLIMIT_CORE, 0)
    # The memory limit is counted on top of what the interpreter and its imports already use.
    used = 0
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    used = int(line.split()[1]) * 1024
    except OSError:
        pass
    setlimit(resource.RLIMIT_AS, used + int(cfg["memory_mb"]) * (1 << 20))


def _drop_privileges(cfg):
    if os.geteuid() != 0:
        return False
    uid = gid = int(cfg.get("uid", 65534))
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_NPROC, (256, 256))
    except (ValueError, OSError):
        pass
    return True


def _install_audit_hook(workdir):
    workdir = os.path.realpath(workdir)
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    refused = (
        "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
        "subprocess.Popen", "socket.connect", "socket.bind", "os.kill", "os.killpg",
        "os.chmod", "os.chown", "os.link", "os.symlink",
    )

    def hook(event, args):
        if event in refused:
            raise PermissionError(f"the grading sandbox does not allow {event}")
        if event in ("os.remove", "os.rename", "os.rmdir", "shutil.rmtree", "os.truncate"):
            # a rename has a source and a destination: both must stay inside the folder
            paths = args[:2] if event == "os.rename" else args[:1]
            for path in paths:
                if isinstance(path, (str, bytes, os.PathLike)):
                    real = os.path.realpath(os.fsdecode(path))
                    if not real.startswith(workdir + os.sep):
                        raise PermissionError(f"the grading sandbox does not allow {event} here")
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                mode is None and isinstance(flags, int) and flags & write_flags
            )
            if writing and not isinstance(path, int):
                real = os.path.realpath(os.fsdecode(path))
                if not (real == workdir or real.startswith(workdir + os.sep)):
                    raise PermissionError(
                        f"the grading sandbox does not allow writing {os.fsdecode(path)!r}"
                    )

    sys.addaudithook(hook)


class ReferenceCalls:
    """Records calls into ``seqlearn`` made while student code runs."""

    def __init__(self):
        self.active = False
        self.calls = []
        self.wrapped = set()

    def wrap_module(self, module):
        name = getattr(module, "__name__", "")
        if not name.startswith("seqlearn") or name.startswith("seqlearn.grading"):
            return
        if id(module) in self.wrapped:
            return
        self.wrapped.add(id(module))
        for attr, value in list(vars(module).items()):
            if attr.startswith("__"):
                continue
            if isinstance(value, types.FunctionType) or (
                isinstance(value, type) and getattr(value, "__module__", "").startswith("seqlearn")
            ):
                try:
                    setattr(module, attr, self._wrap(value, f"{name}.{attr}"))
                except (AttributeError, TypeError):
                    pass

    def _wrap(self, fn, qualname):
        recorder = self
        if isinstance(fn, type):
            try:
                original_init = fn.__init__

                def __init__(self, *a, **k):
                    recorder.record(qualname)
                    return original_init(self, *a, **k)

                fn.__init__ = __init__
            except (AttributeError, TypeError):
                pass
            return fn

        @functools.wraps(fn)
        def wrapper(*a, **k):
            recorder.record(qualname)
            return fn(*a, **k)

        return wrapper

    def record(self, qualname):
        if self.active and qualname not in self.calls:
            self.calls.append(qualname)

    def wrap_loaded(self):
        for name, module in list(sys.modules.items()):
            if name.startswith("seqlearn") and module is not None:
                self.wrap_module(module)


class _WrappingFinder:
    """A meta-path finder that wraps every ``seqlearn`` module imported from now on."""

    def __init__(self, recorder):
        self.recorder = recorder

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("seqlearn"):
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        loader, recorder = spec.loader, self.recorder
        exec_module = loader.exec_module

        def wrapped_exec(module):
            exec_module(module)
            recorder.wrap_module(module)

        try:
            loader.exec_module = wrapped_exec
        except AttributeError:
            pass
        return spec


def describe(err):
    tb = err.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<student>":
            line = tb.tb_lineno
        tb = tb.tb_next
    where = f" (line {line} of your cell)" if line else ""
    if isinstance(err, MemoryError):
        return "MemoryError: the sandbox's memory limit was exceeded" + where
    return f"{type(err).__name__}: {err}"[:500] + where



def encode_result(result):
    """``(structure, arrays)`` for what a student's function returned: arrays (and tensors)
    become ``{"a": k}`` references into ``arrays``; tuples, lists and dicts with string keys keep
    their shape (``{"t": [...]}``, ``{"l": [...]}``, ``{"d": {...}}``); numbers, strings, booleans,
    ``None`` and ``...`` travel as values. Anything else is refused with ``TypeError``, so the
    grader never unpickles what student code made."""
    import numpy as np

    arrays = []

    def encode(value, depth=0):
        if depth > 20:
            raise TypeError("the result is nested too deeply")
        if value is None or isinstance(value, (bool, str)):
            return {"v": value}
        if value is Ellipsis:
            return {"e": 1}
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return {"v": value}
        if isinstance(value, np.str_):
            return {"v": str(value)}
        if isinstance(value, tuple):
            return {"t": [encode(v, depth + 1) for v in value]}
        if isinstance(value, list):
            return {"l": [encode(v, depth + 1) for v in value]}
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise TypeError("a dict in the result has keys that are not strings")
            return {"d": {k: encode(v, depth + 1) for k, v in value.items()}}
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        a = np.asarray(value)
        if a.dtype == object:
            raise TypeError(f"the result holds a {type(value).__name__}, not a number, "
                            "string or numeric array")
        arrays.append(a)
        return {"a": len(arrays) - 1}

    return encode(result), arrays


def decode_result(structure, arrays):
    """Inverse of :func:`encode_result`."""
    if "a" in structure:
        return arrays[int(structure["a"])]
    if "t" in structure:
        return tuple(decode_result(s, arrays) for s in structure["t"])
    if "l" in structure:
        return [decode_result(s, arrays) for s in structure["l"]]
    if "d" in structure:
        return {k: decode_result(s, arrays) for k, s in structure["d"].items()}
    if "e" in structure:
        return Ellipsis
    return structure["v"]


def preload_imports(source):
    """Import, before privileges are dropped, the installed modules that ``source`` imports:
    as an unprivileged user the interpreter's own files may be unreadable (a root-only
    installation), and an import inside the sandbox would fail with ModuleNotFoundError."""
    import ast
    import importlib

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    for name in sorted(names):
        if name.split(".")[0] == "seqlearn":
            continue   # imported after the recorder is in place, so that its calls are seen
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - not a module, or broken: the student's cell says so
            pass


def main():
    # Private copies of the pipes; fds 0/1/2 then point at /dev/null.
    fd_in, fd_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1) if os.environ.get("SEQLEARN_SANDBOX_DEBUG") else (0, 1, 2):
        os.dup2(null, fd)
    captured = CappedText()
    sys.stdout = sys.__stdout__ = captured
    if not os.environ.get("SEQLEARN_SANDBOX_DEBUG"):
        sys.stderr = sys.__stderr__ = captured
    sys.stdin = sys.__stdin__ = io.StringIO("")

    def reply(header, arrays=()):
        write_frame(fd_out, encode_arrays(header, arrays))

    cfg = pickle.loads(read_frame(fd_in))  # from the grader: trusted
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    import numpy as np

    namespace = {"__name__": "__main__", "np": np, "numpy": np, "math": math}
    source = strip_magics(cfg["source"])
    if cfg.get("torch"):
        import torch

        torch.set_num_threads(1)
        namespace["torch"] = torch
    context = [strip_magics(snippet) for snippet in cfg.get("context", ())]
    preload_imports("\n".join(context + [source]))
    os.chdir(cfg["workdir"])
    dropped = _drop_privileges(cfg) if cfg.get("drop_privileges", True) else False
    _apply_limits(cfg)
    recorder = ReferenceCalls()
    recorder.wrap_loaded()
    sys.meta_path.insert(0, _WrappingFinder(recorder))
    _install_audit_hook(cfg["workdir"])

    recorder.active = True
    # The definitions from the cells above that the exercise uses (imports, helpers): the
    # student saw them defined when the check ran in the notebook. One that fails is left out;
    # the exercise then reports the missing name.
    for snippet in context:
        try:
            exec(compile(snippet, "<student>", "exec"), namespace)  # noqa: S102
        except BaseException:  # noqa: BLE001 - SystemExit included
            pass
    try:
        code = compile(source, "<student>", "exec")
        exec(code, namespace)  # noqa: S102 - this is the sandboxed worker
    except SyntaxError as err:
        reply({"ok": False, "stage": "compile", "error": f"SyntaxError: {err.msg} (line {err.lineno})"})
        return
    except BaseException as err:  # noqa: BLE001 - SystemExit etc. included
        reply({"ok": False, "stage": "import", "error": describe(err),
               "calls": recorder.calls})
        return
    fn = namespace.get(cfg["function"])
    if not callable(fn):
        reply({"ok": False, "stage": "import",
               "error": f"the cell does not define a function named {cfg['function']!r}"})
        return
    reply({"ok": True, "stage": "ready", "dropped": dropped, "calls": recorder.calls})

    while True:
        try:
            message = pickle.loads(read_frame(fd_in))
        except EOFError:
            return
        if message.get("stop"):
            return
        try:
            result = fn(*message.get("args", ()), **message["kwargs"])
        except NotImplementedError as err:
            reply({"ok": False, "not_implemented": True, "error": str(err)[:300],
                   "calls": recorder.calls})
            continue
        except BaseException as err:  # noqa: BLE001
            reply({"ok": False, "error": describe(err), "exc_type": type(err).__name__,
                   "calls": recorder.calls})
            continue
        try:
            structure, arrays = encode_result(result)
        except BaseException as err:  # noqa: BLE001 - a result of the wrong kind, not an error
            reply({"ok": False, "error": describe(err), "exc_type": type(err).__name__,
                   "result_refused": True, "calls": recorder.calls})
            continue
        try:
            reply({"ok": True, "result": structure, "calls": recorder.calls}, arrays)
        except Exception as err:  # noqa: BLE001 - e.g. an array too large to send
            reply({"ok": False, "error": f"could not send the result back: {err}"[:300],
                   "calls": recorder.calls})


if __name__ == "__main__":
    main()


__all__ = [
    "OUTPUT_CAP", "PRELOAD", "write_frame", "read_exact", "read_frame", "encode_arrays",
    "decode_arrays", "encode_result", "decode_result", "preload_imports", "CappedText",
    "strip_magics", "mentions_torch", "ReferenceCalls",
    "describe", "main"
]
