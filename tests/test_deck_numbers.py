"""Every decimal number and percentage on a lecture deck's slides is printed by the deck's own
cells (or is a setting of its code, or is cited), as for the chapters (tests/prose_numbers.py):
a number typed from memory goes stale when the model or the data change."""

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import LECTURE_NOTEBOOKS, ROOT
from prose_numbers import describe_unproduced


@pytest.mark.parametrize("path", LECTURE_NOTEBOOKS, ids=lambda p: p.stem)
def test_the_numbers_on_the_slides_are_printed_by_the_deck(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "lectures")}}).execute()
    message = describe_unproduced(nb, f"lectures/{path.name}")
    assert not message, message
