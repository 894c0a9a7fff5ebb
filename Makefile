# Two commands for a fresh machine with Python 3.11: `make demo` and `make test`.
#
# Both install the exact versions in requirements/dev.txt (with hashes), the ones the tests pass
# with. `make lock` refreshes that file from the ranges in pyproject.toml; `make test-latest`
# runs the suite against the newest release of every dependency, to see what the next lock
# would bring before it is taken.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LOCK := requirements/dev.txt
UV_COMPILE = pyproject.toml requirements/tools.in --extra test --extra lint --universal \
	--python-version 3.11 --generate-hashes

.PHONY: demo test lint lock test-latest test-yaml-range clean

$(BIN)/hepplan: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

demo: $(BIN)/hepplan
	$(BIN)/hepplan plan examples/profiles/tight-piriformis.yaml --clinic examples/clinic.yaml -o P-1001.pdf

test: $(BIN)/hepplan
	$(BIN)/python -m pytest -q

lint: $(BIN)/hepplan
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lock: $(BIN)/hepplan
	$(BIN)/uv pip compile --quiet $(UV_COMPILE) --upgrade -o $(LOCK)

# The newest release of every dependency that pyproject.toml allows, in a venv of its own.
test-latest:
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/pip install --quiet --upgrade pip
	.venv-latest/bin/pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
	.venv-latest/bin/python -m pytest -q

# hepplan's own limits on hostile YAML hold on the oldest PyYAML it allows as on the locked one.
test-yaml-range: $(BIN)/hepplan
	rm -rf .venv-yaml
	$(PYTHON) -m venv .venv-yaml
	.venv-yaml/bin/pip install --quiet --require-hashes -r $(LOCK)
	.venv-yaml/bin/pip install --quiet --no-deps --no-build-isolation -e .
	.venv-yaml/bin/pip install --quiet --no-deps 'PyYAML==6.0.1'
	.venv-yaml/bin/python -m pytest -q tests/test_hostile.py tests/test_profile.py

clean:
	rm -rf $(VENV) .venv-latest .venv-yaml *.pdf
