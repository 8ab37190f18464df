"""Prometheus alerting and recording rules: rule files (``groups[].rules[]``), prometheus-operator
``PrometheusRule`` CRDs (``spec.groups``), rule files embedded in a Kubernetes ``ConfigMap`` (a
data key holding ``groups:``), vmalert rule files and ``VMRule`` resources, and the alerts Sloth
and Pyrra specs generate.

Every ``expr`` is parsed with promql_parser; one that does not parse makes its file a
:class:`FormatError` at the rule's line (the file's other rules are still returned). Loki rule
files (LogQL) are read for their alerts without a PromQL check, and so are vmalert groups
(MetricsQL, a superset of PromQL): their names, labels and annotations are read all the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prr.checks.formats import promql
from prr.checks.formats.files import NON_PRODUCTION_DIRS, is_non_production, read_yaml, with_templates
from prr.checks.formats.slo import GENERATOR_MARKERS, broken_files_like, file_matches, load_slos
from prr.checks.formats.yamlfile import FormatError, YList, YMap, get, load_documents
from prr.repo import RepoSnapshot

RULE_MARKERS = re.compile(
    r"^\s*kind:\s*[\"']?(?:PrometheusRule|VMRule)|^\s*-?\s*(alert|record):\s"
    r"|^groups:(?=.*^\s+-?\s*rules:)",
    re.M | re.S,
)
LOGQL = re.compile(r"\}\s*(\|[=~]|!=|!~|\|\s*(json|logfmt|pattern|regexp|line_format|label_format|unwrap)\b)")
EXTRA_RULE_FILES = ("**/*.rules",)  # rule files named without a YAML extension
# Group keys only vmalert knows: its groups hold MetricsQL, which need not parse as PromQL.
VMALERT_GROUP_KEYS = ("type", "concurrency", "params", "headers", "notifier_headers", "eval_offset", "eval_delay")
DEFAULT_PAGING_SEVERITIES = ("page", "critical", "pager", "p1", "p2", "s1", "s2", "sev1", "sev2")


@dataclass
class AlertRule:
    name: str
    labels: dict[str, str]
    annotations: dict[str, str]
    expr: str
    for_: str | None
    path: str
    line: int
    generated_by: str | None = None  # "sloth" / "pyrra" for the alerts a spec generates
    templated: bool = False  # read from a templated file: some values are placeholders
    parsed: Any = field(default=None, repr=False, compare=False)  # promql_parser Expr, or None


@dataclass
class RecordingRule:
    record: str
    expr: str
    labels: dict[str, str]
    path: str
    line: int
    parsed: Any = field(default=None, repr=False, compare=False)


def is_paging(rule: AlertRule, severities: Iterable[str] = DEFAULT_PAGING_SEVERITIES) -> bool:
    """A paging alert: its ``severity`` (or Sloth's ``sloth_severity``) is one of ``severities``
    (case-insensitive), or it carries ``pager: pagerduty``."""
    wanted = {s.lower() for s in severities}
    values = (rule.labels.get("severity"), rule.labels.get("sloth_severity"))
    return (
        any(v is not None and str(v).lower() in wanted for v in values)
        or str(rule.labels.get("pager", "")).lower() == "pagerduty"
    )


def severity_of(rule: AlertRule) -> str | None:
    return rule.labels.get("severity") or rule.labels.get("sloth_severity") or None


# -- reading -------------------------------------------------------------------------------------
@dataclass
class _Rules:
    alerts: list[AlertRule] = field(default_factory=list)
    records: list[RecordingRule] = field(default_factory=list)
    errors: dict[str, FormatError] = field(default_factory=dict)


def _rule_groups(path: str, doc: Any) -> list[tuple[YList, bool]]:
    """The rule groups of a rule file document, a PrometheusRule or VMRule, or a ConfigMap's rule
    files, each with whether it holds MetricsQL (vmalert); empty for other documents."""
    if not isinstance(doc, YMap):
        return []
    api = str(doc.get("apiVersion", ""))
    if doc.get("kind") in ("PrometheusRule", "VMRule") and api.startswith(
        ("monitoring.coreos.com/", "operator.victoriametrics.com/")
    ):
        groups = get(doc, "spec", "groups")
        return [(groups if isinstance(groups, YList) else YList(), doc["kind"] == "VMRule")]
    if doc.get("kind") == "ConfigMap" and isinstance(doc.get("data"), YMap):
        return [g for key, text in doc["data"].items() if "groups:" in str(text) for g in _embedded(path, doc, key)]
    groups = doc.get("groups")
    if "apiVersion" in doc or not isinstance(groups, YList):
        return []  # Grafana alerting provisioning and other files with groups
    if any(isinstance(g, dict) and "rules" in g for g in groups):
        return [(groups, any(isinstance(g, dict) and set(g) & set(VMALERT_GROUP_KEYS) for g in groups))]
    return []


def _embedded(path: str, configmap: YMap, key: str) -> list[tuple[YList, bool]]:
    """The rule groups of a rule file held in a ConfigMap's data key, with the file's lines."""
    data = configmap["data"]
    text = str(data[key])
    # A block scalar's text starts on the line after its key: pad so lines are the file's.
    padding = "\n" * data.line_of(key) if "\n" in text else "\n" * (data.line_of(key) - 1)
    return [g for doc in load_documents(padding + text, path) for g in _rule_groups(path, doc)]


def _read_rules(path: str, groups: YList, out: _Rules, templated: bool = False, metricsql: bool = False) -> None:
    for group_index, group in enumerate(groups):
        if not isinstance(group, YMap) or not isinstance(group.get("rules", []), (YList, type(None))):
            raise FormatError(path, groups.line_of(group_index), "a rule group needs `name` and a `rules` list")
        rules = group.get("rules") or YList()
        group_labels = _strings(group.get("labels"))  # vmalert and Prometheus 3 add them to each rule
        for index, rule in enumerate(rules):
            line = rules.line_of(index)
            if not isinstance(rule, YMap) or not ("alert" in rule or "record" in rule):
                raise FormatError(path, line, "a rule needs `alert` or `record`")
            expr = rule.get("expr")
            if expr is None or isinstance(expr, (dict, list, bool)):
                raise FormatError(path, line, f"rule {rule.get('alert') or rule.get('record')} has no `expr`")
            expr = str(expr)
            parsed = None
            if not LOGQL.search(expr):
                try:
                    parsed = promql.parse(expr)
                except promql.PromQLError as exc:
                    if not metricsql:
                        name = rule.get("alert") or rule.get("record")
                        out.errors.setdefault(path, FormatError(path, line, f"{name}: expr is not valid PromQL: {exc}"))
                        continue
            labels = {**group_labels, **_strings(rule.get("labels"))}
            if "alert" in rule:
                out.alerts.append(
                    AlertRule(
                        name=str(rule["alert"]),
                        labels=labels,
                        annotations=_strings(rule.get("annotations")),
                        expr=expr,
                        for_=str(rule["for"]) if rule.get("for") is not None else None,
                        path=path,
                        line=line,
                        templated=templated,
                        parsed=parsed,
                    )
                )
            else:
                out.records.append(
                    RecordingRule(
                        record=str(rule["record"]),
                        expr=expr,
                        labels=labels,
                        path=path,
                        line=line,
                        parsed=parsed,
                    )
                )


def _strings(mapping: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in mapping.items()} if isinstance(mapping, dict) else {}


def _load(repo: RepoSnapshot, dirs: tuple[str, ...]) -> _Rules:
    out = _Rules()
    parsed = with_templates(repo, dirs)
    documents = dict(parsed.documents)
    errors = dict(parsed.errors)
    for path in repo.glob(*EXTRA_RULE_FILES):
        if is_non_production(path, dirs):
            continue
        try:
            documents[path] = read_yaml(repo, path)
        except FormatError as exc:
            errors[path] = exc
    out.errors.update(broken_files_like(repo, errors, RULE_MARKERS))
    for path, docs in documents.items():
        try:
            for doc in docs:
                for groups, metricsql in _rule_groups(path, doc):
                    _read_rules(path, groups, out, templated=path in parsed.templated, metricsql=metricsql)
        except FormatError as exc:
            out.errors[path] = exc
    return out


def _rules(repo: RepoSnapshot, dirs: tuple[str, ...]) -> _Rules:
    key = ("promrules.rules", dirs)
    if key not in repo.cache:
        repo.cache[key] = _load(repo, dirs)
    return repo.cache[key]


def load_alert_rules(
    repo: RepoSnapshot, dirs: tuple[str, ...] = NON_PRODUCTION_DIRS
) -> tuple[list[AlertRule], dict[str, FormatError]]:
    """Every alerting rule of the repo outside the non-production ``dirs``, the alerts its Sloth /
    Pyrra specs generate included, and the rule files (or specs) that could not be read."""
    rules = _rules(repo, dirs)
    alerts = list(rules.alerts)
    slos, slo_errors = load_slos(repo, dirs)
    for slo in slos:
        for spec in slo.generated_alerts:
            alerts.append(
                AlertRule(
                    name=spec.name,
                    labels=dict(spec.labels),
                    annotations=dict(spec.annotations),
                    expr=spec.expr,
                    for_=spec.for_,
                    path=slo.path,
                    line=spec.line,
                    generated_by=slo.generator,
                    parsed=promql.parse(spec.expr),
                )
            )
    spec_errors = {p: e for p, e in slo_errors.items() if file_matches(repo, p, GENERATOR_MARKERS)}
    return alerts, {**spec_errors, **rules.errors}


def load_recording_rules(repo: RepoSnapshot, dirs: tuple[str, ...] = NON_PRODUCTION_DIRS) -> list[RecordingRule]:
    return list(_rules(repo, dirs).records)


class RecordingIndex:
    """Recording rules by the series they record, to see through recorded series in an alert."""

    def __init__(self, rules: Sequence[RecordingRule]):
        self._by_name: dict[str, list[RecordingRule]] = {}
        for rule in rules:
            if rule.parsed is not None:
                self._by_name.setdefault(rule.record, []).append(rule)

    def __call__(self, selector: Any) -> list[Any]:
        """The expressions recording a selector's series whose static labels agree with its
        ``label="value"`` matchers (Sloth records one series name per SLO, told by labels)."""
        wanted = promql.equality_matchers(selector)
        return [
            rule.parsed
            for rule in self._by_name.get(promql.metric_name(selector) or "", [])
            if all(rule.labels.get(k, v) == v for k, v in wanted.items())
        ]
