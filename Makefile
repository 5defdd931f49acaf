# The two commands of the README: `make demo` (the main job) and `make test` (the whole suite).
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint services bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

demo: $(STAMP)
	$(VENV)/bin/tryghed demo --out out

services:
	bash scripts/services

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy survey pipeline celery_app.py --ignore-missing-imports

test: $(STAMP) services lint
	$(VENV)/bin/pytest -q

bench: $(STAMP) services
	$(VENV)/bin/python benchmarks/bench_render.py --runs 20 --lang da
	$(VENV)/bin/python benchmarks/bench_demo.py --runs 5
	$(VENV)/bin/python benchmarks/bench_survey.py --submits 20
	$(VENV)/bin/python benchmarks/bench_answer.py --seconds 10
	$(VENV)/bin/python benchmarks/bench_mail.py
