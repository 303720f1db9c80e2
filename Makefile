# The commands a person runs. Each target sets up what it needs first.
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
DEMO_INPUT := tests/fixtures/hf-2024-09-24.json
# Deploy tools (aws-sam-cli, cfn-lint) in their own venv: aws-sam-cli pins boto3.
SAM_VENV := .tools-sam
SAM_STAMP := $(SAM_VENV)/.installed-$(shell sha1sum infra/tools-requirements.txt | cut -c1-12)
SAM_ENV := AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0
# Lambda's runtime is python3.12; sam build needs one on PATH to build without Docker.
PYTHON312 ?= $(firstword $(wildcard /root/.pyenv/versions/3.12.1/bin/python3.12) \
	$(shell command -v python3.12 2>/dev/null))
BUILT := .aws-sam/build/.postbuilt
BUILD_INPUTS := template.yaml infra/postbuild.py infra/lambdasim.py $(shell find functions layers \
	-type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*' -not -name '*.pyc')

.PHONY: setup run test lint clean validate build bench

setup: $(STAMP)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==0.13.8

# Bytecode compiled at install: with PYTHONDONTWRITEBYTECODE set, as on our machines,
# every process would otherwise compile each module it imports again.
$(STAMP): pyproject.toml | $(UV)
	test -x $(VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(VENV)/bin/python -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(VENV)/bin/paperdigest run --input $(DEMO_INPUT)

test: validate build $(STAMP)
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check layers functions tests
	$(VENV)/bin/ruff format --check layers functions tests

clean:
	rm -rf $(VENV) $(TOOLS) site .paperdigest .pytest_cache $(SAM_VENV) .aws-sam

$(SAM_STAMP): infra/tools-requirements.txt | $(UV)
	test -x $(SAM_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(SAM_VENV)
	$(UV) pip sync --quiet --compile-bytecode --python $(SAM_VENV)/bin/python infra/tools-requirements.txt
	rm -f $(SAM_VENV)/.installed-* && touch $@

# The template through the SAM transform: sam's own lint, then cfn-lint's full rule set.
validate: $(SAM_STAMP)
	$(SAM_ENV) $(SAM_VENV)/bin/sam validate --lint --template template.yaml
	$(SAM_ENV) $(SAM_VENV)/bin/cfn-lint template.yaml

# .aws-sam/build as deployed: sam build, then each distribution once and compiled.
build: $(BUILT)

$(BUILT): $(BUILD_INPUTS) | $(SAM_STAMP)
	@test -n "$(PYTHON312)" || { echo "make build: no python3.12 found;" \
		"install it or pass PYTHON312=/path/to/python3.12" >&2; exit 1; }
	PATH="$(dir $(PYTHON312)):$$PATH" $(SAM_ENV) $(SAM_VENV)/bin/sam build --cached --parallel
	$(SAM_VENV)/bin/python infra/postbuild.py --python $(PYTHON312)
	touch $@

# Sizes, cold starts and local run times; prints numbers, asserts nothing.
bench: build $(STAMP)
	$(VENV)/bin/python infra/bench.py
	$(VENV)/bin/python infra/bench_quality.py
