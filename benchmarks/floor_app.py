"""The floor for ``bench_answer.py``: the least a survey server can do, to compare Tryghed against.

GET ``/s/<anything>`` returns a fixed page (the real form's HTML, saved by the benchmark); POST inserts the
posted fields as one row and returns a short thank-you page. No link check, no CSRF, no validation.
Served by gunicorn exactly like Tryghed: ``gunicorn 'benchmarks.floor_app:create_app()'`` with
``FLOOR_PAGE`` (a file) and ``FLOOR_DATABASE_URL`` in the environment.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from flask import Flask, request
from sqlalchemy import create_engine, text


def create_app() -> Flask:
    """The floor app; the table ``floor_answers`` is created by the benchmark."""
    app = Flask(__name__)
    page = Path(os.environ["FLOOR_PAGE"]).read_text()
    engine = create_engine(os.environ["FLOOR_DATABASE_URL"])

    @app.route("/s/<token>", methods=["GET", "POST"])
    def answer(token: str) -> tuple[str, int]:
        if request.method == "GET":
            return page, 200
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO floor_answers (id, answers) VALUES (:id, :answers)"),
                {"id": secrets.token_hex(16), "answers": json.dumps(request.form.to_dict())},
            )
        return "<!doctype html><title>Tak</title><p>Tak for dine svar.</p>", 200

    @app.get("/healthz")
    def health() -> tuple[str, int]:
        return "ok", 200

    return app
