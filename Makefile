# Two commands on a fresh machine with Python >= 3.11 and make:
#   make run    virtualenv, dependencies from the lock, migrations, demo data, dev server
#   make test   the whole suite (SQLite; PostgreSQL when DATABASE_URL is set)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests need a key but never a real one; DEBUG stays off as in production.
TEST_ENV := SECRET_KEY=test-only-not-secret DEBUG=false ALLOWED_HOSTS=testserver,localhost,127.0.0.1

.PHONY: run test lint format bench lock clean

$(BIN)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

run: $(BIN)/.installed
	DEBUG=true $(BIN)/python manage.py migrate --verbosity 0
	DEBUG=true $(BIN)/python manage.py seed_demo
	DEBUG=true $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(BIN)/.installed
	$(TEST_ENV) $(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/run.py

# Re-pin every dependency after editing pyproject.toml.
lock: $(BIN)/.installed
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --generate-hashes \
		-o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
