"""The reader of numbers in the prose (tests/prose_numbers.py) on small made-up notebooks."""

from prose_numbers import produced_values, prose_numbers, unproduced


def _notebook(markdown, code="", output=""):
    cells = [{"cell_type": "markdown", "source": markdown}]
    cells.append({"cell_type": "code", "source": code,
                  "outputs": [{"output_type": "stream", "name": "stdout", "text": output}]})
    return {"cells": cells}


def test_measured_numbers_must_be_printed_at_the_precision_written():
    nb = _notebook("The loss ends at 2.09 and the accuracy at 97 %.", output="loss 2.0934 acc 0.968\n")
    assert unproduced(nb) == []
    assert unproduced(_notebook("The loss ends at 2.05.", output="loss 2.0934\n")) == [(0, "2.05")]


def test_settings_citations_math_code_and_structure_do_not_count():
    nb = _notebook("We train with lr 0.01. Capacity is about 0.138 d {footcite}`amit1985`.\n"
                   "## 2.1 A section\nAs Section 2.3 shows, equation $(4.3)$ and `x = 1.5` and "
                   "$$y = 0.5 x$$ and [a link](http://x.org/v1.2) and Python 3.11.7.",
                   code="optimizer = Adam(lr=0.01)")
    assert [n[1] for n in prose_numbers(nb)] == ["0.01", "0.138"]
    assert unproduced(nb) == []


def test_code_literals_and_outputs_are_the_produced_values():
    values = produced_values(_notebook("", code="steps = 300\nrate = 1e-3", output="err 4.5e-07"))
    assert {300.0, 1e-3, 4.5e-07} <= values
