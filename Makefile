# make demo / make test work on a fresh machine with only Python >= 3.11 and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEMO_STORE := .demo/store

.PHONY: install demo examples test lint bench bench-scale clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,cluster]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check wfhaudit tests bench
	$(VENV)/bin/mypy wfhaudit

# Everything the demo writes is under .demo/ (ignored by git): `git status` stays clean.
demo: $(STAMP)
	$(PY) -m wfhaudit.demo --data sample_data --store $(DEMO_STORE)

# Regenerate the committed reports/examples/ (reports in id and en, first-page PNGs: needs Chromium).
examples: $(STAMP)
	$(PY) -m wfhaudit.demo --data sample_data --store $(DEMO_STORE) --examples reports/examples

bench: $(STAMP)
	$(PY) bench/ingest.py
	$(PY) bench/audit.py

# Scale benchmark (docs/scale.md): 40k, 400k and 4M employees for one month; slow.
bench-scale: $(STAMP)
	$(PY) bench/scale.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
