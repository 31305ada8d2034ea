# The two commands of the README. Each creates .venv when missing and installs the pinned
# environment and the package (editable) once; a stamp file makes a second run skip that.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
MATHJAX_VERSION := 3.2.2

.PHONY: book test venv benchmark clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# MathJax is served with the book (copied into _build/html/_static), so math renders offline.
_mathjax_static/mathjax/tex-chtml.js:
	mkdir -p _mathjax_static/mathjax .mathjax-download
	cd .mathjax-download && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null
	tar -xzf .mathjax-download/mathjax-$(MATHJAX_VERSION).tgz -C .mathjax-download
	cp -r .mathjax-download/package/es5/* _mathjax_static/mathjax/
	rm -rf .mathjax-download

test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope --nbval-lax \
		--nbval-current-env tests book lectures

book: $(STAMP) _mathjax_static/mathjax/tex-chtml.js
	$(BIN)/jupyter-book build . --warningiserror --keep-going --path-output .
	$(BIN)/python tools/check_book.py _build/html

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf _build .jupyter_cache
