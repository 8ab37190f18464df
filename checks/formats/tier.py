"""Where a service declares its tier, in the order they are read (docs/formats.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from prr.checks.formats.catalog import Entity
from prr.checks.formats.files import first_existing, read_yaml
from prr.checks.formats.nodes import mapping, sequence
from prr.checks.formats.yamlfile import FormatError, get, line_at
from prr.repo import RepoSnapshot

TIER_RE = re.compile(r"^\s*(?:tier[\s_-]*)?(\d+)\s*$", re.I)
TAG_RE = re.compile(r"^tier-?(\d+)$", re.I)


@dataclass
class TierDeclaration:
    raw: str  # as written
    tier: str | None  # normalised ("0", "1", ...) or None when it is not a tier at all
    source: str  # "catalog-info.yaml annotation prr/tier"
    path: str | None
    line: int | None


def normalise_tier(value: object) -> str | None:
    """``0``, ``tier-0``, ``tier_0``, ``Tier 0``, ``tier0`` → ``"0"``; anything else → None."""
    if isinstance(value, bool) or value is None:
        return None
    match = TIER_RE.match(str(value))
    return str(int(match[1])) if match else None


def declared_tiers(repo: RepoSnapshot, entity: Entity | None) -> list[TierDeclaration]:
    """Every tier declaration in the repo, in precedence order (the first one wins)."""
    found: list[TierDeclaration] = []
    if entity is not None:
        meta = entity.metadata
        annotations = mapping(meta.get("annotations"))
        if "prr/tier" in annotations:
            found.append(
                _decl(
                    annotations["prr/tier"],
                    f"{entity.path} annotation prr/tier",
                    entity.path,
                    annotations.line_of("prr/tier"),
                )
            )
        labels = mapping(meta.get("labels"))
        if "tier" in labels:
            found.append(_decl(labels["tier"], f"{entity.path} label tier", entity.path, labels.line_of("tier")))
        tags = sequence(meta.get("tags"))
        for i, tag in enumerate(tags):
            if isinstance(tag, str) and TAG_RE.match(tag):
                found.append(_decl(tag, f"{entity.path} tag {tag}", entity.path, tags.line_of(i)))
                break
    for path, keys, label in (
        (first_existing(repo, "readiness.yaml", "readiness.yml"), ("tier",), "tier"),
        (first_existing(repo, "opslevel.yml", "opslevel.yaml"), ("service", "tier"), "service.tier"),
        (first_existing(repo, "service.datadog.yaml", "service.datadog.yml"), ("tier",), "tier"),
    ):
        if path is None:
            continue
        try:
            docs = read_yaml(repo, path)
        except FormatError:
            continue  # the check that owns the file reports it
        doc = docs[0] if docs else None
        value = get(doc, *keys)
        if value is not None:
            found.append(_decl(value, f"{path} {label}", path, line_at(doc, list(keys))))
    return found


def _decl(value: object, source: str, path: str | None, line: int | None) -> TierDeclaration:
    return TierDeclaration(str(value), normalise_tier(value), source, path, line)
