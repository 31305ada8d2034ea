"""A local Sphinx extension of the book (``_config.yml``, ``local_extensions``): what the browser
test of the site (tools/site_test.py) found wrong in Jupyter Book's output, fixed at build time.

* **Alt text of the notebooks' figures.** myst-nb gives an output image its file name as alt
  text. The course's notebooks store a description in every PNG they show
  (``seqlearn.alt_text``); it becomes the image's alt text here.
* **A script included twice.** Jupyter Book loads sphinx-thebe's configuration script twice, and
  the second copy throws ``Identifier 'THEBE_JS_URL' has already been declared`` on every page;
  each page keeps one copy of every script.
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


def _one_copy_of_each_script(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = (str(script), getattr(script, "attributes", {}).get("body", ""))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("doctree-resolved", _describe_images)
    app.connect("html-page-context", _one_copy_of_each_script, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
