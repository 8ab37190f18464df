"""Who someone is in the portal and what they may do.

An :class:`Identity` is a user with groups and roles; how a request proves it (API token, trusted
proxy header) is the web layer's business (:mod:`prr.web.auth`). Roles and team membership come
from the ``auth`` section of the config::

    auth:
      roles:
        admin: {users: [alice], groups: [sre]}
        approver: {users: [carol], groups: [group:default/prr-approvers]}
      teams:                                   # group membership, when the proxy sends none
        team-payments: [bob, dave]

Users and groups are kept apart: a user named like a group gains nothing from it, and a group
grants a role only when its whole name matches (case-sensitive). The one equivalence is the
Backstage default: ``group:default/team-x``, ``default/team-x`` and ``team-x`` name the same
group; ``other-ns/team-x`` or ``sandbox/sub/team-x`` are other groups.

A user belongs to the group named in a service's ``spec.owner`` through ``auth.teams`` or the
proxy's groups header; that makes them an owner of the service.

=================== ==========================================================================
write               allowed for
=================== ==========================================================================
waiver grant/revoke approver not in the service's owning team; admin
attestation         owner (member of the service's ``spec.owner`` group); admin
sign-off            approver not in the service's owning team; admin
rescan              owner, approver, admin
owner/tier change   approver in neither the owning team nor the declared one; admin
ref conflict        admin
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
    via: str  # "token" | "sign-in" | "proxy"

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def member_of(self, owner: str | None) -> bool:
        """True when the user belongs to the group a service's ``spec.owner`` names."""
        return owner is not None and group_name(owner) in self.groups

    def to_dict(self) -> dict[str, Any]:
        return {"user": self.user, "groups": sorted(self.groups), "roles": sorted(self.roles), "via": self.via}


def group_name(value: str) -> str:
    """A group's name in one spelling: ``group:default/team-x`` and ``default/team-x`` -> ``team-x``;
    every other name whole (``group:ns/team-x`` -> ``ns/team-x``; no path is cut, no case folded)."""
    value = value.strip().removeprefix("group:")
    namespace, slash, name = value.partition("/")
    return name if namespace == "default" and slash and name and "/" not in name else value


def auth_settings(config: Config) -> dict[str, Any]:
    return config.data.get("auth") or {}


def resolve(user: str, groups: Iterable[str], config: Config, via: str) -> Identity:
    """Build an identity: the given groups plus the ``auth.teams`` the user is listed in, and the
    ``auth.roles`` listing the user among its ``users`` or one of those groups among its ``groups``."""
    settings = auth_settings(config)
    names = {group_name(g) for g in groups}
    names |= {group_name(team) for team, members in (settings.get("teams") or {}).items() if user in (members or [])}
    roles = {
        role
        for role, members in (settings.get("roles") or {}).items()
        if role in ROLES
        and (user in (members.get("users") or []) or any(group_name(g) in names for g in members.get("groups") or []))
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
