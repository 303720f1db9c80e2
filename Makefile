# The commands a person runs. Each target sets up what it needs first.
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
DEMO_INPUT := tests/fixtures/hf-2024-09-24.json

.PHONY: setup run test lint clean

setup: $(STAMP)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==0.13.8

$(STAMP): pyproject.toml | $(UV)
	test -x $(VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip install --quiet --python $(VENV)/bin/python -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(VENV)/bin/paperdigest run --input $(DEMO_INPUT)

test: $(STAMP)
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check layers functions tests
	$(VENV)/bin/ruff format --check layers functions tests

clean:
	rm -rf $(VENV) $(TOOLS) site .paperdigest .pytest_cache
