# Two set-up commands for a fresh machine: `make demo` and `make test` (`make mutants`: the mutation check).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test mutants gallery bench clean docs

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP_RUN): pyproject.toml constraints.txt | $(PY)
	$(PIP) install -q -c constraints.txt -e ".[all]"
	touch $@

$(STAMP_TEST): pyproject.toml constraints.txt | $(PY)
	$(PIP) install -q -c constraints.txt -e ".[test]"
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(VENV)/bin/optimlab compare

test: $(STAMP_TEST)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --dist loadfile

# The mutation check (not part of `make test`): every deliberate bug in tools/mutants.toml must be caught.
mutants: $(STAMP_TEST)
	$(PY) tools/mutants.py

docs: $(STAMP_RUN)
	$(VENV)/bin/optimlab optimizers --write docs/optimizers.md --readme README.md

gallery: $(STAMP_RUN)
	$(PY) -m optimlab.lab.gallery docs/gallery

bench: $(STAMP_RUN)
	OMP_NUM_THREADS=1 $(PY) benchmarks/step.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
