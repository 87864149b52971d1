# saiping — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run lint test test-fast package policies downloads export bench backup restore migrate migrate-dry clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: install
	$(PY) -m scripts.run_local

# ruff and mypy with the settings of pyproject.toml (.ci/run runs it before the tests).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: install
	$(PY) -m pytest

# The domain's unit tests and the service tests on the in-memory repositories (store/memory.py): no moto,
# no conftest (tests/conftest.py starts moto). test_upload_policy signs against S3 and runs with `make test`.
test-fast: install
	$(PY) -m pytest tests/unit tests/services --noconftest --ignore=tests/unit/test_upload_policy.py

# Deployable artefacts in build/: sam.json (Chalice's SAM output merged with infra/), deployment.zip (the
# functions' code, with the page templates compiled: infra/templates.py), layer-deployment.zip (requirements.txt
# but for what infra/layers.py moves into layer-spreadsheets.zip and layer-documents.zip, with the font), all
# with compiled bytecode (infra/bytecode.py:
# Lambda cannot cache what it compiles). STAGE=dev|prod. The template is made for the partition of
# AWS_DEFAULT_REGION (cn-north-1, cn-northwest-1: aws-cn, no SES) and linted for that region. docs/DEPLOY.md.
STAGE ?= dev
PACKAGE_REGION := $(or $(AWS_DEFAULT_REGION),$(AWS_REGION),ap-southeast-1)

package: install
	rm -rf build chalicelib/templates chalicelib/templates_compiled
	$(PY) -m infra.build_template --stage $(STAGE) --check-policies --out build/merge-template.json
	cp -r templates chalicelib/templates
	status=0; $(PY) -m infra.templates chalicelib/templates_compiled && \
	    AWS_DEFAULT_REGION=$(PACKAGE_REGION) $(VENV)/bin/chalice package --stage $(STAGE) \
	    --merge-template build/merge-template.json build/ || status=$$?; \
	rm -rf chalicelib/templates chalicelib/templates_compiled; exit $$status
	$(PY) -m infra.build_template --finish build/sam.json --region $(PACKAGE_REGION)
	$(PY) -m infra.layers build/sam.json build/deployment.zip build/layer-deployment.zip
	$(PY) -m infra.bytecode build/sam.json build/deployment.zip build/layer-*.zip
	$(VENV)/bin/cfn-lint --regions $(PACKAGE_REGION) -- build/sam.json
	@ls -l build/sam.json build/*.zip

# Rewrites .chalice/policy-<function>.json from infra/functions.json and the models (commit the result).
policies: install
	$(PY) -m infra.build_template --write-policies

# The Word files that / offers (大赛通知, 参赛案例说明书 template) from the configs, into
# chalicelib/competitions/downloads/ (commit the result; tests/integration/test_downloads.py checks they match).
downloads: install
	$(PY) -m scripts.make_downloads

# An export from the local stack of `make run` (scripts/organiser.py; other stages: see its --help).
export: install
	$(if $(KIND),,$(error usage: make export KIND=<an export kind of docs/EXPORTS.md, e.g. results_xlsx> [CATEGORY=development|service|empowerment] [OUT=file]))
	$(PY) -m scripts.organiser --local export $(KIND) $(if $(CATEGORY),--category $(CATEGORY)) $(if $(OUT),--out $(OUT))

bench: install
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

# Backup and restore of the stage the environment points at (AWS_ENDPOINT_URL for the local emulator,
# or TABLE_PREFIX and BUCKET_NAME, or STACK=<CloudFormation stack>). DIR is a folder or a .zip.
backup: install
	$(PY) -m scripts.backup dump $(if $(STACK),--stack $(STACK)) $(or $(DIR),backups/saiping-$$(date +%Y%m%d-%H%M%S).zip)

restore: install
	$(if $(DIR),,$(error usage: make restore DIR=<folder or .zip> [STACK=<stack>] [YES=1]))
	$(PY) -m scripts.backup load $(if $(STACK),--stack $(STACK)) $(if $(YES),--yes) $(DIR)

# Moves a stack's rows written before keys carried the competition (issue 17) into the keys of store/keys.py
# (scripts/migrate_competition_keys.py; docs/OPERATIONS.md). The stage the environment points at, as backup does
# (AWS_ENDPOINT_URL, TABLE_PREFIX, or STACK=<stack>); COMPETITION=<id> (default: the stack's COMPETITION_ID).
# migrate-dry prints what would move and writes nothing; back up first.
migrate: install
	$(PY) -m scripts.migrate_competition_keys $(if $(STACK),--stack $(STACK)) $(if $(COMPETITION),--competition $(COMPETITION))

migrate-dry: install
	$(PY) -m scripts.migrate_competition_keys $(if $(STACK),--stack $(STACK)) $(if $(COMPETITION),--competition $(COMPETITION)) --dry-run

clean:
	rm -rf build chalicelib/templates chalicelib/templates_compiled .pytest_cache
