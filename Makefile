# The two commands a newcomer needs: `make demo` and `make test`. Both create .venv if missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PYTHAINLP_READ_ONLY := 1

.PHONY: demo test lint typecheck clean

$(BIN)/progress-bot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/progress-bot
	$(BIN)/progress-bot demo-data
	$(BIN)/progress-bot console

lint: $(BIN)/progress-bot
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/progress-bot
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache
