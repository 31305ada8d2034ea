"""``seqlearn grade``: hostile and broken submissions (tests/grading_corpus/) each end in a row
with a score and a reason, without disturbing anyone else's grade or the gradebook; the student
of every row is named; helper cells count as they did in the notebook; an error raised in a check
case is flagged, a wrong answer is not; the sandbox holds as root and as an ordinary user, over the
whole corpus."""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from conftest import BOOK_NOTEBOOKS, ROOT
from seqlearn.grading import grader, isolation, roster, submission
from seqlearn.grading.cli import add_arguments, default_source_dir

CORPUS = ROOT / "tests" / "grading_corpus"
BOOK = ROOT / "book"
TIMEOUT = "3"  # seconds per exercise; only the infinite loop and the sleeper use it up
SANDBOX, WHY_NOT = isolation.bwrap_status()

# The corpus answers chapter 1's first two exercises (4 and 6 points); its other exercises are
# missing from every corpus notebook, which costs their points with a note and flags the row.
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
    "renamed_cell": (0, 6, "exercise cell '01-one-hot' not found"),
    "deleted_cell": (0, 6, "exercise cell '01-one-hot' not found"),
    "duplicated_cell": (4, 6, "appears more than once; the first was graded"),
}
# Outcomes that differ between the two isolations. In the sandbox the gradebook-writing cell finds
# no gradebook to write (it writes a file of its own scratch folder, harmlessly, and its answer is
# right); without it, the audit hook refuses the write.
GRADEBOOK_WRITE = {True: (4, 6, "exercise cell '01-batch-shapes' not found"),
                   False: (0, 6, "PermissionError: the grading sandbox does not allow writing")}
# The hostile corpus that only the sandbox holds against (C calls bypass the audit hook; a fork
# bomb as root is not limited by RLIMIT_NPROC): graded only under Bubblewrap.
SANDBOX_ONLY = {
    "read_other_submission": (0, 6, "FileNotFoundError: no submission visible from the sandbox"),
    "read_gradebook": (0, 6, "FileNotFoundError: no gradebook visible from the sandbox"),
    "rename_out": (0, 6, "does not allow os.rename"),
    "socket_connect": (0, 6, "does not allow socket.connect"),
    "dns_lookup": (0, 6, "gaierror"),
    "spawn_process": (0, 6, "does not allow subprocess.Popen"),
    "ctypes_escape": (0, 6, "open from C failed"),
    "fork_bomb": (0, 6, "fork from C failed"),
    "fill_disk": (0, 6, ("No space left on device", "File too large")),
    "sleep_past_timeout": (0, 6, "timed out"),
    # the worker changes its own copy of the inputs: the check's stay as drawn, and the answer
    # (one-hot codes of the changed symbols) is wrong
    "shared_memory": (0, 6, "one_hot rows: off by"),
}
#: Files the hostile corpus tries to create outside the sandbox.
ESCAPES = [Path("/var/tmp/seqlearn-corpus-escaped.txt"), Path("/var/tmp/seqlearn-corpus-ctypes.txt")]
INVALID = {
    "corrupt_json": "the notebook file is corrupt",
    "empty": "the notebook file is empty",
    "notes": "not a notebook (notes.txt)",
    "solution": "not a notebook (solution.py)",
}


def grade_cli(tmp, *paths, jobs=1, sandbox=True, extra=(), user=None, python=sys.executable):
    """Grade through the command line in a separate process (its argv names the gradebook)."""
    out = Path(tmp) / "grades.csv"
    command = [python, "-m", "seqlearn.grading.cli", *map(str, paths), "--out", str(out),
               "--timeout", TIMEOUT, "--jobs", str(jobs), "--source", str(BOOK), *extra]
    if not sandbox:
        command.append("--no-sandbox")
    if user is not None:
        command = ["setpriv", "--reuid", str(user), "--regid", str(user), "--clear-groups",
                   "env", f"HOME={tmp}", *command]
    subprocess.run(command, check=True, capture_output=True, cwd=tmp)
    with open(out, newline="") as f:
        return out, list(csv.DictReader(f))


def corpus_files(sandbox):
    """The corpus that each isolation is graded on (see SANDBOX_ONLY)."""
    hostile = {f"{stem}.ipynb" for stem in SANDBOX_ONLY}
    return [p for p in sorted(CORPUS.iterdir()) if sandbox or p.name not in hostile]


def expected(sandbox):
    table = dict(EXPECTED, gradebook_write=GRADEBOOK_WRITE[sandbox])
    return dict(table, **SANDBOX_ONLY) if sandbox else table


@pytest.fixture(scope="module")
def corpus_grades(tmp_path_factory):
    """The corpus graded as the command does by default: under Bubblewrap."""
    assert SANDBOX, f"the grading sandbox is not available on this machine: {WHY_NOT}"
    for path in ESCAPES:
        path.unlink(missing_ok=True)
    tmp = tmp_path_factory.mktemp("grades")
    folder = tmp / "class"
    folder.mkdir()
    for path in corpus_files(True):
        shutil.copy(path, folder / path.name)
    return grade_cli(tmp, folder, jobs=2)


@pytest.fixture(scope="module")
def corpus_grades_without_sandbox(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grades-no-sandbox")
    return grade_cli(tmp, *corpus_files(False), sandbox=False, jobs=2)


def without_details(rows):
    """Rows with the random-input details of failing cases cut from the notes."""
    import re

    return [dict(r, notes=re.sub(r"; first: [^|]*", "", r["notes"])) for r in rows]


def by_submission(rows):
    return {Path(r["submission"]).stem: r for r in rows}


@pytest.mark.parametrize("sandbox", [True, False], ids=["bwrap", "no-sandbox"])
def test_every_file_gets_exactly_one_row(request, sandbox):
    _, rows = request.getfixturevalue("corpus_grades" if sandbox else "corpus_grades_without_sandbox")
    files = sorted(p.stem for p in corpus_files(sandbox))
    assert sorted(Path(r["submission"]).stem for r in rows) == files
    assert set(files) == set(expected(sandbox)) | set(INVALID)


def assert_corpus_outcomes(rows, sandbox):
    """Every file of the corpus graded under that isolation has one row, and each row the scores,
    status and reason that ``expected`` and ``INVALID`` give it."""
    rows = by_submission(rows)
    assert sorted(rows) == sorted(p.stem for p in corpus_files(sandbox))
    for stem, (one_hot, pairs, reason) in expected(sandbox).items():
        row = rows[stem]
        assert (row["01-one-hot"], row["01-next-step-pairs"]) == (str(one_hot), str(pairs)), row
        assert row["total"] == str(one_hot + pairs) and row["max_total"] == str(MAX_TOTAL)
        # every corpus notebook lacks exercises 3-5: a missing cell is for a person to look at
        assert row["status"] == "review", row
        reasons = reason if isinstance(reason, tuple) else (reason,)
        assert any(r in row["notes"] for r in reasons), (stem, row["notes"])
        if one_hot + pairs < MAX_TOTAL:
            assert row["notes"], "a lost point must come with a reason"
    for stem, reason in INVALID.items():
        assert rows[stem]["status"] == "invalid" and rows[stem]["total"] == "0", rows[stem]
        assert reason in rows[stem]["notes"], rows[stem]["notes"]


@pytest.mark.parametrize("sandbox", [True, False], ids=["bwrap", "no-sandbox"])
def test_scores_and_reasons(request, sandbox):
    _, rows = request.getfixturevalue("corpus_grades" if sandbox else "corpus_grades_without_sandbox")
    assert_corpus_outcomes(rows, sandbox)


def test_the_hostile_corpus_leaves_nothing_outside_the_sandbox(corpus_grades):
    out, rows = corpus_grades
    for path in ESCAPES:
        assert not path.exists(), f"{path} was written from inside the sandbox"
    assert "student,100" not in out.read_text()


@pytest.mark.parametrize("stem", sorted(INVALID))
def test_invalid_files_score_zero_with_a_reason(corpus_grades, stem):
    row = by_submission(corpus_grades[1])[stem]
    assert row["status"] == "invalid" and row["total"] == "0"
    assert INVALID[stem] in row["notes"]


def test_student_id_from_metadata(corpus_grades):
    rows = by_submission(corpus_grades[1])
    assert rows["correct"]["student_id"] == "alice"
    assert rows["correct"]["identified_by"] == "metadata"
    assert rows["partly_wrong"]["student_id"] == "partly_wrong"
    assert rows["partly_wrong"]["identified_by"] == "file name"


def _reports(out, row):
    """The feedback text and the results.json of a gradebook row (found by its submission)."""
    folder = out.parent / "feedback" / row["student_id"]
    for feedback in folder.glob("*.txt"):
        text = feedback.read_text()
        if f"Submission: {row['submission']} " in text:
            result = out.parent / "results" / row["student_id"] / feedback.stem / "results.json"
            return text, json.loads(result.read_text())
    raise AssertionError(f"no feedback file names {row['submission']}")


def test_gradebook_feedback_and_results_agree(corpus_grades):
    out, rows = corpus_grades
    text = out.read_text()
    assert "student,100" not in text  # the gradebook_write submission did not get through
    for row in rows:
        feedback, result = _reports(out, row)
        assert str(result["score"]) == row["total"]
        assert str(result["max_score"]) == row["max_total"]
        assert result["extra_data"]["submission"] == row["submission"]
        assert result["extra_data"]["student_id"] == row["student_id"]
        for test in result["tests"]:
            assert str(test["score"]) == row[test["name"]]
        assert f"Student: {row['student_id']}" in feedback
        assert f"Total: {row['total']}/{row['max_total']}" in feedback
    assert not list(out.parent.glob(".grades.csv.*"))  # no temporary file left behind


def test_feedback_says_the_reason_and_the_hint_once(corpus_grades):
    out, rows = corpus_grades
    feedback, _ = _reports(out, by_submission(rows)["partly_wrong"])
    section = feedback.split("== 01-next-step-pairs")[1].split("==")[0]
    reason = [x for x in section.splitlines() if "Reason:" in x][0]
    first_case = reason.split("; first: ")[1]
    assert first_case.startswith("case 1/3") and first_case.endswith(")")  # whole, not cut
    assert section.count(first_case) == 1 and section.count("hint:") == 1


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


@pytest.mark.parametrize("isolate", [True, False], ids=["bwrap", "no-sandbox"])
def test_worker_cannot_write_outside_its_folder(tmp_path, isolate):
    target = tmp_path / "victim.txt"
    target.write_text("intact")
    source = (f"def one_hot(indices, vocab_size):\n"
              f"    import os\n"
              f"    fd = os.open({str(target)!r}, os.O_WRONLY | os.O_TRUNC)\n"
              f"    return np.zeros((len(indices), vocab_size))\n")
    exercise = submission.Exercise("01-one-hot", "one_hot")
    checks = grader.load_checks()
    result = grader.grade_exercise(exercise, source, checks["01-one-hot"], 5, 512, isolate=isolate)
    assert result.score == 0
    # in the sandbox the file is not even there to be refused
    assert "PermissionError" in result.reason or (isolate and "FileNotFoundError" in result.reason)
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
    assert (args.roster, args.keep, args.no_sandbox) == (None, "latest", False)
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


@pytest.mark.parametrize("chapter", BOOK_NOTEBOOKS, ids=lambda p: p.stem)
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
    assert row["solved"]["status"] == row["untouched"]["status"] == "ok"
    assert "not attempted" in row["untouched"]["notes"]


HONEST_IMPORTS = ("import logging, shutil\nimport scipy.linalg\nimport sklearn\nimport torch\n\n"
                  "def one_hot(indices, vocab_size):\n"
                  "    x = torch.ones(2, requires_grad=True)\n"
                  "    (x * x).sum().backward()          # autograd works in the worker\n"
                  "    assert float(x.grad.sum()) == 4.0\n"
                  "    codes = np.zeros((len(indices), vocab_size))\n"
                  "    codes[np.arange(len(indices)), indices] = 1.0\n"
                  "    return scipy.linalg.block_diag(codes)\n")


@pytest.mark.parametrize("isolate", [True, False], ids=["bwrap", "no-sandbox"])
def test_a_solution_may_import_installed_packages(isolate):
    exercise = submission.Exercise("01-one-hot", "one_hot")
    result = grader.grade_exercise(exercise, HONEST_IMPORTS, grader.load_checks()["01-one-hot"],
                                   20, 1024, isolate=isolate)
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


# --- who submitted what, and grades that match the notebook ----------------------------------

CHAPTER_1 = BOOK / "01_introduction.ipynb"


def _set_exercise(nb, exercise_id, source):
    for cell in nb.cells:
        if "exercise" in cell.metadata.get("tags", []) and cell.metadata.get("exercise_id") == exercise_id:
            cell.source = source
            return cell
    raise AssertionError(exercise_id)


def _write(nb, path, mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


WRONG_ONE_HOT = "def one_hot(indices, vocab_size):\n    return np.zeros((len(indices), vocab_size))\n"


def test_a_class_in_one_folder_per_student_with_a_roster_and_resubmissions(tmp_path):
    solved = _reference_submission(CHAPTER_1)
    wrong = _reference_submission(CHAPTER_1)
    _set_exercise(wrong, "01-one-hot", WRONG_ONE_HOT)
    folder = tmp_path / "class"
    _write(solved, folder / "ada" / "01_introduction.ipynb", mtime=1_700_000_000)
    _write(wrong, folder / "ada" / "01_introduction (resubmitted).ipynb", mtime=1_700_000_600)
    _write(solved, folder / "bob" / "intro.ipynb")
    _write(wrong, folder / "smith_c_intro.ipynb")
    (tmp_path / "roster.csv").write_text("id,name,folder\nb42,Bob Berg,bob\ns7,Cy Smith,*smith_c*\n")
    full = int(by_submission(grade_cli(tmp_path, folder / "bob")[1])["intro"]["max_total"])

    for keep, counted_ada in (("latest", "01_introduction (resubmitted)"), ("best", "01_introduction")):
        out, rows = grade_cli(tmp_path, folder, extra=("--roster", "roster.csv", "--keep", keep))
        rows = by_submission(rows)
        assert {r["student_id"] for r in rows.values()} == {"ada", "b42", "s7"}
        assert rows["intro"]["name"] == "Bob Berg" and rows["intro"]["identified_by"] == "roster"
        assert rows["smith_c_intro"]["identified_by"] == "roster"
        assert rows["01_introduction"]["identified_by"] == "folder"
        assert rows["01_introduction"]["submission"] == "ada/01_introduction.ipynb"
        assert rows["01_introduction"]["modified"].startswith("2023-11-14T22:13:20")
        for stem, row in rows.items():
            assert row["counted"] == ("yes" if stem != "01_introduction (resubmitted)" and stem != "01_introduction"
                                      or stem == counted_ada else f"no (superseded by ada/{counted_ada}.ipynb)")
        with open(out.parent / "students.csv", newline="") as f:
            totals = {r["student_id"]: r for r in csv.DictReader(f)}
        assert totals["b42"]["total"] == str(full) and totals["b42"]["name"] == "Bob Berg"
        assert totals["ada"]["total"] == rows[counted_ada]["total"]
        assert totals["s7"]["max_total"] == str(full)

    out, rows = grade_cli(tmp_path, folder, extra=("--keep", "all"))
    assert all(r["counted"] == "yes" for r in rows)
    assert {r["student_id"] for r in rows} == {"ada", "bob", "smith_c_intro"}


def test_helper_cells_and_comments_are_graded_as_the_notebook_ran_them(tmp_path):
    nb = _reference_submission(CHAPTER_1)
    cell = _set_exercise(nb, "01-one-hot",
                         "def one_hot(indices, vocab_size):\n"
                         "    # the same as seqlearn.numpy.softmax's one-hot trick, \"seqlearn\" aside\n"
                         "    return SCALE * rows_of_identity(indices, vocab_size)\n")
    helper = nbformat.v4.new_code_cell(
        "import numpy as numpy_alias\n\nSCALE = 1.0\n\n"
        "def rows_of_identity(indices, size):\n"
        "    return numpy_alias.eye(size)[indices]\n\n"
        "raise RuntimeError('a statement the grader must not run')\n")
    nb.cells.insert(nb.cells.index(cell), helper)
    _, rows = grade_cli(tmp_path, _write(nb, tmp_path / "class" / "helper.ipynb"))
    row = rows[0]
    assert row["total"] == row["max_total"], row["notes"]
    assert row["status"] == "ok"


HELPER_WITH_CALLS = ("import os\n\n"
                     "SCALE = np.sqrt(2)\n"
                     "SCALE *= SCALE                        # 2.0000000000000004\n"
                     "def scaled_rows(indices, size):\n"
                     "    codes = np.eye(size)[indices]\n"
                     "    return codes * SCALE\n\n"
                     "codes = os._exit(3)  # the exercise reads no global `codes`: never run\n")
SCALED_ONE_HOT = ("def one_hot(indices, vocab_size):\n"
                  "    codes = scaled_rows(indices, vocab_size)\n"
                  "    return codes / SCALE\n")


def test_a_helper_cell_with_calls_is_graded_as_the_notebook_ran_it(tmp_path):
    import contextlib
    import io

    nb = _reference_submission(CHAPTER_1)
    cell = _set_exercise(nb, "01-one-hot", SCALED_ONE_HOT)
    nb.cells.insert(nb.cells.index(cell), nbformat.v4.new_code_cell(HELPER_WITH_CALLS))
    # Top to bottom, as the notebook runs: the helper cell (but the line that would end the
    # kernel), the exercise cell, then its check.
    namespace = {"np": np}
    exec(HELPER_WITH_CALLS.replace("codes = os._exit(3)", "codes = None"), namespace)
    exec(SCALED_ONE_HOT, namespace)
    with contextlib.redirect_stdout(io.StringIO()):
        in_notebook = grader.load_checks()["01-one-hot"](namespace["one_hot"])
    assert in_notebook.score == in_notebook.max_score == 4
    assert SANDBOX, WHY_NOT
    _, rows = grade_cli(tmp_path, _write(nb, tmp_path / "class" / "helper_calls.ipynb"))
    row = rows[0]
    assert row["01-one-hot"] == str(in_notebook.score), row["notes"]
    assert row["total"] == row["max_total"] and row["status"] == "ok", row["notes"]


def test_which_definitions_run_before_an_exercise():
    C = nbformat.v4.new_code_cell
    course = "N = 3\nsteps = train(N)\n"
    nb = nbformat.v4.new_notebook(cells=[
        C("import numpy as np\nimport seqlearn.numpy as snp"),
        C(course),
        C("W = np.ones(N); unused = np.random.rand(10**9)\nW += 1\nd = {}\nd['k'] = W.sum()\n"
          "x = np.zeros(N)\n"),
        C("def f(x):\n    return x", metadata={"tags": ["exercise"], "exercise_id": "e0"}),
        C("def g(x):\n    return x + W + d['k'] + steps + snp.tanh(x)", metadata={
            "tags": ["exercise"], "exercise_id": "e"}),
    ])
    cell = nb.cells[-1].source
    chosen = submission.context_before(nb, "e", frozenset({course.strip()}), cell)
    # Not run: the course's `steps = train(N)` (a call in a course cell), the student's `unused`
    # (not read), the import of seqlearn, and the student's `x = np.zeros(N)`: the function's
    # `x` is its own argument. `W += 1` and `d['k'] = ...` build on the earlier W and d.
    assert chosen == [("import numpy as np", True), ("N = 3", False),
                      ("W = np.ones(N)", True), ("W += 1", True), ("d = {}", True),
                      ("d['k'] = W.sum()", True)]


def test_a_score_that_differs_from_the_notebooks_own_check_is_flagged(tmp_path):
    nb = _reference_submission(CHAPTER_1)
    _set_exercise(nb, "01-one-hot", WRONG_ONE_HOT)
    for cell in nb.cells:
        if "check" in cell.metadata.get("tags", []) and cell.metadata["exercise_id"] == "01-one-hot":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                   text="Exercise 1\nScore: 4/4\n")]
    _, rows = grade_cli(tmp_path, _write(nb, tmp_path / "class" / "edited.ipynb"))
    assert rows[0]["status"] == "review"
    assert "the notebook shows 4/4 from its own check, the grader gives 0/4" in rows[0]["notes"]


RAISING_ONE_HOT = ("def one_hot(indices, vocab_size):\n"
                   "    if vocab_size > 4:\n"
                   "        raise ValueError('vocabulary too large for this table')\n"
                   "    codes = np.zeros((len(indices), vocab_size))\n"
                   "    codes[np.arange(len(indices)), indices] = 1.0\n"
                   "    return codes\n")


def test_an_error_in_a_check_case_is_flagged_and_a_wrong_answer_is_not(tmp_path):
    for stem, source in (("raises", RAISING_ONE_HOT), ("wrong", WRONG_ONE_HOT)):
        nb = _reference_submission(CHAPTER_1)
        _set_exercise(nb, "01-one-hot", source)
        _write(nb, tmp_path / "class" / f"{stem}.ipynb")
    _, rows = grade_cli(tmp_path, tmp_path / "class")
    rows = by_submission(rows)
    # cases 2 and 3 have 5 and 7 symbols: the function raises there and is right elsewhere
    assert rows["raises"]["01-one-hot"] == "2", rows["raises"]["notes"]
    assert rows["raises"]["status"] == "review", rows["raises"]["notes"]
    assert ("01-one-hot: the function raised ValueError in 2 check case(s)"
            in rows["raises"]["notes"])
    assert rows["wrong"]["01-one-hot"] == "0" and rows["wrong"]["status"] == "ok", rows["wrong"]
    assert grader.raised_in(["case 1/2 (x(3,)): off by up to 1", "hint: raised by one"]) == ""
    assert (grader.raised_in(["raised KeyError: 'lr'"])
            == "the function raised KeyError in 1 check case(s)")
    assert grader.raised_in(["case 1/6 (): raised _NotBoolean: the mask"], {"KeyError"}) == ""


def test_an_answer_of_the_wrong_kind_is_not_flagged_as_an_error():
    checks = grader.load_checks()
    # The causal-mask check itself raises on a 0/1 float mask: a wrong answer, not an error.
    float_mask = "def make_causal_mask(Tq, Tk):\n    return np.tril(np.ones((Tq, Tk)), Tk - Tq)\n"
    result = grader.grade_exercise(submission.Exercise("08-causal-mask", "make_causal_mask"),
                                   float_mask, checks["08-causal-mask"], 10, 1024)
    assert result.score == 0 and any("raised _NotBoolean" in x for x in result.lines), result
    assert result.flag == "", result.flag
    # A result the worker cannot send back (not numbers) is a wrong answer too.
    unsendable = "def one_hot(indices, vocab_size):\n    return {0: indices}\n"
    result = grader.grade_exercise(submission.Exercise("01-one-hot", "one_hot"), unsendable,
                                   checks["01-one-hot"], 10, 1024)
    assert result.score == 0 and result.flag == "", (result.reason, result.flag)


def test_without_bubblewrap_grading_refuses_unless_told(tmp_path):
    path = CORPUS / "correct.ipynb"
    env = dict(os.environ, PATH=str(tmp_path))   # no bwrap on this PATH
    command = [sys.executable, "-m", "seqlearn.grading.cli", str(path), "--out", "g.csv",
               "--source", str(BOOK)]
    refused = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert refused.returncode == 2 and "--no-sandbox" in refused.stderr
    assert "bubblewrap is not installed" in refused.stderr
    assert not (tmp_path / "g.csv").exists()
    allowed = subprocess.run(command + ["--no-sandbox"], capture_output=True, text=True,
                             cwd=tmp_path, env=env)
    assert allowed.returncode == 0 and "--no-sandbox" in allowed.stderr
    assert (tmp_path / "g.csv").exists()


def _python_for_an_ordinary_user(folder, uid):
    """An interpreter that user ``uid`` can run, seeing this environment's packages: this one
    when the user can read it, else a venv of the system's Python of the same version whose
    .pth files point at this environment (an installation in a root-only folder such as /root)."""
    probe = ["setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups", "env"]
    if subprocess.run(probe + [sys.executable, "-c", "import numpy, seqlearn"],
                      capture_output=True).returncode == 0:
        return sys.executable
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    assert system.exists(), (f"this environment is unreadable by an ordinary user and there is no "
                             f"{system} to build one from")
    venv = folder / "user-venv"
    subprocess.run([str(system), "-m", "venv", "--without-pip", str(venv)], check=True)
    site_packages = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    paths = [p for p in sys.path if p.endswith("site-packages")] + [isolation.package_parent()]
    (site_packages / "course.pth").write_text("\n".join(paths) + "\n")
    subprocess.run(["chmod", "-R", "a+rX", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    assert subprocess.run(probe + [python, "-c", "import numpy, seqlearn"]).returncode == 0, (
        "an ordinary user cannot import this environment's packages (are they readable?)")
    return python


@pytest.fixture(scope="module")
def corpus_grades_as_an_ordinary_user():
    """The whole corpus that the root run grades (``corpus_files(True)``), and an honest
    submission importing installed packages, graded under Bubblewrap by user ``nobody``."""
    assert SANDBOX, WHY_NOT
    nobody = 65534
    # pytest's own temporary folders are private to root; this one an ordinary user can enter
    folder = Path(tempfile.mkdtemp(prefix="seqlearn-user-grading-", dir="/var/tmp"))
    try:
        os.chmod(folder, 0o755)
        python = _python_for_an_ordinary_user(folder, nobody)
        work = folder / "grading"
        (work / "class").mkdir(parents=True)
        for path in corpus_files(True):
            shutil.copy(path, work / "class" / path.name)
        honest = nbformat.read(CORPUS / "correct.ipynb", as_version=4)
        _set_exercise(honest, "01-one-hot", HONEST_IMPORTS)
        nbformat.write(honest, work / "class" / "honest_imports.ipynb")
        subprocess.run(["chown", "-R", f"{nobody}:{nobody}", str(work)], check=True)
        for path in ESCAPES:
            path.unlink(missing_ok=True)
        yield grade_cli(work, work / "class", jobs=2, user=nobody, python=python)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_sandbox_holds_for_an_ordinary_user(corpus_grades_as_an_ordinary_user):
    out, rows = corpus_grades_as_an_ordinary_user
    honest = by_submission(rows).pop("honest_imports")
    assert_corpus_outcomes([r for r in rows if r is not honest], sandbox=True)
    assert honest["01-one-hot"] == "4", honest["notes"]
    for path in ESCAPES:
        assert not path.exists(), f"{path} was written from inside the sandbox"
    assert "student,100" not in out.read_text()


def test_the_grading_benchmark_says_what_it_grades(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_grading",
                                                  ROOT / "benchmarks" / "bench_grading.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    chapter = nbformat.read(CHAPTER_1, as_version=4)
    stubs = [c for c in chapter.cells if "exercise" in c.metadata.get("tags", [])]
    bench.make_submissions(tmp_path, 3)
    made = nbformat.read(tmp_path / "s000.ipynb", as_version=4)
    exercises = [c for c in made.cells if "exercise" in c.metadata.get("tags", [])]
    answered = sum(c.source != s.source for c, s in zip(exercises, stubs))
    assert len(exercises) == len(stubs) > 2 and answered == 2
    message = bench.describe_run(100, 2.0)
    assert (f"({len(stubs)} exercises each: 2 answered, {len(stubs) - 2} left as stubs"
            in message), message
    assert "2 of them infinite loops" in message


def test_roster_errors_name_the_file_and_the_problem(tmp_path):
    bad = tmp_path / "roster.csv"
    bad.write_text("student,folder\nada,ada\n")
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['id'\]"):
        roster.read_roster(bad)
    bad.write_text("id,name,folder\nada,Ada,ada\nada,Ada again,ada2\n")
    with pytest.raises(ValueError, match="repeats the id 'ada'"):
        roster.read_roster(bad)
    with pytest.raises(ValueError, match="keep: expected one of latest, best, all"):
        roster.choose([], keep="first")
    assert roster.identify("ada/x.ipynb").how == "folder"
    assert roster.identify("x.ipynb", metadata_id="42").student_id == "42"
    assert roster.identify("x.ipynb").student_id == "x"


def test_the_process_filter_is_a_valid_program():
    program = isolation.no_new_processes_filter("x86_64")
    assert len(program) % 8 == 0 and len(program) // 8 < 32
    assert isolation.no_new_processes_filter("sparc") is None


@pytest.mark.parametrize("isolated, status", [(True, 128 + 24), (False, -24)],
                         ids=["bwrap", "no-sandbox"])
def test_a_worker_stopped_by_the_cpu_limit_is_reported_as_such(isolated, status):
    # Bubblewrap reports its child's SIGXCPU (24) as exit status 152; a plain child as -24.
    class Stopped:
        def wait(self, timeout=None):
            return status

    worker = object.__new__(grader.Worker)
    worker.proc, worker.isolated, worker.timeout = Stopped(), isolated, 5
    assert worker._death_reason() == "exceeded the CPU time limit (5 s)"
    worker.proc.wait = lambda timeout=None: 3
    assert worker._death_reason().startswith("the worker exited with code 3")
