"""The course's one notation (CONTRIBUTING.md, "Shapes and notation"; the table in chapter 1) is
kept in the text, the decks, the docstrings and the code: no hidden size written N, no number of
layers written L, no logits written o_t. Each rule lists the forms the chapters used before the
notation was unified, so that they cannot come back unnoticed."""

import json
import re

import pytest

from conftest import ROOT

#: (name, pattern, what the notation says instead). Patterns are matched line by line.
RULES = [
    ("hidden size N", re.compile(r"\$?\bN\$? hidden units|hidden (?:state )?size,? \$?N\b"),
     "the hidden size is H; N counts training examples or stored patterns"),
    ("layers L", re.compile(r"\bL\$? (?:stacked |recurrent )?layers|number of layers,? \$?L\b|"
                            r"\(L, ?B, ?H\)"),
     "the number of layers is M (num_layers); L is the loss"),
    ("logits o_t", re.compile(r"softmax\(o_t\)|logits?,? \$?o_t\b|\bo_t\s*=\s*h_t\s*W_\{?hy"),
     "logits are z_t; o_t is the LSTM's output gate"),
]

#: Lines in the old notation that each rule must catch (taken from the chapters before the change).
OLD_FORMS = {
    "hidden size N": ["of shape $(D, N)$, $W_{hh}$ $(N, N)$, and $N$ hidden units. The",
                      "an RNN with hidden size N = 64"],
    "layers L": ["h0 : (L, B, H) initial states", "a stack of $L$ layers", "L stacked layers"],
    "logits o_t": ["o_t = h_t W_hy + b_y,   ŷ_t = softmax(o_t)", "the logits $o_t$ of step t"],
}


def course_texts():
    """(label, line) for every line of the chapters, decks, package sources and documentation."""
    for path in sorted([*ROOT.glob("book/*.ipynb"), *ROOT.glob("lectures/*.ipynb")]):
        for k, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            for n, line in enumerate(source.splitlines(), 1):
                yield f"{path.relative_to(ROOT)}: cell {k}, line {n}", line
    for path in sorted([*ROOT.glob("seqlearn/**/*.py"), *ROOT.glob("book/*.md"),
                        ROOT / "README.md"]):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            yield f"{path.relative_to(ROOT)}:{n}", line


@pytest.mark.parametrize("name, pattern, instead", RULES, ids=[r[0] for r in RULES])
def test_the_course_keeps_its_notation(name, pattern, instead):
    found = [f"{where}: {line.strip()[:100]}" for where, line in course_texts()
             if pattern.search(line)]
    assert not found, f"{name}: {instead}; found in\n" + "\n".join(found)


@pytest.mark.parametrize("name, pattern, instead", RULES, ids=[r[0] for r in RULES])
def test_each_rule_catches_the_old_forms(name, pattern, instead):
    for line in OLD_FORMS[name]:
        assert pattern.search(line), f"rule {name!r} misses {line!r}"
