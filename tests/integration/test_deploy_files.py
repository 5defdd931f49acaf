"""docker-compose.yml and the Dockerfile, checked without a Docker engine: the services exist, their
commands name entry points that really import, there is one beat, and every TRYGHED_* variable is one
the configuration knows."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.tasks import PIPELINE_RETRY_COUNTDOWNS
from survey.celery_init import VISIBILITY_TIMEOUT, celery_config
from survey.config import defaults
from survey.mail.outbox import BACKOFF

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_entry_points(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    web = services["web"]["command"]
    assert web[0] == "gunicorn" and web[-1] == "survey:create_app()"
    module, factory = web[-1].rstrip("()").split(":")
    assert callable(getattr(importlib.import_module(module), factory))
    for name, role in (("worker", "worker"), ("beat", "beat")):
        cmd = services[name]["command"]
        assert cmd[:4] == ["celery", "-A", "celery_app", role], cmd
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert "scale" not in services["beat"]
    assert sum("beat" in (s.get("command") or []) for s in services.values()) == 1
    assert services["migrate"]["command"] == ["tryghed", "init"]


def test_celery_app_module_is_the_worker_entry_point(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRYGHED_BROKER_URL", "redis://127.0.0.1:6379/0")
    import celery_app

    importlib.reload(celery_app)  # built from this environment
    conf = celery_app.app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and not conf.task_always_eager
    assert conf.beat_schedule["tick-every-minute"]["task"] == "pipeline.tasks.tick"
    celery_app.app.loader.import_default_modules()  # what a worker does at start (``imports``)
    assert "pipeline.tasks.tick" in celery_app.app.tasks  # the beat task is registered


def test_environment_uses_known_settings(compose: dict[str, Any]) -> None:
    known = set(defaults(Path("/x"))) | {"SECRET_KEY", "INSTANCE_PATH"}
    env = compose["x-tryghed-env"]
    for key in env:
        assert key.startswith("TRYGHED_") and key.removeprefix("TRYGHED_") in known, key
    for name in ("web", "worker", "beat"):
        assert compose["services"][name]["environment"] == env
    assert env["TRYGHED_BROKER_URL"].startswith("redis://redis:")
    assert env["TRYGHED_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:" in env["TRYGHED_DATABASE_URL"]


def test_visibility_timeout_outlasts_every_countdown() -> None:
    # Redis redelivers an unacknowledged task after the visibility timeout: shorter than a countdown
    # would run that task twice.
    assert celery_config({})["broker_transport_options"]["visibility_timeout"] == VISIBILITY_TIMEOUT
    assert max(BACKOFF) < VISIBILITY_TIMEOUT
    assert max(defaults(Path("/x"))["MAIL_BACKOFF"]) < VISIBILITY_TIMEOUT
    assert max(PIPELINE_RETRY_COUNTDOWNS) < VISIBILITY_TIMEOUT  # run_pipeline's longest retry countdown


def test_dockerfile_copies_what_exists() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (.+)$", text, re.M):
        *sources, _dest = line.split()
        for src in sources:
            assert (ROOT / src).exists(), src
    assert "pip install" in text and "survey:create_app()" in text
    # the code must be imported from /app, where templates/ sits beside survey/ and pipeline/
    assert "ENV PYTHONPATH=/app" in text and "WORKDIR /app" in text and "COPY templates ./templates" in text


def test_every_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("web", "worker", "beat", "postgres", "redis"):
        check = services[name].get("healthcheck")
        assert check and check.get("test"), f"{name} has no healthcheck"
    assert services["worker"]["healthcheck"]["test"][1].startswith("celery -A celery_app inspect ping")
    for name in ("web", "beat"):
        test = services[name]["healthcheck"]["test"]
        assert test[:4] == ["CMD", "python", "-m", "survey.healthcheck"], test
        importlib.import_module(test[3])
    dockerfile = (ROOT / "Dockerfile").read_text()
    healthcheck = re.search(r"^HEALTHCHECK .*\n\s*CMD (\[.*\])$", dockerfile, re.M)
    assert healthcheck is not None, "the Dockerfile has no HEALTHCHECK"
    assert json.loads(healthcheck.group(1)) == services["web"]["healthcheck"]["test"][1:]


def test_healthcheck_commands_tell_up_from_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The container checks run for real: against a live web server and a broker that is up, then down."""
    import threading

    from werkzeug.serving import make_server

    from survey.healthcheck import check_broker, check_web
    from tests.conftest import make_app
    from tests.helpers import free_port

    app = make_app(tmp_path)
    server = make_server("127.0.0.1", free_port(), app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert check_web(f"http://127.0.0.1:{server.server_port}/healthz") is None
        assert "404" in (check_web(f"http://127.0.0.1:{server.server_port}/nothing") or "")
    finally:
        server.shutdown()
        server.server_close()
    down = check_web(f"http://127.0.0.1:{server.server_port}/healthz")
    assert down is not None and down.startswith(f"http://127.0.0.1:{server.server_port}/healthz: ")

    monkeypatch.setenv("TRYGHED_BROKER_URL", "redis://127.0.0.1:6379/0")
    assert check_broker() is None
    monkeypatch.setenv("TRYGHED_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")
    assert "Connection refused" in (check_broker() or "")


def _pins(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """``name -> (version, hashes)`` of a lock file made by ``make lock``."""
    pins: dict[str, tuple[str, frozenset[str]]] = {}
    text = path.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        found = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)(?: ; [^-]*)?(.*)$", line)
        if found:
            hashes = frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})", found.group(3)))
            assert hashes, f"{path.name}: {found.group(1)} has no hash"
            pins[_norm(found.group(1))] = (found.group(2), hashes)
    return pins


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_one_lock_with_hashes_drives_the_image_and_ci() -> None:
    """Both lock files pin every package with hashes, the runtime pins are the same in both, they satisfy
    pyproject.toml (a changed dependency without `make lock` fails here), this test environment is what
    the dev lock says, and image and CI use one Python version."""
    import tomllib
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    runtime, dev = _pins(ROOT / "requirements.lock"), _pins(ROOT / "requirements-dev.lock")
    assert runtime and {name: dev.get(name) for name in runtime} == runtime
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for spec, lock in [(r, runtime) for r in project["dependencies"]] + [
        (r, dev) for r in project["optional-dependencies"]["dev"]
    ]:
        req = Requirement(spec)
        assert _norm(req.name) in lock, f"{req.name} is not in the lock: run `make lock`"
        assert req.specifier.contains(lock[_norm(req.name)][0], prereleases=True), f"{req}: run `make lock`"
    stale = []
    for name, (pinned, _hashes) in dev.items():
        try:
            if _norm(version(name)) != _norm(pinned):
                stale.append(f"{name} {version(name)} (lock: {pinned})")
        except PackageNotFoundError:
            continue  # a package for another platform or Python (a marker in the lock)
    assert not stale, f"the environment differs from requirements-dev.lock: {stale}"

    dockerfile = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    python = re.search(r"^PYTHON_VERSION := (\S+)$", makefile, re.M)
    assert python is not None
    assert f"FROM python:{python.group(1)}-slim" in dockerfile
    assert "--require-hashes -r requirements.lock" in dockerfile and "--no-deps" in dockerfile
    assert "--require-hashes -r requirements-dev.lock" in makefile
    assert f"--python-version {python.group(1)}" in (ROOT / "requirements.lock").read_text().splitlines()[1]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["mypy"]["python_version"] == python.group(1)
