"""Backstage catalog descriptors (catalog-info.yaml), and the other portals' service files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from prr.checks.formats.files import first_existing, read_yaml
from prr.checks.formats.yamlfile import FormatError, YMap, get
from prr.plugin import Evidence
from prr.repo import RepoSnapshot

CATALOG_FILES = ("catalog-info.yaml", "catalog-info.yml", ".backstage/catalog-info.yaml")
BACKSTAGE_API_VERSION = re.compile(r"^backstage\.io/v1(alpha1|beta1)?$")
NAME_RE = re.compile(r"^[A-Za-z0-9]+([-_.][A-Za-z0-9]+)*$")


@dataclass
class Entity:
    path: str
    doc: YMap
    kind: str
    name: str
    namespace: str

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}".lower()

    @property
    def spec(self) -> dict[str, Any]:
        return get(self.doc, "spec", default={}) or {}

    @property
    def metadata(self) -> dict[str, Any]:
        return get(self.doc, "metadata", default={}) or {}

    @property
    def annotations(self) -> dict[str, Any]:
        return self.metadata.get("annotations") or {}

    @property
    def labels(self) -> dict[str, Any]:
        return self.metadata.get("labels") or {}

    @property
    def tags(self) -> list[str]:
        return [str(t) for t in self.metadata.get("tags") or []]

    @property
    def links(self) -> list[dict[str, Any]]:
        return [l for l in self.metadata.get("links") or [] if isinstance(l, dict)]


@dataclass
class Catalog:
    path: str | None
    entities: list[Entity] = field(default_factory=list)
    problems: list[tuple[int | None, str]] = field(default_factory=list)  # (line, message)

    @property
    def component(self) -> Entity | None:
        """The service's own entity: the first Component (else the first entity)."""
        comps = [e for e in self.entities if e.kind == "component"]
        return next(iter(comps or self.entities), None)


def find_catalog(repo: RepoSnapshot) -> str | None:
    return first_existing(repo, *CATALOG_FILES)


def load_catalog(repo: RepoSnapshot) -> Catalog:
    """The entities of the repo's catalog descriptor. Raises FormatError when it does not parse."""
    path = find_catalog(repo)
    if path is None:
        return Catalog(None)
    catalog = Catalog(path)
    for doc in read_yaml(repo, path):
        if not isinstance(doc, YMap):
            catalog.problems.append((getattr(doc, "line", None), "a document that is not a mapping"))
            continue
        api, kind, name = doc.get("apiVersion"), doc.get("kind"), get(doc, "metadata", "name")
        if not (isinstance(api, str) and BACKSTAGE_API_VERSION.match(api)):
            catalog.problems.append((doc.line_of("apiVersion"), f"apiVersion {api!r} is not backstage.io/v1alpha1"))
            continue
        if not isinstance(kind, str) or not kind:
            catalog.problems.append((doc.line, "entity without a kind"))
            continue
        if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > 63:
            catalog.problems.append((doc.line_of("metadata"), f"metadata.name {name!r} is not a valid entity name"))
            continue
        namespace = str(get(doc, "metadata", "namespace") or "default")
        catalog.entities.append(Entity(path, doc, kind.lower(), name, namespace))
    return catalog


def try_catalog(repo: RepoSnapshot) -> tuple[Catalog, FormatError | None]:
    try:
        return load_catalog(repo), None
    except FormatError as exc:
        return Catalog(exc.path), exc


def owner_of(entity: Entity) -> str | None:
    owner = entity.spec.get("owner")
    if not isinstance(owner, str) or not owner.strip():
        return None
    # `group:default/team-x` and `team-x` name the same owner; keep the short form for display.
    return owner.split("/")[-1] if owner.lower().startswith("group:") else owner


def metadata_spot(entity: Entity, key: str, todo: str) -> Evidence:
    """Where to add something under the entity's ``metadata.<key>`` (else ``metadata``)."""
    metadata = entity.doc.get("metadata")
    line = metadata.line_of(key) if isinstance(metadata, YMap) and key in metadata else entity.doc.line_of("metadata")
    return Evidence(path=entity.path, line=line, value=todo)
