"""`seqlearn release`: student editions keep stubs and checks, drop solutions, clear outputs,
change nothing else and refuse malformed exercises; the `seqlearn` command's exit codes."""

import copy
import re

import nbformat
import pytest
from nbclient import NotebookClient

from seqlearn.cli import main
from seqlearn.release import MalformedExerciseError, release, student_edition

from conftest import ROOT

CHAPTER_1 = ROOT / "book" / "01_introduction.ipynb"


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _code(source, tags=(), exercise_id=None, outputs=True):
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    if exercise_id:
        cell.metadata["exercise_id"] = exercise_id
    if outputs:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="old output\n")]
        cell.execution_count = 7
    return cell


def _toy_notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 9. Toy\nSome prose."),
        _code("x = 1"),
        _code("def f(x):\n    raise NotImplementedError('do it')", ["exercise"], "09-f"),
        _code("def f(x):\n    return 2 * x", ["solution", "hide-input"], "09-f"),
        _code("check(f)", ["check"], "09-f"),
        nbformat.v4.new_markdown_cell("## Summary"),
        _code("def g(x):\n    raise NotImplementedError", ["exercise"], "09-g"),
        _code("def g(x):\n    return x", ["solution", "hide-input"], "09-g"),
        _code("check(g)", ["check"], "09-g"),
    ]
    return nb


def test_student_edition_removes_solutions_keeps_stubs_and_checks():
    nb = _toy_notebook()
    original = copy.deepcopy(nb)
    out = student_edition(nb)
    assert nb == original, "the input notebook is not modified"
    assert not [c for c in out.cells if "solution" in _tags(c)]
    assert "return 2 * x" not in str(out) and "return x" not in str(out)
    assert [c.metadata.get("exercise_id") for c in out.cells if "exercise" in _tags(c)] == ["09-f", "09-g"]
    assert [c.source for c in out.cells if "check" in _tags(c)] == ["check(f)", "check(g)"]
    assert len(out.cells) == len(nb.cells) - 2


def test_student_edition_clears_outputs_and_leaves_everything_else_unchanged():
    nb = _toy_notebook()
    out = student_edition(nb)
    for cell in out.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    kept = [c for c in nb.cells if "solution" not in _tags(c)]
    assert len(kept) == len(out.cells)
    for before, after in zip(kept, out.cells):
        assert (before.cell_type, before.source, before.metadata) == (after.cell_type, after.source, after.metadata)
        assert before.get("id") == after.get("id")
    assert out.metadata == nb.metadata


def test_a_notebook_without_exercises_passes_through_unchanged(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 0. Plain"), _code("y = 2", outputs=False)]
    assert student_edition(nb) == nb
    nbformat.write(nb, tmp_path / "plain.ipynb")
    [written] = release([tmp_path / "plain.ipynb"], tmp_path / "out")
    assert nbformat.read(written, as_version=4) == nbformat.read(tmp_path / "plain.ipynb", as_version=4)


@pytest.mark.parametrize("mutate, message", [
    (lambda cells: cells.pop(3), r"09-f.*expected a cell tagged 'solution'"),  # solution deleted
    (lambda cells: cells.pop(4), r"09-f.*expected a cell tagged 'check'"),  # check deleted
    (lambda cells: cells[4].metadata.update(exercise_id="09-x"), r"09-f.*exercise_id '09-x'"),
    (lambda cells: cells.insert(3, nbformat.v4.new_markdown_cell("split")), r"09-f.*'solution'"),
    (lambda cells: cells.pop(2), r"'solution' cell without the stub"),  # stub deleted
    (lambda cells: cells[2].metadata.pop("exercise_id"), r"no 'exercise_id'"),
    (lambda cells: [c.metadata.update(exercise_id="09-f") for c in cells[6:9]], r"09-f.*used twice"),
])
def test_malformed_exercises_are_refused_naming_notebook_and_exercise(tmp_path, mutate, message):
    nb = _toy_notebook()
    mutate(nb.cells)
    with pytest.raises(MalformedExerciseError, match=message):
        student_edition(nb, name="toy.ipynb")
    path = tmp_path / "toy.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(MalformedExerciseError, match=re.escape(str(path))):
        release([path], tmp_path / "out")
    assert not (tmp_path / "out").exists(), "nothing is written when a notebook is malformed"
    assert main(["release", str(path), "--out", str(tmp_path / "out")]) == 1


def test_release_of_a_directory_takes_its_notebooks_not_recursively(tmp_path):
    src = tmp_path / "src"
    (src / "nested").mkdir(parents=True)
    for name in ("b.ipynb", "a.ipynb", "nested/c.ipynb"):
        nbformat.write(_toy_notebook(), src / name)
    (src / "notes.md").write_text("not a notebook")
    written = release([src], tmp_path / "out")
    assert [p.name for p in written] == ["a.ipynb", "b.ipynb"]
    for path in written:
        assert not [c for c in nbformat.read(path, as_version=4).cells if "solution" in _tags(c)]


def test_release_refuses_to_overwrite_its_sources_and_missing_paths(tmp_path):
    nbformat.write(_toy_notebook(), tmp_path / "a.ipynb")
    with pytest.raises(ValueError, match="overwrite its source"):
        release([tmp_path], tmp_path)
    with pytest.raises(FileNotFoundError, match="nope"):
        release([tmp_path / "nope"], tmp_path / "out")


def test_the_released_book_has_every_exercise_without_its_solution(tmp_path):
    written = release([ROOT / "book"], tmp_path)
    assert len(written) >= 6
    for path in written:
        source = nbformat.read(ROOT / "book" / path.name, as_version=4)
        student = nbformat.read(path, as_version=4)
        solutions = [c.source for c in source.cells if "solution" in _tags(c)]
        assert solutions and not [c for c in student.cells if "solution" in _tags(c)]
        text = "\n".join(c.source for c in student.cells)
        assert not [s for s in solutions if s in text]
        assert sum("exercise" in _tags(c) for c in student.cells) == len(solutions)
        assert sum("check" in _tags(c) for c in student.cells) == len(solutions)


def test_released_chapter_1_runs_to_the_end_with_every_check_scoring_zero(tmp_path):
    [path] = release([CHAPTER_1], tmp_path)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    checks = [c for c in nb.cells if "check" in _tags(c)]
    assert len(checks) >= 2
    for cell in checks:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert "not attempted yet" in text and re.search(r"Score: 0/\d+", text), text


def test_cli_release_writes_and_returns_0(tmp_path, capsys):
    assert main(["release", str(CHAPTER_1), "--out", str(tmp_path)]) == 0
    assert (tmp_path / CHAPTER_1.name).exists()
    assert "1 student notebook(s)" in capsys.readouterr().out


def test_cli_usage_errors_return_2(tmp_path):
    assert main([]) == 2
    assert main(["release", str(CHAPTER_1)]) == 2  # --out is required
    assert main(["frobnicate"]) == 2
    assert main(["--help"]) == 0
    assert main(["release", str(tmp_path / "missing.ipynb"), "--out", str(tmp_path)]) == 1


def test_grade_is_wired_to_the_grading_module(capsys):
    assert main(["grade", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--out" in out and "--jobs" in out and "--timeout" in out
