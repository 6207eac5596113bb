# Two commands on a fresh machine with Python >= 3.11 and make:
#   make run    virtualenv with the production dependencies, migrations, demo data, dev server
#               and a background worker beside it (webhook deliveries)
#   make worker one background worker in the foreground
#   make test   the whole suite (SQLite; PostgreSQL when DATABASE_URL is set)
#   make messages  the French catalogue brought up to date with the code, then compiled

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests need a key but never a real one; DEBUG stays off as in production. Bytecode is cached
# even where the environment says not to (PYTHONDONTWRITEBYTECODE): every test process would
# otherwise compile Django and rewrite the assertions of every pytest plugin again, seconds each.
TEST_ENV := SECRET_KEY=test-only-not-secret DEBUG=false ALLOWED_HOSTS=testserver,localhost,127.0.0.1 \
	PYTHONDONTWRITEBYTECODE=
# The tool that pins both lock files, itself pinned.
PIP_TOOLS := pip-tools==7.6.2
COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links

.PHONY: run worker test coverage lint typecheck format bench lock messages clean

# Production dependencies only: what `make run` and a server need.
$(BIN)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

# The same pins, plus the tools for tests and checks.
$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.lock
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

# The worker runs beside the server and stops with it.
run: $(BIN)/.installed
	DEBUG=true $(BIN)/python manage.py migrate --verbosity 0
	DEBUG=true $(BIN)/python manage.py seed_demo
	DEBUG=true $(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=true $(BIN)/python manage.py runserver $(HOST):$(PORT)

# One worker of the task framework (django-tasks' database backend): run as many as needed,
# on one machine or several; they never run the same task, nor send the same webhook attempt.
worker: $(BIN)/.installed
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --verbosity 0
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py db_worker

# --dist loadgroup: the query-plan tests share one large database, so they share one worker.
test: $(BIN)/.installed-dev
	$(TEST_ENV) $(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# Both databases, as CI runs them: the coverage of the two passes together, with its floor.
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
coverage: $(BIN)/.installed-dev
	env -u DATABASE_URL $(TEST_ENV) $(BIN)/pytest -n 2 --dist loadgroup --cov --cov-report=
	DATABASE_URL=$(PG_URL) $(TEST_ENV) $(BIN)/pytest -n 2 --dist loadgroup \
		--cov --cov-append --cov-report=term --cov-fail-under=95

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates --lint
	$(BIN)/djlint templates --check

typecheck: $(BIN)/.installed-dev
	DEBUG=true $(BIN)/mypy

format: $(BIN)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/djlint templates --reformat

bench: $(BIN)/.installed-dev
	$(BIN)/python benchmarks/run.py

# The dashboard's French catalogue (locale/fr/LC_MESSAGES): every string the code and the
# templates mark is extracted into django.po (translate the new ones, no fuzzy left), then
# compiled into django.mo, which is committed so that `make run` needs no gettext. Needs GNU
# gettext (Debian: apt-get install gettext).
MESSAGES_ARGS := --locale fr --ignore .venv --ignore staticfiles --ignore benchmarks --ignore tests
messages: $(BIN)/.installed
	DEBUG=true $(BIN)/python manage.py makemessages $(MESSAGES_ARGS) --add-location file --no-obsolete
	DEBUG=true $(BIN)/python manage.py compilemessages --locale fr --ignore .venv

# Re-pin both lock files after editing pyproject.toml (the dev lock keeps the production pins).
lock: $(BIN)/.installed
	$(BIN)/pip install --quiet $(PIP_TOOLS)
	$(COMPILE) -o requirements.lock pyproject.toml
	$(COMPILE) --extra dev --constraint requirements.lock -o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
