"""Security headers and cookie flags for every response of the app, set in this one place.

``init_app(app)`` (called by ``create_app``) adds an ``after_request`` hook, so every page a blueprint
adds later gets the same headers without doing anything:

- ``Content-Security-Policy``: no inline script at all (``script-src 'self'``), no framing
  (``frame-ancestors 'none'``), forms post only to us. Our pages carry their CSS in ``<style>`` blocks
  (the respondent pages; the report page inlines its stylesheet so it needs no static route); rather
  than ``'unsafe-inline'`` the policy lists the SHA-256 of each block the response actually contains,
  so an injected ``<style>`` or ``style=""`` would not apply either.
- ``X-Content-Type-Options: nosniff`` and ``X-Frame-Options: DENY`` (older browsers).
- ``Referrer-Policy``: ``no-referrer`` on the personal pages ``/s/`` and ``/r/`` (their URL is the
  secret), ``same-origin`` elsewhere (Flask-WTF's CSRF check needs a same-origin Referer over HTTPS).
- ``Cache-Control: no-store`` on everything but static files: personal pages, logged-in pages and error
  pages must not be kept by a browser or a proxy.
- The session cookie is ``HttpOnly`` and ``SameSite=Lax``, and ``Secure`` when ``TRYGHED_BASE_URL`` is
  https (then ``Strict-Transport-Security`` is sent too). The respondent's pages (``/s/``) have no session
  at all (``NoSessionForRespondents``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

PERSONAL_PREFIXES = ("/s/", "/r/", "/k/")  # /k/: answer cards
# the respondent's pages (a card's too): the link is the secret, there is nothing to remember
SESSIONLESS_PREFIX = ("/s/", "/k/")
# The body of each <style> block up to the first </style>. Written as "runs of anything but '<', then a '<'
# that does not start </style>" rather than a lazy (.*?): same matches, but the lazy form tried the end tag
# at every byte and took 0.1 ms on each 7 KiB page (docs/benchmarks.md, "Storing an answer").
_STYLE_BLOCK = re.compile(rb"<style[^>]*>([^<]*(?:<(?!/style\s*>)[^<]*)*)</style\s*>", re.IGNORECASE)
HSTS_SECONDS = 365 * 24 * 3600


def cookie_settings(config: dict[str, Any]) -> dict[str, Any]:
    """Flask (and Flask-Login) cookie flags for this configuration."""
    secure = str(config.get("BASE_URL", "")).lower().startswith("https://")
    return {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",  # Lax, not Strict: a link from an email must still carry the session
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure,
    }


def style_hashes(body: bytes) -> list[str]:
    """CSP source expressions (``'sha256-…'``) for the ``<style>`` blocks in an HTML body."""
    digests = {hashlib.sha256(block).digest() for block in _STYLE_BLOCK.findall(body)}
    return sorted(f"'sha256-{base64.b64encode(d).decode()}'" for d in digests)


def content_security_policy(styles: list[str]) -> str:
    """The policy for one response, allowing exactly the given inline style blocks."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src " + " ".join(["'self'", *styles]),
            "img-src 'self' data:",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class _PolicyResponse(Response):
    """An HTML response that carries its policy, computed once with its cached body (``CachedPage``)."""

    policy: str | None = None


@dataclass(frozen=True)
class CachedPage:
    """A page rendered once and served many times (the respondent's form and message pages): its bytes
    and its Content-Security-Policy, so neither the encoding nor the scan for ``<style>`` blocks is paid
    per request."""

    body: bytes
    policy: str

    @classmethod
    def of(cls, html: str) -> CachedPage:
        body = html.encode()
        return cls(body, content_security_policy(style_hashes(body)))

    def with_mark(self, mark: bytes, value: bytes) -> CachedPage:
        """The page with ``mark`` replaced by ``value`` (a per-request value outside any ``<style>``: the
        policy stays the page's)."""
        return CachedPage(self.body.replace(mark, value), self.policy)

    def response(self, status: int) -> Response:
        response = _PolicyResponse(self.body, status, mimetype="text/html")
        response.policy = self.policy
        return response


def _is_static(endpoint: str | None) -> bool:
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


def secure_headers(response: Response, *, https: bool) -> Response:
    """Add the headers to ``response`` (the request being the current one)."""
    headers = response.headers
    policy = getattr(response, "policy", None)  # a cached page's, computed from the same bytes
    if policy is None:
        styles: list[str] = []
        if response.mimetype == "text/html" and not response.is_streamed and not response.direct_passthrough:
            styles = style_hashes(response.get_data())
        policy = content_security_policy(styles)
    headers["Content-Security-Policy"] = policy
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    personal = request.path.startswith(PERSONAL_PREFIXES)
    headers["Referrer-Policy"] = "no-referrer" if personal else "same-origin"
    if not _is_static(request.endpoint):
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    if https:
        headers["Strict-Transport-Security"] = f"max-age={HSTS_SECONDS}"
    return response


class NoSessionForRespondents(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except under ``/s/``: there the session is Flask's null session,
    which is neither read from a cookie nor saved, and refuses any write. So no respondent page can set a
    cookie, even by mistake, and none pays for the signing serializer (issue 22: 12 % of a submission)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(SESSIONLESS_PREFIX):
            return self.make_null_session(app)  # a NullSession, which is a SecureCookieSession
        return super().open_session(app, request)


def trust_proxies(app: Flask) -> None:
    """Believe ``X-Forwarded-For/-Proto/-Host/-Port`` from exactly ``TRYGHED_TRUSTED_PROXIES`` proxies.

    The client address then is the one the nearest trusted proxy saw (what login throttling counts);
    with 0 (the default) the headers are ignored, so a client cannot pick its own address by sending one.
    """
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]


def init_app(app: Flask) -> None:
    """Set the cookie flags, trust the configured proxies, and add the headers to every response of ``app``."""
    trust_proxies(app)
    app.config.update(cookie_settings(app.config))
    app.session_interface = NoSessionForRespondents()
    https = bool(app.config["SESSION_COOKIE_SECURE"])

    @app.after_request
    def _add_headers(response: Response) -> Response:
        return secure_headers(response, https=https)
