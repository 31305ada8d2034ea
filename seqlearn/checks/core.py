"""The check mechanism shared by every exercise of the course.

A check calls the student's function and the reference implementation on the same fresh random
inputs (a new generator every run, so answers cannot be hard-coded), compares every output, and
returns a :class:`CheckReport` that prints which case failed, which output, how far off, and a
hint. A stub that still raises ``NotImplementedError`` scores 0 and the notebook goes on.
"""

import copy
import traceback

import numpy as np

#: Every exercise id of the course -> its check function (filled by ``@register``).
CHECKS = {}


def register(exercise_id):
    """Decorator: record a check function under its exercise id (ids are unique)."""

    def wrap(fn):
        if exercise_id in CHECKS:
            raise ValueError(f"exercise id {exercise_id!r} is registered twice")
        CHECKS[exercise_id] = fn
        fn.exercise_id = exercise_id
        return fn

    return wrap


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

    @property
    def passed(self):
        return self.score == self.max_score

    def summary(self):
        return f"Score: {self.score}/{self.max_score} [{self.exercise_id}]"

    def __str__(self):
        mark = "PASSED" if self.passed else ("NOT ATTEMPTED" if not self.attempted else "FAILED")
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
):
    """Compare ``student_fn`` with ``reference_fn`` on each case and print the report.

    Parameters
    ----------
    exercise_id, title : str
        The exercise's id (as in the notebook's cell metadata) and a human title.
    student_fn, reference_fn : callable
        Called with the same keyword arguments; each gets its own deep copy, so a function that
        modifies its inputs cannot spoil the other's.
    cases : list of dict
        Keyword arguments, one dict per test case (one point each).
    output_names : list of str
        Names of the returned values, used in the messages.
    hint : str
        Printed after a failing case.
    """
    if not callable(student_fn):
        raise TypeError(f"{title}: expected your function, got {type(student_fn).__name__}")
    report = CheckReport(exercise_id, title, max_score=len(cases))
    for k, kwargs in enumerate(cases, start=1):
        label = f"case {k}/{len(cases)} " + _describe_case(kwargs)
        want = reference_fn(**copy.deepcopy(kwargs))
        try:
            got = student_fn(**copy.deepcopy(kwargs))
        except NotImplementedError:
            report.attempted = False
            report.lines = ["not attempted yet: the stub still raises NotImplementedError"]
            report.score = 0
            break
        except Exception as err:  # noqa: BLE001 - the student's error is the report
            frame = traceback.extract_tb(err.__traceback__)[-1]
            report.lines.append(
                f"{label}: raised {type(err).__name__}: {err} (line {frame.lineno})"
            )
            continue
        problem = compare_outputs(got, want, output_names, atol, rtol)
        if problem is None:
            report.score += 1
            report.lines.append(f"{label}: ok")
        else:
            report.lines.append(f"{label}: {problem}" + (f" -- hint: {hint}" if hint else ""))
    if not quiet:
        print(report)
    return report


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
    "CHECKS", "register", "CheckReport", "as_tuple", "to_numpy", "diagnose_mistake",
    "compare_outputs", "run_check", "fresh_rng"
]
