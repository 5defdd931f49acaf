"""Signing in with the organisation's identity provider (OpenID Connect, e.g. Microsoft Entra ID).

``/login/sso`` sends the browser to the provider with the authorization code flow, PKCE (S256), a state
and a nonce kept in the session; ``/login/sso/callback`` takes the code back, exchanges it server to
server, and checks the ID token: the signature against the provider's published keys (JWKS, fetched
once and kept, fetched again when the provider rotates its key), the issuer (the configured one, and
the discovery document must name the same), the audience (our client id), the expiry and the nonce. A
replayed callback finds no state and is refused. Who the person is here is ``survey.domain.sso``'s rule.

Authlib is imported only here, inside the functions, so the CLI never loads it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.domain import sso
from survey.runtime import get_runtime
from survey.web import audit_log

bp = Blueprint("sso", __name__)
log = logging.getLogger(__name__)


def enabled(config: dict[str, Any]) -> bool:
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"))


def _client() -> Any:
    """The Authlib client, made once per process: it keeps the discovery document and the keys."""
    ext = current_app.extensions
    if "tryghed_oidc" not in ext:
        from authlib.integrations.flask_client import OAuth

        config = current_app.config
        issuer = str(config["OIDC_ISSUER"]).rstrip("/")
        oauth = OAuth(current_app)
        oauth.register(
            "provider",
            client_id=config["OIDC_CLIENT_ID"],
            client_secret=config.get("OIDC_CLIENT_SECRET"),
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": config["OIDC_SCOPES"], "code_challenge_method": "S256", "timeout": 10},
        )
        ext["tryghed_oidc"] = oauth.create_client("provider")
    return ext["tryghed_oidc"]


def _redirect_uri() -> str:
    # from the configured base URL, not the request's Host header: what is registered at the provider
    return str(current_app.config["BASE_URL"]).rstrip("/") + url_for("sso.callback")


def _no_access(reason: str, status: int = 403) -> tuple[str, int]:
    return render_template("web/no_access.html", reason=reason), status


@bp.get("/login/sso")
def start() -> WerkzeugResponse | tuple[str, int]:
    """Send the browser to the provider (state, nonce and the PKCE verifier stay in our session)."""
    g.lang = request.accept_languages.best_match(["da", "en"]) or "da"
    if not enabled(current_app.config):
        return _no_access("not_configured", 404)
    from survey.web.auth import safe_next

    session["sso_next"] = safe_next(request.args.get("next"))  # where to go once signed in (a local path)
    try:
        return _client().authorize_redirect(_redirect_uri())
    except Exception as exc:  # the provider cannot be reached: a clear page, not a 500
        log.warning("single sign-on: the provider could not be reached: %s", type(exc).__name__)
        return _no_access("provider_down", 503)


@bp.get("/login/sso/callback")
def callback() -> WerkzeugResponse | tuple[str, int]:
    """Check what the provider sent back, then sign the person in, or show why not."""
    from authlib.common.errors import AuthlibBaseError
    from joserfc.errors import JoseError

    from survey.web.auth import sign_in

    g.lang = request.accept_languages.best_match(["da", "en"]) or "da"
    if not enabled(current_app.config):
        return _no_access("not_configured", 404)
    client = _client()
    issuer = str(current_app.config["OIDC_ISSUER"]).rstrip("/")
    try:
        if client.load_server_metadata().get("issuer", "").rstrip("/") != issuer:
            raise sso.NoAccess("wrong_issuer", "the provider's discovery document names another issuer")
        token = client.authorize_access_token(
            claims_options={"iss": {"essential": True, "values": [issuer, issuer + "/"]}}, leeway=60
        )
        claims = token.get("userinfo")
        if not claims:  # no ID token, or no nonce kept for this state: nothing proves who this is
            raise sso.NoAccess("no_id_token", "the provider sent no ID token")
    except (AuthlibBaseError, JoseError, KeyError, ValueError, OSError) as exc:  # OSError: requests' errors
        # a bad, replayed or forged answer: say so without echoing any token
        log.warning("single sign-on refused: %s", type(exc).__name__)
        audit_log.write("login_sso_refused", None, f"invalid answer: {type(exc).__name__}")
        return _no_access("invalid", 400)
    except sso.NoAccess as exc:
        audit_log.write("login_sso_refused", None, exc.reason)
        return _no_access(exc.reason, 400)
    identity = sso.Identity(
        issuer=issuer,
        subject=str(claims["sub"]),
        email=claims.get("email"),
        # Entra ID sends no email_verified; its optional claim xms_edov says the domain owner verified it
        email_verified=claims.get("email_verified") is True or claims.get("xms_edov") in (True, "true", "1", 1),
        name=claims.get("name"),
        claim=claims.get(str(current_app.config["OIDC_ROLES_CLAIM"])),
    )
    rt = get_runtime()
    with rt.db.session() as db:
        try:
            user = sso.account_for(db, identity, dict(current_app.config["OIDC_ROLE_MAP"] or {}))
        except sso.NoAccess as exc:
            db.rollback()
            audit_log.write("login_sso_refused", identity.email, exc.reason)
            return _no_access(exc.reason)
        sign_in(db, user)
        audit_log.write("login_sso", user.email, f"role {user.role}")
    return redirect(session.pop("sso_next", None) or url_for("pages.start"), 303)
