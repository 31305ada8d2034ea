"""Reading submissions and the source notebooks they are graded against.

A source notebook (``book/NN_*.ipynb``) defines its exercises by stub cells tagged ``exercise``
with an ``exercise_id``; the function name comes from the stub's ``def``. A submission is a
student edition of one such notebook: its exercise cells keep their tag and ``exercise_id``.
"""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat


@dataclass
class Exercise:
    exercise_id: str
    function: str


@dataclass
class SourceNotebook:
    path: Path
    title: str
    exercises: list  # of Exercise, in notebook order

    @property
    def ids(self):
        return [e.exercise_id for e in self.exercises]


@dataclass
class Submission:
    path: Path
    student_id: str
    notebook: object = None          # nbformat node, None when unreadable
    error: str = ""                  # why the file cannot be graded at all
    cells: dict = field(default_factory=dict)      # exercise id -> source of the first cell
    duplicates: list = field(default_factory=list)  # ids that appear more than once


def _first_heading(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
            return ""
    return ""


def _exercise_cells(nb):
    """(exercise_id, source) of every code cell tagged ``exercise``, in order."""
    out = []
    for cell in nb.cells:
        meta = cell.get("metadata", {})
        tags = meta.get("tags", []) or []
        if cell.get("cell_type") == "code" and "exercise" in tags and meta.get("exercise_id"):
            out.append((str(meta["exercise_id"]), cell.get("source", "")))
    return out


def defined_function(source):
    """Name of the first top-level function a stub cell defines."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            return node.name
    raise ValueError("the stub cell defines no function")


def load_sources(directory):
    """All source notebooks with exercises under ``directory`` (sorted by file name)."""
    sources = []
    for path in sorted(Path(directory).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        exercises = [Exercise(eid, defined_function(src)) for eid, src in _exercise_cells(nb)]
        if exercises:
            sources.append(SourceNotebook(path, _first_heading(nb), exercises))
    return sources


def safe_name(text):
    """A student id usable as a file name (no path separators, no leading dots)."""
    name = re.sub(r"[^A-Za-z0-9_.@+-]", "_", str(text)).lstrip(".")[:100]
    return name or "unnamed"


def read_submission(path):
    """Read ``path``; on any problem return a Submission whose ``error`` says why."""
    path = Path(path)
    sub = Submission(path=path, student_id=safe_name(path.stem))
    if path.suffix != ".ipynb":
        sub.error = f"not a notebook ({path.name}): submit the .ipynb file"
        return sub
    try:
        raw = path.read_bytes()
    except OSError as err:
        sub.error = f"cannot read the file: {err.strerror}"
        return sub
    if not raw.strip():
        sub.error = "the notebook file is empty"
        return sub
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as err:  # noqa: BLE001 - any parse failure means "corrupt"
        sub.error = f"the notebook file is corrupt ({type(err).__name__}); re-download it and submit again"
        return sub
    if not hasattr(nb, "cells") or not isinstance(nb.cells, list):
        sub.error = "the notebook file is corrupt (no cells)"
        return sub
    student = nb.get("metadata", {}).get("student_id")
    if isinstance(student, (str, int)) and str(student).strip():
        sub.student_id = safe_name(str(student).strip())
    sub.notebook = nb
    try:
        cells = _exercise_cells(nb)
    except Exception as err:  # noqa: BLE001 - malformed cells
        sub.error = f"the notebook's cells are malformed ({type(err).__name__})"
        return sub
    for eid, source in cells:
        if not isinstance(source, str):
            continue
        if eid in sub.cells:
            if eid not in sub.duplicates:
                sub.duplicates.append(eid)
        else:
            sub.cells[eid] = source
    return sub


def match_source(sub, sources):
    """The source notebook ``sub`` is an edition of: most shared exercise ids, then the title."""
    best, best_overlap = None, 0
    for src in sources:
        overlap = len(set(src.ids) & set(sub.cells))
        if overlap > best_overlap:
            best, best_overlap = src, overlap
    if best is None and sub.notebook is not None:
        title = _first_heading(sub.notebook)
        for src in sources:
            if title and title == src.title:
                return src
    return best


__all__ = [
    "Exercise", "SourceNotebook", "Submission", "defined_function", "load_sources",
    "safe_name", "read_submission", "match_source"
]
