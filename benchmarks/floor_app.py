"""The floor for ``bench_answer.py``: the least a survey server can do, to compare Tryghed against.

As issue 22 defines it: a minimal Flask app under the same gunicorn settings as Tryghed (same command,
same ``gunicorn.conf.py``, same workers). GET ``/s/<anything>`` returns the same bytes as the product's
form page (saved by the benchmark into the file ``FLOOR_PAGE``); POST stores the 16 posted answers as 16
small integers with one autocommit INSERT through SQLAlchemy Core, and returns a short thank-you page.
No link check, no validation, no headers of its own.

    gunicorn 'floor_app:create_app()'   # with FLOOR_PAGE and FLOOR_DATABASE_URL in the environment
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, request
from sqlalchemy import Column, MetaData, SmallInteger, Table, create_engine

ANSWERS = 16
# A plain heap table without an index (the least a database can do for a row); the benchmark creates it.
TABLE = Table("floor_answers", MetaData(), *(Column(f"a{i}", SmallInteger) for i in range(1, ANSWERS + 1)))
THANKS = b"<!doctype html><title>Tak</title><p>Tak for dine svar.</p>"
HTML = {"Content-Type": "text/html; charset=utf-8"}


def create_app() -> Flask:
    """The floor app on ``FLOOR_DATABASE_URL`` (autocommit: the INSERT is its own transaction)."""
    app = Flask(__name__)
    page = Path(os.environ["FLOOR_PAGE"]).read_bytes()
    engine = create_engine(os.environ["FLOOR_DATABASE_URL"], isolation_level="AUTOCOMMIT", hide_parameters=True)
    insert = TABLE.insert()
    columns = [column.name for column in TABLE.columns]

    @app.route("/s/<token>", methods=["GET", "POST"])
    def answer(token: str) -> tuple[bytes, int, dict[str, str]]:
        if request.method == "GET":
            return page, 200, HTML
        # the answers only: the product's form also names its round and instrument (fields "_round", ...)
        posted = (int(v) for k, v in request.form.items() if not k.startswith("_"))
        values = dict(zip(columns, posted, strict=False))
        with engine.connect() as conn:
            conn.execute(insert, values)
        return THANKS, 200, HTML

    @app.get("/healthz")
    def health() -> tuple[str, int]:
        return "ok", 200

    return app
