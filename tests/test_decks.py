"""The lecture decks are decks an instructor can teach from: one per chapter, 25–45 slides,
speaker notes on at least two thirds of them, in-class questions whose answers come on a later
fragment, a summary and references, and no setup code on a slide.

A *slide* starts at a cell whose slide type is ``slide`` or ``subslide``; the cells after it
(``fragment``, ``-``, ``notes``) belong to it until the next one. ``skip`` cells are not shown."""

import re

import pytest

from conftest import BOOK_NOTEBOOKS, LECTURE_NOTEBOOKS, ROOT, cell_source, load_notebook

SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}
MIN_SLIDES, MAX_SLIDES = 25, 45
NOTES_SHARE = 2 / 3
SETUP = re.compile(r"^\s*(import |from \S+ import |%pip |!pip |%matplotlib )", re.M)
QUESTION = re.compile(r"^\s*(\*\*Question[ .:]|#+\s*Question)", re.I)


def slide_type(cell):
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def slides(nb):
    """The deck's slides, each a list of its shown and notes cells."""
    out = []
    for cell in nb["cells"]:
        kind = slide_type(cell)
        if kind in ("slide", "subslide"):
            out.append([cell])
        elif kind != "skip" and out:
            out[-1].append(cell)
    return out


def chapter_number(path):
    return path.name[:2]


def test_every_chapter_has_a_deck():
    decks = {chapter_number(p) for p in LECTURE_NOTEBOOKS}
    missing = sorted({chapter_number(p) for p in BOOK_NOTEBOOKS} - decks)
    assert not missing, f"chapters without a deck in lectures/: {missing}"


@pytest.mark.parametrize("path", LECTURE_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_cell_says_how_it_is_shown(path):
    nb = load_notebook(path)
    bad = [i for i, c in enumerate(nb["cells"]) if slide_type(c) not in SLIDE_TYPES]
    assert not bad, f"{path.name}: cells {bad} have no slideshow slide_type"
    assert slide_type(nb["cells"][0]) == "slide", f"{path.name}: the first cell must open a slide"


@pytest.mark.parametrize("path", LECTURE_NOTEBOOKS, ids=lambda p: p.stem)
def test_a_deck_for_a_lecture_with_notes(path):
    deck = slides(load_notebook(path))
    assert MIN_SLIDES <= len(deck) <= MAX_SLIDES, \
        f"{path.name}: {len(deck)} slides, expected {MIN_SLIDES}–{MAX_SLIDES}"
    noted = sum(any(c["cell_type"] == "markdown" and slide_type(c) == "notes" for c in s)
                for s in deck)
    assert noted >= NOTES_SHARE * len(deck), \
        f"{path.name}: speaker notes on {noted} of {len(deck)} slides, expected at least 2/3"


@pytest.mark.parametrize("path", LECTURE_NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_code_is_never_on_a_slide(path):
    nb = load_notebook(path)
    shown = [i for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "code" and slide_type(c) != "skip" and SETUP.search(cell_source(c))]
    assert not shown, f"{path.name}: cells {shown} import or install on a slide; make them skip cells"


@pytest.mark.parametrize("path", LECTURE_NOTEBOOKS, ids=lambda p: p.stem)
def test_questions_summary_and_references(path):
    nb = load_notebook(path)
    cells = nb["cells"]
    questions = [i for i, c in enumerate(cells)
                 if c["cell_type"] == "markdown" and QUESTION.search(cell_source(c))
                 and slide_type(c) != "notes"]
    assert len(questions) >= 2, f"{path.name}: {len(questions)} in-class questions, expected ≥ 2"
    for i in questions:
        # the answer is revealed after the question, never on the same click
        later = [slide_type(c) for c in cells[i + 1:i + 4]]
        assert "fragment" in later, f"{path.name}: question in cell {i} has no answer fragment"
    headings = [cell_source(c).lstrip().splitlines()[0].lower() for c in cells
                if c["cell_type"] == "markdown" and cell_source(c).strip()
                and slide_type(c) in ("slide", "subslide")]
    assert any("summary" in h for h in headings), f"{path.name}: no summary slide"
    assert any("reference" in h for h in headings), f"{path.name}: no references slide"


@pytest.mark.parametrize("path", LECTURE_NOTEBOOKS, ids=lambda p: p.stem)
def test_the_rendered_deck_is_offline_and_holds_every_slide(path, tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    import render_decks

    target, _ = render_decks.render_deck(path, tmp_path, execute=False)
    page = target.read_text(encoding="utf-8")
    loaded = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page)
    assert loaded and not [u for u in loaded if re.match(r"(https?:)?//", u)], loaded
    nb = load_notebook(path)
    assert len(re.findall(r"<section>\n(?!<section>)", page)) == len(slides(nb))
    notes = sum(slide_type(c) == "notes" for c in nb["cells"])
    assert page.count('<aside class="notes">') == notes
    chapters = re.findall(r'href="\.\./book/([^"]+)\.html"', page)
    assert chapters and all((ROOT / "book" / f"{c}.ipynb").exists() for c in chapters), chapters
