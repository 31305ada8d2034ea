"""Check a built book (run by `make book` after Jupyter Book): every chapter of _toc.yml has a
page with executed outputs and at least one figure, offers its notebook for download, and loads
MathJax (and every other script) from the book itself, never from a CDN.

    python tools/check_book.py _build/html
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT_SRC = re.compile(r"<script[^>]*\bsrc=\"([^\"]+)\"")
LINK_HREF = re.compile(r"<link[^>]*\bhref=\"(https?://[^\"]+)\"")


def chapters_from_toc():
    files = re.findall(r"file:\s*(\S+)", (ROOT / "_toc.yml").read_text())
    return [f for f in files if (ROOT / f"{f}.ipynb").exists()]


def check_page(html_dir, chapter):
    problems = []
    page = html_dir / f"{chapter}.html"
    if not page.exists():
        return [f"{chapter}: no page {page}"]
    text = page.read_text(encoding="utf-8")
    remote = [src for src in SCRIPT_SRC.findall(text) if re.match(r"(https?:)?//", src)]
    if remote:
        problems.append(f"{chapter}: loads scripts from the network: {remote}")
    remote_css = LINK_HREF.findall(text)
    if remote_css:
        problems.append(f"{chapter}: loads stylesheets from the network: {remote_css}")
    if "_static/mathjax/tex-chtml.js" not in text:
        problems.append(f"{chapter}: does not load the book's own MathJax")
    if "cell_output" not in text:
        problems.append(f"{chapter}: has no executed outputs")
    if not re.search(r"<img[^>]+src=\"[^\"]*\.png\"", text):
        problems.append(f"{chapter}: has no figure")
    if f"_sources/{chapter}.ipynb" not in text:
        problems.append(f"{chapter}: does not offer its notebook for download")
    colab = re.search(r"https://colab\.research\.google\.com/github/[^\"]+\.ipynb", text)
    if not colab:
        problems.append(f"{chapter}: has no Colab launch button")
    elif not colab.group(0).endswith(f"/student/{chapter}.ipynb"):
        problems.append(f"{chapter}: the Colab button opens {colab.group(0)}, not the student "
                        f"edition student/{chapter}.ipynb")
    elif not (ROOT / "student" / f"{chapter}.ipynb").exists():
        problems.append(f"{chapter}: the Colab button opens student/{chapter}.ipynb, which is "
                        "not in the repository (make student)")
    if "Traceback (most recent call last)" in text:
        problems.append(f"{chapter}: shows a traceback")
    return problems


def main(argv):
    html_dir = Path(argv[1] if len(argv) > 1 else "_build/html")
    if not (html_dir / "_static/mathjax/tex-chtml.js").exists():
        print(f"check_book: MathJax is missing from {html_dir}/_static/mathjax")
        return 1
    chapters = chapters_from_toc()
    problems = [p for chapter in chapters for p in check_page(html_dir, chapter)]
    for problem in problems:
        print("check_book:", problem)
    if problems:
        return 1
    print(f"check_book: {len(chapters)} chapter pages OK (outputs, figures, download, Colab, "
          "local MathJax, no CDN scripts)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
