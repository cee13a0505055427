# The two commands of the README: `make book` and `make test`. Both set up .venv from
# requirements.txt first (a fresh machine needs nothing else than Python 3.11).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.ready

.PHONY: book test release student-dist bench lab clean

$(READY): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# Executes every chapter once (the jupyter-cache under _build/ is reused by later builds and
# read by the tests); any warning or failing cell fails the build.
book: $(READY)
	$(BIN)/jupyter-book build . -W -n --keep-going

test: book
	CNN_REQUIRE_BOOK=1 $(BIN)/python -m pytest -n 2 --dist loadscope

# Instructor: regenerate solutions/*/ (notebooks, stubbed packages) and exercises/ (the release).
release: $(READY)
	$(BIN)/python -m cnngrader release

student-dist: $(READY)
	$(BIN)/python -m cnngrader student-dist dist/student

bench: $(READY)
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf _build dist .pytest_cache .hypothesis
