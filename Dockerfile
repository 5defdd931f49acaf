# One image for web, worker and beat (docker-compose.yml picks the command).
# Python 3.11, as in the tests and CI (Makefile PYTHON_VERSION); the lock files are resolved for it.
FROM python:3.11-slim

# WeasyPrint needs Pango (and fonts with Danish letters); pdftotext is not needed at runtime.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
       fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 tryghed \
    && mkdir -p /var/lib/tryghed && chown tryghed /var/lib/tryghed
WORKDIR /app

# The dependencies exactly as locked, every file checked against its hash (no version range is resolved at
# build time), in a layer of their own that a code change does not rebuild; then the project itself.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md celery_app.py gunicorn.conf.py ./
COPY survey ./survey
COPY pipeline ./pipeline
COPY templates ./templates
COPY translations ./translations
RUN pip install --no-cache-dir --no-deps --no-build-isolation . && pybabel compile -d translations \
    && python -m compileall -q survey pipeline
# (the bytecode of /app is compiled here, as root: the tryghed user cannot write __pycache__ there, and
# without it every command and worker would compile the code anew at each start; docs/benchmarks.md)
# Import the code from /app, next to the top-level templates/ folder it renders from (a plain
# `pip install .` puts the packages in site-packages, where ../templates does not exist).
ENV PYTHONPATH=/app

USER tryghed
ENV TRYGHED_INSTANCE_PATH=/var/lib/tryghed
EXPOSE 8000
# The web app's /healthz (200 while respondents can answer; the broker's state is in the body). Workers and
# beat run the same image with their own checks (docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-m", "survey.healthcheck", "web", "http://127.0.0.1:8000/healthz"]
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "survey:create_app()"]
