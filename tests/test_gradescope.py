"""``seqlearn gradescope``: the autograder zip, run end to end in a simulated ``/autograder`` tree
for an honest, a wrong and a hostile submission; ``results.json`` is valid for Gradescope."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest

from conftest import ROOT
from seqlearn.grading import gradescope

CORPUS = ROOT / "tests" / "grading_corpus"
BOOK = ROOT / "book"

# Gradescope's documented results format (gradescope-autograders.readthedocs.io, "Autograder
# Specifications"), as a JSON schema: the keys it reads, with their types.
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
RESULTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "score", "max_score"],
            "properties": {
                "score": {"type": "number"}, "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
                "number": {"type": "string"}, "output": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": VISIBILITY, "extra_data": {"type": "object"},
            }}},
        "leaderboard": {"type": "array"},
    },
}


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """The zip for chapter 1, unpacked where Gradescope puts it: /autograder/source."""
    tmp = tmp_path_factory.mktemp("gradescope")
    zip_path = tmp / "autograder.zip"
    out = subprocess.run([sys.executable, "-m", "seqlearn", "gradescope", "01", "--out",
                          str(zip_path)], capture_output=True, text=True, check=True)
    assert "01_introduction.ipynb" in out.stdout
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        zf.extractall(tmp / "autograder" / "source")
    for name in ("setup.sh", "run_autograder"):
        assert modes[name] & 0o111, f"{name} must be executable"
        os.chmod(tmp / "autograder" / "source" / name, 0o755)
    return tmp / "autograder", names


def test_the_zip_holds_what_gradescope_runs(autograder):
    root, names = autograder
    assert {"setup.sh", "run_autograder", "requirements.txt",
            "source_notebooks/01_introduction.ipynb", "seqlearn_src/pyproject.toml",
            "seqlearn_src/seqlearn/grading/grader.py"} <= set(names)
    assert not any("__pycache__" in n for n in names)
    setup = (root / "source" / "setup.sh").read_text()
    assert "bubblewrap" in setup and gradescope.TORCH_INDEX in setup and "torch==" in setup
    pins = (root / "source" / "requirements.txt").read_text().splitlines()
    assert "nbformat==" in "\n".join(pins) and not any(p.startswith("torch==") for p in pins)
    # the student edition: no solution travels to Gradescope
    edition = nbformat.read(root / "source" / "source_notebooks" / "01_introduction.ipynb", 4)
    assert not any("solution" in c.metadata.get("tags", []) for c in edition.cells)


def _run(root, submission, metadata=None):
    """One Gradescope run: the submission alone in /autograder/submission."""
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    (root / "submission").mkdir()
    shutil.copy(submission, root / "submission" / "Chapter1 (3).ipynb")
    if metadata:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), PYTHON=sys.executable,
               PYTHONPATH=str(root / "source" / "seqlearn_src"))
    subprocess.run(["bash", str(root / "source" / "run_autograder")], check=True, env=env,
                   capture_output=True, cwd=root)
    result = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(result, RESULTS_SCHEMA)
    return result


def test_an_honest_a_wrong_and_a_hostile_submission(autograder, tmp_path):
    root, _ = autograder
    honest = _run(root, CORPUS / "correct.ipynb",
                  metadata={"users": [{"name": "Ada Lovelace", "id": 4242, "email": "ada@x.org"}]})
    scores = {t["name"]: (t["score"], t["max_score"]) for t in honest["tests"]}
    assert scores["01-one-hot"] == (4, 4) and scores["01-next-step-pairs"] == (6, 6)
    assert honest["score"] == 10
    assert honest["extra_data"]["student_id"] == "4242"
    assert honest["extra_data"]["name"] == "Ada Lovelace"
    assert honest["extra_data"]["submissions"][0]["file"] == "Chapter1 (3).ipynb"

    wrong = _run(root, CORPUS / "partly_wrong.ipynb")
    tests = {t["name"]: t for t in wrong["tests"]}
    assert tests["01-next-step-pairs"]["score"] == 3
    assert tests["01-next-step-pairs"]["output"].startswith("Reason: 3 of 6 points lost; first: case 1/3")

    hostile = _run(root, CORPUS / "ctypes_escape.ipynb")
    tests = {t["name"]: t for t in hostile["tests"]}
    assert tests["01-one-hot"]["score"] == 0 and "open from C failed" in tests["01-one-hot"]["output"]
    assert not Path("/var/tmp/seqlearn-corpus-ctypes.txt").exists()


def test_no_notebook_in_the_submission_scores_zero_with_a_reason(autograder, tmp_path):
    root, _ = autograder
    (tmp_path / "answer.txt").write_text("see attached")
    shutil.rmtree(root / "submission", ignore_errors=True)
    (root / "submission").mkdir()
    shutil.copy(tmp_path / "answer.txt", root / "submission" / "answer.txt")
    result = gradescope.run_autograder(root)
    jsonschema.validate(result, RESULTS_SCHEMA)
    assert result["score"] == 0 and "No notebook (.ipynb)" in result["output"]


def test_unknown_chapters_are_refused_by_name(tmp_path):
    out = subprocess.run([sys.executable, "-m", "seqlearn", "gradescope", "42", "--out",
                          str(tmp_path / "a.zip")], capture_output=True, text=True)
    assert out.returncode == 2 and "chapter '42'" in out.stderr and "01_introduction" in out.stderr
