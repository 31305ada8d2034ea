"""A student edition of each chapter (solution cells removed, stubs untouched) runs to the end,
and every check in it reports the exercise as not attempted, scoring 0."""

import re

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import BOOK_NOTEBOOKS, ROOT


def student_edition(path):
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if "solution" not in c.get("metadata", {}).get("tags", [])]
    return nb


def _run_student_edition(path):
    nb = student_edition(path)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "book")}}).execute()
    checks = [c for c in nb.cells if "check" in c.get("metadata", {}).get("tags", [])]
    assert checks
    for cell in checks:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert "not attempted yet" in text, text
        assert re.search(r"Score: 0/\d+", text), text


# One class per chapter: pytest-xdist's --dist loadscope then spreads them over the workers.
def _chapter_class(path):
    def test_runs_to_the_end_scoring_zero(self):
        _run_student_edition(path)

    name = "TestStudentEdition_" + re.sub(r"\W", "_", path.stem)
    return name, type(name, (), {"test_runs_to_the_end_scoring_zero": test_runs_to_the_end_scoring_zero})


for _path in BOOK_NOTEBOOKS:
    _name, _cls = _chapter_class(_path)
    globals()[_name] = _cls
