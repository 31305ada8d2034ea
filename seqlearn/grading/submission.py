"""Reading submissions and the source notebooks they are graded against.

A source notebook (``book/NN_*.ipynb``) defines its exercises by stub cells tagged ``exercise``
with an ``exercise_id``; the function name comes from the stub's ``def``. A submission is a
student edition of one such notebook: its exercise cells keep their tag and ``exercise_id``.
"""

import ast
import re
import warnings
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
    code: frozenset = frozenset()   # the sources of its code cells, stripped (the course's own)

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
    metadata_id: str = ""            # the notebook's metadata student_id, when it has one


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
            code = frozenset(c.source.strip() for c in nb.cells if c.cell_type == "code")
            sources.append(SourceNotebook(path, _first_heading(nb), exercises, code))
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
        with warnings.catch_warnings():   # e.g. cells without ids, from older Jupyter versions
            warnings.simplefilter("ignore")
            nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as err:  # noqa: BLE001 - any parse failure means "corrupt"
        sub.error = f"the notebook file is corrupt ({type(err).__name__}); re-download it and submit again"
        return sub
    if not hasattr(nb, "cells") or not isinstance(nb.cells, list):
        sub.error = "the notebook file is corrupt (no cells)"
        return sub
    student = nb.get("metadata", {}).get("student_id")
    if isinstance(student, (str, int)) and str(student).strip():
        sub.metadata_id = str(student).strip()
        sub.student_id = safe_name(sub.metadata_id)
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


def _imports_seqlearn(node):
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] == "seqlearn" for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.level != 0 or (node.module or "").split(".")[0] == "seqlearn"
    return False


_ASSIGNMENTS = (ast.Assign, ast.AnnAssign, ast.AugAssign)


def _is_definition(node, own=False):
    """Whether a top-level statement is one the grader may run before an exercise: an import
    (not of ``seqlearn``), a function or class, or an assignment. In a course cell an assignment
    counts only when its value calls nothing (course cells train models and call the package);
    in a cell of the student's own (``own``) it counts with calls too, as the notebook ran it.
    An assignment whose value names ``seqlearn`` never counts."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return not _imports_seqlearn(node)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, _ASSIGNMENTS) and node.value is not None:
        names_package = any(isinstance(n, ast.Name) and n.id == "seqlearn"
                            for n in ast.walk(node))
        awaits = any(isinstance(n, ast.Await) for n in ast.walk(node.value))
        if names_package or awaits:
            return False
        if own:
            return True
        return not any(isinstance(n, (ast.Call, ast.Lambda)) for n in ast.walk(node.value))
    return False


def _assigned(target):
    """``(names bound, names changed in place)`` by one assignment target: ``x``, ``a, b``
    bind; ``d['k']``, ``obj.attr`` change ``d``, ``obj``."""
    if isinstance(target, ast.Name):
        return {target.id}, set()
    if isinstance(target, (ast.Tuple, ast.List)):
        bound, changed = set(), set()
        for element in target.elts:
            b, c = _assigned(element)
            bound |= b
            changed |= c
        return bound, changed
    if isinstance(target, ast.Starred):
        return _assigned(target.value)
    base = target
    while isinstance(base, (ast.Subscript, ast.Attribute)):
        base = base.value
    return set(), ({base.id} if isinstance(base, ast.Name) else set())


def _bound_and_used(text):
    """The names a snippet binds (or changes in place) at top level, the names it reads, and the
    names it replaces outright (binds without reading the value they had before)."""
    tree = ast.parse(text)
    bound, replaced, updated = set(), set(), set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = {(a.asname or a.name).split(".")[0] for a in node.names}
            bound |= names
            replaced |= names
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            replaced.add(node.name)
        elif isinstance(node, _ASSIGNMENTS):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names, changed = _assigned(target)
                bound |= names | changed
                if isinstance(node, ast.AugAssign):
                    updated |= names | changed      # x += 1 reads the x it had
                    continue
                read = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
                replaced |= names - read
    return bound, _reads(text, tree) | updated, replaced


def _reads(text, tree):
    """The names a snippet reads from the notebook's namespace: those it reads at top level and
    those its functions and classes read as globals (not their own local variables, so that a
    local ``x`` of a function does not pull in a top-level ``x = ...`` of another cell)."""
    import symtable

    def walk(table, top):
        names = {s.get_name() for s in table.get_symbols()
                 if s.is_referenced() and (top or s.is_global())}
        for child in table.get_children():
            names |= walk(child, False)
        return names

    try:
        return walk(symtable.symtable(text, "<cell>", "exec"), True)
    except SyntaxError:   # e.g. a `return` outside a function: every name it mentions
        return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _segment(lines, node):
    """The exact source of top-level statement ``node`` (its decorators included), also when it
    shares a line with another statement (``a = 1; b = f()``). ``lines`` are UTF-8 encoded, as
    the offsets of ``ast`` count bytes."""
    decorators = getattr(node, "decorator_list", [])
    start = min([(node.lineno, node.col_offset)]
                + [(d.lineno, d.col_offset - 1) for d in decorators])
    end = (node.end_lineno, node.end_col_offset)
    chunk = lines[start[0] - 1:end[0]]
    chunk[-1] = chunk[-1][:end[1]]
    chunk[0] = chunk[0][start[1]:]
    return b"\n".join(chunk).decode("utf-8")


def context_before(nb, exercise_id, course_code=frozenset(), cell_source=""):
    """The definitions that the exercise cell ``exercise_id`` relies on, from the cells above it.

    Candidates are top-level statements of every code cell above the exercise's cell that is not
    an exercise or check cell: imports (not of ``seqlearn``), function and class definitions,
    and assignments (``=``, annotated, augmented such as ``+=``). In a cell of the course's own
    (its text is in ``course_code``) an assignment is a candidate only when its value calls
    nothing: course cells train models and call the package. In a cell the student wrote or
    changed, an assignment is a candidate even when it calls something (``SCALE = np.sqrt(2)``),
    as the student's notebook ran it. An assignment whose value names ``seqlearn`` never is.
    Of the candidates, the grader takes the ones that bind (or change in place) a name that
    ``cell_source`` (the exercise cell) reads, then the ones those read, and so on; of several
    that bind a name, the last above the cell, and also the earlier ones it builds on
    (``x += 1``, ``d['k'] = v``). Other statements (training runs, plots, calls of the course
    package, anything the exercise does not read) are never run by the grader.

    Returns a list of ``(snippet, own)`` in notebook order; ``own`` is False for a snippet from
    a cell that is the course's own, True for one from a cell the student wrote or changed."""
    from .sandbox import strip_magics

    candidates = []   # (snippet, own, bound, used, replaced)
    for cell in nb.cells:
        meta = cell.get("metadata", {})
        tags = meta.get("tags", []) or []
        if cell.get("cell_type") != "code":
            continue
        if "exercise" in tags and str(meta.get("exercise_id")) == exercise_id:
            break
        if "exercise" in tags or "check" in tags or not isinstance(cell.get("source"), str):
            continue
        text = strip_magics(cell.source)
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = re.split(rb"\r\n|\r|\n", text.encode("utf-8"))
        own = cell.source.strip() not in course_code
        for node in tree.body:
            if _is_definition(node, own):
                snippet = _segment(lines, node)
                try:
                    candidates.append((snippet, own, *_bound_and_used(snippet)))
                except SyntaxError:
                    continue
    try:
        wanted = _bound_and_used(strip_magics(cell_source))[1]
    except SyntaxError:
        return []
    chosen = set()
    changed = True
    while changed:
        changed = False
        # The last definition of a name above the cell is the one the cell sees: a candidate is
        # needed for the wanted names it binds that no later chosen one replaces outright.
        for k in range(len(candidates) - 1, -1, -1):
            if k in chosen:
                continue
            _, _, bound, used, _ = candidates[k]
            hidden = set().union(*[candidates[j][4] for j in chosen if j > k])
            if (bound & wanted) - hidden:
                chosen.add(k)
                wanted |= used
                changed = True
    return [(candidates[k][0], candidates[k][1]) for k in sorted(chosen)]


SCORE = re.compile(r"Score: (\d+)/(\d+)")


def saved_scores(nb):
    """``{exercise_id: (score, max_score)}`` as the submitted notebook's own check cells last
    printed them (the outputs saved with the file); exercises without a printed score are absent."""
    scores = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {})
        if cell.get("cell_type") != "code" or "check" not in (meta.get("tags") or []):
            continue
        text = "".join(str(o.get("text", "")) for o in cell.get("outputs", []) or []
                       if isinstance(o, dict))
        found = SCORE.findall(text)
        if found and meta.get("exercise_id"):
            scores[str(meta["exercise_id"])] = tuple(map(int, found[-1]))
    return scores


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
    "safe_name", "read_submission", "context_before", "saved_scores", "SCORE", "match_source"
]
