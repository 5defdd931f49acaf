"""``/healthz`` checks the broker when one is configured and says what failed (issue 17, acceptance 4),
on a private redis-server that the test stops: degraded but 200 for the load balancer (answers need no
broker), 503 for ``?require=broker``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_app
from tests.integration.conftest import OwnRedis

pytestmark = [pytest.mark.redis]


def test_healthz_checks_the_broker(tmp_path: Path, own_redis: OwnRedis) -> None:
    app = make_app(tmp_path, BROKER_URL=own_redis.url)
    client = app.test_client()
    up = client.get("/healthz")
    assert up.status_code == 200
    assert up.json == {"status": "ok", "database": "writable", "content": "loaded", "broker": "reachable"}
    assert client.get("/healthz?require=broker").status_code == 200

    own_redis.stop()
    down = client.get("/healthz")
    assert down.status_code == 200  # the survey still works: the load balancer keeps the web app
    assert down.json["status"] == "degraded" and down.json["database"] == "writable"
    assert down.json["broker"].startswith("unreachable: ") and "Connection refused" in down.json["broker"]
    strict = client.get("/healthz?require=broker")
    assert strict.status_code == 503 and strict.json["broker"] == down.json["broker"]

    own_redis.start()
    assert client.get("/healthz?require=broker").json["broker"] == "reachable"
