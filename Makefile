# saiping — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast package bench backup restore clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: install
	$(PY) -m scripts.run_local

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest tests/unit tests/integration -q

package: install
	rm -rf chalicelib/templates build
	cp -r templates chalicelib/templates
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-ap-southeast-1} $(VENV)/bin/chalice package --stage dev build/
	rm -rf chalicelib/templates

bench: install
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf build chalicelib/templates .pytest_cache
