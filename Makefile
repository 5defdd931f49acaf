# The two commands of the README: `make demo` (the main job) and `make test` (the whole suite).
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint services bench translations

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

# The web app's gettext catalogs: the .po files are committed, the .mo files are built here (and in the
# Dockerfile); the app also compiles missing ones at start-up, so a fresh clone works either way.
translations: $(STAMP)
	$(VENV)/bin/pybabel compile -d translations

# Re-extract the texts after changing the web app's templates or views, then translate the new entries.
extract-messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -o translations/messages.pot .
	$(VENV)/bin/pybabel update -i translations/messages.pot -d translations

demo: $(STAMP)
	$(VENV)/bin/tryghed demo --out out

services:
	bash scripts/services

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy survey pipeline celery_app.py --ignore-missing-imports

test: $(STAMP) services lint translations
	$(VENV)/bin/pytest -q

bench: $(STAMP) services
	$(VENV)/bin/python benchmarks/bench_render.py --runs 20 --lang da
	$(VENV)/bin/python benchmarks/bench_demo.py --runs 5
	$(VENV)/bin/python benchmarks/bench_survey.py --submits 20
	$(VENV)/bin/python benchmarks/bench_answer.py --seconds 10
	$(VENV)/bin/python benchmarks/bench_mail.py
