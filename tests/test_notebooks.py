"""Conventions every notebook follows (CONTRIBUTING.md): the shared setup cell, no stored outputs,
exercises in the stub / solution / check format with unique ids, citations that resolve.
nbval runs the notebooks themselves (see the Makefile's test target)."""

import importlib
import re
import subprocess
import sys

import pytest

from seqlearn.checks import CHECKS
from seqlearn.notebook import SETUP_CELL

from conftest import ALL_NOTEBOOKS, BOOK_NOTEBOOKS, ROOT, cell_source, load_notebook

NOTEBOOK_IDS = [str(p.relative_to(ROOT)) for p in ALL_NOTEBOOKS]
CHAPTER_IDS = [str(p.relative_to(ROOT)) for p in BOOK_NOTEBOOKS]


def exercise_cells(nb):
    """(tag, exercise_id, index) for every cell tagged exercise, solution or check."""
    found = []
    for index, cell in enumerate(nb["cells"]):
        tags = set(cell.get("metadata", {}).get("tags", []))
        for tag in ("exercise", "solution", "check"):
            if tag in tags:
                found.append((tag, cell["metadata"].get("exercise_id"), index))
    return found


def test_there_are_chapters_and_lectures():
    assert len(BOOK_NOTEBOOKS) >= 4
    assert {p.name[:2] for p in ALL_NOTEBOOKS if p.parent.name == "lectures"} >= {"02", "03", "04"}


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_first_code_cell_is_the_shared_setup_cell(path):
    nb = load_notebook(path)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert cell_source(code[0]) == SETUP_CELL
    assert nb["cells"][0]["cell_type"] == "markdown"
    assert cell_source(nb["cells"][0]).startswith("# ")


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_stored_without_outputs(path):
    for cell in load_notebook(path)["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_never_installs_seqlearn_from_pypi(path):
    cells = load_notebook(path)["cells"]
    source = "\n".join(cell_source(c) for c in cells if c["cell_type"] == "code")
    assert not re.search(r"pip install[^\n]*\bseqlearn\b(?!\s*@)", source)


@pytest.mark.parametrize("path", BOOK_NOTEBOOKS, ids=CHAPTER_IDS)
def test_exercises_are_stub_solution_check_triples(path):
    nb = load_notebook(path)
    cells = exercise_cells(nb)
    triples = [cells[i:i + 3] for i in range(0, len(cells), 3)]
    assert len(triples) >= 4, "every chapter has at least four checked exercises"
    prefix = path.name[:2]
    for triple in triples:
        assert [t[0] for t in triple] == ["exercise", "solution", "check"], triple
        ids = {t[1] for t in triple}
        assert len(ids) == 1 and None not in ids, triple
        assert [t[2] for t in triple] == list(range(triple[0][2], triple[0][2] + 3)), "consecutive cells"
        exercise_id = triple[0][1]
        assert exercise_id.startswith(prefix + "-"), exercise_id
        stub, solution, check = (nb["cells"][t[2]] for t in triple)
        assert "raise NotImplementedError" in cell_source(stub)
        assert "NotImplementedError" not in cell_source(solution)
        assert "hide-input" in solution["metadata"]["tags"]


def test_exercise_ids_are_unique_and_each_has_a_registered_check():
    seen = {}
    for path in BOOK_NOTEBOOKS:
        nb = load_notebook(path)
        for tag, exercise_id, _ in exercise_cells(nb):
            if tag == "exercise":
                assert exercise_id not in seen, f"{exercise_id} in {path.name} and {seen.get(exercise_id)}"
                seen[exercise_id] = path.name
    for module in (ROOT / "seqlearn" / "checks").glob("*.py"):
        if module.stem not in ("__init__", "core"):
            importlib.import_module(f"seqlearn.checks.{module.stem}")
    missing = sorted(set(seen) - set(CHECKS))
    assert not missing, f"exercises without a registered check: {missing}"


@pytest.mark.parametrize("path", BOOK_NOTEBOOKS, ids=CHAPTER_IDS)
def test_chapter_is_in_the_table_of_contents(path):
    toc = (ROOT / "_toc.yml").read_text()
    assert f"file: book/{path.stem}" in toc


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_every_citation_is_in_the_bibliography(path):
    keys = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "references.bib").read_text(), re.M))
    text = "\n".join(cell_source(c) for c in load_notebook(path)["cells"] if c["cell_type"] == "markdown")
    cited = set()
    for group in re.findall(r"\{foot(?:cite|cite:p|cite:t)\}`([^`]+)`", text):
        cited.update(k.strip() for k in group.split(","))
    assert cited <= keys, f"unknown keys: {sorted(cited - keys)}"
    if cited:
        assert "{footbibliography}" in text, "cites without a References section"


def _load_all_checks():
    for module in (ROOT / "seqlearn" / "checks").glob("*.py"):
        if module.stem not in ("__init__", "core"):
            importlib.import_module(f"seqlearn.checks.{module.stem}")


@pytest.mark.parametrize("path", BOOK_NOTEBOOKS, ids=CHAPTER_IDS)
def test_every_chapter_has_exercises_of_the_three_kinds(path):
    from seqlearn.checks.core import EXERCISES, KINDS

    _load_all_checks()
    ids = [eid for tag, eid, _ in exercise_cells(load_notebook(path)) if tag == "exercise"]
    for eid in ids:
        info = EXERCISES[eid]
        assert info.summary and isinstance(info.points, int) and info.points > 0, eid
    kinds = {EXERCISES[eid].kind for eid in ids}
    assert kinds == set(KINDS), f"{path.name} has exercises of the kinds {sorted(kinds)} only"


@pytest.mark.parametrize("path", BOOK_NOTEBOOKS, ids=CHAPTER_IDS)
def test_no_answer_is_shown_before_its_question(path):
    """No cell before an exercise displays the source of a function of the exercise's name."""
    cells = load_notebook(path)["cells"]
    for index, cell in enumerate(cells):
        if "exercise" not in cell["metadata"].get("tags", []):
            continue
        name = re.search(r"^def (\w+)\(", cell_source(cell), re.M).group(1)
        for before in cells[:index]:
            shown = re.findall(r"show_source\(([^)]*)\)", cell_source(before))
            assert not any(re.search(rf"\b{name}\b", args) for args in shown), (
                f"{path.name}: the source of {name} is displayed before exercise "
                f"{cell['metadata']['exercise_id']}")


def test_the_instructor_page_lists_every_exercise():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "exercise_table.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
