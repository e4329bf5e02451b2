# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
TEST_ENV := DJANGO_SETTINGS_MODULE=config.settings.test
PYTEST_ARGS ?= --create-db

BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/governance_bench

.PHONY: install run test bench audit lint format messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	BIN=$(BIN) scripts/audit
	$(TEST_ENV) $(BIN)/python scripts/ensure_services.py
	scripts/ensure_browser.sh
	$(TEST_ENV) $(BIN)/python manage.py check --fail-level WARNING
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

# Figures, not pass/fail: seeds a 100x street once into its own database, then times the work.
# `make bench ONLY="dashboards incremental"` runs only those parts.
bench: $(STAMP)
	$(TEST_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python scripts/ensure_services.py
	$(TEST_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) DJANGO_ALLOWED_HOSTS=127.0.0.1 $(BIN)/python tests/bench/run.py $(ONLY)

# Bandit over the code and pip-audit over the dependencies; here a missing advisory service fails.
audit: $(STAMP)
	BIN=$(BIN) AUDIT_REQUIRE_ADVISORIES=1 scripts/audit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Needs GNU gettext; the compiled .mo files are committed so installs never need it.
messages: $(STAMP)
	$(BIN)/python manage.py makemessages --locale zh_Hans --ignore ".venv/*" --ignore "static/vendor/*"
	$(BIN)/python manage.py compilemessages --ignore ".venv/*"

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
