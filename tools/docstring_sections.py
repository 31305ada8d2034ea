"""A Sphinx extension for the API reference page: it turns the package's docstring sections

    Parameters
    ----------
    x : (B, T, D) inputs
    h0 : (B, H) initial state, or ``None``
        for zeros

into a rubric and a bullet list, which reST reads without complaint. (Napoleon expects the
description of an entry on its own indented line; the package writes it after the colon.)
"""

import re

SECTIONS = {"Parameters", "Returns", "Raises", "Yields", "Attributes", "Notes", "Examples",
            "Other Parameters"}
ENTRY = re.compile(r"^(\S.*?) : (.*)$")


def convert(lines):
    """The docstring ``lines`` with every numpy-style section made a rubric and a bullet list."""
    out, in_section, i = [], False, 0
    while i < len(lines):
        line = lines[i]
        if (line.strip() in SECTIONS and i + 1 < len(lines)
                and re.fullmatch(r"\s*-{3,}\s*", lines[i + 1])):
            out += ["", f".. rubric:: {line.strip()}", ""]
            in_section, i = True, i + 2
            continue
        if in_section and not line.strip():
            following = lines[i + 1] if i + 1 < len(lines) else ""
            in_section = bool(ENTRY.match(following))   # a blank line ends a section's list
            out.append("")
        elif in_section and not line.startswith(" "):
            entry = ENTRY.match(line)
            out.append(f"* **{entry.group(1)}** : {entry.group(2)}" if entry else f"* {line}")
        elif in_section:
            out.append("  " + line.lstrip())
        else:
            out.append(line)
        i += 1
    return out


def process_docstring(app, what, name, obj, options, lines):
    lines[:] = convert(lines)


def setup(app):
    app.connect("autodoc-process-docstring", process_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
