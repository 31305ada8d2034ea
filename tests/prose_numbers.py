"""Numbers in a chapter's prose must be produced by its run (CONTRIBUTING.md, "Numbers in the
prose are produced by the run").

:func:`prose_numbers` finds every decimal number and percentage in a notebook's markdown, outside
math, code, MyST roles (glue, citations, references) and links; :func:`unproduced` returns those
that no output of the executed notebook shows at the precision written and that no code cell sets
(a setting, such as a learning rate, is fine), and that no citation in the same sentence backs
(a constant from the literature). Equation numbers are written as math, ``$(4.3)$``; section
numbers are structure, not measurements.

    .venv/bin/python tests/prose_numbers.py executed.ipynb   # list the unproduced numbers
"""

import json
import re
import sys

NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(\s?%)|(?<![\w.])(\d+\.\d+)(?![\w]|\.\d)")
LITERAL = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
HIDDEN = [
    re.compile(r"\$\$.*?\$\$", re.S),          # display math
    re.compile(r"\$[^$\n]+\$"),                # inline math
    re.compile(r"```.*?```", re.S),            # fenced code
    re.compile(r"`[^`\n]*`"),                  # inline code and the bodies of MyST roles
    re.compile(r"\{[\w:-]+\}"),                # the names of MyST roles
    re.compile(r"\]\([^)]*\)"),                # link targets
    re.compile(r"https?://\S+"),
    re.compile(r"^(#+\s+)\d+(?:\.\d+)+", re.M),   # section numbers in headings ...
    re.compile(r"\bSections? \d+(?:\.\d+)+"),     # ... and references to them
]


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _visible_text(markdown):
    for pattern in HIDDEN:
        markdown = pattern.sub(" ", markdown)
    return markdown


def prose_numbers(nb):
    """``(cell index, text, value, decimals, is_percent, sentence)`` of every number in the
    prose of ``nb`` (a notebook as a dict)."""
    found = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        raw = _source(cell)
        cited = [s for s in re.split(r"(?<=[.!?])\s+", raw) if "{footcite" in s]
        text = _visible_text(raw)
        for match in NUMBER.finditer(text):
            literal = match.group(1) or match.group(3)
            decimals = len(literal.split(".")[1]) if "." in literal else 0
            sentence = next((s for s in cited if literal in _visible_text(s)), "")
            found.append((index, match.group(0).strip(), float(literal), decimals,
                          bool(match.group(2)), sentence))
    return found


def _output_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append(_source({"source": out["text"]}))
        for kind in ("text/plain", "text/markdown", "text/latex"):
            if kind in out.get("data", {}):
                parts.append(_source({"source": out["data"][kind]}))
    return "\n".join(parts)


def produced_values(nb):
    """Every number that the outputs of the executed ``nb`` show, and every literal of its code
    (the settings)."""
    values = set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for text in (_output_text(cell), _source(cell)):
            for literal in LITERAL.findall(text):
                try:
                    values.add(float(literal))
                except ValueError:
                    pass
    return values


def _shown(value, decimals, percent, values):
    """Whether some produced number, rounded to the precision written, is ``value`` (for a
    percentage, also a fraction times 100)."""
    scale = 10 ** decimals
    for v in values:
        for candidate in ((v, v * 100) if percent else (v,)):
            if abs(round(candidate * scale) - value * scale) < 1e-6:
                return True
    return False


def unproduced(executed_nb):
    """The prose numbers of ``executed_nb`` that its run does not produce, as
    ``(cell index, text)`` pairs."""
    values = produced_values(executed_nb)
    return [(index, text) for index, text, value, decimals, percent, cited
            in prose_numbers(executed_nb)
            if not cited and not _shown(value, decimals, percent, values)]


def describe_unproduced(executed_nb, name):
    """A message naming ``name`` (the notebook), and each unproduced number with its cell and
    the words around it; ``""`` when every number is produced."""
    missing = unproduced(executed_nb)
    if not missing:
        return ""
    lines = [f"{name}: {len(missing)} of the {len(prose_numbers(executed_nb))} numbers in the prose "
             "are not produced by its run (print them, glue them, cite them, or write them "
             "differently):"]
    for index, text in missing:
        cell = _visible_text(_source(executed_nb["cells"][index]))
        at = cell.find(text.split()[0].rstrip("%"))
        lines.append(f"  cell {index}: {text!r}  ...{' '.join(cell[max(0, at - 60):at + 40].split())}...")
    return "\n".join(lines)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            print(describe_unproduced(json.load(f), path) or f"{path}: every number is produced")
