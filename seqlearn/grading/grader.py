"""Grade submissions: run each exercise in a sandboxed worker, score it with the course's check.

The check function runs here, in the grading process, with inputs it draws for this run; the
student's function is replaced by a proxy that forwards each call to the worker
(:mod:`seqlearn.grading.sandbox`) with a deadline. Scores therefore come only from the
check's report: printed "Score: 10/10" lines, monkeypatched checks or a modified ``seqlearn``
inside the worker change nothing here.
"""

import ast
import contextlib
import csv
import importlib
import io
import json
import os
import pickle
import pkgutil
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..checks.core import EXERCISES, reference_allowed
from . import isolation, sandbox
from .roster import choose, identify
from .submission import (context_before, load_sources, match_source, read_submission, safe_name,
                         saved_scores)


#: A line of a check's report for a case on which the student's function raised: ``case 2/3
#: (x(2, 5)): raised ValueError: ...`` (:func:`seqlearn.checks.core.run_check`) or ``raised
#: KeyError: ...`` (a concept or experiment check); group 1 is the exception's name.
RAISED = re.compile(r"^(?:case \d+/\d+[^:]*: )?raised ([A-Za-z_][\w.]*)")


def raised_in(lines, raised=None):
    """The flag for a check whose report has cases on which the student's function raised
    (``"the function raised ValueError in 2 check case(s)"``), or ``""``. ``raised``, when given,
    holds the names of the exceptions the worker reported from the student's code: a line naming
    another exception is the check's own verdict on a wrong answer (a check may raise on an
    answer of the wrong kind), which is not flagged, as no merely wrong answer is."""
    names = [m.group(1) for m in map(RAISED.match, lines)
             if m and (raised is None or m.group(1) in raised)]
    if not names:
        return ""
    kinds = ", ".join(dict.fromkeys(names))
    return f"the function raised {kinds} in {len(names)} check case(s)"


#: What a failing line of a check's report says.
FAILING = re.compile(r"off by|raised|shape \(|missing|NaN|not right|not answered|modified|"
                     r"returned \d|cannot be run|not numeric")


class StudentError(Exception):
    """An error raised by (or about) the student's code, as reported by the worker."""


def load_checks():
    """Import every ``seqlearn.checks`` module (they register themselves) and return CHECKS."""
    import seqlearn.checks as checks_pkg

    for info in pkgutil.iter_modules(checks_pkg.__path__):
        if info.name != "core":
            importlib.import_module(f"seqlearn.checks.{info.name}")
    return checks_pkg.CHECKS


def static_scan(source, forbidden=()):
    """A reason to refuse the cell outright, or ''. The cell may not use the course package
    (an import of it, or the name ``seqlearn``), nor the names in ``forbidden`` (routines that do
    the exercise's whole job). Comments and strings that mention them do not count."""
    try:
        tree = ast.parse(sandbox.strip_magics(source))
    except SyntaxError:
        return ""   # the worker reports the syntax error with its line
    imported = {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    whole_job = sorted(imported & set(forbidden))
    if whole_job:
        return (f"uses {whole_job[0]}, which does the whole exercise; it must be written from "
                "the equations")
    for node in ast.walk(tree):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        if any(m.split(".")[0] == "seqlearn" for m in modules) or (
                isinstance(node, ast.Name) and node.id == "seqlearn"):
            return ("uses the course package 'seqlearn' (the reference implementation); "
                    "exercises must be solved without it")
        # An attribute (torch.autograd.grad, x.backward) or an imported name counts; a variable
        # of the student's own that happens to be called `grad` does not.
        name = (node.attr if isinstance(node, ast.Attribute)
                else node.id if isinstance(node, ast.Name) and node.id in imported else None)
        if name in forbidden:
            return (f"uses {name}, which does the whole exercise; it must be written from the "
                    "equations")
    return ""


#: Allowance for starting the worker process, on top of the per-exercise timeout.
STARTUP_SECONDS = 5.0


_SIGNALS = {int(s) for s in signal.Signals}


class Worker:
    """One sandboxed process running one exercise cell (after the definitions in ``context``).

    With ``isolate`` (the default) the process runs under Bubblewrap
    (:mod:`seqlearn.grading.isolation`); without it, it runs as a plain child process that drops
    root privileges (when started as root), limits its resources and refuses writes outside its
    folder through an audit hook: what ``seqlearn grade --no-sandbox`` uses."""

    def __init__(self, source, function, timeout, memory_mb, uid=65534, context=(), isolate=True):
        # The student's time starts once the worker is up: starting Python and importing NumPy
        # is not theirs, and takes seconds on a loaded machine.
        self.deadline = time.monotonic() + timeout + STARTUP_SECONDS
        self.timeout = timeout
        self.dead_reason = ""
        self.reference_calls = []
        self.raised = set()     # names of the exceptions the student's function raised
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "SEQLEARN_SANDBOX_DEBUG": os.environ.get("SEQLEARN_SANDBOX_DEBUG", ""),
            "PYTHONPATH": isolation.package_parent(),
        }
        popen = dict(stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=None if os.environ.get("SEQLEARN_SANDBOX_DEBUG") else subprocess.DEVNULL,
                     start_new_session=True, close_fds=True)
        argv = [sys.executable, "-m", "seqlearn.grading.sandbox"]
        if isolate:
            self.workdir = None
            inside, drop = isolation.SCRATCH, False
            env["HOME"] = env["MPLCONFIGDIR"] = inside
            self.proc = isolation.spawn(argv, env, **popen)
        else:
            self.workdir = inside = tempfile.mkdtemp(prefix="seqlearn-sandbox-")
            drop = os.geteuid() == 0
            if drop:
                os.chown(self.workdir, uid, uid)
            env["HOME"] = env["MPLCONFIGDIR"] = inside
            self.proc = subprocess.Popen(argv, cwd=inside, env=env, **popen)
        self.isolated = isolate
        cfg = {"source": source, "function": function, "timeout": timeout,
               "memory_mb": memory_mb, "workdir": inside, "uid": uid,
               "drop_privileges": drop, "context": list(context),
               "torch": sandbox.mentions_torch("\n".join([*context, source]))}
        self.memory_mb = memory_mb
        self._send(cfg)

    def _send(self, obj):
        try:
            sandbox.write_frame(self.proc.stdin.fileno(), pickle.dumps(obj))
        except OSError:
            pass  # the worker is gone; the next read says why

    def _read(self):
        """The next answer (header, arrays), or raise StudentError with the reason."""
        if self.dead_reason:
            raise StudentError(self.dead_reason)
        fd = self.proc.stdout.fileno()
        buf = b""
        need = None
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.kill(f"timed out: the exercise took longer than {self.timeout:g} s "
                          "(an infinite loop?)")
                raise StudentError(self.dead_reason)
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self.kill(self._death_reason())
                raise StudentError(self.dead_reason)
            buf += chunk
            if need is None and len(buf) >= 8:
                need = 8 + int.from_bytes(buf[:8], "big")
                if need > (1 << 31):
                    self.kill("the worker sent a malformed answer")
                    raise StudentError(self.dead_reason)
            if need is not None and len(buf) >= need:
                try:
                    header, arrays = sandbox.decode_arrays(buf[8:need])
                except Exception:  # noqa: BLE001 - anything malformed
                    self.kill("the worker sent a malformed answer")
                    raise StudentError(self.dead_reason) from None
                for call in header.get("calls", []) or []:
                    if isinstance(call, str) and call not in self.reference_calls:
                        self.reference_calls.append(call)
                return header, arrays

    def _death_reason(self):
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "the worker stopped answering"
        if self.isolated and code is not None and code > 128 and code - 128 in _SIGNALS:
            # Bubblewrap reports a child killed by signal N as exit status 128 + N.
            code = -(code - 128)
        if code is not None and code < 0:
            sig = -code
            if sig == signal.SIGXCPU:
                return f"exceeded the CPU time limit ({self.timeout:g} s)"
            if sig == signal.SIGKILL:
                return f"was killed (memory limit {self.memory_mb} MB or CPU time limit?)"
            if sig == signal.SIGXFSZ:
                return "wrote a file larger than the sandbox allows"
            return f"the worker crashed (signal {signal.Signals(sig).name})"
        return (f"the worker exited with code {code} before answering "
                "(os._exit, or a crash in compiled code?)")

    def start(self):
        header, _ = self._read()
        if not header.get("ok"):
            stage = header.get("stage", "")
            msg = str(header.get("error", "unknown error"))[:600]
            prefix = "the cell does not compile" if stage == "compile" else "running the cell failed"
            self.kill(f"{prefix}: {msg}")
            raise StudentError(self.dead_reason)

    def call(self, *args, **kwargs):
        self._send({"args": args, "kwargs": kwargs})
        header, arrays = self._read()
        if header.get("ok"):
            return sandbox.decode_result(header["result"], arrays)
        if header.get("not_implemented"):
            raise NotImplementedError(str(header.get("error", "")))
        message = str(header.get("error", "unknown error"))[:600]
        name = str(header.get("exc_type", ""))
        if name.isidentifier():
            # Reported under the student's exception name, e.g. "raised MemoryError: ...".
            message = message.split(": ", 1)[-1] if message.startswith(name + ":") else message
            if not header.get("result_refused"):    # raised by the function, not its result
                self.raised.add(name)
            raise type(name, (StudentError,), {})(message)
        raise StudentError(message)

    def kill(self, reason):
        if not self.dead_reason:
            self.dead_reason = reason
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                self.proc.wait(timeout=5)

    def close(self):
        if self.proc.poll() is None and not self.dead_reason:
            self._send({"stop": True})
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=2)
        self.kill(self.dead_reason or "closed")
        for f in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(Exception):
                f.close()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class ExerciseResult:
    exercise_id: str
    score: int
    max_score: int
    lines: list = field(default_factory=list)
    reason: str = ""
    flag: str = ""      # why an instructor should look at this exercise ("" when not needed)


@dataclass
class SubmissionResult:
    path: str
    student_id: str
    notebook: str = ""
    exercises: list = field(default_factory=list)
    status: str = "ok"
    notes: list = field(default_factory=list)
    name: str = ""               # from the roster
    identified_by: str = "file name"
    relative_path: str = ""      # the file, relative to the folder given to `seqlearn grade`
    modified: str = ""           # its modification time, ISO 8601 (UTC)
    counted: bool = True         # False for a resubmission that another file supersedes
    superseded_by: str = ""

    @property
    def total(self):
        return sum(e.score for e in self.exercises)

    @property
    def max_total(self):
        return sum(e.max_score for e in self.exercises)


_MAX_SCORES = {}


def max_score(exercise_id, check):
    """The number of cases of a check, found by running it against a stub."""
    if exercise_id not in _MAX_SCORES:
        def stub(**kwargs):
            raise NotImplementedError

        with contextlib.redirect_stdout(io.StringIO()):
            _MAX_SCORES[exercise_id] = check(stub).max_score
    return _MAX_SCORES[exercise_id]


#: Reasons that a worker ended abnormally (time or memory limit, crash, failing cell).
_ABNORMAL = ("timed out", "exceeded", "was killed", "crashed", "exited with code",
             "stopped answering", "malformed", "running the cell failed", "grading error",
             "could not send")


def grade_exercise(exercise, source, check, timeout, memory_mb, context=(), isolate=True):
    """Score one exercise cell; never raises.

    ``context`` lists ``(snippet, own)`` definitions from the cells above
    (:func:`~seqlearn.grading.submission.context_before`), run before the cell; the student's own
    snippets are scanned like the cell. ``isolate`` runs the worker under Bubblewrap."""
    eid = exercise.exercise_id
    total = max_score(eid, check)
    info = EXERCISES.get(eid)
    own = "\n".join([snippet for snippet, mine in context if mine] + [source])
    reason = static_scan(own, info.forbidden if info else ())
    if reason:
        return ExerciseResult(eid, 0, total, [], reason, flag=reason)
    worker = Worker(source, exercise.function, timeout, memory_mb,
                    context=[snippet for snippet, _ in context], isolate=isolate)
    try:
        try:
            worker.start()
        except StudentError as err:
            return ExerciseResult(eid, 0, total, [], str(err), flag=str(err))
        # The proxy is the grader's own code: the worker's recorder and the static scan stand in
        # for the checks' reading of the student's compiled function.
        with contextlib.redirect_stdout(io.StringIO()), reference_allowed():
            report = check(worker.call)
        # run_check appends the grader's own line number to errors; the worker gave the student's.
        report.lines = [re.sub(r"(: raised .*) \(line \d+\)$", r"\1", x) for x in report.lines]
        if worker.reference_calls:
            reason = "calls the reference implementation " + ", ".join(worker.reference_calls[:3])
            return ExerciseResult(eid, 0, total, list(report.lines), reason, flag=reason)
        reason, flag = "", ""
        if not report.attempted:
            reason = "not attempted (the stub still raises NotImplementedError)"
        elif worker.dead_reason:
            reason = flag = worker.dead_reason
        elif report.score < report.max_score:
            failing = [x for x in report.lines if FAILING.search(x) and not x.startswith("hint:")]
            reason = f"{report.max_score - report.score} of {report.max_score} points lost"
            if failing:
                reason += f"; first: {failing[0]}"
            # an error is not a wrong answer: the notebook may have run in another state
            flag = raised_in(report.lines, worker.raised)
        return ExerciseResult(eid, int(report.score), int(report.max_score), list(report.lines),
                              reason, flag)
    except Exception as err:  # noqa: BLE001 - a check that breaks must not lose the row
        reason = f"grading error: {type(err).__name__}: {err}"
        return ExerciseResult(eid, 0, total, [], reason, flag=reason)
    finally:
        worker.close()


def _modified(path):
    import datetime

    stamp = os.stat(path).st_mtime
    return datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).isoformat(timespec="seconds")


def grade_submission(path, source_dir, timeout=30.0, memory_mb=1024, isolate=True,
                     relative_path=None, roster=()):
    """Grade one file; always returns a SubmissionResult.

    ``relative_path`` is the file's path below the folder given to ``seqlearn grade`` (it names
    the student by :func:`seqlearn.grading.roster.identify`; default: the file name)."""
    relative = relative_path or Path(path).name
    try:
        checks = load_checks()
        sources = load_sources(source_dir)
        sub = read_submission(path)
        who = identify(relative, metadata_id=sub.metadata_id, roster=roster)
        result = SubmissionResult(str(path), who.student_id, name=who.name,
                                  identified_by=who.how, relative_path=relative,
                                  modified=_modified(path))
        if sub.error:
            result.status, result.notes = "invalid", [sub.error]
            return result
        src = match_source(sub, sources)
        if src is None:
            result.status = "invalid"
            result.notes = ["no exercise of the course found in this notebook (exercise cells "
                            "must keep their 'exercise' tag and 'exercise_id')"]
            return result
        result.notebook = src.path.name
        for eid in sub.duplicates:
            result.notes.append(f"exercise cell '{eid}' appears more than once; the first was graded")
        saved = saved_scores(sub.notebook)
        for exercise in src.exercises:
            eid = exercise.exercise_id
            check = checks.get(eid)
            if check is None:
                result.notes.append(f"no check registered for '{eid}'")
                continue
            if eid not in sub.cells:
                reason = f"exercise cell '{eid}' not found (renamed or deleted?)"
                result.exercises.append(ExerciseResult(eid, 0, max_score(eid, check), [], reason,
                                                       flag=reason))
                continue
            context = context_before(sub.notebook, eid, src.code, sub.cells[eid])
            graded = grade_exercise(exercise, sub.cells[eid], check, timeout, memory_mb,
                                    context=context, isolate=isolate)
            shown = saved.get(eid)
            if shown and shown != (graded.score, graded.max_score) and not graded.flag:
                graded.flag = (f"the notebook shows {shown[0]}/{shown[1]} from its own check, "
                               f"the grader gives {graded.score}/{graded.max_score}")
            result.exercises.append(graded)
        for e in result.exercises:
            if e.reason and e.score < e.max_score:
                result.notes.append(f"{e.exercise_id}: {e.reason}")
            if e.flag and e.flag != e.reason:
                result.notes.append(f"{e.exercise_id}: {e.flag}")
        if any(e.flag for e in result.exercises):
            result.status = "review"
        return result
    except Exception as err:  # noqa: BLE001 - one broken file never stops the run
        return SubmissionResult(str(path), safe_name(Path(path).stem), status="error",
                                relative_path=relative,
                                notes=[f"grading error: {type(err).__name__}: {err}"])


def collect(paths):
    """Expand directories (recursively, hidden files and checkpoints skipped) into
    ``(file, path relative to the folder given)`` pairs; a file given itself is relative to its
    own folder."""
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if f.is_file() and not any(part.startswith(".") for part in rel):
                    files.append((f, f.relative_to(p).as_posix()))
        else:
            files.append((p, p.name))
    return files


def grade_all(paths, source_dir, jobs=1, timeout=30.0, memory_mb=1024, isolate=True, roster=(),
              keep="latest"):
    """Grade every file under ``paths``; each result says whether it counts (``keep``: latest,
    best or all of a student's files for one chapter, :func:`seqlearn.grading.roster.choose`)."""
    files = collect(paths)
    args = [(str(f), str(source_dir), timeout, memory_mb, isolate, rel, tuple(roster))
            for f, rel in files]
    if jobs <= 1 or len(files) <= 1:
        return choose([grade_submission(*a) for a in args], keep)
    results = [None] * len(files)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(grade_submission, *a) for a in args]
        for k, fut in enumerate(futures):
            try:
                results[k] = fut.result()
            except Exception as err:  # noqa: BLE001 - e.g. a broken pool
                results[k] = SubmissionResult(args[k][0], safe_name(Path(args[k][0]).stem),
                                              status="error", relative_path=args[k][5],
                                              notes=[f"grading error: {err}"])
    return choose(results, keep)


def _atomic_write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", newline="") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def feedback_lines(exercise):
    """One exercise's feedback: the reason once (the first failing case, whole), the hint once,
    then the per-case lines not already said."""
    hints = [x for x in exercise.lines if x.startswith("hint:")]
    said = exercise.reason.split("; first: ", 1)[-1]
    lines = [f"Reason: {exercise.reason}"] if exercise.reason else []
    if exercise.flag and exercise.flag != exercise.reason:
        lines.append(f"Flagged: {exercise.flag}")
    lines += hints[:1]
    lines += [x for x in exercise.lines if not x.startswith("hint:") and x != said]
    return lines


def _report_names(results):
    """A unique ``(student folder, file stem)`` per result, for feedback and results files: the
    submitted file's own name, so that each report is found beside its file's name."""
    names, used = [], set()
    for r in results:
        stem = safe_name(Path(r.relative_path or r.path).stem)
        candidate, k = (r.student_id, stem), 2
        while candidate in used:
            candidate, k = (r.student_id, f"{stem}-{k}"), k + 1
        used.add(candidate)
        names.append(candidate)
    return names


def write_outputs(results, out):
    """The CSV gradebook, ``students.csv`` (each student's total over the chapters, from the
    files that count), and per submitted file a feedback file
    ``feedback/<student>/<file>.txt`` and a Gradescope-style
    ``results/<student>/<file>/results.json``."""
    out = Path(out)
    ids = []
    for r in results:
        for e in r.exercises:
            if e.exercise_id not in ids:
                ids.append(e.exercise_id)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["student_id", "name", "identified_by", "submission", "modified", "notebook",
                     "counted", *ids, "total", "max_total", "status", "notes"])
    for r in results:
        scores = {e.exercise_id: e.score for e in r.exercises}
        counted = "yes" if r.counted else f"no (superseded by {r.superseded_by})"
        writer.writerow([r.student_id, r.name, r.identified_by, r.relative_path, r.modified,
                         r.notebook, counted, *[scores.get(i, "") for i in ids], r.total,
                         r.max_total, r.status, " | ".join(r.notes)])
    for r, (folder, stem) in zip(results, _report_names(results)):
        head = [f"Student: {r.student_id}" + (f" ({r.name})" if r.name else ""),
                f"Submission: {r.relative_path} (modified {r.modified})",
                f"Notebook: {r.notebook or '-'}",
                f"Counted: {'yes' if r.counted else 'no, superseded by ' + r.superseded_by}",
                f"Total: {r.total}/{r.max_total}", ""]
        lines = head + [f"Note: {n}" for n in r.notes
                        if not any(n.startswith(e.exercise_id + ":") for e in r.exercises)]
        tests = []
        for e in r.exercises:
            body = feedback_lines(e)
            lines += [f"== {e.exercise_id}: {e.score}/{e.max_score}", *[f"  {x}" for x in body], ""]
            tests.append({"name": e.exercise_id, "score": e.score, "max_score": e.max_score,
                          "output": "\n".join(body)})
        _atomic_write(out.parent / "feedback" / folder / f"{stem}.txt", "\n".join(lines) + "\n")
        results_json = {"score": r.total, "max_score": r.max_total, "tests": tests,
                        "output": "\n".join(head[:4] + r.notes),
                        "extra_data": {"student_id": r.student_id, "name": r.name,
                                       "submission": r.relative_path, "modified": r.modified,
                                       "notebook": r.notebook, "counted": r.counted,
                                       "status": r.status}}
        _atomic_write(out.parent / "results" / folder / stem / "results.json",
                      json.dumps(results_json, indent=2))
    _atomic_write(out, buf.getvalue())
    _atomic_write(out.parent / "students.csv", student_totals(results))


def student_totals(results):
    """CSV text: one row per student, the score of each chapter from the file that counts, and
    the total over the chapters."""
    chapters = sorted({r.notebook for r in results if r.notebook})
    # a chapter's maximum, counted for every student (a chapter not handed in scores 0 of it)
    chapter_max = {c: max(r.max_total for r in results if r.notebook == c) for c in chapters}
    students = {}
    for r in results:
        if not r.counted:
            continue
        entry = students.setdefault(r.student_id, {"name": r.name, "scores": {}})
        if r.notebook:
            score = entry["scores"].get(r.notebook)
            # with --keep all a chapter may have several counted files: the latest counts here
            if score is None or r.modified >= score[2]:
                entry["scores"][r.notebook] = (r.total, r.max_total, r.modified)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["student_id", "name", *chapters, "total", "max_total"])
    for sid in sorted(students):
        scores = students[sid]["scores"]
        writer.writerow([sid, students[sid]["name"],
                         *[scores[c][0] if c in scores else "" for c in chapters],
                         sum(v[0] for v in scores.values()), sum(chapter_max.values())])
    return buf.getvalue()


__all__ = [
    "StudentError", "RAISED", "raised_in", "load_checks", "static_scan", "STARTUP_SECONDS",
    "Worker",
    "ExerciseResult", "SubmissionResult", "max_score", "grade_exercise", "grade_submission",
    "collect", "grade_all", "feedback_lines", "write_outputs", "student_totals"
]
