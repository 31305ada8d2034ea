"""A local Sphinx extension of the book (``_config.yml``, ``local_extensions``): what the browser
test of the site (tools/site_test.py) found wrong in Jupyter Book's output, fixed at build time.

* **Alt text of the notebooks' figures.** myst-nb gives an output image its file name as alt
  text. The course's notebooks store a description in every PNG they show
  (``seqlearn.alt_text``); it becomes the image's alt text here.
* **A script included twice.** Jupyter Book loads sphinx-thebe's configuration script twice, and
  the second copy throws ``Identifier 'THEBE_JS_URL' has already been declared`` on every page;
  each page keeps one copy of every script.
* **A stray search bar.** pydata-sphinx-theme draws a top bar that sphinx-book-theme does not
  use, holding only a second search field above the page; ``site_static/seqlearn-site.css``
  hides it.
* **Theme mode and favicon.** Jupyter Book leaves pydata-sphinx-theme's ``default_mode`` empty,
  which the theme's script reports as a console error on every page; the book starts in light
  mode (readers can switch). Without a favicon the browser's request for ``/favicon.ico`` fails
  (the site's root page, a redirect, links none): the pages link ``favicon.svg`` and the build
  writes the same picture as ``favicon.ico`` at the root.
* **A link to the chapter's slides.** Under the title of each chapter page, a link to its
  lecture deck as rendered by ``tools/render_decks.py`` into ``slides/`` (the deck links back).
  Only where the book has a ``lectures/`` folder: the student edition's build has none.
"""

from pathlib import Path

from docutils import nodes


def _describe_images(app, doctree, docname):
    from seqlearn.alt_text import read_description

    source_dir = Path(app.env.doc2path(docname)).parent
    for image in doctree.findall(nodes.image):
        uri = image.get("uri", "")
        alt = image.get("alt", "")
        if alt and alt != uri and not alt.endswith((".png", ".jpg", ".jpeg", ".svg", ".gif")):
            continue
        for candidate in (Path(app.srcdir) / uri, source_dir / uri, Path(uri)):
            if candidate.is_file():
                description = read_description(candidate)
                if description:
                    image["alt"] = description
                break


def deck_of(srcdir, pagename):
    """``"book/04b_bptt_applications"`` → ``"04_bptt"`` when ``lectures/04_bptt.ipynb`` exists."""
    name = pagename.rsplit("/", 1)[-1]
    if not (pagename.startswith("book/") and name[:2].isdigit() and name[2:3] in ("_", "b")):
        return None
    decks = sorted((Path(srcdir) / "lectures").glob(f"{name[:2]}_*.ipynb"))
    return decks[0].stem if decks else None


def _link_the_deck(app, pagename, context):
    deck = deck_of(app.srcdir, pagename)
    body = context.get("body", "")
    if deck is None or "</h1>" not in body:
        return
    link = (f'<p class="seqlearn-deck-link"><a href="../slides/{deck}.slides.html">'
            f'Lecture slides for this chapter</a> (press <kbd>S</kbd> in the slide show for the '
            f'speaker notes)</p>')
    head, tail = body.split("</h1>", 1)
    context["body"] = f"{head}</h1>\n{link}{tail}"


def _fix_page_context(app, pagename, templatename, context, doctree):
    _link_the_deck(app, pagename, context)
    if not context.get("default_mode"):
        context["default_mode"] = "light"
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # the second copy differs only in its filename: None once, "" the other time
        attributes = getattr(script, "attributes", {}) or {}
        key = (getattr(script, "filename", str(script)) or "", tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _configure(app, config):
    static = Path(__file__).parent / "site_static"
    config.html_static_path.append(str(static))
    if not config.html_favicon:
        config.html_favicon = str(static / "favicon.svg")


def _write_root_favicon(app, exception):
    """The favicon of ``site_static/favicon.svg`` as ``favicon.ico`` (drawn here, not converted:
    nothing on a fresh machine renders SVG)."""
    if exception is not None or app.builder.format != "html":
        return
    from PIL import Image, ImageDraw

    size = 64
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=12, fill=(23, 109, 232, 255))
    for x, radius, alpha in ((14, 6, 140), (28, 6, 178), (42, 6, 217), (54, 7, 255)):
        draw.ellipse((x - radius, 32 - radius, x + radius, 32 + radius),
                     fill=(255, 255, 255, alpha))
    image.save(Path(app.outdir) / "favicon.ico", sizes=[(16, 16), (32, 32), (64, 64)])


def setup(app):
    app.connect("config-inited", _configure)
    app.add_css_file("seqlearn-site.css")
    app.connect("doctree-resolved", _describe_images)
    app.connect("html-page-context", _fix_page_context, priority=900)
    app.connect("build-finished", _write_root_favicon)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
