"""How a request proves who it is: an API token, a page sign-in, or a user header from a trusted auth proxy.

A page sign-in (``/sign-in``: paste an API token) keeps the token's id and user in the signed
session cookie; page views then act as that user, until sign-out or until the token is revoked.
The JSON API ignores it: scripts send the token itself.

Config::

    auth:
      public_reads: true                       # default; false: reads need an identity too
      trusted_proxy:                           # off unless present
        header: X-Forwarded-User
        groups_header: X-Forwarded-Groups      # comma-separated
        addresses: [127.0.0.1, 10.0.0.0/8]     # only requests from these peers are believed

Roles, teams and what each may do are in :mod:`prr.identity`; tokens are stored by :mod:`prr.tokens`.
"""

from __future__ import annotations

import ipaddress
import logging

from flask import Request, current_app, g, request, session
from sqlalchemy import Engine

from prr.config import Config
from prr.identity import Identity, auth_settings, resolve
from prr.tokens import active_token, active_token_user, token_user

log = logging.getLogger(__name__)
SIGN_IN_KEY = "prr_sign_in"  # in the session cookie: {"token": id, "user": name}


class BadCredentials(Exception):
    """A bearer token was presented and is unknown or revoked (401, never anonymous)."""


def current_identity() -> Identity | None:
    """The identity behind the current request (worked out once per request).

    Raises :class:`BadCredentials` when the request carries a bad token.
    """
    if "prr_identity" not in g:
        g.prr_identity = identify(request, current_app.extensions["prr.db"], current_app.config["PRR"])
    identity: Identity | None = g.prr_identity
    return identity


def public_reads(config: Config) -> bool:
    return bool(auth_settings(config).get("public_reads", True))


def identify(request: Request, engine: Engine, config: Config) -> Identity | None:
    """The identity behind ``request``, or None when it carries none.

    A bearer token wins over the proxy header; a bad token raises :class:`BadCredentials`.
    The proxy's user header is believed only from a configured trusted address.
    """
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise BadCredentials("the Authorization header must be `Bearer <token>`")
        user = token_user(engine, secret.strip())
        if user is None:
            raise BadCredentials("unknown or revoked API token")
        return resolve(user, (), config, via="token")
    if not request.path.startswith("/api/"):
        signed_in = _signed_in(engine, config)
        if signed_in is not None:
            return signed_in
    proxy = auth_settings(config).get("trusted_proxy")
    if not proxy:
        return None
    user = request.headers.get(proxy.get("header", "X-Forwarded-User"), "").strip()
    if not user:
        return None
    if not _trusted(request.remote_addr, proxy.get("addresses") or []):
        log.warning("ignoring the user header from untrusted address %s", request.remote_addr)
        return None
    raw_groups = request.headers.get(proxy.get("groups_header", "X-Forwarded-Groups"), "")
    return resolve(user, [g for g in raw_groups.split(",") if g.strip()], config, via="proxy")


def sign_in(secret: str) -> Identity | None:
    """Sign the browser in with an API token (a fresh session); None when the token is unknown or revoked."""
    token = active_token(current_app.extensions["prr.db"], secret.strip())
    if token is None:
        return None
    session.clear()
    session[SIGN_IN_KEY] = {"token": token.id, "user": token.user}
    g.pop("prr_identity", None)
    return current_identity()


def sign_out() -> None:
    session.clear()
    g.pop("prr_identity", None)


def _signed_in(engine: Engine, config: Config) -> Identity | None:
    signed = session.get(SIGN_IN_KEY)
    if not isinstance(signed, dict) or not isinstance(signed.get("token"), int):
        return None
    user = active_token_user(engine, signed["token"])
    if user is None or user != signed.get("user"):
        session.pop(SIGN_IN_KEY, None)  # the token was revoked: signed out
        return None
    return resolve(user, (), config, via="sign-in")


def _trusted(address: str | None, allowed: list[str]) -> bool:
    if not address:
        return False
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(a, strict=False) for a in allowed)
