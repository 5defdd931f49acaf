# The two commands of the README: `make demo` (the main job) and `make test` (the whole suite).
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint services bench translations lock extract-messages

# Python 3.11 everywhere: here, on CI and in the image (Dockerfile); the lock files are resolved for it.
PYTHON_VERSION := 3.11
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --universal --generate-hashes --python-version $(PYTHON_VERSION)

# Everything installed from the lock with hashes (no version range is resolved here), then the project
# itself without dependencies. The image does the same with requirements.lock (no dev tools).
$(STAMP): requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; v = "%d.%d" % sys.version_info[:2]; sys.exit(0 if v == "$(PYTHON_VERSION)" else f"$(PYTHON) is Python {v}; the lock files are for $(PYTHON_VERSION): make PYTHON=python$(PYTHON_VERSION)")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --require-hashes -r requirements-dev.lock
	$(VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	touch $@

# After changing the dependencies in pyproject.toml: resolve again (both files, the runtime pins shared).
lock: $(STAMP)
	printf 'setuptools>=68\n' > .build-requirements.in
	$(UV_COMPILE) pyproject.toml .build-requirements.in -o requirements.lock
	$(UV_COMPILE) pyproject.toml .build-requirements.in --extra dev -c requirements.lock -o requirements-dev.lock
	rm .build-requirements.in

# The web app's gettext catalogs: the .po files are committed, the .mo files are built here (and in the
# Dockerfile); the app also compiles missing ones at start-up, so a fresh clone works either way.
translations: $(STAMP)
	$(VENV)/bin/pybabel compile -d translations

# Re-extract the texts after changing any template or Python text (web, mail, PDFs), then translate the new entries.
# The catalogs are wrapped at 100 columns (`-w 100`), as committed: the default would rewrap every long entry.
extract-messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k N_ -k translate:2 -k translate_plural:2,3 -k Text -k pN_:1c,2 -k text_pattern -o translations/messages.pot .
	$(VENV)/bin/pybabel update -w 100 -i translations/messages.pot -d translations

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
