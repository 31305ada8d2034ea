# The two commands of the README. Each creates .venv when missing and installs the pinned
# environment and the package (editable) once; a stamp file makes a second run skip that.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
MATHJAX_VERSION := 3.2.2

.PHONY: book test venv benchmark clean student bwrap site-test repository slides chromium

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# MathJax is served with the book (copied into _build/html/_static), so math renders offline.
# reveal.js for the lecture decks' slide shows, likewise served with the book.
REVEAL_VERSION := 5.1.0
_reveal_static/reveal.js/dist/reveal.js:
	mkdir -p _reveal_static/reveal.js .reveal-download
	cd .reveal-download && npm pack --silent reveal.js@$(REVEAL_VERSION) >/dev/null
	tar -xzf .reveal-download/reveal.js-$(REVEAL_VERSION).tgz -C .reveal-download
	cp -r .reveal-download/package/dist .reveal-download/package/plugin _reveal_static/reveal.js/
	rm -rf .reveal-download

_mathjax_static/mathjax/tex-chtml.js:
	mkdir -p _mathjax_static/mathjax .mathjax-download
	cd .mathjax-download && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null
	tar -xzf .mathjax-download/mathjax-$(MATHJAX_VERSION).tgz -C .mathjax-download
	cp -r .mathjax-download/package/es5/* _mathjax_static/mathjax/
	rm -rf .mathjax-download

# The grading tests run student code under Bubblewrap, a system package: installed here when
# missing and this is a Debian/Ubuntu machine run as root; otherwise the target says what to do.
bwrap:
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; } || \
		{ echo "make test needs Bubblewrap for the grading sandbox: install the package" \
		       "'bubblewrap' (sudo apt-get install bubblewrap)"; exit 1; }

test: $(STAMP) bwrap
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope --nbval-lax \
		--nbval-current-env tests book lectures

# EDITION=public (default): the book with the solutions folded, into _build/html.
# EDITION=student: the same book from student editions of the chapters (no solution cells, made
# by `seqlearn release`) assembled in _build/student_src, built into _build/student/html.
EDITION ?= public
STUDENT_SRC := _build/student_src

book: $(STAMP) _mathjax_static/mathjax/tex-chtml.js _reveal_static/reveal.js/dist/reveal.js
ifeq ($(EDITION),student)
	rm -rf $(STUDENT_SRC) _build/student/html
	mkdir -p $(STUDENT_SRC)/book _build/student
	cp _config.yml _toc.yml references.bib $(STUDENT_SRC)/
	mkdir -p $(STUDENT_SRC)/tools && cp tools/docstring_sections.py tools/site_fixes.py $(STUDENT_SRC)/tools/
	cp -r _mathjax_static _reveal_static $(STUDENT_SRC)/
	cp book/*.md $(STUDENT_SRC)/book/
	$(BIN)/python -m seqlearn release book --out $(STUDENT_SRC)/book
	$(BIN)/jupyter-book build $(STUDENT_SRC) --warningiserror --keep-going
	mv $(STUDENT_SRC)/_build/html _build/student/html
	$(BIN)/python tools/check_book.py _build/student/html
else ifeq ($(EDITION),public)
	$(BIN)/jupyter-book build . --warningiserror --keep-going --path-output .
	$(MAKE) slides
	$(BIN)/python tools/check_book.py _build/html
else
	$(error EDITION must be public or student, not '$(EDITION)')
endif

# The lecture decks as reveal.js slide shows in _build/html/slides/ (run by make book), served
# with the book's own MathJax and reveal.js; with Chromium, each also printed to a PDF handout.
slides: $(STAMP) chromium _mathjax_static/mathjax/tex-chtml.js _reveal_static/reveal.js/dist/reveal.js
	mkdir -p _build/html/_static
	cp -r _mathjax_static/mathjax _reveal_static/reveal.js _build/html/_static/
	$(BIN)/python tools/render_decks.py lectures/*.ipynb --out _build/html/slides --pdf

# Debian's Chromium for the site test and the PDF handouts: installed when missing on a
# Debian/Ubuntu machine run as root; otherwise the targets that need it say so.
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
		echo "no Chromium (sudo apt-get install chromium): no PDF handouts, no site test"

# The built book in headless Chromium (Debian's package), offline: every page and slide deck.
site-test: $(STAMP) chromium
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		{ echo "make site-test needs Chromium (Debian: apt-get install chromium); not testing"; exit 1; }
	$(BIN)/python tools/site_test.py _build/html --out _build/site-test

# Point the course at a fork: make repository URL=https://github.com/OWNER/NAME
repository: $(STAMP)
	$(BIN)/python tools/set_repository.py $(URL)

# The student editions that the chapters' Colab buttons open (committed; a test keeps them fresh).
student: $(STAMP)
	$(BIN)/python -m seqlearn release book --out student/book

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf _build .jupyter_cache
