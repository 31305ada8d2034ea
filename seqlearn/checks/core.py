"""The check mechanism shared by every exercise of the course.

An exercise is a function the student writes; its check is registered under the exercise's id
with its *kind*:

* ``"implement"`` (derive and implement): :func:`run_check` calls the student's function and the
  reference on the same fresh random inputs (a new generator every run, so answers cannot be
  hard-coded) and scores every output of every case, one point each;
* ``"experiment"``: the student's function returns a choice (a hyperparameter, a setting);
  :func:`check_experiment` measures its effect (in at most about 10 s) and scores it;
* ``"concept"``: the student's function returns answers (numbers, choices, shapes);
  :func:`check_concept` scores each and explains each wrong answer.

Every check returns a :class:`CheckReport` that prints what matched, what did not and by how
much, and a hint (once). A stub that still raises ``NotImplementedError`` scores 0 with "not
attempted" and the notebook goes on. A function that uses the package's own implementation, or a
PyTorch routine that does the exercise's whole job, is refused with 0 points and a message.
"""

import contextlib
import copy
import dis
import inspect
import traceback

import numpy as np

#: Every exercise id of the course -> its check function (filled by ``@register``).
CHECKS = {}

#: The kinds of exercise (see the module docstring).
KINDS = ("implement", "experiment", "concept")


class ExerciseInfo:
    """What the instructor page and the grader know of an exercise without running it: its
    ``kind``, its ``points`` (the check's maximum score), a one-line ``summary`` of what the check
    verifies, and the ``forbidden`` names whose use refuses a solution (besides the package)."""

    def __init__(self, exercise_id, kind, points, summary, forbidden):
        self.exercise_id, self.kind, self.points = exercise_id, kind, points
        self.summary, self.forbidden = summary, tuple(forbidden)


#: Every exercise id of the course -> its :class:`ExerciseInfo`.
EXERCISES = {}


def register(exercise_id, kind="implement", points=None, summary="", forbidden=()):
    """Decorator: record a check function under its exercise id (ids are unique).

    ``kind`` is one of :data:`KINDS`; ``points`` the check's maximum score; ``summary`` what it
    verifies; ``forbidden`` attribute or function names (``"scaled_dot_product_attention"``,
    ``"backward"``) that a solution may not use because they do the exercise's whole job.
    """
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")

    def wrap(fn):
        if exercise_id in CHECKS:
            raise ValueError(f"exercise id {exercise_id!r} is registered twice")
        CHECKS[exercise_id] = fn
        EXERCISES[exercise_id] = ExerciseInfo(exercise_id, kind, points, summary, forbidden)
        fn.exercise_id = exercise_id
        return fn

    return wrap


_REFERENCE_ALLOWED = [False]


@contextlib.contextmanager
def reference_allowed(allowed=True):
    """Within this block :func:`forbidden_use` refuses nothing: for the tests of the checks
    themselves, which submit the package's references as answers."""
    before = _REFERENCE_ALLOWED[0]
    _REFERENCE_ALLOWED[0] = allowed
    try:
        yield
    finally:
        _REFERENCE_ALLOWED[0] = before


def forbidden_use(student_fn, forbidden=()):
    """Why ``student_fn`` may not be graded, or ``""``: it is, or calls, a function of the
    ``seqlearn`` package (the reference), or it names one of ``forbidden`` (a routine that does
    the exercise's whole job). Reads the compiled code, so comments and strings do not count;
    helper functions it calls from the notebook are read too."""
    if _REFERENCE_ALLOWED[0]:
        return ""
    seen, todo = set(), [student_fn]
    while todo:
        fn = todo.pop()
        fn = getattr(fn, "__func__", fn)
        module = getattr(fn, "__module__", "") or ""
        if module.split(".")[0] == "seqlearn":
            return (f"uses {getattr(fn, '__qualname__', fn)!s} from the course package: "
                    "solve the exercise without the reference implementation")
        code = getattr(fn, "__code__", None)
        if code is None or id(code) in seen:
            continue
        seen.add(id(code))
        codes = [code]
        while codes:
            c = codes.pop()
            codes.extend(k for k in c.co_consts if hasattr(k, "co_names"))
            for instruction in dis.get_instructions(c):
                name = instruction.argval
                if not isinstance(name, str):
                    continue
                if instruction.opname in ("LOAD_ATTR", "LOAD_METHOD") and name in forbidden:
                    return (f"uses .{name}, which does the whole exercise; write it from the "
                            "equations instead")
                if instruction.opname not in ("LOAD_GLOBAL", "LOAD_NAME"):
                    continue
                value = fn.__globals__.get(name)
                own = inspect.isfunction(value) and value.__module__ == fn.__module__
                if name in forbidden and not own:   # a helper of the student's may be so named
                    return (f"uses {name}, which does the whole exercise; write it from the "
                            "equations instead")
                origin = (value.__name__ if inspect.ismodule(value)
                          else getattr(value, "__module__", None) or "")
                if value is not None and origin.split(".")[0] == "seqlearn":
                    return (f"uses {name} from the course package: solve the exercise without "
                            "the reference implementation")
                if inspect.isfunction(value):
                    todo.append(value)
    return ""


class CheckReport:
    """The outcome of one check: a line per test case and a score.

    Attributes: ``exercise_id``, ``title``, ``score``, ``max_score``, ``lines`` (one message per
    case) and ``attempted`` (False when the stub still raises ``NotImplementedError``).
    """

    def __init__(self, exercise_id, title, max_score):
        self.exercise_id = exercise_id
        self.title = title
        self.max_score = max_score
        self.score = 0
        self.lines = []
        self.attempted = True
        self.refused = False

    @property
    def passed(self):
        return self.score == self.max_score

    def summary(self):
        return f"Score: {self.score}/{self.max_score} [{self.exercise_id}]"

    def __str__(self):
        mark = ("PASSED" if self.passed else "NOT ATTEMPTED" if not self.attempted
                else "REFUSED" if self.refused else "FAILED")
        head = f"{self.title}: {mark}"
        return "\n".join([head] + [f"  {line}" for line in self.lines] + [self.summary()])

    def __repr__(self):
        return str(self)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def as_tuple(out):
    """``out`` if it is a tuple, else ``(out,)``: a function's outputs as a tuple."""
    return out if isinstance(out, tuple) else (out,)


def to_numpy(value):
    """A NumPy array of ``value`` (a tensor is detached and moved to the CPU)."""
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def flatten_outputs(outputs, names):
    """``{name: value}`` of a function's outputs, named by ``names``, a dict output spread into one
    entry per key (``grads['W_xh']``), as :func:`run_check` names them."""
    flat = {}
    for name, value in zip(names, as_tuple(outputs)):
        if isinstance(value, dict):
            flat.update({f"{name}[{key!r}]": v for key, v in value.items()})
        else:
            flat[name] = value
    return flat


def same_values(got, want, atol=1e-6, rtol=1e-5):
    """Whether ``got`` (an array, a tensor, a number) has ``want``'s shape and values, all
    finite, to the tolerances of :func:`run_check`."""
    try:
        got, want = to_numpy(got), to_numpy(want)
        return (got.shape == want.shape and np.issubdtype(got.dtype, np.number)
                and bool(np.all(np.isfinite(got))) and bool(np.all(np.isfinite(want)))
                and bool(np.allclose(got, want, atol=atol, rtol=rtol)))
    except (TypeError, ValueError):
        return False


def plain(value):
    """NumPy scalars and arrays as Python numbers, booleans and (nested) tuples."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(plain(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def diagnose_outputs(student_fn, cases, reference_fn, mistakes, names, default_hint,
                     nonfinite=None):
    """The messages of the typical mistakes that the student's answer shows on the first of
    ``cases`` (a list of keyword dicts, or one) on which it is wrong, else ``default_hint``.

    ``mistakes`` is a list of ``(function, message)``: a mistaken variant of the reference,
    called like it. A mistake is named when it accounts for the whole answer, or else when every
    output it gets wrong (``names`` names the outputs; a dict output counts entry by entry) is
    wrong in the student's answer in the same way, so that two mistakes in different outputs
    are both named; one whose wrong outputs are a part of another named mistake's is not.
    ``nonfinite``, when given, is the message for an answer holding NaN or inf.
    """
    for case in [cases] if isinstance(cases, dict) else cases:
        with np.errstate(all="ignore"):     # mistaken variants may overflow; run_check reports
            message = _diagnose_case(student_fn, case, reference_fn, mistakes, names, nonfinite)
        if message is not None:
            return message or default_hint
    return default_hint


def _diagnose_case(student_fn, case, reference_fn, mistakes, names, nonfinite):
    """The named mistakes on ``case``: "" if none, ``None`` if the answer is right there."""
    try:
        got = flatten_outputs(student_fn(**copy.deepcopy(case)), names)
    except Exception:  # noqa: BLE001 - a crash is reported case by case by run_check
        return ""
    want = flatten_outputs(reference_fn(**copy.deepcopy(case)), names)
    wrong = {key for key, value in want.items() if not same_values(got.get(key), value)}
    if not wrong:
        return None
    if nonfinite and not all(np.all(np.isfinite(to_numpy(v))) for v in got.values()
                             if np.issubdtype(to_numpy(v).dtype, np.number)):
        return nonfinite
    found = []
    for mistake, message in mistakes:
        try:
            theirs = flatten_outputs(mistake(**copy.deepcopy(case)), names)
        except Exception:  # noqa: BLE001 - a variant that does not apply to this case
            continue
        differs = {key for key, value in want.items() if not same_values(theirs.get(key), value)}
        if differs == wrong and all(same_values(got.get(k), theirs.get(k)) for k in want):
            return message                  # the whole answer is this mistake
        if differs and differs <= wrong and all(same_values(got.get(k), theirs.get(k))
                                                for k in differs):
            found.append((differs, message))
    named = []
    for differs, message in found:          # a mistake inside another's is its shadow
        if message not in named and not any(differs < other for other, _ in found):
            named.append(message)
    return " Also: ".join(named)


def diagnose_mistake(student_fn, case, mistakes, default_hint):
    """Return the message of the first mistake whose output the student's answer reproduces on
    ``case`` (``mistakes``: list of (function, message)), else ``default_hint``."""
    try:
        got = as_tuple(student_fn(**copy.deepcopy(case)))
    except Exception:  # noqa: BLE001 - a crash is reported case by case by run_check
        return default_hint
    for mistake, message in mistakes:
        wrong = as_tuple(mistake(**copy.deepcopy(case)))
        try:
            if len(got) == len(wrong) and all(
                np.shape(to_numpy(g)) == np.shape(w)
                and np.allclose(to_numpy(g), w, atol=1e-6, rtol=1e-5)
                for g, w in zip(got, wrong)
            ):
                return message
        except (TypeError, ValueError):
            continue
    return default_hint


def compare_outputs(got, want, names, atol, rtol):
    """Return ``None`` when ``got`` matches ``want``, else a message naming the first mismatch."""
    got, want = as_tuple(got), as_tuple(want)
    if len(got) != len(want):
        return f"returned {len(got)} value(s), expected {len(want)} ({', '.join(names)})"
    for name, g, w in zip(names, got, want):
        try:
            g = to_numpy(g)
        except Exception:  # noqa: BLE001 - anything unconvertible is a wrong answer
            return f"output '{name}' is a {type(g).__name__}, expected an array"
        w = to_numpy(w)
        if g.dtype == object:
            return f"output '{name}' is not numeric (got {type(g).__name__})"
        if g.shape != w.shape:
            return f"output '{name}' has shape {g.shape}, expected {w.shape}"
        if not np.all(np.isfinite(g)):
            return f"output '{name}' contains NaN or inf"
        if not np.allclose(g, w, atol=atol, rtol=rtol):
            err = np.abs(g.astype(float) - w.astype(float))
            where = np.unravel_index(np.argmax(err), err.shape) if err.ndim else ()
            return (
                f"output '{name}' is off by up to {err.max():.3g} "
                f"(at index {tuple(int(i) for i in where)}: got {g[where]:.6g}, "
                f"expected {w[where]:.6g})"
            )
    return None


def _output_verdict(name, g, w, atol, rtol, blocks=None):
    """``(ok, message)`` for one output ``g`` against the reference ``w``; ``blocks``, a tuple
    of labels, names the equal column blocks of the last axis (an LSTM's gates i, f, g, o) in
    which a wrong answer differs."""
    try:
        g = to_numpy(g)
    except Exception:  # noqa: BLE001 - anything unconvertible is a wrong answer
        return False, f"{name}: a {type(g).__name__}, expected an array"
    w = to_numpy(w)
    if g.dtype == object or not (np.issubdtype(g.dtype, np.number) or g.dtype == bool):
        return False, f"{name}: not numeric (got {type(g).__name__} of dtype {g.dtype})"
    if g.shape != w.shape:
        return False, f"{name}: shape {g.shape}, expected {w.shape}"
    if np.iscomplexobj(g) and not np.iscomplexobj(w):
        return False, f"{name}: complex values, expected real ones"
    if not np.all(np.isfinite(g)):
        return False, f"{name}: contains NaN or inf"
    err = np.abs(g.astype(float) - w.astype(float))
    if np.allclose(g, w, atol=atol, rtol=rtol):
        return True, f"{name} ok" + (f" (max error {err.max():.1e})" if err.size else "")
    where = np.unravel_index(np.argmax(err), err.shape) if err.ndim else ()
    message = (f"{name}: off by up to {err.max():.3g} (at index "
               f"{tuple(int(i) for i in where)}: got {g[where]:.6g}, expected {w[where]:.6g})")
    if blocks and g.ndim and g.shape[-1] % len(blocks) == 0:
        size = g.shape[-1] // len(blocks)
        wrong = [label for k, label in enumerate(blocks)
                 if not np.allclose(g[..., k * size:(k + 1) * size],
                                    w[..., k * size:(k + 1) * size], atol=atol, rtol=rtol)]
        message += f"; wrong in the block(s) of {', '.join(wrong)}"
    return False, message


def refuse(report, reason):
    """Mark ``report`` refused: 0 points and the reason."""
    report.score = 0
    report.refused = True
    report.lines = [f"refused: {reason}"]
    return report


def _changed(name, before, after):
    """The names of the arrays in argument ``name`` (an array, or a dict, list or tuple of them)
    that differ between ``before`` (the caller's) and ``after`` (what the student's function was
    given and may have changed in place): ``params['W1']``, ``grads[0]``."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [w for key in before for w in _changed(f"{name}[{key!r}]", before[key],
                                                      after.get(key))]
    if isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)):
        return [w for k, (b, a) in enumerate(zip(before, after))
                for w in _changed(f"{name}[{k}]", b, a)]
    if isinstance(before, np.ndarray):
        same = isinstance(after, np.ndarray) and np.array_equal(before, after, equal_nan=True)
        return [] if same else [name]
    return []


def run_check(
    exercise_id,
    title,
    student_fn,
    reference_fn,
    cases,
    output_names,
    hint="",
    atol=1e-6,
    rtol=1e-5,
    quiet=False,
    blocks=None,
    forbidden=None,
):
    """Compare ``student_fn`` with ``reference_fn`` on each case and print the report.

    Every output of every case scores one point (a dict output, such as a gradient dict, one
    point per entry), so a partly right answer gets partial credit, and every output is reported,
    right or wrong, with its error.

    Parameters
    ----------
    exercise_id, title : the exercise's id (as in the notebook's cell metadata) and a title
    student_fn, reference_fn : called with the same keyword arguments; each gets its own deep
        copy, and the student's function must leave the caller's arrays unchanged
    cases : list of dicts of keyword arguments, one per test case
    output_names : the names of the returned values, used in the messages
    hint : printed once after the cases when something is wrong
    blocks : optional dict output name -> labels of the equal column blocks of its last axis
        (``{"grads['W_x']": ("i", "f", "g", "o")}``), named in the message when wrong
    forbidden : names a solution may not use (default: the registered exercise's)
    """
    if not callable(student_fn):
        raise TypeError(f"{title}: expected your function, got {type(student_fn).__name__}")
    info = EXERCISES.get(exercise_id)
    forbidden = info.forbidden if forbidden is None and info is not None else (forbidden or ())
    wants = [reference_fn(**copy.deepcopy(kwargs)) for kwargs in cases]
    per_case = len(flatten_outputs(wants[0], output_names))
    report = CheckReport(exercise_id, title, max_score=len(cases) * per_case)
    reason = forbidden_use(student_fn, forbidden)
    if reason:
        return _finish(refuse(report, reason), quiet)
    failed = False
    for k, (kwargs, want) in enumerate(zip(cases, wants), start=1):
        label = f"case {k}/{len(cases)} " + _describe_case(kwargs)
        arguments = copy.deepcopy(kwargs)
        try:
            got = student_fn(**arguments)
        except NotImplementedError:
            report.attempted = False
            report.lines = ["not attempted yet: the stub still raises NotImplementedError"]
            report.score = 0
            return _finish(report, quiet)
        except Exception as err:  # noqa: BLE001 - the student's error is the report
            frame = traceback.extract_tb(err.__traceback__)[-1]
            report.lines.append(
                f"{label}: raised {type(err).__name__}: {err} (line {frame.lineno})")
            failed = True
            continue
        got, want = as_tuple(got), as_tuple(want)
        if len(got) != len(want):
            report.lines.append(f"{label}: returned {len(got)} value(s), expected {len(want)} "
                                f"({', '.join(output_names)})")
            failed = True
            continue
        verdicts = []
        want_pairs = list(flatten_outputs(want, output_names).items())
        got_values = flatten_outputs(got, output_names) if all(
            isinstance(g, dict) == isinstance(w, dict) for g, w in zip(got, want)) else {}
        for name, w in want_pairs:
            if name not in got_values:
                verdicts.append((False, f"{name}: missing"))
            else:
                verdicts.append(_output_verdict(name, got_values[name], w, atol, rtol,
                                                (blocks or {}).get(name)))
        changed = [where for key, value in kwargs.items()
                   for where in _changed(key, value, arguments[key])]
        if changed:
            verdicts = [(False, msg if not ok else f"{msg.split(' ok')[0]} not counted")
                        for ok, msg in verdicts]
            verdicts.append((False, f"modified its input(s) {', '.join(changed)} in place: "
                                    "work on copies"))
        report.score += sum(ok for ok, _ in verdicts if ok is True)
        failed = failed or not all(ok for ok, _ in verdicts)
        report.lines.append(f"{label}: " + "; ".join(msg for _, msg in verdicts))
    if failed and hint:
        report.lines.append(f"hint: {hint}")
    return _finish(report, quiet)


def _finish(report, quiet):
    if not quiet:
        print(report)
    return report


_NO_ANSWER = object()


def _call_without_arguments(report, student_fn):
    """What ``student_fn()`` returns, or ``_NO_ANSWER`` with ``report`` saying why: refused,
    not attempted, or the error it raised."""
    info = EXERCISES.get(report.exercise_id)
    reason = forbidden_use(student_fn, info.forbidden if info else ())
    if reason:
        refuse(report, reason)
        return _NO_ANSWER
    try:
        return student_fn()
    except NotImplementedError:
        report.attempted = False
        report.lines = ["not attempted yet: the stub still raises NotImplementedError"]
    except Exception as err:  # noqa: BLE001 - the student's error is the report
        report.lines = [f"raised {type(err).__name__}: {err}"]
    return _NO_ANSWER


def screen(exercise_id, title, student_fn, max_score, forbidden=None):
    """The printed refusal report of an answer that uses the package or a forbidden routine
    (default: the registered exercise's), or ``None`` when it may be graded. For checks that
    hand :func:`run_check` a wrapper of the student's function (to reorder or watch its
    outputs): the wrapper is the package's own code, so the student's function is screened
    here and the wrapper graded within :func:`reference_allowed`."""
    if forbidden is None:
        forbidden = EXERCISES[exercise_id].forbidden
    reason = forbidden_use(student_fn, forbidden)
    if not reason:
        return None
    return _finish(refuse(CheckReport(exercise_id, title, max_score), reason), quiet=False)


def check_concept(exercise_id, title, student_fn, questions, quiet=False):
    """Score the answers of a concept exercise: ``student_fn()`` returns a dict of answers.

    ``questions`` is a list of dicts, one point each: ``key`` (the answer's name), ``answer``
    (the right value: a number, compared with ``tolerance``, relative, default 1e-9; a string,
    compared without case or surrounding spaces; or a tuple, compared entry by entry),
    ``explain`` (a dict wrong answer -> why it is wrong, for the wrong answers one expects) and
    ``hint`` (said for any other wrong answer; never the answer itself).
    """
    report = CheckReport(exercise_id, title, max_score=len(questions))
    answers = _call_without_arguments(report, student_fn)
    if answers is _NO_ANSWER:
        return _finish(report, quiet)
    if not isinstance(answers, dict):
        report.lines = [f"expected a dict of answers with keys "
                        f"{', '.join(q['key'] for q in questions)}, got {type(answers).__name__}"]
        return _finish(report, quiet)
    for q in questions:
        key = q["key"]
        if key not in answers or answers[key] is None or answers[key] is ...:
            report.lines.append(f"{key}: not answered")
            continue
        given = plain(answers[key])
        if _same_answer(given, q["answer"], q.get("tolerance", 1e-9)):
            report.score += 1
            report.lines.append(f"{key}: {given!r} is right")
            continue
        explanation = next((why for wrong, why in q.get("explain", {}).items()
                            if _same_answer(given, wrong, q.get("tolerance", 1e-9))),
                           q.get("hint", "not this one: go back to the text"))
        report.lines.append(f"{key}: {given!r} is not right -- {explanation}")
    return _finish(report, quiet)


def _same_answer(given, right, tolerance):
    if isinstance(right, str):
        return isinstance(given, str) and given.strip().lower() == right.strip().lower()
    if isinstance(right, (tuple, list)):
        return (isinstance(given, (tuple, list)) and len(given) == len(right)
                and all(_same_answer(g, r, tolerance) for g, r in zip(given, right)))
    if isinstance(given, np.generic):
        given = given.item()    # NumPy's booleans and numbers answer like Python's
    if isinstance(right, bool) or isinstance(given, (bool, str)):
        return type(given) is type(right) and given == right
    try:
        return bool(np.isclose(float(given), float(right), rtol=tolerance, atol=0.0))
    except (TypeError, ValueError):
        return False


def check_experiment(exercise_id, title, student_fn, measure, max_score, quiet=False):
    """Score an experiment: ``choice = student_fn()`` is what the student chose, and
    ``measure(choice)`` runs the experiment (at most about 10 s) and returns ``(score, lines)``,
    its score out of ``max_score`` and one line per measurement. A choice that ``measure``
    refuses with ``ValueError`` or ``TypeError`` scores 0 with the message."""
    report = CheckReport(exercise_id, title, max_score=max_score)
    choice = _call_without_arguments(report, student_fn)
    if choice is _NO_ANSWER:
        return _finish(report, quiet)
    try:
        score, lines = measure(choice)
    except (TypeError, ValueError) as err:
        report.lines = [f"your choice {choice!r} cannot be run: {err}"]
        return _finish(report, quiet)
    report.score = max(0, min(max_score, int(score)))
    report.lines = list(lines)
    return _finish(report, quiet)


def _describe_case(kwargs):
    """``(X(2, 5, 3), T=7)``: the shape of every array argument and the value of every number."""
    parts = []
    for key, value in kwargs.items():
        shape = getattr(value, "shape", None)
        if shape is not None:
            parts.append(f"{key}{tuple(shape)}")
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            parts.append(f"{key}={value}")
    return "(" + ", ".join(parts) + ")" if parts else ""


def fresh_rng():
    """A generator seeded from the operating system: new inputs every time a check runs."""
    return np.random.default_rng()


__all__ = [
    "CHECKS", "EXERCISES", "KINDS", "ExerciseInfo", "register", "forbidden_use",
    "reference_allowed", "CheckReport",
    "screen", "as_tuple", "to_numpy", "flatten_outputs", "same_values", "plain", "diagnose_outputs",
    "diagnose_mistake", "compare_outputs", "refuse", "run_check",
    "check_concept", "check_experiment", "fresh_rng"
]
