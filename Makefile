# Pretty Neural Networks: every set-up and build step. `make help` lists the targets.
# Each target sets up what it needs first, so any of them works on a fresh clone.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
CHAPTER ?= 01_linear
EDITION ?= course

.PHONY: help setup lab book serve test release samples browser sandbox grade feedback clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup: $(VENV)/.installed  ## create .venv with the pinned Python packages

$(VENV)/.installed: pyproject.toml jupyter/overrides.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required: run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# JupyterLab's defaults for this course: it runs offline, so no news or update prompts.
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "Building the book needs Node.js and npm (for a local MathJax)."; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# What the website serves itself: MathJax, and for widgets RequireJS, html-manager (with
# its fonts) and anywidget's front end (from the anywidget wheel), plus RequireJS's config.
WIDGET_ASSETS = node_modules/requirejs/require.js book/assets/require-config.js \
	$(filter-out %.map %.txt %/embed.js %/libembed-amd.js,$(wildcard node_modules/@jupyter-widgets/html-manager/dist/*))

book/vendor/.installed: node_modules/.installed $(VENV)/.installed book/assets/require-config.js
	rm -rf book/vendor
	mkdir -p book/vendor/widgets
	cp -R node_modules/mathjax/es5 book/vendor/mathjax
	cp $(WIDGET_ASSETS) book/vendor/widgets/
	cp "$$($(BIN)/python -c 'import anywidget, pathlib; print(pathlib.Path(anywidget.__file__).parent / "nbextension" / "index.js")')" book/vendor/widgets/anywidget.js
	touch $@

# The server's root is the course directory (nbgrader's extensions need nbgrader_config.py
# there, and .venv/bin on PATH for alembic); the browser opens the chapter's notebook in
# notebooks/. Root (as in a container) needs --allow-root. LAB_ARGS adds options (--no-browser, --port=N).
LAB_OPTIONS = --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/$(CHAPTER)/$(CHAPTER).ipynb \
	$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

lab: setup  ## open the student notebooks in JupyterLab
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab $(LAB_OPTIONS)

book: setup book/vendor/.installed  ## build the website into _build/html (EDITION=self-study folds the solutions in)
	$(BIN)/prettynn-course book-pages --edition $(EDITION)
	$(BIN)/jupyter-book build --warningiserror --keep-going .

serve: book  ## build the website and serve it on http://localhost:$(PORT)
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html $(PORT)

browser:  ## install Chromium for the browser tests (Debian/Ubuntu, as root), if missing
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "Chromium not found: the browser tests will be skipped (install the chromium package)."

sandbox:  ## install bubblewrap, the grader's sandbox (Debian/Ubuntu, as root), if missing
	@command -v bwrap >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; } || \
	  echo "bubblewrap (bwrap) not found: grading falls back to its weaker, in-process guard (install bubblewrap)."

grade: setup sandbox  ## autograde every submission of CHAPTER (every chapter without it), WORKERS in parallel (default: all cores), or as jobs on CLUSTER=local:N or SCHEDULER=tcp://HOST:PORT
	$(BIN)/prettynn-course grade $(if $(CHAPTER),$(CHAPTER),--all) $(if $(WORKERS),--workers $(WORKERS)) $(if $(CLUSTER),--cluster $(CLUSTER)) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

test: setup book/vendor/.installed browser sandbox  ## run the whole test suite
	$(BIN)/python -m pytest

feedback: setup node_modules/.installed  ## HTML feedback of CHAPTER in autograde/feedback (MathJax inside each page: read offline)
	$(BIN)/nbgrader generate_feedback $(CHAPTER)

release: setup  ## make the grading cells from the declarations, then regenerate the student release of CHAPTER (refused over a student's work unless DISCARD_WORK=1)
	$(BIN)/prettynn-course sync
	$(BIN)/prettynn-course release $(CHAPTER) $(if $(DISCARD_WORK),--discard-work)

samples: setup  ## regenerate the sample submissions from autograde/samples/*.toml
	$(BIN)/prettynn-course samples

clean:  ## remove built and generated files (keeps .venv and node_modules)
	rm -rf _build book/chapters book/vendor autograde/autograded autograde/feedback autograde/gradebook.db
