"""Who is asking: an API token or a user header from a trusted auth proxy.

Config::

    auth:
      public_reads: true                       # default; false: reads need an identity too
      trusted_proxy:                           # off unless present
        header: X-Forwarded-User
        groups_header: X-Forwarded-Groups      # comma-separated
        addresses: [127.0.0.1, 10.0.0.0/8]     # only requests from these peers are believed
      roles:
        admin: [alice, sre]                    # user names or group names
        approver: [carol, group:default/prr-approvers]
      teams:                                   # group membership, when the proxy sends none
        team-payments: [bob, dave]

A user belongs to the group named in a service's ``spec.owner`` (``group:default/team-x`` and
``team-x`` are the same) through ``auth.teams`` or the proxy's groups header; that makes them an
owner of the service. What each role may do is decided in :mod:`prr.portal`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Request, current_app, g, request
from sqlalchemy import Engine
from sqlmodel import Session, select

from prr.config import Config
from prr.storage.models import ApiToken

log = logging.getLogger(__name__)
TOKEN_PREFIX = "prr_"
ROLES = ("admin", "approver")  # owner is not configured: it follows from team membership


class BadCredentials(Exception):
    """A bearer token was presented and is unknown or revoked (401, never anonymous)."""


@dataclass(frozen=True)
class Identity:
    user: str
    groups: frozenset[str]  # normalised group names (proxy header + auth.teams)
    roles: frozenset[str]  # "admin", "approver" (owner is per service: see member_of)
    via: str  # "token" | "proxy"

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def member_of(self, owner: str | None) -> bool:
        """True when the user belongs to the group a service's ``spec.owner`` names."""
        return owner is not None and group_name(owner) in self.groups

    def to_dict(self) -> dict[str, Any]:
        return {"user": self.user, "groups": sorted(self.groups), "roles": sorted(self.roles), "via": self.via}


def current_identity() -> Identity | None:
    """The identity behind the current request (worked out once per request).

    Raises :class:`BadCredentials` when the request carries a bad token.
    """
    if "prr_identity" not in g:
        g.prr_identity = identify(request, current_app.extensions["prr.db"], current_app.config["PRR"])
    return g.prr_identity


def group_name(value: str) -> str:
    """``group:default/team-x`` -> ``team-x``; plain names unchanged; lower case."""
    value = value.strip().lower()
    return value.split("/")[-1] if value.startswith("group:") or "/" in value else value


def auth_settings(config: Config) -> dict[str, Any]:
    return config.data.get("auth") or {}


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


def resolve(user: str, groups: Any, config: Config, via: str) -> Identity:
    """Build an identity: the given groups plus the ``auth.teams`` the user is listed in, and the
    ``auth.roles`` naming the user or one of those groups."""
    settings = auth_settings(config)
    names = {group_name(g) for g in groups}
    names |= {group_name(team) for team, members in (settings.get("teams") or {}).items() if user in (members or [])}
    roles = {
        role
        for role, members in (settings.get("roles") or {}).items()
        if role in ROLES and any(m == user or group_name(m) in names for m in members or [])
    }
    return Identity(user=user, groups=frozenset(names), roles=frozenset(roles), via=via)


def _trusted(address: str | None, allowed: list[str]) -> bool:
    if not address:
        return False
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(a, strict=False) for a in allowed)


# --------------------------------------------------------------------------- API tokens


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(engine: Engine, user: str, name: str) -> str:
    """Store a new token for ``user`` (hashed) and return the secret; it is not kept anywhere."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with Session(engine) as session, session.begin():
        session.add(ApiToken(name=name, user=user, token_hash=hash_token(secret), created_at=datetime.now(UTC)))
    return secret


def token_user(engine: Engine, secret: str) -> str | None:
    """The user a live token belongs to, or None."""
    with Session(engine) as session:
        token = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(secret))).first()
        return token.user if token is not None and token.revoked_at is None else None


def list_tokens(engine: Engine) -> list[ApiToken]:
    with Session(engine) as session:
        return list(session.exec(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(engine: Engine, token_id: int) -> ApiToken | None:
    """Revoke a token (the record stays, marked revoked); None when there is no such token."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        token = session.get(ApiToken, token_id)
        if token is not None and token.revoked_at is None:
            token.revoked_at = datetime.now(UTC)
        return token
