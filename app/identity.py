"""Who someone is in the portal and what they may do.

An :class:`Identity` is a user with groups and roles; how a request proves it (API token, trusted
proxy header) is the web layer's business (:mod:`prr.web.auth`). Roles and team membership come
from the ``auth`` section of the config::

    auth:
      roles:
        admin: [alice, sre]                    # user names or group names
        approver: [carol, group:default/prr-approvers]
      teams:                                   # group membership, when the proxy sends none
        team-payments: [bob, dave]

A user belongs to the group named in a service's ``spec.owner`` (``group:default/team-x`` and
``team-x`` are the same) through ``auth.teams`` or the proxy's groups header; that makes them an
owner of the service.

=================== ==========================================================================
write               allowed for
=================== ==========================================================================
waiver grant/revoke approver not in the service's owning team; admin
attestation         owner (member of the service's ``spec.owner`` group); admin
sign-off            approver not in the service's owning team; admin
rescan              owner, approver, admin
=================== ==========================================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prr.config import Config
from prr.errors import Forbidden

ROLES = ("admin", "approver")  # owner is not configured: it follows from team membership


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


def group_name(value: str) -> str:
    """``group:default/team-x`` -> ``team-x``; plain names unchanged; lower case."""
    value = value.strip().lower()
    return value.split("/")[-1] if value.startswith("group:") or "/" in value else value


def auth_settings(config: Config) -> dict[str, Any]:
    return config.data.get("auth") or {}


def resolve(user: str, groups: Iterable[str], config: Config, via: str) -> Identity:
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


# --------------------------------------------------------------------------- permissions


def may_approve(who: Identity, owner: str | None) -> bool:
    """Waivers and sign-offs: an admin, or an approver outside the owning team."""
    return who.is_admin or ("approver" in who.roles and not who.member_of(owner))


def may_attest(who: Identity, owner: str | None) -> bool:
    return who.is_admin or who.member_of(owner)


def may_rescan(who: Identity, owner: str | None) -> bool:
    return may_attest(who, owner) or "approver" in who.roles


def require_approver(who: Identity, owner: str | None, what: str) -> None:
    """Raise :class:`Forbidden` (saying why) unless ``who`` may approve for ``owner``'s services."""
    if may_approve(who, owner):
        return
    if "approver" in who.roles:
        raise Forbidden(
            f"{who.user} belongs to {owner}, which owns this service; "
            f"an approver from another team (or an admin) must {what}"
        )
    raise Forbidden(f"only an approver or an admin may {what}; {who.user} has neither role")
