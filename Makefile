# ses-feedback — `make help` lists the targets.
# Every target bootstraps what it needs: .venv (the app, pinned) and .venv-tools (SAM CLI).

SHELL := /bin/bash
export SAM_CLI_TELEMETRY := 0
.DEFAULT_GOAL := help

# Lambda runs python3.13: use it when the machine has it (pyenv or PATH), else python3.
PYTHON ?= $(shell for p in python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13 python3; do \
	  if $$p -c 'import sys' >/dev/null 2>&1; then command -v $$p; break; fi; done)
VENV := .venv
TOOLS := .venv-tools
CHECKOV := .venv-checkov
PY := $(VENV)/bin/python
APP_STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS)/.installed
CHECKOV_STAMP := $(CHECKOV)/.installed
PYTHON313_DIR := $(dir $(PYTHON))
LINT_HOSTED_ZONE := Z0123456789EXAMPLE
# The two forms of several regions (docs/deploy.md, "Several regions"), as `make validate` lints
# them (in us-east-1): a home stack with its four replica slots filled, and a replica stack.
LINT_HOME_WITH_REPLICAS := ReplicaRegions=eu-west-1,ap-southeast-2,eu-central-1,us-west-2
LINT_REPLICA_FORM := HomeRegion=us-west-2 ReplicaRegions=us-east-1,eu-west-1 \
  HomeSuppressionTableName=ses-feedback-SuppressionTable-EXAMPLE \
  HomeFeedbackQueueArn=arn:aws:sqs:us-west-2:123456789012:ses-feedback-FeedbackQueue-EXAMPLE \
  HomeStreamsSecretArn=arn:aws:secretsmanager:us-west-2:123456789012:secret:StreamsSecret-EXAMPLE-AbCdEf
# $(call validate_with,Name=Value ...): sam validate --lint on a copy of template.yaml whose
# parameters' defaults are those values (each must be "" in template.yaml, or the copy is refused).
define validate_with
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cp template.yaml "$$tmp/template.yaml" && \
	  for pair in $(1); do name=$${pair%%=*}; value=$${pair#*=}; \
	    sed -i "/^  $$name:\$$/,/Default:/ s|Default: \"\"|Default: \"$$value\"|" "$$tmp/template.yaml" && \
	    grep -q "Default: \"$$value\"" "$$tmp/template.yaml" || { echo "no empty default for $$name" >&2; exit 1; }; \
	  done && \
	  $(TOOLS)/bin/sam validate --lint --template "$$tmp/template.yaml" --region us-east-1
endef
# pytest on xdist workers, one per core (each e2e worker starts its own moto server);
# `make test PYTEST_WORKERS=0` runs in one process.
PYTEST_WORKERS ?= auto
# --dist load, not loadgroup: Schemathesis gives every route's test one node id, and loadgroup
# (which keys its queue by node id) ran one route of eighteen; xdist_group is ignored under
# pytest 9.2 anyway (tests/e2e/test_api_schema.py).
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist load
# Runs that drive every function (check, test) also fail on a grant in template.yaml that no
# call of the function's code needed (tests/support/iam_calls.py; every run checks the calls).
IAM_GRANTS := --iam-unused-grants
STATIC_CHECKS := lint typecheck validate checkov build

.PHONY: help venv tools browser demo test check lint typecheck validate checkov build unit integration e2e bench clean openapi docs-graph event-schemas

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(APP_STAMP): requirements-dev.txt requirements-translator.txt layers/common/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-translator.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(TOOLS_STAMP): requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet -r requirements-tools.txt
	touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

venv: $(APP_STAMP) ## create .venv with the pinned app and test dependencies

# Pages people see are tested in a real headless browser: Debian's chromium. Installed here when
# missing and apt-get can (root on Debian); otherwise stop before any test, naming the one command.
browser: ## make sure headless Chromium is on PATH (Debian's chromium package)
	@if command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "make test needs headless Chromium on PATH; on Debian or Ubuntu run: sudo apt-get install -y chromium" >&2; \
	  exit 1; \
	fi

tools: $(TOOLS_STAMP) ## create .venv-tools with the pinned SAM CLI and cfn-lint

demo: $(APP_STAMP) ## run the whole loop locally on an embedded AWS (no account needed; MAX_SEND_RATE=N throttles its SES)
	$(VENV)/bin/ses-feedback demo $(if $(MAX_SEND_RATE),--max-send-rate $(MAX_SEND_RATE))

lint: $(APP_STAMP) ## ruff format check and lint; import-linter holds the layers' contracts (pyproject.toml)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

typecheck: $(APP_STAMP) ## mypy (strict, pydantic plugin) over the layer, handlers and CLI
	$(VENV)/bin/mypy layers/common/ses_feedback cli/ses_feedback_cli stack/ses_feedback_stack emulator/ses_feedback_emulator doctor/ses_feedback_doctor functions

validate: $(TOOLS_STAMP) ## sam validate --lint (cfn-lint included) on template.yaml: plain, with a HostedZoneId, with four replica regions, and the replica-region form
	@# `sam validate --lint` runs cfn-lint itself; plain cfn-lint on the variants runs in the
	@# tests (tests/infrastructure/test_sending_identity.py, test_regions_template.py), so it is
	@# not run a second time here.
	$(TOOLS)/bin/sam validate --lint --template template.yaml --region us-east-1
	@# sam validate takes no parameters: each variant is a copy whose defaults are set.
	@# The Route 53 records exist only with a HostedZoneId; the home form's replica slots only
	@# with ReplicaRegions; the replica form (HomeRegion set) has no table, queue or feedback function.
	$(call validate_with,HostedZoneId=$(LINT_HOSTED_ZONE))
	$(call validate_with,$(LINT_HOME_WITH_REPLICAS))
	$(call validate_with,$(LINT_REPLICA_FORM))

# --skip-download: checkov would otherwise fetch guideline links from its vendor's API.
checkov: $(CHECKOV_STAMP) ## checkov on template.yaml (every finding left is skipped inline, with its reason)
	$(CHECKOV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download

build: $(TOOLS_STAMP) ## sam build (needs python3.13 on PATH; no container)
	PATH="$(PYTHON313_DIR):$$PATH" $(TOOLS)/bin/sam build --template template.yaml

unit: $(APP_STAMP) ## unit tests only
	$(PY) -m pytest tests/unit tests/infrastructure

integration: $(APP_STAMP) ## integration tests (in-process moto)
	$(PY) -m pytest tests/integration

e2e: $(APP_STAMP) ## end-to-end tests (moto_server on loopback)
	$(PY) -m pytest tests/e2e

check: lint typecheck ## the inner loop (under a minute): lint, types, unit and integration tests
	$(PY) -m pytest $(PYTEST_PARALLEL) $(IAM_GRANTS) tests/unit tests/infrastructure tests/integration

# The static checks run two at a time (each is one process on one core), then the tests.
test: browser $(APP_STAMP) $(TOOLS_STAMP) $(CHECKOV_STAMP) ## everything CI runs: lint, types, template checks, sam build, all tests
	$(MAKE) --no-print-directory --output-sync=target -j 2 $(STATIC_CHECKS)
	$(PY) -m pytest $(PYTEST_PARALLEL) $(IAM_GRANTS)

bench: $(APP_STAMP) ## benchmarks against a local moto server process (figures, not pass/fail)
	$(PY) -m benchmarks

clean: ## remove the venvs and build output
	rm -rf $(VENV) $(TOOLS) $(CHECKOV) .aws-sam .mypy_cache .ruff_cache .pytest_cache

event-schemas: $(APP_STAMP) ## regenerate docs/events/*.schema.json from the event models (commit them)
	$(PY) -c 'import json, pathlib; from ses_feedback.model.outbound import json_schemas; \
	[pathlib.Path(f"docs/events/{k}.schema.json").write_text(json.dumps(v, indent=2) + "\n") for k, v in json_schemas().items()]'

openapi: $(APP_STAMP) ## regenerate the REST API's OpenAPI document from the handlers (commit it)
	$(VENV)/bin/ses-feedback openapi --write

docs-graph: $(APP_STAMP) ## regenerate the package diagram in docs/architecture.md from the imports (commit it)
	$(PY) -m tests.support.package_graph --write
