"""What teams already keep for other portals, read for owner, tier, on-call and links.

- Cortex: ``cortex.yaml`` (an OpenAPI document whose ``info`` carries ``x-cortex-*`` keys).
- OpsLevel: ``opslevel.yml`` (``service: {owner, tier, tools: [{name, category, url}]}``).
- Datadog service definition: ``service.datadog.yaml`` (schema v2, v2.1, v2.2 and v3).

Links from the Backstage catalog (``metadata.links``) are read here too, so that a check asks
one place for "the service's links".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from prr.checks.formats.catalog import try_catalog
from prr.checks.formats.files import first_existing, read_yaml
from prr.checks.formats.nodes import mapping, sequence
from prr.checks.formats.yamlfile import FormatError, YList, YMap, get
from prr.repo import RepoSnapshot

CORTEX_FILES = ("cortex.yaml", "cortex.yml")
OPSLEVEL_FILES = ("opslevel.yml", "opslevel.yaml")
DATADOG_FILES = ("service.datadog.yaml", "service.datadog.yml")
PORTAL_FILES = CORTEX_FILES + OPSLEVEL_FILES + DATADOG_FILES
TIER_GROUP = re.compile(r"^tier[-_ ]?\d+$", re.I)
ONCALL_HOSTS = re.compile(r"(^|\.)(pagerduty\.com|opsgenie\.com|victorops\.com|ilert\.com)$", re.I)


@dataclass(frozen=True)
class Link:
    url: str
    title: str
    type: str
    path: str
    line: int | None

    def says(self, pattern: re.Pattern[str]) -> bool:
        """The link's title or type mentions ``pattern`` (e.g. runbook, dashboard)."""
        return bool(pattern.search(self.title) or pattern.search(self.type))


@dataclass(frozen=True)
class Fact:
    """One declared value (an on-call integration, an owner, a target) and where it is."""

    label: str  # what it is, for a summary: "x-cortex-oncall pagerduty"
    value: Any
    path: str
    line: int | None

    def shown(self) -> str:
        """The value for a summary: ``{id: P1, type: SERVICE}`` → ``id P1, type SERVICE``."""
        if isinstance(self.value, dict):
            return ", ".join(f"{k} {v}" for k, v in self.value.items() if not isinstance(v, (dict, list)))
        return str(self.value)


@dataclass
class PortalFile:
    kind: str  # "cortex" | "opslevel" | "datadog"
    path: str
    doc: YMap

    @property
    def root(self) -> YMap:
        """The mapping that holds the service's fields."""
        if self.kind == "cortex":
            return mapping(self.doc.get("info"))
        if self.kind == "opslevel":
            return mapping(self.doc.get("service"))
        return self.doc

    def fact(self, label: str, parent: Any, key: str) -> Fact | None:
        value = get(parent, key)
        if value in (None, "", [], {}):
            return None
        line = parent.line_of(key) if isinstance(parent, YMap) else None
        return Fact(f"{self.path} {label}", value, self.path, line)

    def owner(self) -> Fact | None:
        root = self.root
        if self.kind == "cortex":
            owners = [o for o in sequence(root.get("x-cortex-owners")) if isinstance(o, dict)]
            names = [o.get("name") or o.get("email") for o in owners if o.get("name") or o.get("email")]
            return (
                Fact(f"{self.path} x-cortex-owners", names[0], self.path, root.line_of("x-cortex-owners"))
                if names
                else None
            )
        if self.kind == "opslevel":
            return self.fact("service.owner", root, "owner")
        if isinstance(root.get("metadata"), YMap):  # Datadog v3
            return self.fact("metadata.owner", root["metadata"], "owner")
        return self.fact("team", root, "team")

    def tier(self) -> Fact | None:
        """As written (normalise with checks.formats.tier.normalise_tier). Cortex has no tier
        field; teams put it in a group such as ``tier-1``."""
        root = self.root
        if self.kind == "cortex":
            groups = sequence(root.get("x-cortex-groups"))
            return next(
                (
                    Fact(f"{self.path} x-cortex-groups", g, self.path, groups.line_of(i))
                    for i, g in enumerate(groups)
                    if isinstance(g, str) and TIER_GROUP.match(g)
                ),
                None,
            )
        if self.kind == "datadog" and isinstance(root.get("spec"), YMap):  # Datadog v3
            return self.fact("spec.tier", root["spec"], "tier")
        return self.fact("service.tier" if self.kind == "opslevel" else "tier", root, "tier")

    def oncall(self) -> list[Fact]:
        """Declared on-call integrations (PagerDuty, Opsgenie, Splunk On-Call...)."""
        root = self.root
        if self.kind == "cortex":
            oncall = mapping(root.get("x-cortex-oncall"))
            return [f for key in oncall if (f := self.fact(f"x-cortex-oncall.{key}", oncall, key))]
        if self.kind == "opslevel":
            tools = sequence(root.get("tools"))
            return [
                Fact(f"{self.path} tool {t.get('name') or t.get('url')}", t.get("url"), self.path, tools.line_of(i))
                for i, t in enumerate(tools)
                if isinstance(t, dict) and _oncall_url(t.get("url"))
            ]
        integrations = mapping(root.get("integrations"))
        return [f for key in ("pagerduty", "opsgenie") if (f := self.fact(f"integrations.{key}", integrations, key))]

    def links(self) -> list[Link]:
        root = self.root
        if self.kind == "cortex":
            embeds = sequence(get(root, "x-cortex-dashboards", "embeds"))
            return _links(self.path, sequence(root.get("x-cortex-link")), title_key="name") + _links(
                self.path, embeds, title_key="type", fixed_type="dashboard"
            )
        if self.kind == "opslevel":
            return _links(self.path, sequence(root.get("tools")), title_key="name", type_key="category")
        holder = root["metadata"] if isinstance(root.get("metadata"), YMap) else root  # v3 nests them
        return _links(self.path, sequence(holder.get("links")), title_key="name")

    def custom(self, key: str) -> Fact | None:
        """A free-form field teams add: Cortex custom metadata, OpsLevel properties, Datadog extensions."""
        holder_key = {"cortex": "x-cortex-custom-metadata", "opslevel": "properties", "datadog": "extensions"}[
            self.kind
        ]
        holder = self.root.get(holder_key)
        return self.fact(f"{holder_key}.{key}", holder, key) if isinstance(holder, YMap) else None


def _oncall_url(url: Any) -> bool:
    return isinstance(url, str) and bool(ONCALL_HOSTS.search(urlparse(url).hostname or ""))


def _links(
    path: str, items: YList, title_key: str = "title", type_key: str = "type", fixed_type: str | None = None
) -> list[Link]:
    """Links from a list of mappings with a ``url`` (formats name the title and type differently)."""
    found = []
    for i, item in enumerate(items):
        url = item.get("url") if isinstance(item, dict) else None
        if isinstance(url, str) and url.strip():
            found.append(
                Link(
                    url.strip(),
                    str(item.get(title_key) or item.get("title") or ""),
                    fixed_type or str(item.get(type_key) or ""),
                    path,
                    items.line_of(i),
                )
            )
    return found


def load_portals(repo: RepoSnapshot) -> tuple[list[PortalFile], list[FormatError]]:
    """The portal files present in the repo (root), and the errors of those that don't parse."""
    found: list[PortalFile] = []
    errors: list[FormatError] = []
    for kind, names in (("cortex", CORTEX_FILES), ("opslevel", OPSLEVEL_FILES), ("datadog", DATADOG_FILES)):
        path = first_existing(repo, *names)
        if path is None:
            continue
        try:
            docs = read_yaml(repo, path)
        except FormatError as exc:
            errors.append(exc)
            continue
        if docs and isinstance(docs[0], YMap):
            found.append(PortalFile(kind, path, docs[0]))
        else:
            errors.append(FormatError(path, 1, "expected a mapping at the top"))
    return found, errors


def catalog_links(repo: RepoSnapshot) -> tuple[list[Link], FormatError | None]:
    catalog, error = try_catalog(repo)
    entity = catalog.component
    if entity is None:
        return [], error
    return _links(entity.path, sequence(entity.metadata.get("links"))), error


def all_links(repo: RepoSnapshot) -> tuple[list[Link], list[FormatError]]:
    """Every link the service declares: Backstage catalog links, then the other portals'."""
    links, error = catalog_links(repo)
    errors = [error] if error else []
    portals, portal_errors = load_portals(repo)
    for portal in portals:
        links += portal.links()
    return links, errors + portal_errors
