"""Student editions of the course's notebooks: the same notebooks without their solutions.

In a source notebook every exercise is three consecutive code cells sharing an ``exercise_id`` in
their metadata: a stub tagged ``exercise``, the solution tagged ``solution`` and a check tagged
``check``. The student edition drops the solution cells, keeps the stubs and checks, clears every
output and execution count, and leaves everything else as it was::

    from seqlearn.release import release
    release(["book"], "student/book")        # every book/*.ipynb -> student/book/*.ipynb

or, from a shell, ``seqlearn release book --out student/book``.
"""

import copy
from pathlib import Path

import nbformat

EXERCISE_TAGS = ("exercise", "solution", "check")


class MalformedExerciseError(ValueError):
    """A notebook's exercise cells do not form stub / solution / check triples."""


def _tags(cell):
    return cell.get("metadata", {}).get("tags", []) or []


def _exercise_role(cell, where):
    roles = [tag for tag in EXERCISE_TAGS if tag in _tags(cell)]
    if len(roles) > 1:
        raise MalformedExerciseError(
            f"{where}: a cell of exercise {cell['metadata'].get('exercise_id')!r} is tagged "
            f"{' and '.join(roles)}; a cell has one role only")
    return roles[0] if roles else None


def check_exercises(nb, name="notebook"):
    """Check that the exercise cells of ``nb`` are well-formed stub / solution / check triples.

    Returns the exercise ids in order. Raises :class:`MalformedExerciseError` naming the notebook
    (``name``) and the exercise id when a triple is incomplete, out of order, split by another
    cell, has mismatched or missing ids, or an id is used twice.
    """
    expected = list(EXERCISE_TAGS)
    ids, seen = [], set()
    cells = nb["cells"]
    index = 0
    while index < len(cells):
        role = _exercise_role(cells[index], f"{name}, cell {index}")
        if role is None:
            index += 1
            continue
        exercise_id = cells[index].get("metadata", {}).get("exercise_id")
        where = f"{name}: exercise {exercise_id!r} (cell {index})"
        if not exercise_id:
            raise MalformedExerciseError(
                f"{name}: cell {index} is tagged {role!r} but has no 'exercise_id' in its metadata")
        if role != "exercise":
            raise MalformedExerciseError(
                f"{where}: a {role!r} cell without the stub cell tagged 'exercise' just before it")
        if exercise_id in seen:
            raise MalformedExerciseError(f"{where}: the exercise id is used twice")
        for offset, want in enumerate(expected[1:], start=1):
            at = index + offset
            got_role = _exercise_role(cells[at], f"{name}, cell {at}") if at < len(cells) else None
            got_id = cells[at].get("metadata", {}).get("exercise_id") if at < len(cells) else None
            if got_role != want:
                raise MalformedExerciseError(
                    f"{where}: expected a cell tagged {want!r} at cell {at}, found "
                    + (f"one tagged {got_role!r}" if got_role else "none")
                    + " (each exercise is a stub, a solution and a check, consecutive)")
            if got_id != exercise_id:
                raise MalformedExerciseError(
                    f"{where}: its {want!r} cell (cell {at}) has exercise_id {got_id!r}")
        if cells[index]["cell_type"] != "code":
            raise MalformedExerciseError(f"{where}: the stub cell is not a code cell")
        seen.add(exercise_id)
        ids.append(exercise_id)
        index += len(expected)
    return ids


def student_edition(nb, name="notebook"):
    """The student edition of notebook ``nb`` (an ``nbformat`` notebook or a plain dict).

    Solution cells are removed (the stubs stay, unsolved), every code cell's outputs and execution
    count are cleared, and the checks and all other cells and metadata are kept as they are. The
    input is not modified. Raises :class:`MalformedExerciseError` (naming ``name`` and the
    exercise) when the exercise cells are malformed.
    """
    check_exercises(nb, name)
    out = copy.deepcopy(nb)
    out["cells"] = [c for c in out["cells"] if "solution" not in _tags(c)]
    for cell in out["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return out


def notebook_paths(paths_or_dirs):
    """The notebooks named by ``paths_or_dirs``: a directory stands for its ``*.ipynb`` files
    (sorted, not recursive); a file must be a notebook."""
    if isinstance(paths_or_dirs, (str, Path)):
        paths_or_dirs = [paths_or_dirs]
    found = []
    for item in paths_or_dirs:
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(p for p in path.glob("*.ipynb") if p.is_file()))
        elif path.is_file():
            if path.suffix != ".ipynb":
                raise ValueError(f"release: {path} is not a notebook (.ipynb)")
            found.append(path)
        else:
            raise FileNotFoundError(f"release: no such file or directory: {path}")
    names = [p.name for p in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"release: several notebooks would be written as {', '.join(twice)}")
    return found


def release(paths_or_dirs, out_dir):
    """Write the student edition of each notebook to ``out_dir`` (same file names).

    ``paths_or_dirs``: notebook files and/or directories (each standing for its ``*.ipynb``).
    Every notebook is checked before anything is written, so a malformed one leaves ``out_dir``
    untouched. Refuses to overwrite a source notebook. Returns the written paths.
    """
    out_dir = Path(out_dir)
    sources = notebook_paths(paths_or_dirs)
    if not sources:
        raise ValueError(f"release: no notebooks in {', '.join(map(str, paths_or_dirs))}")
    editions = []
    for path in sources:
        target = out_dir / path.name
        if target.exists() and target.resolve() == path.resolve():
            raise ValueError(f"release: writing {target} would overwrite its source notebook; "
                             "choose another --out directory")
        nb = nbformat.read(path, as_version=4)
        editions.append((target, student_edition(nb, name=str(path))))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for target, nb in editions:
        nbformat.write(nb, target)
        written.append(target)
    return written


__all__ = [
    "EXERCISE_TAGS", "MalformedExerciseError", "check_exercises", "student_edition",
    "notebook_paths", "release"
]
