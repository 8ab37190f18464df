"""SLO specs as teams keep them: OpenSLO (v1, v1alpha), Sloth (prometheus/v1 files and the
PrometheusServiceLevel CRD) and Pyrra (ServiceLevelObjective), read into one :class:`SLO` model.

An SLO that is readable but wrong (100% objective, no window, a query that is not PromQL) keeps
its ``problems``; a file that is not readable at all is a :class:`FormatError` beside the list.
Sloth and Pyrra specs also describe the alerts the tool generates (``generated_alerts``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from prr.checks.formats import promql
from prr.checks.formats.files import NON_PRODUCTION_DIRS, all_yaml
from prr.checks.formats.nodes import mapping
from prr.checks.formats.yamlfile import FormatError, YList, YMap, get, looks_templated
from prr.repo import FileReadError, RepoSnapshot

SLOTH_DEFAULT_WINDOW = timedelta(days=30)  # sloth generate's default --default-slo-period
PYRRA_BASE_WINDOW = timedelta(days=28)
PROMQL_SOURCES = {"prometheus", "thanos", "cortex", "mimir", "victoriametrics", "amazonprometheus"}
GENERATOR_MARKERS = re.compile(r"sloth\.slok\.dev/|pyrra\.dev/|^version:\s*[\"']?prometheus/v1", re.M)
SPEC_MARKERS = re.compile(r"openslo/v1|sloth\.slok\.dev/|pyrra\.dev/|^version:\s*[\"']?prometheus/v1", re.M)

# Multiwindow, multi-burn-rate alerts (SRE workbook): share of the error budget spent within the
# long window that raises the alert, long window, short window (for a 30-day SLO), severity.
SLOTH_WINDOWS = (
    (0.02, timedelta(hours=1), timedelta(minutes=5), "page"),
    (0.05, timedelta(hours=6), timedelta(minutes=30), "page"),
    (0.10, timedelta(days=1), timedelta(hours=2), "ticket"),
    (0.10, timedelta(days=3), timedelta(hours=6), "ticket"),
)
# Pyrra's on 28 days, scaled with the SLO window: factor, long, short, severity.
PYRRA_WINDOWS = (
    (14, timedelta(hours=1), timedelta(minutes=5), "critical"),
    (7, timedelta(hours=6), timedelta(minutes=30), "critical"),
    (2, timedelta(days=1), timedelta(hours=2), "warning"),
    (1, timedelta(days=4), timedelta(hours=6), "warning"),
)


@dataclass
class AlertSpec:
    """An alert a Sloth or Pyrra spec makes the tool generate."""

    name: str
    labels: dict[str, str]
    annotations: dict[str, str]
    expr: str
    line: int
    for_: str | None = None


@dataclass
class SLO:
    name: str
    source_format: str  # openslo/v1, openslo/v1alpha, sloth, sloth-crd, pyrra
    path: str
    line: int
    objective: float | None  # ratio, 0..1
    window: timedelta | None
    kind: str  # availability | latency
    queries: dict[str, str]  # as written (Sloth's keep {{.window}})
    alerting_enabled: bool  # the tool generates burn-rate page alerts for it (a valid spec, alerting on)
    alerting_name: str | None
    labels: dict[str, str]
    problems: list[str] = field(default_factory=list)
    service: str | None = None
    alerting_line: int | None = None
    generated_alerts: list[AlertSpec] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def generator(self) -> str | None:
        """``sloth`` or ``pyrra`` when a tool turns the spec into rules."""
        return {"sloth": "sloth", "sloth-crd": "sloth", "pyrra": "pyrra"}.get(self.source_format)

    @property
    def sloth_id(self) -> str | None:
        return f"{self.service}-{self.name}" if self.generator == "sloth" else None

    def describe(self) -> str:
        objective = f"{self.objective * 100:g}%" if self.objective is not None else "no objective"
        window = promql.format_duration(self.window) if self.window else "no window"
        return f"{self.kind} SLO {self.name!r} ({objective} over {window})"


# -- values --------------------------------------------------------------------------------------
def normalise_objective(value: Any, percent: bool) -> tuple[float | None, str | None]:
    """An objective as a ratio 0..1, from a percent (``99.9``) or a ratio (``0.999``) field,
    either written in the other's field too. Returns (ratio, problem)."""
    text = str(value).strip().rstrip("%") if value is not None and not isinstance(value, bool) else ""
    try:
        number = float(text)
    except ValueError:
        return None, f"objective {value!r} is not a number" if value is not None else "no objective"
    if number <= 0:
        return None, f"objective {value} is not above 0"
    if number == 1 and percent:
        return 0.01, None
    if number >= 100 or number == 1:
        return None, f"objective {value} is 100%: it leaves no error budget to alert on"
    return round(number if number < 1 else number / 100, 12), None


WINDOW_UNITS = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
    "M": 30 * 86400,
    "Q": 91 * 86400,
    "y": 365 * 86400,
    "Y": 365 * 86400,
}
WINDOW_RE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|[smhdwMQyY]))+$")
WINDOW_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|[smhdwMQyY])")
OPENSLO_UNITS = {
    "second": "s",
    "minute": "m",
    "hour": "h",
    "day": "d",
    "week": "w",
    "month": "M",
    "quarter": "Q",
    "year": "Y",
}


def parse_window(value: Any) -> timedelta | None:
    """``28d``, ``4w``, ``1M`` (OpenSLO calendar month ≈ 30d), ``1Q``, ``1y``; None if not one."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not WINDOW_RE.match(text):
        return None
    seconds = sum(float(n) * WINDOW_UNITS[u] for n, u in WINDOW_PART.findall(text))
    return timedelta(seconds=seconds) if seconds > 0 else None


def _window(value: Any, where: str, problems: list[str]) -> timedelta | None:
    if value is None:
        problems.append(f"no time window ({where})")
        return None
    window = parse_window(value)
    if window is None:
        problems.append(f"time window {value!r} is not a duration like 28d or 4w")
    return window


def _strings(mapping: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in mapping.items()} if isinstance(mapping, dict) else {}


# -- queries -------------------------------------------------------------------------------------
@dataclass
class _Indicator:
    queries: dict[str, str] = field(default_factory=dict)
    parsed: list[Any] = field(default_factory=list)  # promql_parser expressions
    threshold: bool = False  # a threshold metric (OpenSLO thresholdMetric)
    latency: bool = False  # declared latency (Pyrra latency indicators)
    names: tuple[str, ...] = ()  # the indicator's own name and display name (OpenSLO metadata)

    def add(
        self, key: str, query: Any, problems: list[str], dialect_promql: bool | None = True, window: bool = False
    ) -> None:
        """Record a query; parse it as PromQL when the source is Prometheus-like
        (``dialect_promql`` None: unknown source, parsed when it can be)."""
        if not isinstance(query, str) or not query.strip():
            problems.append(f"{key} query is missing")
            return
        self.queries[key] = query
        if dialect_promql is False:
            return
        if window and not promql.WINDOW_PLACEHOLDER.search(query):
            problems.append(f"{key} has no {{{{.window}}}} placeholder, which Sloth requires")
        try:
            self.parsed.append(promql.parse(promql.substitute_window(query)))
        except promql.PromQLError as exc:
            if dialect_promql:
                problems.append(f"{key} is not valid PromQL: {exc}")

    def kind(self) -> str:
        if self.latency or any(promql.is_latency_query(e) for e in self.parsed):
            return "latency"
        if self.threshold and any(promql.DURATION_METRIC.search(q) for q in (*self.queries.values(), *self.names)):
            return "latency"
        return "availability"


# -- Sloth ---------------------------------------------------------------------------------------
SLOTH_KEYS = {
    "sloth": {
        "error": "error_query",
        "total": "total_query",
        "raw": "error_ratio_query",
        "page": "page_alert",
        "ticket": "ticket_alert",
        "plugins": "slo_plugins",
    },
    "sloth-crd": {
        "error": "errorQuery",
        "total": "totalQuery",
        "raw": "errorRatioQuery",
        "page": "pageAlert",
        "ticket": "ticketAlert",
        "plugins": "sloPlugins",
    },
}
# A Sloth SLO plugin that validates its queries as VictoriaMetrics' MetricsQL instead of PromQL.
METRICSQL_PLUGIN = re.compile(r"validate_victoria_metrics")


def _sloth_dialect(spec: YMap, item: YMap, keys: dict[str, str]) -> bool | None:
    """True (PromQL) unless the spec's or the SLO's plugin chain validates MetricsQL: then None,
    parsed as PromQL where it can be (for the kind of SLO), never held to it."""
    chains = (get(spec, keys["plugins"], "chain"), get(item, "plugins", "chain"))
    ids = [str(get(p, "id", default="")) for chain in chains if isinstance(chain, list) for p in chain]
    return None if any(METRICSQL_PLUGIN.search(i) for i in ids) else True


def _sloth(path: str, spec: YMap, source: str) -> list[SLO]:
    keys = SLOTH_KEYS[source]
    service = str(spec.get("service") or "")
    slos = spec.get("slos")
    if not isinstance(slos, YList):
        raise FormatError(path, spec.line_of("slos"), "`slos` must be a list of SLOs")
    found = []
    for index, item in enumerate(slos):
        line = slos.line_of(index)
        if not isinstance(item, YMap):
            raise FormatError(path, line, "an SLO must be a mapping")
        problems: list[str] = [] if service else ["no `service`"]
        name = str(item.get("name") or f"slos[{index}]")
        objective, problem = normalise_objective(item.get("objective"), percent=True)
        problems += [problem] if problem else []
        indicator = _Indicator()
        sli = item.get("sli") or {}
        dialect = _sloth_dialect(spec, item, keys)
        if get(sli, "events") is not None:
            for key in (keys["error"], keys["total"]):
                indicator.add(key, get(sli, "events", key), problems, dialect, window=True)
        elif get(sli, "raw") is not None:
            indicator.add(keys["raw"], get(sli, "raw", keys["raw"]), problems, dialect, window=True)
        elif get(sli, "plugin") is not None:
            indicator.queries["plugin"] = str(get(sli, "plugin", "id") or "")
            indicator.latency = "latency" in indicator.queries["plugin"]
        else:
            problems.append("no SLI (sli.events, sli.raw or sli.plugin)")
        labels = {**_strings(spec.get("labels")), **_strings(item.get("labels"))}
        alerting = mapping(item.get("alerting"))
        slo = SLO(
            name=name,
            source_format=source,
            path=path,
            line=line,
            objective=objective,
            window=SLOTH_DEFAULT_WINDOW,
            kind=indicator.kind(),
            queries=indicator.queries,
            alerting_enabled=False,
            alerting_name=alerting.get("name"),
            labels=labels,
            problems=problems,
            service=service,
            alerting_line=item.line_of("alerting") if "alerting" in item else None,
        )
        slo.generated_alerts = _sloth_alerts(slo, alerting, keys) if slo.valid else []
        slo.alerting_enabled = any(a.labels.get("sloth_severity") == "page" for a in slo.generated_alerts)
        found.append(slo)
    return found


def _sloth_alerts(slo: SLO, alerting: YMap, keys: dict[str, str]) -> list[AlertSpec]:
    """The page and ticket alerts Sloth generates for a valid SLO unless disabled (it needs an
    alert name)."""
    if not alerting.get("name") or slo.objective is None or slo.sloth_id is None:
        return []
    series = {"sloth_id": slo.sloth_id, "sloth_service": slo.service or "", "sloth_slo": slo.name}
    budget = 1 - slo.objective
    window_hours = SLOTH_DEFAULT_WINDOW.total_seconds() / 3600
    alerts = []
    for severity, key in (("page", keys["page"]), ("ticket", keys["ticket"])):
        config = mapping(alerting.get(key))
        if config.get("disable") is True:
            continue
        conditions = []
        for share, long, short, level in SLOTH_WINDOWS:
            if level != severity:
                continue
            factor = share * window_hours / (long.total_seconds() / 3600)
            conditions.append(
                " and ".join(
                    f"max({promql.selector_text(f'slo:sli_error:ratio_rate{w}', series)} > ({factor:g} * {budget:g}))"
                    " without (sloth_window)"
                    for w in map(promql.format_duration, (short, long))
                )
            )
        alerts.append(
            AlertSpec(
                name=str(alerting["name"]),
                labels={
                    **slo.labels,
                    **series,
                    **_strings(alerting.get("labels")),
                    **_strings(config.get("labels")),
                    "sloth_severity": severity,
                },
                annotations={**_strings(alerting.get("annotations")), **_strings(config.get("annotations"))},
                expr=" or ".join(f"({c})" for c in conditions),
                line=slo.alerting_line or slo.line,
            )
        )
    return alerts


# -- Pyrra ---------------------------------------------------------------------------------------
def _pyrra(path: str, doc: YMap) -> SLO:
    spec = mapping(doc.get("spec"))
    meta = mapping(doc.get("metadata"))
    problems: list[str] = []
    objective, problem = normalise_objective(spec.get("target"), percent=True)
    problems += [problem] if problem else []
    window = _window(spec.get("window"), "spec.window", problems)
    indicator = _Indicator()
    sli = spec.get("indicator") or {}
    if get(sli, "ratio") is not None:
        indicator.add("errors", get(sli, "ratio", "errors", "metric"), problems)
        indicator.add("total", get(sli, "ratio", "total", "metric"), problems)
    elif get(sli, "latency") is not None:
        indicator.add("success", get(sli, "latency", "success", "metric"), problems)
        indicator.add("total", get(sli, "latency", "total", "metric"), problems)
        indicator.latency = True
    elif get(sli, "latencyNative") is not None:
        indicator.add("total", get(sli, "latencyNative", "total", "metric"), problems)
        indicator.latency = True
    elif get(sli, "bool_gauge") is not None:
        indicator.add("metric", get(sli, "bool_gauge", "metric"), problems)
    else:
        problems.append("no indicator (ratio, latency, latencyNative or bool_gauge)")
    alerting = mapping(spec.get("alerting"))
    enabled = alerting.get("disabled") is not True and alerting.get("burnrates") is not False
    labels = _pyrra_propagated(meta.get("labels"))
    slo = SLO(
        name=str(meta.get("name") or path),
        source_format="pyrra",
        path=path,
        line=doc.line,
        objective=objective,
        window=window,
        kind=indicator.kind(),
        queries=indicator.queries,
        alerting_enabled=enabled,
        alerting_name=alerting.get("name") or "ErrorBudgetBurn",
        labels=labels,
        problems=problems,
        alerting_line=spec.line_of("alerting") if "alerting" in spec else None,
    )
    if enabled and slo.valid:
        slo.generated_alerts = _pyrra_alerts(slo, indicator, doc.line, _pyrra_propagated(meta.get("annotations")))
    slo.alerting_enabled = bool(slo.generated_alerts)
    return slo


def _pyrra_propagated(values: Any) -> dict[str, str]:
    """Pyrra copies ``pyrra.dev/``-prefixed metadata labels and annotations onto its rules, unprefixed."""
    return {k.removeprefix("pyrra.dev/"): v for k, v in _strings(values).items() if k.startswith("pyrra.dev/")}


def _pyrra_alerts(slo: SLO, indicator: _Indicator, line: int, annotations: dict[str, str]) -> list[AlertSpec]:
    """The multiwindow burn-rate alerts Pyrra generates for a valid SLO (objective and window set)."""
    if slo.objective is None or slo.window is None:
        return []
    total = promql.selectors(indicator.parsed[-1]) if indicator.parsed else []
    metric = re.sub(r"_(total|count|bucket)$", "", promql.metric_name(total[0]) or "") if total else ""
    metric = metric or "slo"
    series = {**(promql.equality_matchers(total[0]) if total else {}), "slo": slo.name}
    scale = slo.window / PYRRA_BASE_WINDOW
    alerts = []
    for factor, long, short, severity in PYRRA_WINDOWS:
        windows = [promql.format_duration(w * scale) for w in (short, long)]
        alerts.append(
            AlertSpec(
                name=str(slo.alerting_name),
                labels={**slo.labels, **series, "severity": severity, "short": windows[0], "long": windows[1]},
                annotations=dict(annotations),
                expr=" and ".join(
                    f"{promql.selector_text(f'{metric}:burnrate{w}', series)} > ({factor} * (1-{slo.objective:g}))"
                    for w in windows
                ),
                line=slo.alerting_line or line,
            )
        )
    return alerts


# -- OpenSLO -------------------------------------------------------------------------------------
def _metric_source(indicator: _Indicator, key: str, source: Any, problems: list[str]) -> None:
    """v1 ``metricSource: {type, spec: {query}}``; v1alpha ``{source, queryType, query}``."""
    if not isinstance(source, dict):
        problems.append(f"{key} has no metric source")
        return
    if "metricSource" in source:
        source = source["metricSource"] or {}
        spec = source.get("spec") if isinstance(source.get("spec"), dict) else {}
        query = spec.get("query", next((v for v in spec.values() if isinstance(v, str)), None))
        kind = str(source.get("type") or "").lower()
    else:
        query = source.get("query")
        kind = str(source.get("queryType") or source.get("source") or "").lower()
    dialect = True if kind in PROMQL_SOURCES or kind == "promql" else None if not kind else False
    indicator.add(key, query, problems, dialect_promql=dialect)


def _openslo_indicator_v1(sli: Any, problems: list[str]) -> _Indicator:
    """An OpenSLO v1 SLI (inline ``spec.indicator`` or a kind SLI document)."""
    sli_spec = get(sli, "spec")
    indicator = _Indicator(
        names=tuple(str(get(sli, "metadata", k)) for k in ("name", "displayName") if get(sli, "metadata", k))
    )
    if get(sli_spec, "thresholdMetric") is not None:
        indicator.threshold = True
        _metric_source(indicator, "threshold", get(sli_spec, "thresholdMetric"), problems)
    elif get(sli_spec, "ratioMetric") is not None:
        ratio = get(sli_spec, "ratioMetric")
        parts = [k for k in ("good", "bad", "total") if k in ratio] or (["raw"] if "raw" in ratio else [])
        for part in parts:
            _metric_source(indicator, part, ratio[part], problems)
        if not parts:
            problems.append("ratioMetric has neither good/bad/total nor raw")
    else:
        problems.append("indicator has neither thresholdMetric nor ratioMetric")
    return indicator


def _openslo(path: str, doc: YMap, slis: dict[str, YMap]) -> list[SLO]:
    version = str(doc.get("apiVersion"))
    spec = mapping(doc.get("spec"))
    name = str(get(doc, "metadata", "name") or path)
    problems: list[str] = []
    if version == "openslo/v1":
        if isinstance(spec.get("indicator"), dict):
            indicator = _openslo_indicator_v1(spec.get("indicator"), problems)
        elif spec.get("indicatorRef"):
            sli = slis.get(str(spec["indicatorRef"]))
            if sli is None:
                problems.append(f"indicatorRef {spec['indicatorRef']!r} names no SLI in the repo")
            indicator = _openslo_indicator_v1(sli, problems) if sli else _Indicator()
        else:
            indicator = _Indicator()
            problems.append("no indicator (spec.indicator or spec.indicatorRef)")
        windows = spec.get("timeWindow")
        window_value = get(windows[0], "duration") if isinstance(windows, list) and windows else None
    else:  # openslo/v1alpha: thresholdMetric on the SLO, ratioMetrics on each objective
        indicator = _Indicator()
        if get(spec, "indicator", "thresholdMetric") is not None:
            indicator.threshold = True
            _metric_source(indicator, "threshold", get(spec, "indicator", "thresholdMetric"), problems)
        windows = spec.get("timeWindows")
        first = windows[0] if isinstance(windows, list) and windows else None
        unit = OPENSLO_UNITS.get(str(get(first, "unit", default="")).lower())
        window_value = f"{get(first, 'count')}{unit}" if first is not None and unit else get(first, "duration")
    objectives = spec.get("objectives")
    if not isinstance(objectives, YList) or not objectives:
        return [
            _openslo_slo(
                name, version, path, doc.line, None, indicator, doc, problems + ["no objectives"], window_value
            )
        ]
    found = []
    for index, objective in enumerate(objectives):
        objective = mapping(objective)
        own = _Indicator(dict(indicator.queries), list(indicator.parsed), indicator.threshold, names=indicator.names)
        own_problems = list(problems)
        for part in ("good", "bad", "total"):
            if get(objective, "ratioMetrics", part) is not None:
                _metric_source(own, part, get(objective, "ratioMetrics", part), own_problems)
        label = objective.get("displayName") or index
        found.append(
            _openslo_slo(
                f"{name}/{label}" if len(objectives) > 1 else name,
                version,
                path,
                objectives.line_of(index),
                objective,
                own,
                doc,
                own_problems,
                window_value,
            )
        )
    return found


def _openslo_slo(
    name: str,
    version: str,
    path: str,
    line: int,
    objective: YMap | None,
    indicator: _Indicator | None,
    doc: YMap,
    problems: list[str],
    window_value: Any,
) -> SLO:
    problems = list(problems)
    ratio = None
    if objective is not None:
        percent = "targetPercent" in objective
        ratio, problem = normalise_objective(objective.get("targetPercent" if percent else "target"), percent)
        problems += [problem] if problem else []
    window = _window(window_value, "spec.timeWindow", problems)
    indicator = indicator or _Indicator()
    indicator.threshold = indicator.threshold and objective is not None and "value" in objective
    return SLO(
        name=name,
        source_format=version,
        path=path,
        line=line,
        objective=ratio,
        window=window,
        kind=indicator.kind(),
        queries=indicator.queries,
        alerting_enabled=False,
        alerting_name=None,
        labels=_strings(get(doc, "metadata", "labels")),
        problems=problems,
    )


# -- loading -------------------------------------------------------------------------------------
def _spec_kind(doc: Any) -> str | None:
    if not isinstance(doc, YMap):
        return None
    version, kind = str(doc.get("apiVersion") or ""), doc.get("kind")
    if version in ("openslo/v1", "openslo/v1alpha") and kind in ("SLO", "SLI"):
        return f"openslo-{kind.lower()}"
    if doc.get("version") == "prometheus/v1" and "slos" in doc:
        return "sloth"
    if version.startswith("sloth.slok.dev/") and kind == "PrometheusServiceLevel":
        return "sloth-crd"
    if version.startswith("pyrra.dev/") and kind == "ServiceLevelObjective":
        return "pyrra"
    return None


def file_matches(repo: RepoSnapshot, path: str, marker: re.Pattern[str]) -> bool:
    try:
        return bool(marker.search(repo.read_text(path)))
    except FileReadError:
        return False


def broken_files_like(
    repo: RepoSnapshot, errors: dict[str, FormatError], marker: re.Pattern[str]
) -> dict[str, FormatError]:
    """Of the YAML files that did not parse, those whose text matches ``marker``; a templated
    one says it must be rendered first."""
    found = {}
    for path, error in errors.items():
        if not file_matches(repo, path, marker):
            continue
        if looks_templated(repo.read_text(path)) and "templated" not in error.message:
            error = FormatError(
                path,
                error.line,
                f"{error.message} (a templated file: render it "
                "with its tool, e.g. helm template, before it can be read)",
            )
        found[path] = error
    return found


def load_slos(
    repo: RepoSnapshot, dirs: tuple[str, ...] = NON_PRODUCTION_DIRS
) -> tuple[list[SLO], dict[str, FormatError]]:
    """Every SLO spec outside the non-production ``dirs``, and the spec files that could not be read."""
    key = ("slo.load_slos", dirs)
    if key not in repo.cache:
        repo.cache[key] = _load(repo, dirs)
    slos, errors = repo.cache[key]
    return list(slos), dict(errors)


def _load(repo: RepoSnapshot, dirs: tuple[str, ...]) -> tuple[list[SLO], dict[str, FormatError]]:
    parsed = all_yaml(repo, dirs=dirs)
    errors = broken_files_like(repo, parsed.errors, SPEC_MARKERS)
    slis = {
        str(get(doc, "metadata", "name")): doc
        for docs in parsed.documents.values()
        for doc in docs
        if _spec_kind(doc) == "openslo-sli" and doc.get("apiVersion") == "openslo/v1"
    }
    slos: list[SLO] = []
    for path, docs in parsed.documents.items():
        try:
            for doc in docs:
                kind = _spec_kind(doc)
                if kind == "openslo-slo":
                    slos += _openslo(path, doc, slis)
                elif kind == "sloth":
                    slos += _sloth(path, doc, "sloth")
                elif kind == "sloth-crd":
                    spec = doc.get("spec")
                    if not isinstance(spec, YMap):
                        raise FormatError(path, doc.line, "PrometheusServiceLevel has no spec")
                    slos += _sloth(path, spec, "sloth-crd")
                elif kind == "pyrra":
                    slos.append(_pyrra(path, doc))
        except FormatError as exc:
            errors[path] = exc
    return slos, errors
