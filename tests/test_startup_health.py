"""Broken content stops the app and the worker at start; /healthz says ok only when the database takes a
write and the content is loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from survey.content import ContentError
from tests.conftest import make_app
from tests.test_cli_failures import fill, tiny_disk

ROOT = Path(__file__).resolve().parent.parent
BROKEN = 'title = "unterminated\n'


def broken_content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "extra.toml").write_text(BROKEN, encoding="utf-8")
    return folder


def test_create_app_refuses_broken_content_naming_the_file(tmp_path: Path) -> None:
    from survey import create_app

    folder = broken_content(tmp_path)
    with pytest.raises(ContentError) as caught:
        create_app({"CONTENT_DIR": str(folder), "SECRET_KEY": "x"})
    assert str(folder / "extra.toml") in str(caught.value) and "invalid TOML" in str(caught.value)
    (folder / "extra.toml").write_text('[links]\nfaelles_viden = "ftp://nope"\n', encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        create_app({"CONTENT_DIR": str(folder), "SECRET_KEY": "x"})
    assert caught.value.path == "links.faelles_viden" and "not an http(s) URL" in caught.value.problem


@pytest.mark.parametrize(
    "argv",
    [
        [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "--pool", "solo", "--loglevel", "ERROR"],
        [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--workers", "1", "survey:create_app()"],
    ],
    ids=["celery-worker", "gunicorn"],
)
def test_worker_and_web_server_stop_at_start_on_broken_content(tmp_path: Path, argv: list[str]) -> None:
    folder = broken_content(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
    env.update(
        {
            "TRYGHED_INSTANCE_PATH": str(tmp_path / "instance"),
            "TRYGHED_CONTENT_DIR": str(folder),
            "PYTHONPATH": str(ROOT),
        }
    )
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode != 0
    assert f"{folder / 'extra.toml'}: invalid TOML" in proc.stdout + proc.stderr


def test_healthz_reports_a_full_disk(tmp_path: Path) -> None:
    with tiny_disk(tmp_path / "disk") as disk:
        app = make_app(tmp_path, f"sqlite:///{disk / 'tryghed.sqlite'}")
        client = app.test_client()
        assert client.get("/healthz").json == {
            "status": "ok",
            "database": "writable",
            "content": "loaded",
            "broker": "none (tasks run in-process)",
        }
        filler = fill(disk)
        try:
            response = client.get("/healthz")
            assert response.status_code == 503 and response.json["status"] == "error", response.json
            assert client.get("/healthz").status_code == 503
        finally:
            filler.unlink()
        assert client.get("/healthz").status_code == 200
        app.extensions["tryghed"].db.dispose()


@pytest.mark.postgres
def test_healthz_reports_a_read_only_database(tmp_path: Path, pg_url: str) -> None:
    """SELECT 1 works on a read-only database (a replica after failover); every answer would fail."""
    app = make_app(tmp_path, pg_url)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    name = make_url(pg_url).database
    admin = create_engine(pg_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    app.extensions["tryghed"].db.dispose()  # new connections pick the setting up
    try:
        response = client.get("/healthz")
        assert response.status_code == 503 and "read-only" in response.json["database"], response.json
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off'))
        admin.dispose()
        app.extensions["tryghed"].db.dispose()
