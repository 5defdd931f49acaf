"""The app's navigation above a document that has a stylesheet and layout of its own: the web report,
which is the same HTML as the leader's signed link (``/r/…``) and the PDF. Inside the app it gets the
app's header (``web/_topbar.html``, the same as every other page), a skip link to its ``<main>`` and a
small stylesheet scoped to the header (``static/appnav.css``); the document itself is left as it is."""

from __future__ import annotations

from flask import render_template, url_for


def with_app_nav(document: str) -> str:
    """``document`` (a whole HTML page) with the app's header placed first in its body."""
    bar = render_template("web/_appnav.html")
    link = f'<link rel="stylesheet" href="{url_for("static", filename="appnav.css")}">\n'
    head_end = document.find("</head>")
    body = document.find("<body")
    if head_end < 0 or body < 0:  # not a page this knows how to dress: show it as it is
        return document
    body_end = document.index(">", body) + 1
    page = document[:head_end] + link + document[head_end:body_end] + bar + document[body_end:]
    return page.replace("<main>", '<main id="main" tabindex="-1">', 1)
