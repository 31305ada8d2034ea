"""The student edition of each chapter (solution cells removed, stubs untouched), committed in
student/book/ for the Colab button, is fresh, runs to the end, and every check in it reports
the exercise as not attempted, scoring 0. Every decimal number and percentage in its prose is
produced by that run (tests/prose_numbers.py).

The same run also proves the chapter's widgets work: a last cell, added for the test, redraws
every interactive figure the chapter displayed at each value its controls offer (every option of
a dropdown; the ends and the middle of a slider), one control at a time, and fails if a drawing
raises. This is exactly what a student moving the controls makes the figure do."""

import json
import re

import nbformat
import pytest
from nbclient import NotebookClient

from seqlearn.release import student_edition

from conftest import BOOK_NOTEBOOKS, ROOT
from prose_numbers import describe_unproduced

# Run inside the chapter's kernel after its last cell. ``Out`` holds the value of every cell that
# ended in an expression, so it holds the interactive figures the chapter displayed.
WIDGET_PROBE = r'''
import json as _json
from seqlearn.widgets import InteractiveFigure as _InteractiveFigure


def _probe_values(control):
    if hasattr(control, "options"):
        return [o[1] if isinstance(o, tuple) and len(o) == 2 else o for o in control.options]
    if isinstance(control.value, bool):
        return [False, True]
    if hasattr(control, "min") and hasattr(control, "max"):
        middle = control.min + (control.max - control.min) / 2
        if isinstance(control.value, int):
            middle = int(middle)
        return [control.min, middle, control.max]
    return [control.value]


_report = {"figures": 0, "drawings": 0, "failures": []}
for _cell, _value in sorted(Out.items()):
    if not isinstance(_value, _InteractiveFigure):
        continue
    _report["figures"] += 1
    for _name, _control in _value.controls.items():
        for _v in _probe_values(_control):
            try:
                _figure = _value.render(**{_name: _v})
                assert _figure.axes, "the drawing made no axes"
                _report["drawings"] += 1
            except Exception as _err:
                _report["failures"].append(
                    f"figure of cell Out[{_cell}], {_name}={_v!r}: {type(_err).__name__}: {_err}")
print("WIDGET-PROBE " + _json.dumps(_report))
'''


def committed_edition(path):
    """The student edition of chapter ``path`` that the repository holds and Colab opens."""
    return ROOT / "student" / "book" / path.name


@pytest.mark.parametrize("path", BOOK_NOTEBOOKS, ids=lambda p: p.stem)
def test_the_committed_student_edition_is_fresh(path):
    committed = committed_edition(path)
    assert committed.exists(), f"{committed} is missing: run `make student` and commit it"
    fresh = student_edition(nbformat.read(path, as_version=4), name=str(path))
    assert nbformat.writes(nbformat.read(committed, as_version=4)) == nbformat.writes(fresh), (
        f"{committed} is stale (its chapter changed since): run `make student` and commit it")
    assert not any("solution" in c.get("metadata", {}).get("tags", []) for c in fresh.cells)


def _widget_report(cell):
    text = "".join(o.get("text", "") for o in cell.outputs)
    match = re.search(r"^WIDGET-PROBE (.*)$", text, re.M)
    assert match, f"the widget probe printed no report: {text}"
    return json.loads(match.group(1))


def _run_student_edition(path):
    nb = nbformat.read(committed_edition(path), as_version=4)
    source = "".join(c.source for c in nb.cells if c.cell_type == "code")
    probe = nbformat.v4.new_code_cell(WIDGET_PROBE)
    nb.cells.append(probe)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "book")}}).execute()
    checks = [c for c in nb.cells if "check" in c.get("metadata", {}).get("tags", [])]
    assert checks
    for cell in checks:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert "not attempted yet" in text, text
        assert re.search(r"Score: 0/\d+", text), text
    # Numbers in the prose must be produced by this run (or be settings of its code, or cited).
    message = describe_unproduced(nb, path.name)
    assert not message, message
    widgets = _widget_report(probe)
    assert not widgets["failures"], "\n".join(widgets["failures"])
    # Every interactive figure the chapter creates was displayed and probed.
    assert widgets["figures"] == source.count("interactive_figure("), widgets
    assert widgets["drawings"] >= 2 * widgets["figures"], widgets


# One class per chapter: pytest-xdist's --dist loadscope then spreads them over the workers.
def _chapter_class(path):
    def test_runs_to_the_end_scoring_zero_and_its_widgets_draw(self):
        _run_student_edition(path)

    name = "TestStudentEdition_" + re.sub(r"\W", "_", path.stem)
    test = test_runs_to_the_end_scoring_zero_and_its_widgets_draw
    return name, type(name, (), {test.__name__: test})


for _path in BOOK_NOTEBOOKS:
    _name, _cls = _chapter_class(_path)
    globals()[_name] = _cls
