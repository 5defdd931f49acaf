"""Container health checks: ``python -m survey.healthcheck web|broker`` exits 0 when healthy.

``web`` asks the running app's ``/healthz`` (the Dockerfile's HEALTHCHECK; slim images have no curl);
``broker`` checks that the configured broker answers (beat, which has nothing else to ask). Workers are
checked with Celery's own ``celery inspect ping`` (docker-compose.yml). The reason goes to standard
output, where ``docker inspect`` shows it.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request


def check_web(url: str) -> str | None:
    """None when ``url`` answers 200; else why not."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a fixed local URL
            return None if response.status == 200 else f"{url}: {response.status}"
    except urllib.error.HTTPError as exc:
        return f"{url}: {exc.code} {exc.read(500).decode(errors='replace')}"
    except OSError as exc:
        return f"{url}: {exc}"


def check_broker() -> str | None:
    """None when the configured broker answers, or none is configured; else what failed."""
    from survey.celery_init import broker_problem
    from survey.config import load_config

    url = load_config().get("BROKER_URL")
    return broker_problem(str(url)) if url else None


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "web"
    if what == "web":
        problem = check_web(argv[1] if len(argv) > 1 else "http://127.0.0.1:8000/healthz")
    elif what == "broker":
        problem = check_broker()
    else:
        print("usage: python -m survey.healthcheck web [URL] | broker")
        return 2
    print(problem or "ok")
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
