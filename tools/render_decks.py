"""Render the lecture decks as reveal.js slide shows inside the built book (run by `make book`).

    .venv/bin/python tools/render_decks.py lectures/*.ipynb --out _build/html/slides

Each deck is executed (as ``make test`` runs it) and written as ``<deck>.slides.html``: one
reveal.js section per slide, sub-slides below it, fragments revealed one by one, speaker notes
(press S) from the cells whose slide type is ``notes``, and ``skip`` cells left out. Markdown is
rendered by markdown-it, its ``$...$`` and ``$$...$$`` math typeset by the book's own MathJax 3;
a code cell shows its code (unless tagged ``hide-input`` or ``remove-input``) and its outputs
(text, images, HTML). Nothing is fetched from outside the site: reveal.js is served from
``_static/reveal.js`` (its npm package, unpacked by ``make book``), MathJax from
``_static/mathjax``. Each deck links to its chapter's page(s) in the book (the book's pages link
back: ``tools/site_fixes.py``), and an index page lists the decks. With ``--pdf``, each deck is
also printed to a PDF handout (one slide per page) by headless Chromium through reveal.js's
print view, offline; without Chromium the handouts are left out and the script says so.
"""

import argparse
import html
import shutil
import subprocess
import sys
import time
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
/* A 1280x800 slide (reveal.js scales it to the screen). Headings, figures and printed output
   are sized so that a slide with a title, a few lines and a figure fits: the site test
   (tools/site_test.py) fails on a slide taller than this. */
.reveal {{ font-size: 28px; }}
.reveal h1, .reveal h2, .reveal h3 {{ text-transform: none; margin-bottom: 0.4em; }}
.reveal h1 {{ font-size: 1.7em; }}
.reveal h2 {{ font-size: 1.3em; }}
.reveal h3 {{ font-size: 1.1em; }}
.reveal p, .reveal ul, .reveal ol {{ margin-top: 0.3em; margin-bottom: 0.3em; }}
.reveal .code {{ font-size: 0.5em; text-align: left; max-height: 8em; overflow: auto; margin: 0.2em 0;
                 background: #f6f8fa; padding: 0.4em; border-radius: 4px; }}
.reveal .output-text {{ font-size: 0.5em; text-align: left; white-space: pre-wrap; margin: 0.2em 0;
                        max-height: 12em; overflow: auto; }}
.reveal img {{ max-height: 430px; max-width: 100%; margin: 0.2em auto; }}
.reveal mjx-container[display="true"] {{ margin: 0.4em 0 !important; font-size: 92%; }}
.reveal .references {{ font-size: 0.55em; text-align: left; }}
.reveal .references h2 {{ font-size: 2.2em; }}
.reveal table {{ font-size: 0.7em; }}
.deck-chapters {{ position: fixed; left: 0.8em; bottom: 0.6em; z-index: 30; font: 14px sans-serif; }}
.deck-chapters a {{ color: #555; margin-right: 1em; }}
@media print {{ .deck-chapters {{ display: none; }} }}
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
<nav class="deck-chapters" aria-label="The chapter in the book">{chapters}</nav>
<div class="reveal"><div class="slides">
{slides}
</div></div>
<script>
Reveal.initialize({{ width: 1280, height: 800, margin: 0.04, hash: true, slideNumber: true,
                   pdfSeparateFragments: false, plugins: [RevealNotes] }})
  .then(() => MathJax.startup.promise)
  .then(() => MathJax.typesetPromise())
  .then(() => {{ fitEquations(document); Reveal.layout(); }});
// A display equation wider than its slide is set in a smaller type until it fits (MathJax does
// not break lines); slides that are not shown have no width, so each is fitted when it shows.
function fitEquations(root) {{
  root.querySelectorAll('mjx-container[display="true"]').forEach(m => {{
    const room = m.parentElement.clientWidth;
    if (room > 0 && m.scrollWidth > room) {{
      const size = parseFloat(getComputedStyle(m).fontSize);
      m.style.fontSize = `${{(size * room / m.scrollWidth * 0.97).toFixed(1)}}px`;
    }}
  }});
}}
Reveal.on("slidechanged", event => fitEquations(event.currentSlide));
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
<kbd>F</kbd> for full screen; add <code>?print-pdf</code> to a deck's address and print it for
a handout). <a href="../book/index.html">Back to the book</a>.</p>
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
        body = md.render(_source(cell))
        if _source(cell).lstrip().lower().startswith(("## references", "# references")):
            body = f'<div class="references">{body}</div>'   # a long list in a smaller type
        return body
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


def chapter_pages(deck, book_dir):
    """The book pages of the deck's chapter: ``lectures/04_bptt.ipynb`` →
    ``["04_bptt", "04b_bptt_applications"]`` (a chapter split in two has two)."""
    number = Path(deck).name[:2]
    return [p.stem for p in sorted(Path(book_dir).glob(f"{number}*_*.ipynb"))
            if p.stem[:2] == number and p.stem[2:3] in ("_", "b")]


def chapter_links(deck, book_dir):
    pages = chapter_pages(deck, book_dir)
    return " ".join(f'<a href="../book/{stem}.html">Chapter {stem[:3].lstrip("0").rstrip("_")} '
                    f'in the book</a>' for stem in pages)


def deck_summary(nb):
    """``(slides, slides with speaker notes)`` of a deck: a slide starts at a ``slide`` or
    ``subslide`` cell and holds the cells after it (as tests/test_decks.py counts)."""
    slides, noted, current = 0, 0, False
    for cell in nb.cells:
        kind = cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")
        if kind in ("slide", "subslide"):
            slides, current = slides + 1, False
        elif kind == "notes" and cell.cell_type == "markdown" and not current and slides:
            noted, current = noted + 1, True
    return slides, noted


def render_deck(path, out_dir, execute=True, book_dir=None):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    if execute:
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    seconds = time.perf_counter() - start
    title = next((line[2:].strip() for c in nb.cells if c.cell_type == "markdown"
                  for line in _source(c).splitlines() if line.startswith("# ")), Path(path).stem)
    target = Path(out_dir) / f"{Path(path).stem}.slides.html"
    book_dir = Path(path).resolve().parent.parent / "book" if book_dir is None else book_dir
    target.write_text(PAGE.format(title=html.escape(title), slides=slides_html(nb),
                                  chapters=chapter_links(path, book_dir),
                                  pygments=HtmlFormatter(cssclass="code").get_style_defs(".code")),
                      encoding="utf-8")
    slides, noted = deck_summary(nb)
    print(f"{Path(path).name}: {slides} slides, speaker notes on {noted} "
          f"({noted / max(slides, 1):.0%})" + (f", executed in {seconds:.1f} s" if execute else ""))
    return target, title


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                  "--host-resolver-rules=MAP * ~NOTFOUND", "--run-all-compositor-stages-before-draw",
                  "--no-pdf-header-footer"]


def print_handout(deck_html, chromium):
    """``deck.slides.html`` → ``deck.pdf`` through reveal.js's print view (``?print-pdf``); the
    virtual-time budget lets MathJax typeset before the page is printed. Each print gets its own
    profile folder: a Chromium started on a profile that another one still holds hands the job
    over to it and exits without printing."""
    import tempfile

    target = Path(deck_html).with_name(Path(deck_html).name.replace(".slides.html", ".pdf"))
    # Now and then (one deck in ten, on a busy machine) Chromium prints a blank page before the
    # deck is laid out: a handout under 10 kB is printed again.
    for _ in range(3):
        target.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(prefix="seqlearn-print-") as profile:
            subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                            "--virtual-time-budget=30000", f"--print-to-pdf={target}",
                            f"{Path(deck_html).resolve().as_uri()}?print-pdf"],
                           check=True, capture_output=True, timeout=300)
        if target.exists() and target.stat().st_size >= 10_000:
            return target
    raise RuntimeError(f"Chromium did not print {deck_html} to a PDF (three tries)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("decks", nargs="+")
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-execute", action="store_true")
    parser.add_argument("--pdf", action="store_true", help="also print each deck to a PDF handout")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if args.pdf and chromium is None:
        print("render_decks: Chromium is not installed (Debian: apt-get install chromium): "
              "no PDF handouts", file=sys.stderr)
    items = []
    for deck in sorted(args.decks):
        target, title = render_deck(deck, out, execute=not args.no_execute)
        item = f'<a href="{target.name}">{html.escape(title)}</a>'
        if args.pdf and chromium:
            handout = print_handout(target, chromium)
            item += f' (<a href="{handout.name}">PDF handout</a>)'
            print(handout)
        items.append(f"<li>{item}</li>")
        print(target)
    (out / "index.html").write_text(INDEX.format(items="\n".join(items)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
