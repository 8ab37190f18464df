"""API tokens: stored hashed (sha256); the secret is shown once, at creation."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from prr.storage.models import ApiToken

TOKEN_PREFIX = "prr_"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenNameTaken(ValueError):
    """The user already has an active token of that name (a name says which token to revoke)."""


def create_token(engine: Engine, user: str, name: str) -> str:
    """Store a new token for ``user`` (hashed) and return the secret; it is not kept anywhere.

    Raises :class:`TokenNameTaken` when ``user`` has an active token named ``name``.
    """
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with Session(engine) as session, session.begin():
        taken = select(ApiToken).where(ApiToken.user == user, ApiToken.name == name, col(ApiToken.revoked_at).is_(None))
        if session.exec(taken).first() is not None:
            raise TokenNameTaken(
                f"{user} already has an active token named {name!r}: choose another name "
                "or revoke that one first (see `prr token list`)"
            )
        session.add(ApiToken(name=name, user=user, token_hash=hash_token(secret), created_at=datetime.now(UTC)))
    return secret


def active_token(engine: Engine, secret: str) -> ApiToken | None:
    """The live (not revoked) token with this secret, or None."""
    with Session(engine) as session:
        token = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(secret))).first()
        return token if token is not None and token.revoked_at is None else None


def token_user(engine: Engine, secret: str) -> str | None:
    """The user a live token belongs to, or None."""
    token = active_token(engine, secret)
    return token.user if token is not None else None


def active_token_user(engine: Engine, token_id: int) -> str | None:
    """The user of the token with this id while it is live, else None (a page sign-in ends with it)."""
    with Session(engine) as session:
        token = session.get(ApiToken, token_id)
        return token.user if token is not None and token.revoked_at is None else None


def list_tokens(engine: Engine) -> list[ApiToken]:
    with Session(engine) as session:
        return list(session.exec(select(ApiToken).order_by(col(ApiToken.id))))


def revoke_token(engine: Engine, token_id: int) -> ApiToken | None:
    """Revoke a token (the record stays, marked revoked); None when there is no such token."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        token = session.get(ApiToken, token_id)
        if token is not None and token.revoked_at is None:
            token.revoked_at = datetime.now(UTC)
        return token
