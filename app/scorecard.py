"""Scorecards as code: load, validate, and answer what applies to a tier."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import prr.scorecards
from prr import schemas
from prr.checks.formats.yamlfile import FormatError, line_at, load_documents
from prr.plugin import ConfigError, Registry

SHIPPED_DIR = Path(prr.scorecards.__file__).resolve().parent
DEFAULT_PAGING_SEVERITIES = ["page", "critical", "pager", "p1", "p2", "s1", "s2", "sev1", "sev2"]


@dataclass(frozen=True)
class ScorecardCheck:
    id: str
    level: str
    weight: float = 1
    blocking: bool = False
    tiers: tuple[str, ...] | None = None  # None: every tier
    params: dict[str, Any] = field(default_factory=dict)
    tier_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def applies_to(self, tier: str) -> bool:
        return self.tiers is None or tier in self.tiers

    def params_for(self, tier: str) -> dict[str, Any]:
        return {**self.params, **self.tier_params.get(tier, {})}


@dataclass(frozen=True)
class Scorecard:
    id: str
    title: str
    version: str
    levels: tuple[str, ...]
    required_levels: dict[str, str]  # tier -> level
    default_tier: str
    settings: dict[str, Any]
    checks: tuple[ScorecardCheck, ...]
    source: str

    def level_index(self, level: str | None) -> int:
        return -1 if level is None else self.levels.index(level)

    @property
    def tiers(self) -> list[str]:
        return sorted(self.required_levels)

    def check_settings(self) -> dict[str, Any]:
        """What checks see as ``ctx.settings``."""
        return {"paging_severities": DEFAULT_PAGING_SEVERITIES, **self.settings, "tiers": self.tiers}


def resolve_scorecard_path(name: str) -> Path:
    """A shipped scorecard id, or a path to a scorecard file."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ConfigError(f"{name}: no such scorecard file")
        return path
    shipped = SHIPPED_DIR / f"{name}.yaml"
    if not shipped.is_file():
        known = ", ".join(sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml")))
        raise ConfigError(f"no shipped scorecard {name!r} (shipped: {known})")
    return shipped


def load_scorecard(name: str, registry: Registry | None = None) -> Scorecard:
    """Load and validate a scorecard; with a registry, also refuse unknown checks and bad params."""
    path = resolve_scorecard_path(name)
    text = path.read_text()
    try:
        docs = load_documents(text, str(path))
    except FormatError as exc:
        raise ConfigError(str(exc)) from None
    if len(docs) != 1:
        raise ConfigError(f"{path}: expected one YAML document, found {len(docs)}")
    doc = docs[0]
    schemas.validate("scorecard", doc, str(path))
    scorecard = _build(doc, path, text)
    _check_consistency(scorecard, doc, path, registry)
    return scorecard


def _build(doc: dict[str, Any], path: Path, text: str) -> Scorecard:
    checks = tuple(
        ScorecardCheck(
            id=c["id"],
            level=c["level"],
            weight=c.get("weight", 1),
            blocking=c.get("blocking", False),
            tiers=tuple(c["tiers"]) if "tiers" in c else None,
            params=dict(c.get("params") or {}),
            tier_params={t: dict(p) for t, p in (c.get("tier_params") or {}).items()},
        )
        for c in doc["checks"]
    )
    return Scorecard(
        id=doc["id"],
        title=doc.get("title", doc["id"]),
        version=str(doc.get("version") or hashlib.sha256(text.encode()).hexdigest()[:12]),
        levels=tuple(doc["levels"]),
        required_levels={t: v["required_level"] for t, v in doc["tiers"].items()},
        default_tier=str(doc.get("default_tier", sorted(doc["tiers"])[-1])),
        settings=dict(doc.get("settings") or {}),
        checks=checks,
        source=str(path),
    )


def _check_consistency(card: Scorecard, doc: dict[str, Any], path: Path, registry: Registry | None) -> None:
    def refuse(where: list[Any], message: str) -> None:
        line = line_at(doc, where)
        at = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"{at}: at {'/'.join(map(str, where))}: {message}")

    for tier, level in card.required_levels.items():
        if level not in card.levels:
            refuse(["tiers", tier, "required_level"], f"level {level!r} is not one of {list(card.levels)}")
    if card.default_tier not in card.required_levels:
        refuse(["default_tier"], f"tier {card.default_tier!r} is not defined under tiers")
    seen: set[str] = set()
    for i, entry in enumerate(card.checks):
        if entry.id in seen:
            refuse(["checks", i, "id"], f"check {entry.id} is listed twice")
        seen.add(entry.id)
        if entry.level not in card.levels:
            refuse(["checks", i, "level"], f"level {entry.level!r} is not one of {list(card.levels)}")
        for tier in list(entry.tiers or []) + list(entry.tier_params):
            if tier not in card.required_levels:
                refuse(["checks", i], f"tier {tier!r} is not defined under tiers")
        if registry is None:
            continue
        try:
            check = registry.get(entry.id)
            for tier in card.tiers:
                check.resolve_params(entry.params_for(tier))
        except ConfigError as exc:
            refuse(["checks", i], str(exc))
