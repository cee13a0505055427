# The two commands of the README: `make book` and `make test`. Both set up .venv from
# requirements.txt first (a fresh machine needs nothing else than Python 3.11).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.ready
MATHJAX := book/_static/mathjax
MATHJAX_VERSION := 3.2.2

.PHONY: book test release student-dist bench lab progress chromium clean

$(READY): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# Executes every chapter once (the jupyter-cache under _build/ is reused by later builds and
# read by the tests); any warning or failing cell fails the build.
book: $(READY) $(MATHJAX)/tex-mml-chtml.js
	$(BIN)/jupyter-book build . -W -n --keep-going

test: book chromium
	CNN_REQUIRE_BOOK=1 CNN_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -n 2 --dist loadscope

# Instructor: regenerate solutions/*/ (notebooks, stubbed packages) and exercises/ (the release).
release: $(READY)
	$(BIN)/python -m cnngrader release

student-dist: $(READY)
	$(BIN)/python -m cnngrader student-dist dist/student

bench: $(READY)
	$(BIN)/python benchmarks/bench.py

# MathJax 3, served by the book itself (offline, from any sub-path): fetched once from the npm
# registry (Debian's npm is installed when missing; CI runs as root on Debian).
$(MATHJAX)/tex-mml-chtml.js:
	command -v npm >/dev/null || $(APT) npm
	rm -rf $(MATHJAX) $(MATHJAX).tmp && mkdir -p $(MATHJAX).tmp
	cd $(MATHJAX).tmp && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null && tar xzf mathjax-$(MATHJAX_VERSION).tgz
	mv $(MATHJAX).tmp/package/es5 $(MATHJAX) && cp $(MATHJAX).tmp/package/LICENSE $(MATHJAX)/ && rm -rf $(MATHJAX).tmp
	# keep tex-mml-chtml.js (Sphinx's choice) and what it loads on demand; drop the other bundles
	cd $(MATHJAX) && rm -rf tex-chtml*.js mml-*.js *svg*.js output/svg output/svg.js node-main.js latest.js

# Headless Chromium for tests/test_browser.py: Debian's package (no browser download).
APT = $(if $(filter 0,$(shell id -u)),,sudo) sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$$0"'
chromium:
	@command -v $${CHROMIUM:-chromium} >/dev/null || $(APT) chromium

# Student workspace: JupyterLab on the student distribution (exercises and chapters), with the
# student's cnnlib importable and %autoreload 2 in every kernel.
# Builds dist/student once (never over your work there; `make student-dist` rebuilds it).
lab: $(READY)
	test -d dist/student || $(BIN)/python -m cnngrader student-dist dist/student
	cd dist/student && $(CURDIR)/$(BIN)/python -m cnnlib.workspace

# Which of the student's cnnlib functions (in dist/student, as `make lab` edits them) pass their
# visible checks, assignment by assignment (chapter by chapter).
progress: $(READY)
	test -d dist/student || $(BIN)/python -m cnngrader student-dist dist/student
	$(BIN)/python -m cnnlib.progress_report dist/student

clean:
	rm -rf _build dist .pytest_cache .hypothesis

# Chapter 10's full runs on a CUDA GPU: writes book/results/gpu_results.json (device, date, versions,
# figures), the only source of the GPU figures the book shows. Several GPUs, data-parallel:
#   $(BIN)/torchrun --nproc_per_node=N -m cnnlib.final_runs
.PHONY: gpu-results
gpu-results: $(READY)
	$(BIN)/python -m cnnlib.final_runs

# Instructor: autograde a class of 30 submissions of one assignment and print the wall time.
.PHONY: bench-grading
bench-grading: $(READY)
	$(BIN)/python benchmarks/grading.py --students 30
