# Two commands for a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test clean

$(BIN)/hepplan: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/hepplan
	$(BIN)/hepplan plan examples/profiles/tight-piriformis.yaml --clinic examples/clinic.yaml -o P-1001.pdf

test: $(BIN)/hepplan
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) *.pdf
