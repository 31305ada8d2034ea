"""Render the lecture decks as reveal.js slide shows inside the built book (run by `make book`).

    .venv/bin/python tools/render_decks.py lectures/*.ipynb --out _build/html/lectures

Each deck is executed (as ``make test`` runs it) and written as ``<deck>.slides.html``: one
reveal.js section per slide, sub-slides below it, fragments revealed one by one, speaker notes
(press S) from the cells whose slide type is ``notes``, and ``skip`` cells left out. Markdown is
rendered by markdown-it, its ``$...$`` and ``$$...$$`` math typeset by the book's own MathJax 3;
a code cell shows its code (unless tagged ``hide-input`` or ``remove-input``) and its outputs
(text, images, HTML). Nothing is fetched from outside the site: reveal.js is served from
``_static/reveal.js`` (its npm package, unpacked by ``make book``), MathJax from
``_static/mathjax``. An index page lists the decks.
"""

import argparse
import html
import sys
from pathlib import Path

import nbformat
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from nbclient import NotebookClient
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="../_static/reveal.js/dist/reveal.css">
<link rel="stylesheet" href="../_static/reveal.js/dist/theme/white.css">
<style>
.reveal {{ font-size: 30px; }}
.reveal h1, .reveal h2 {{ text-transform: none; }}
.reveal .code {{ font-size: 0.5em; text-align: left; max-height: 9em; overflow: auto; margin: 0.2em 0;
                 background: #f6f8fa; padding: 0.4em; border-radius: 4px; }}
.reveal .output-text {{ font-size: 0.5em; text-align: left; white-space: pre-wrap; margin: 0.2em 0; }}
.reveal img {{ max-height: 55vh; max-width: 100%; }}
.reveal table {{ font-size: 0.7em; }}
{pygments}
</style>
<script>
window.MathJax = {{ tex: {{ inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]] }},
                   startup: {{ typeset: false }} }};
</script>
<script src="../_static/mathjax/tex-chtml.js"></script>
<script src="../_static/reveal.js/dist/reveal.js"></script>
<script src="../_static/reveal.js/plugin/notes/notes.js"></script>
</head>
<body>
<div class="reveal"><div class="slides">
{slides}
</div></div>
<script>
Reveal.initialize({{ hash: true, slideNumber: true, plugins: [RevealNotes] }})
  .then(() => MathJax.startup.promise)
  .then(() => MathJax.typesetPromise())
  .then(() => Reveal.layout());
</script>
</body>
</html>
"""

INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Lecture decks</title><link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto;">
<h1>Lecture decks</h1>
<p>Slide shows of the course's lectures (press <kbd>S</kbd> for the speaker notes,
<kbd>F</kbd> for full screen). <a href="../book/index.html">Back to the book</a>.</p>
<ul>
{items}
</ul>
</body></html>
"""


def _markdown():
    def math(content, options):
        content = html.escape(content)
        return f"\\[{content}\\]" if options.get("display_mode") else f"\\({content}\\)"

    return MarkdownIt("commonmark", {"html": True}).enable("table").use(dollarmath_plugin, renderer=math)


def _join(value):
    return value if isinstance(value, str) else "".join(value)


def _source(cell):
    return _join(cell.source)


def render_outputs(cell):
    """The HTML of a code cell's outputs (images, HTML, text, errors)."""
    parts = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "text/html" in data:
            parts.append(_join(data["text/html"]))
        elif "image/png" in data:
            alt = html.escape(str(out.get("metadata", {}).get("alt", "figure")))
            parts.append(f'<img alt="{alt}" src="data:image/png;base64,{data["image/png"]}">')
        elif "image/svg+xml" in data:
            parts.append(data["image/svg+xml"])
        elif "text/plain" in data:
            parts.append(f'<pre class="output-text">{html.escape(_join(data["text/plain"]))}</pre>')
        elif out.get("output_type") == "stream":
            parts.append(f'<pre class="output-text">{html.escape(_join(out.get("text", "")))}</pre>')
        elif out.get("output_type") == "error":
            raise RuntimeError(f"a deck cell failed: {out.get('ename')}: {out.get('evalue')}")
    return "\n".join(parts)


def _description(cell):
    """The alt text of a PNG output, read from the PNG's own description (seqlearn.alt_text)."""
    import base64
    import io

    from PIL import Image

    for out in cell.get("outputs", []):
        png = out.get("data", {}).get("image/png")
        if png:
            try:
                text = Image.open(io.BytesIO(base64.b64decode(png))).text.get("Description", "")
            except Exception:  # noqa: BLE001 - not readable: keep the generic alt
                text = ""
            if text:
                out.setdefault("metadata", {})["alt"] = text


def render_cell(cell, md):
    tags = cell.get("metadata", {}).get("tags", []) or []
    if cell.cell_type == "markdown":
        return md.render(_source(cell))
    if cell.cell_type != "code":
        return ""
    _description(cell)
    code = ""
    if not {"hide-input", "remove-input"} & set(tags) and _source(cell).strip():
        code = highlight(_source(cell), PythonLexer(), HtmlFormatter(cssclass="code"))
    return code + render_outputs(cell)


def slides_html(nb):
    """The reveal.js ``<section>`` markup of an executed deck."""
    md = _markdown()
    slides = []          # each slide: list of sub-slides; each sub-slide: list of (kind, html)
    for cell in nb.cells:
        kind = cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-") or "-"
        if kind == "skip":
            continue
        body = render_cell(cell, md)
        if kind == "slide" or not slides:
            slides.append([[]])
        elif kind == "subslide":
            slides[-1].append([])
        slides[-1][-1].append((kind, body))
    out = []
    for slide in slides:
        sections = []
        for sub in slide:
            parts = []
            for kind, body in sub:
                if kind == "notes":
                    parts.append(f'<aside class="notes">{body}</aside>')
                elif kind == "fragment":
                    parts.append(f'<div class="fragment">{body}</div>')
                else:
                    parts.append(body)
            sections.append("<section>\n" + "\n".join(parts) + "\n</section>")
        out.append(sections[0] if len(sections) == 1 else
                   "<section>\n" + "\n".join(sections) + "\n</section>")
    return "\n".join(out)


def render_deck(path, out_dir, execute=True):
    nb = nbformat.read(path, as_version=4)
    if execute:
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    title = next((line[2:].strip() for c in nb.cells if c.cell_type == "markdown"
                  for line in _source(c).splitlines() if line.startswith("# ")), Path(path).stem)
    target = Path(out_dir) / f"{Path(path).stem}.slides.html"
    target.write_text(PAGE.format(title=html.escape(title), slides=slides_html(nb),
                                  pygments=HtmlFormatter(cssclass="code").get_style_defs(".code")),
                      encoding="utf-8")
    return target, title


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("decks", nargs="+")
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-execute", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    items = []
    for deck in sorted(args.decks):
        target, title = render_deck(deck, out, execute=not args.no_execute)
        items.append(f'<li><a href="{target.name}">{html.escape(title)}</a></li>')
        print(target)
    (out / "index.html").write_text(INDEX.format(items="\n".join(items)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
