"""The check plugin API: what a check declares, what it receives, what it returns.

A check is a function decorated with :func:`check`; the decorator attaches its metadata and
returns a :class:`Check`. The built-in checks are the modules of :mod:`prr.checks`; third-party
checks are found through the ``prr.checks`` entry-point group::

    [project.entry-points."prr.checks"]
    "acme.readme" = "acme_checks.readme:readme"
"""

from __future__ import annotations

import enum
import importlib
import importlib.metadata
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import jsonschema

if TYPE_CHECKING:
    from prr.repo import RepoSnapshot
    from prr.service import ServiceInfo

ENTRY_POINT_GROUP = "prr.checks"
KINDS = ("repo", "live", "manual")
# A field a check's remediation may hold, filled when the remediation is shown: its examples stay
# true whenever they are read (a drill dated `{today}` is never stale).
TODAY_FIELD = "{today}"


class Status(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    ERROR = "error"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Evidence:
    """Where the proof or the problem is: a file and line, a URL, or a value."""

    path: str | None = None
    line: int | None = None
    url: str | None = None
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        return cls(**{k: data.get(k) for k in ("path", "line", "url", "value")})


@dataclass
class Result:
    status: Status
    summary: str
    evidence: list[Evidence] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.status = Status(self.status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "summary": self.summary,
            "evidence": [e.to_dict() for e in self.evidence],
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        return cls(
            status=Status(data["status"]),
            summary=data["summary"],
            evidence=[Evidence.from_dict(e) for e in data.get("evidence", [])],
            details=data.get("details") or {},
        )


def passed(summary: str, evidence: list[Evidence] | None = None, **details: Any) -> Result:
    return Result(Status.PASS, summary, evidence or [], details)


def failed(summary: str, evidence: list[Evidence] | None = None, **details: Any) -> Result:
    return Result(Status.FAIL, summary, evidence or [], details)


def warned(summary: str, evidence: list[Evidence] | None = None, **details: Any) -> Result:
    return Result(Status.WARN, summary, evidence or [], details)


def errored(summary: str, evidence: list[Evidence] | None = None, **details: Any) -> Result:
    return Result(Status.ERROR, summary, evidence or [], details)


def not_applicable(summary: str, **details: Any) -> Result:
    return Result(Status.NOT_APPLICABLE, summary, [], details)


@dataclass
class CheckContext:
    """Everything a check may look at for one service at one commit."""

    repo: RepoSnapshot
    service: ServiceInfo
    params: dict[str, Any]
    now: datetime
    settings: dict[str, Any] = field(default_factory=dict)  # scorecard settings
    config: dict[str, Any] = field(default_factory=dict)  # portal config (never the repo's)
    live: Any = None  # clients of live systems, for kind == "live"


class ConfigError(Exception):
    """Bad configuration: a scorecard, a parameter, a config file. Exit code 2."""


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    category: str
    description: str
    remediation: str
    run: Callable[[CheckContext], Result]
    kind: str = "repo"
    version: str = "1"
    docs_url: str | None = None
    params_schema: dict[str, Any] = field(default_factory=dict)
    # True when the result depends on the scan time (ages, expiries): never reused (§10).
    time_dependent: bool = False
    reads: tuple[str, ...] = ()  # what it reads, for the generated docs

    def metadata(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "category": self.category,
            "kind": self.kind,
            "description": self.description,
            "remediation": self.remediation,
            "docs_url": self.docs_url,
            "version": self.version,
            "params_schema": self.full_params_schema(),
            "reads": list(self.reads),
        }

    def remediation_on(self, now: datetime) -> str:
        """The remediation as shown at ``now``: ``{today}`` becomes that date (YYYY-MM-DD)."""
        return self.remediation.replace(TODAY_FIELD, now.date().isoformat())

    def full_params_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {},
            **self.params_schema,
        }

    def resolve_params(self, given: dict[str, Any] | None) -> dict[str, Any]:
        """Validate parameters against the schema and fill in the schema's defaults."""
        schema = self.full_params_schema()
        params = dict(given or {})
        errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(params), key=lambda e: e.path)
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
            raise ConfigError(f"check {self.id}: bad parameter {where}: {errors[0].message}")
        for name, prop in schema.get("properties", {}).items():
            if name not in params and "default" in prop:
                params[name] = prop["default"]
        return params


def check(
    *,
    id: str,
    title: str,
    category: str,
    description: str,
    remediation: str,
    kind: str = "repo",
    version: str = "1",
    docs_url: str | None = None,
    params: dict[str, Any] | None = None,
    time_dependent: bool = False,
    reads: tuple[str, ...] = (),
) -> Callable[[Callable[[CheckContext], Result]], Check]:
    """Declare a check. ``params`` is the JSON Schema of the check's parameters (an object)."""
    if kind not in KINDS:
        raise ValueError(f"check {id}: kind must be one of {KINDS}")

    def wrap(fn: Callable[[CheckContext], Result]) -> Check:
        return Check(
            id=id,
            title=title,
            category=category,
            description=description.strip(),
            remediation=remediation.strip(),
            run=fn,
            kind=kind,
            version=version,
            docs_url=docs_url,
            params_schema=params or {},
            time_dependent=time_dependent,
            reads=reads,
        )

    return wrap


class Registry:
    """The installed checks, by id."""

    def __init__(self, checks: dict[str, Check], load_errors: dict[str, str] | None = None):
        self.checks = checks
        self.load_errors = load_errors or {}

    def get(self, check_id: str) -> Check:
        try:
            return self.checks[check_id]
        except KeyError:
            detail = self.load_errors.get(check_id)
            raise ConfigError(f"check {check_id!r} is not installed" + (f" ({detail})" if detail else "")) from None

    def __iter__(self):
        return iter(sorted(self.checks.values(), key=lambda c: c.id))

    def __contains__(self, check_id: str) -> bool:
        return check_id in self.checks


def builtin_checks() -> dict[str, Check]:
    """The checks of the modules in :mod:`prr.checks`, one check per module, by id."""
    import prr.checks

    found: dict[str, Check] = {}
    for module_info in pkgutil.iter_modules(prr.checks.__path__, "prr.checks."):
        if module_info.ispkg:
            continue  # prr.checks.formats: the parsers the checks share
        module = importlib.import_module(module_info.name)
        for obj in vars(module).values():
            if isinstance(obj, Check) and obj.run.__module__ == module.__name__:
                found[obj.id] = obj
    return found


def load_registry() -> Registry:
    """The built-in checks and every check registered under the ``prr.checks`` entry-point group.

    A plugin that fails to import is recorded, not fatal: the checks of other plugins still load,
    and a scorecard naming the broken one is refused with the import error. A plugin cannot
    replace a built-in check: registering a built-in id is recorded as an error.
    """
    checks = builtin_checks()
    errors: dict[str, str] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not take the others down
            errors[ep.name] = f"could not load {ep.value}: {type(exc).__name__}: {exc}"
            continue
        if not isinstance(obj, Check):
            errors[ep.name] = f"{ep.value} is not a check (use the @check decorator)"
        elif obj.id != ep.name:
            errors[ep.name] = f"{ep.value} declares id {obj.id!r}, registered as {ep.name!r}"
        elif obj.id in checks and checks[obj.id] is not obj:
            errors[ep.name] = f"{ep.value} registers {obj.id!r}, which is a built-in check"
        else:
            checks[obj.id] = obj
    return Registry(checks, errors)
