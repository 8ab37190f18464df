"""``readiness.yaml``: the service's own declarations (tier, DR targets and drills, on-call,
dashboards, health URL), validated against ``schemas/readiness.schema.json``.

Schema problems are kept beside the document with their YAML line, so that each check reports
only the problems in the part it reads (a bad dashboard entry does not stop ``dr.plan``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jsonschema

from prr.checks.formats.durations import PATTERN as DURATION_PATTERN
from prr.checks.formats.durations import format_duration, parse_duration
from prr.checks.formats.files import first_existing, read_yaml
from prr.checks.formats.portals import load_portals
from prr.checks.formats.yamlfile import FormatError, YList, YMap
from prr.repo import RepoSnapshot
from prr.schemas import SCHEMA_DIR

READINESS_FILES = ("readiness.yaml", "readiness.yml")
SCHEMA_PATH = SCHEMA_DIR / "readiness.schema.json"
DOCS_URL = "https://prr-portal.dev/docs/readiness-yaml"
OUTCOMES = {"passed": "pass", "failed": "fail"}  # as teams also write them


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


@dataclass(frozen=True)
class Problem:
    """A schema violation: where in the document (keys), the YAML line, and what is wrong."""

    where: tuple[str | int, ...]
    line: int
    message: str

    def __str__(self) -> str:
        location = ".".join(str(k) if isinstance(k, str) else f"[{k}]" for k in self.where).replace(".[", "[")
        return f"{location or '(top)'}: {self.message}"


@dataclass
class Drill:
    line: int
    date: datetime
    scenario: str
    outcome: str | None
    measured_rto: timedelta | None
    measured_rpo: timedelta | None
    evidence: str | None


@dataclass
class Readiness:
    path: str
    doc: YMap
    problems: list[Problem] = field(default_factory=list)

    def problems_under(self, *keys: str | int) -> list[Problem]:
        return [p for p in self.problems if p.where[: len(keys)] == keys]

    def line_of(self, *keys: str | int) -> int:
        """The line of the deepest of ``keys`` that exists (the file's first line at worst)."""
        return _line_at(self.doc, keys)

    def value(self, *keys: str | int) -> Any:
        node: Any = self.doc
        for key in keys:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def duration(self, *keys: str | int) -> timedelta | None:
        """The duration at ``keys``; None when absent or not a duration (see ``problems``)."""
        try:
            return parse_duration(self.value(*keys))
        except ValueError:
            return None

    def drills(self) -> list[Drill]:
        """The drills of ``dr.drills`` that have a date (an undated one is in ``problems``)."""
        raw = self.value("dr", "drills")
        if not isinstance(raw, YList):
            return []
        drills = []
        for i, item in enumerate(raw):
            if not isinstance(item, YMap):
                continue
            date = parse_date(item.get("date"))
            if date is None:
                continue
            drills.append(
                Drill(
                    line=raw.line_of(i),
                    date=date,
                    scenario=str(item.get("scenario") or ""),
                    outcome=OUTCOMES.get(str(item.get("outcome")), item.get("outcome")),
                    measured_rto=self.duration("dr", "drills", i, "measured_rto"),
                    measured_rpo=self.duration("dr", "drills", i, "measured_rpo"),
                    evidence=item.get("evidence"),
                )
            )
        return drills


def parse_date(value: Any) -> datetime | None:
    """``2024-05-01`` or an ISO-8601 date-time → an aware datetime (UTC when no zone is given)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def find_readiness(repo: RepoSnapshot) -> str | None:
    return first_existing(repo, *READINESS_FILES)


def load_readiness(repo: RepoSnapshot) -> Readiness | None:
    """The repo's readiness.yaml, validated; None when there is none.

    Raises FormatError when it is not YAML or not a mapping; schema violations are in
    ``Readiness.problems``.
    """
    path = find_readiness(repo)
    if path is None:
        return None
    docs = read_yaml(repo, path)
    doc = docs[0] if docs else YMap()
    if not isinstance(doc, YMap):
        raise FormatError(path, getattr(doc, "line", 1), "readiness.yaml must be a mapping (tier:, dr:, oncall:...)")
    if not hasattr(doc, "key_lines"):  # an empty file: no line information to carry
        doc.line, doc.key_lines = 1, {}
    validator = jsonschema.Draft202012Validator(schema())
    problems = [_problem(doc, e) for e in validator.iter_errors(doc)]
    drills = doc.get("dr", {}).get("drills") if isinstance(doc.get("dr"), dict) else None
    for i, drill in enumerate(drills if isinstance(drills, list) else []):
        date = drill.get("date") if isinstance(drill, dict) else None
        if isinstance(date, str) and parse_date(date) is None:  # the pattern lets 2024-13-45 through
            where = ("dr", "drills", i, "date")
            problems.append(Problem(where, _line_at(doc, where), f"{date!r} is not a valid date"))
    return Readiness(path, doc, sorted(problems, key=lambda p: p.line))


def try_readiness(repo: RepoSnapshot) -> tuple[Readiness | None, FormatError | None]:
    """``load_readiness`` once per snapshot (several checks read it), errors returned."""
    key = ("readiness",)
    if key not in repo.cache:
        try:
            repo.cache[key] = (load_readiness(repo), None)
        except FormatError as exc:
            repo.cache[key] = (None, exc)
    return repo.cache[key]


def _problem(doc: YMap, error: jsonschema.ValidationError) -> Problem:
    """A schema error as a report would say it, at the line of what is wrong."""
    where = tuple(error.absolute_path)
    line = _line_at(doc, where)
    message = error.message
    if error.schema.get("pattern") == DURATION_PATTERN:
        what = "has no unit" if isinstance(error.instance, (int, float)) else "is not a duration"
        message = f"{error.instance!r} {what} (write 90s, 15m, 1h, 1h30m, 2d or PT15M)"
    elif error.validator == "oneOf":
        message = f"{error.instance!r} is not {error.schema.get('description', 'of an accepted form')}"
    elif error.validator == "additionalProperties" and isinstance(error.instance, YMap):
        known = error.schema.get("properties", {})
        unknown = [k for k in error.instance if k not in known and not str(k).startswith("x-")]
        if unknown:
            line = error.instance.line_of(unknown[0])
            message = f"unknown key {unknown[0]!r} (expected {', '.join(known)})"
    return Problem(where, line, message)


def _line_at(doc: Any, keys: tuple[str | int, ...]) -> int:
    node, line = doc, getattr(doc, "line", 1) or 1
    for key in keys:
        step = _step(node, key)
        if step is None:
            break
        line, node = step
    return line


def _step(node: Any, key: str | int) -> tuple[int, Any] | None:
    """The line and value at ``key`` of a mapping or list; None when it holds no such key."""
    if isinstance(node, YMap) and key in node:
        return node.line_of(key), node[key]
    if isinstance(node, YList) and isinstance(key, int) and 0 <= key < len(node):
        return node.line_of(key), node[key]
    return None


# -- DR targets -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    name: str  # "rto" | "rpo"
    value: timedelta
    path: str
    line: int | None

    def __str__(self) -> str:
        return f"{self.name.upper()} {format_duration(self.value)}"


@dataclass
class DrTargets:
    rto: Target | None = None
    rpo: Target | None = None
    problems: list[tuple[str, int | None, str]] = field(default_factory=list)  # (path, line, message)

    def get(self, name: str) -> Target | None:
        return getattr(self, name)


def dr_targets(repo: RepoSnapshot, readiness: Readiness | None) -> DrTargets:
    """RTO and RPO targets: readiness.yaml ``dr.rto``/``dr.rpo`` first, else the ``rto``/``rpo``
    custom fields of cortex.yaml, opslevel.yml or service.datadog.yaml. ``problems`` lists the
    portal files that cannot be read and their targets that are not durations (a bad readiness.yaml
    value is in ``Readiness.problems``)."""
    targets = DrTargets()
    declared: dict[str, tuple[Any, str, int | None, str]] = {}  # name -> (raw, path, line, label)
    for name in ("rto", "rpo"):
        if readiness is not None and readiness.value("dr", name) is not None:
            declared[name] = (readiness.value("dr", name), readiness.path, readiness.line_of("dr", name), f"dr.{name}")
    if len(declared) < 2:
        portals, errors = load_portals(repo)
        targets.problems += [(e.path, e.line, e.message) for e in errors]
        for name in ("rto", "rpo"):
            fact = next((f for p in portals if name not in declared and (f := p.custom(name))), None)
            if fact is not None:
                declared[name] = (fact.value, fact.path, fact.line, fact.label)
    for name, (raw, path, line, label) in declared.items():
        try:
            setattr(targets, name, Target(name, parse_duration(raw), path, line))
        except ValueError as exc:
            if readiness is None or path != readiness.path:  # readiness.problems has its own
                targets.problems.append((path, line, f"{label}: {exc}"))
    return targets
