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
import pickle
import pkgutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

import cloudpickle
import jsonschema

from prr.repo import RepoSnapshot

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


def holds_until(result: Result, moment: datetime | None) -> Result:
    """``result``, saying (as ``details.valid_until``) that it stays the check's result until
    ``moment``, or whatever the time when ``moment`` is None, for as long as the repository and the
    scan's inputs are unchanged. A ``time_dependent`` check that says so is not run again before
    then on an unchanged commit: its result is carried over."""
    result.details["valid_until"] = None if moment is None else moment.isoformat().replace("+00:00", "Z")
    return result


def failed(summary: str, evidence: list[Evidence] | None = None, **details: Any) -> Result:
    return Result(Status.FAIL, summary, evidence or [], details)


def warned(summary: str, evidence: list[Evidence] | None = None, **details: Any) -> Result:
    return Result(Status.WARN, summary, evidence or [], details)


def errored(summary: str, evidence: list[Evidence] | None = None, **details: Any) -> Result:
    return Result(Status.ERROR, summary, evidence or [], details)


def not_applicable(summary: str, **details: Any) -> Result:
    return Result(Status.NOT_APPLICABLE, summary, [], details)


# Catalog annotations saying where the repo is browsable, and their keys in the report.
LOCATION_ANNOTATIONS = {"backstage.io/source-location": "source_location", "github.com/project-slug": "project_slug"}
MAX_LOCATION_LENGTH = 2048


@dataclass
class ServiceInfo:
    """Who the scanned repository's service is (resolved by :func:`prr.service.resolve_service`)."""

    ref: str
    name: str
    owner: str | None
    tier: str
    tier_declared: bool
    tier_source: str
    lifecycle: str | None = None
    repo: str = ""
    system: str | None = None
    links: list[dict[str, Any]] = field(default_factory=list)
    annotations: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    declared_tier: str | None = None  # as written, when the scorecard does not know it
    # A tier the repo declares that waits for an approver in the portal ({"tier", "source"}); ``tier``
    # is then the one in force (see prr.custody).
    tier_pending: dict[str, str] | None = None

    def to_report(self) -> dict[str, Any]:
        """The report's ``service`` object; the catalog's repo-location annotations are carried as
        written (when declared) so the portal can link evidence to the repo's web UI."""
        report: dict[str, Any] = {
            "ref": self.ref,
            "name": self.name,
            "owner": self.owner,
            "tier": self.tier,
            "tier_declared": self.tier_declared,
            "tier_source": self.tier_source,
            "lifecycle": self.lifecycle,
        }
        if self.tier_pending:
            report["tier_pending"] = dict(self.tier_pending)
        for annotation, key in LOCATION_ANNOTATIONS.items():
            value = self.annotations.get(annotation)
            if isinstance(value, str) and 0 < len(value.strip()) <= MAX_LOCATION_LENGTH:
                report[key] = value.strip()
        return report

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    # True when the result depends on the scan time (ages, expiries): it is never reused from an
    # earlier scan of the same commit, always run afresh.
    time_dependent: bool = False
    reads: tuple[str, ...] = ()  # what it reads, for the generated docs

    @property
    def reusable(self) -> bool:
        """Whether a result of an earlier scan of the same inputs may stand for this check's result."""
        return self.kind == "repo" and not self.time_dependent

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled by reference (module and name) where the decorated name finds this check, else by value.

        Checks cross into the worker processes that run them. A check defined at the top of an
        importable module is re-imported there by name; one defined in ``__main__`` or inside a
        function travels by value (its code, through cloudpickle).
        """
        module, name = self.run.__module__, self.run.__qualname__
        if module not in ("__main__", "__mp_main__") and _find(module, name) is self:
            return (_check_named, (module, name, self.id))
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return (_check_from_value, (cloudpickle.dumps(values),))

    def metadata(self, now: datetime | None = None) -> dict[str, Any]:
        """What the check says of itself; its remediation as shown at ``now`` when given."""
        return {
            "id": self.id,
            "title": self.title,
            "category": self.category,
            "kind": self.kind,
            "description": self.description,
            "remediation": self.remediation_on(now) if now else self.remediation,
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


def _find(module: str, qualname: str) -> object:
    """What ``module.qualname`` names in this process (None when nothing)."""
    found: object = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found


def _check_named(module: str, qualname: str, check_id: str) -> Check:
    importlib.import_module(module)
    found = _find(module, qualname)
    if not isinstance(found, Check) or found.id != check_id:
        raise ConfigError(f"check {check_id!r}: {module}.{qualname} does not name it in this process")
    return found


def _check_from_value(pickled_fields: bytes) -> Check:
    return Check(**pickle.loads(pickled_fields))


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

    def __iter__(self) -> Iterator[Check]:
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
