"""``seqlearn grade``: hostile and broken submissions (tests/grading_corpus/) each end in a row
with a score and a reason, without disturbing anyone else's grade or the gradebook."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from conftest import ROOT
from seqlearn.grading import grader, submission
from seqlearn.grading.cli import add_arguments, default_source_dir

CORPUS = ROOT / "tests" / "grading_corpus"
BOOK = ROOT / "book"
TIMEOUT = "3"  # seconds per exercise; only the infinite loop uses it up

# The corpus answers chapter 1's first two exercises (4 and 6 points); its other exercises are
# missing from every corpus notebook, which costs their points with a note.
MAX_TOTAL = 32
# file stem -> (score on 01-one-hot, score on 01-next-step-pairs, fragment of the notes)
EXPECTED = {
    "correct": (4, 6, "exercise cell '01-batch-shapes' not found"),
    # right inputs, unshifted targets: the inputs' points are kept
    "partly_wrong": (4, 3, "01-next-step-pairs: 3 of 6 points lost"),
    "unattempted": (0, 0, "not attempted"),
    "syntax_error": (0, 6, "does not compile: SyntaxError"),
    "import_error": (0, 6, "RuntimeError: boom at import"),
    # the wall-clock deadline or the CPU limit, whichever the loaded machine reaches first
    "infinite_loop": (0, 6, ("timed out", "exceeded the CPU time limit")),
    "sys_exit": (0, 6, "raised SystemExit"),
    "os_exit": (0, 6, "exited with code 3"),
    "memory_bomb": (0, 6, "MemoryError"),
    "print_flood": (0, 6, "ValueError: after printing"),
    "reference_call": (0, 6, "uses the course package 'seqlearn'"),
    "hidden_reference_call": (0, 6, "calls the reference implementation "
                                    "seqlearn.checks.core.register"),
    "monkeypatch_checks": (0, 6, "4 of 4 points lost"),
    "fake_score": (0, 6, "4 of 4 points lost"),
    "gradebook_write": (0, 6, "PermissionError: the grading sandbox does not allow writing"),
    "renamed_cell": (0, 6, "exercise cell '01-one-hot' not found"),
    "deleted_cell": (0, 6, "exercise cell '01-one-hot' not found"),
    "duplicated_cell": (4, 6, "appears more than once; the first was graded"),
}
INVALID = {
    "corrupt_json": "the notebook file is corrupt",
    "empty": "the notebook file is empty",
    "notes": "not a notebook (notes.txt)",
    "solution": "not a notebook (solution.py)",
}


def grade_cli(tmp, *paths, jobs=1):
    """Grade through the command line in a separate process (its argv names the gradebook)."""
    out = Path(tmp) / "grades.csv"
    subprocess.run(
        [sys.executable, "-m", "seqlearn.grading.cli", *map(str, paths), "--out", str(out),
         "--timeout", TIMEOUT, "--jobs", str(jobs), "--source", str(BOOK)],
        check=True, capture_output=True, cwd=tmp,
    )
    with open(out, newline="") as f:
        return out, list(csv.DictReader(f))


@pytest.fixture(scope="module")
def corpus_grades(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grades")
    return grade_cli(tmp, CORPUS)


def without_details(rows):
    """Rows with the random-input details of failing cases cut from the notes."""
    import re

    return [dict(r, notes=re.sub(r"; first: [^|]*", "", r["notes"])) for r in rows]


def by_submission(rows):
    return {Path(r["submission"]).stem: r for r in rows}


def test_every_file_gets_exactly_one_row(corpus_grades):
    _, rows = corpus_grades
    files = sorted(p.stem for p in CORPUS.iterdir())
    assert sorted(Path(r["submission"]).stem for r in rows) == files
    assert set(files) == set(EXPECTED) | set(INVALID)


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_scores_and_reasons(corpus_grades, stem):
    row = by_submission(corpus_grades[1])[stem]
    one_hot, pairs, reason = EXPECTED[stem]
    assert (row["01-one-hot"], row["01-next-step-pairs"]) == (str(one_hot), str(pairs)), row
    assert row["total"] == str(one_hot + pairs) and row["max_total"] == str(MAX_TOTAL)
    assert row["status"] == "ok"
    reasons = reason if isinstance(reason, tuple) else (reason,)
    assert any(r in row["notes"] for r in reasons), row["notes"]
    if one_hot + pairs < MAX_TOTAL:
        assert row["notes"], "a lost point must come with a reason"


@pytest.mark.parametrize("stem", sorted(INVALID))
def test_invalid_files_score_zero_with_a_reason(corpus_grades, stem):
    row = by_submission(corpus_grades[1])[stem]
    assert row["status"] == "invalid" and row["total"] == "0"
    assert INVALID[stem] in row["notes"]


def test_student_id_from_metadata(corpus_grades):
    row = by_submission(corpus_grades[1])["correct"]
    assert row["student_id"] == "alice"
    assert by_submission(corpus_grades[1])["partly_wrong"]["student_id"] == "partly_wrong"


def test_gradebook_feedback_and_results_agree(corpus_grades):
    out, rows = corpus_grades
    text = out.read_text()
    assert "student,100" not in text  # the gradebook_write submission did not get through
    for row in rows:
        result = json.loads((out.parent / "results" / row["student_id"] / "results.json").read_text())
        assert str(result["score"]) == row["total"]
        assert str(result["max_score"]) == row["max_total"]
        for test in result["tests"]:
            assert str(test["score"]) == row[test["name"]]
        feedback = (out.parent / "feedback" / f"{row['student_id']}.txt").read_text()
        assert f"Total: {row['total']}/{row['max_total']}" in feedback
    assert not list(out.parent.glob(".grades.csv.*"))  # no temporary file left behind


def test_grade_unchanged_by_hostile_neighbours(tmp_path, corpus_grades):
    _, alone = grade_cli(tmp_path, CORPUS / "correct.ipynb", CORPUS / "partly_wrong.ipynb")
    together = by_submission(without_details(corpus_grades[1]))
    for row in without_details(alone):
        other = together[Path(row["submission"]).stem]
        for key in ("01-one-hot", "01-next-step-pairs", "total", "max_total", "notes"):
            assert row[key] == other[key]


def test_parallel_grading_matches_serial(tmp_path):
    picks = [CORPUS / f"{s}.ipynb" for s in ("correct", "partly_wrong", "os_exit", "sys_exit",
                                            "empty", "unattempted")]
    (tmp_path / "j1").mkdir()
    (tmp_path / "j2").mkdir()
    _, serial = grade_cli(tmp_path / "j1", *picks)
    _, parallel = grade_cli(tmp_path / "j2", *picks, jobs=2)
    assert without_details(serial) == without_details(parallel)


def test_worker_cannot_write_outside_its_folder(tmp_path):
    target = tmp_path / "victim.txt"
    target.write_text("intact")
    source = (f"def one_hot(indices, vocab_size):\n"
              f"    import os\n"
              f"    fd = os.open({str(target)!r}, os.O_WRONLY | os.O_TRUNC)\n"
              f"    return np.zeros((len(indices), vocab_size))\n")
    exercise = submission.Exercise("01-one-hot", "one_hot")
    checks = grader.load_checks()
    result = grader.grade_exercise(exercise, source, checks["01-one-hot"], 5, 512)
    assert result.score == 0
    assert "PermissionError" in result.reason
    assert target.read_text() == "intact"


def test_static_scan_and_safe_names():
    assert "seqlearn" in grader.static_scan("import seqlearn.numpy.rnn as r")
    assert grader.static_scan("def f(x):\n    return x\n") == ""
    assert submission.safe_name("../../etc/passwd") == "_.._etc_passwd"
    assert "/" not in submission.safe_name("a/b")


def test_submission_reading(tmp_path):
    nb = nbformat.read(CORPUS / "correct.ipynb", as_version=4)
    nb.metadata["student_id"] = "../bob"
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    sub = submission.read_submission(path)
    assert sub.student_id == "_bob" and not sub.error
    assert set(sub.cells) == {"01-one-hot", "01-next-step-pairs"}
    sources = submission.load_sources(BOOK)
    assert submission.match_source(sub, sources).path.name == "01_introduction.ipynb"


def test_cli_arguments_and_default_source():
    import argparse

    parser = add_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["a.ipynb", "dir", "--out", "g.csv"])
    assert args.submissions == ["a.ipynb", "dir"]
    assert (args.jobs, args.timeout, args.memory_mb, args.source) == (1, 30.0, 1024, None)
    with pytest.raises(SystemExit):
        parser.parse_args(["a.ipynb"])  # --out is required
    assert default_source_dir().resolve() == BOOK.resolve()
    assert os.path.isdir(default_source_dir())


def _reference_submission(chapter):
    """The chapter's student edition with every stub replaced by its reference solution."""
    from seqlearn.release import student_edition

    nb = nbformat.read(chapter, as_version=4)
    solutions = {c.metadata["exercise_id"]: c.source for c in nb.cells
                 if "solution" in c.metadata.get("tags", [])}
    edition = student_edition(nb, name=str(chapter))
    for cell in edition.cells:
        if "exercise" in cell.metadata.get("tags", []):
            cell.source = solutions[cell.metadata["exercise_id"]]
    return edition


@pytest.mark.parametrize("chapter", sorted(BOOK.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_reference_solutions_get_full_marks_and_the_student_edition_none(tmp_path, chapter):
    from seqlearn.release import student_edition

    folder = tmp_path / "class"
    folder.mkdir()
    nbformat.write(_reference_submission(chapter), folder / "solved.ipynb")
    nbformat.write(student_edition(nbformat.read(chapter, as_version=4)), folder / "untouched.ipynb")
    _, rows = grade_cli(tmp_path, folder)
    row = by_submission(rows)
    assert row["solved"]["total"] == row["solved"]["max_total"], row["solved"]["notes"]
    assert row["untouched"]["total"] == "0", row["untouched"]["notes"]
    assert "not attempted" in row["untouched"]["notes"]


def test_a_solution_may_import_installed_packages_when_graded_as_root(tmp_path):
    source = ("import logging, shutil\nimport scipy.linalg\nimport sklearn\n\n"
              "def one_hot(indices, vocab_size):\n"
              "    codes = np.zeros((len(indices), vocab_size))\n"
              "    codes[np.arange(len(indices)), indices] = 1.0\n"
              "    return codes\n")
    exercise = submission.Exercise("01-one-hot", "one_hot")
    result = grader.grade_exercise(exercise, source, grader.load_checks()["01-one-hot"], 20, 1024)
    assert result.score == result.max_score > 0, result.reason


def test_results_of_every_kind_travel_from_the_worker():
    from seqlearn.grading import sandbox

    value = (np.arange(3.0), {"gate": "forget", "count": 12, "shape": (2, 3), "w": np.eye(2)},
             [1.5, None, True, ...])
    structure, arrays = sandbox.encode_result(value)
    back = sandbox.decode_result(json.loads(json.dumps(structure)), arrays)
    assert np.array_equal(back[0], value[0]) and back[1]["gate"] == "forget"
    assert back[1]["count"] == 12 and back[1]["shape"] == (2, 3)
    assert np.array_equal(back[1]["w"], np.eye(2)) and back[2] == [1.5, None, True, ...]
    with pytest.raises(TypeError):
        sandbox.encode_result({"f": print})


def test_static_scan_reads_code_not_comments():
    assert grader.static_scan("def f(x):\n    # like seqlearn.numpy.rnn\n    return x  # 'seqlearn'\n") == ""
    assert "seqlearn" in grader.static_scan("from seqlearn.numpy import rnn\n")
    assert "whole exercise" in grader.static_scan("def f(q, k, v):\n"
                                                  "    return F.scaled_dot_product_attention(q, k, v)\n",
                                                  forbidden=("scaled_dot_product_attention",))
    assert grader.static_scan("def f(x):\n    grad = 2 * x\n    return grad\n", forbidden=("grad",)) == ""
    assert "whole exercise" in grader.static_scan("from torch.autograd import grad\n", forbidden=("grad",))
