"""The app's header (``web/_topbar.html``) on every page, rendered once per kind of page and kept.

What the header shows depends on a handful of things (the page's language, the account's role and language,
whether it heads a unit, which page is current), and a busy start page spent a tenth of its time building
the same menu, language form and logout form again (docs/benchmarks.md, "Pages at the size of a
municipality"). The header is therefore rendered once per combination of those and kept in the app; the two
parts that differ per request, the CSRF token and the address to come back to after a change of language, are
written into the kept HTML escaped, as the template would have escaped them.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, render_template, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from survey.web.access import headed_units
from survey.web.forms import LanguageForm

# Stand-ins for the per-request parts in the kept HTML: no address, token or text of the header holds "@@"
_CSRF = "@@tryghed-csrf@@"
_BACK = "@@tryghed-back@@"
# combinations kept per app: languages x roles x pages x unit heads is a few hundred; the bound is a guard only
KEPT_AT_MOST = 4096


def topbar() -> Markup:
    """The header for this request: the kept HTML of its kind, with this request's token and address."""
    user = current_user._get_current_object()  # the proxy resolved once, not once per attribute
    lang = g.get("lang") or "da"
    signed_in = bool(user.is_authenticated)
    heads = signed_in and bool(headed_units())
    key: tuple[Any, ...] = (lang, request.script_root, request.endpoint, request.blueprint, signed_in)
    if signed_in:
        key += (user.role, user.lang, heads)
    kept: dict[tuple[Any, ...], str] = current_app.extensions.setdefault("tryghed.topbar", {})
    html = kept.get(key)
    if html is None:
        if len(kept) >= KEPT_AT_MOST:
            kept.clear()
        html = kept[key] = str(_render(user if signed_in else None, heads))
    if signed_in:
        # the token first: the address is the user's own text, and is not searched again
        html = html.replace(_CSRF, str(escape(generate_csrf())))
        html = html.replace(_BACK, str(escape(request.full_path.rstrip("?"))))
    return Markup(html)


def _render(user: Any, heads: bool) -> str:
    # only the select of the language form is shown: its CSRF token is the request's, put in by topbar()
    language_form = LanguageForm(formdata=None, lang=user.lang, meta={"csrf": False}) if user else None
    return render_template("web/_topbar.html", csrf=_CSRF, back=_BACK, heads_units=heads, language_form=language_form)


def init_app(app: Any) -> None:
    """Expose ``topbar()`` to templates (``web/base.html`` and ``web/_appnav.html``)."""
    app.jinja_env.globals["topbar"] = topbar
