"""PromQL helpers on promql_parser: selectors, windows, latency indicators, burn-rate conditions.

A burn-rate condition is the multiwindow pattern of the SRE workbook::

    error_ratio_over(1h) > 14.4 * (1 - 0.999)  and  error_ratio_over(5m) > 14.4 * (1 - 0.999)

written with the constant folded or not (``> 0.0144``, ``> (14.4 * 0.001)``), inside aggregations
(Sloth's ``max(... > ...) without (sloth_window)``), over raw counters or recorded series.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import promql_parser
from promql_parser import (
    AggregateExpr,
    BinaryExpr,
    Call,
    Expr,
    MatchOp,
    MatrixSelector,
    NumberLiteral,
    ParenExpr,
    SubqueryExpr,
    UnaryExpr,
    VectorSelector,
)

# Given a selector of a recorded series, the expressions that record it (empty when not recorded).
Resolver = Callable[[VectorSelector], Sequence[Expr]]

WINDOW_PLACEHOLDER = re.compile(r"\{\{\s*\.window\s*\}\}")
# The window a recorded series' name ends with: ratio_rate5m, burnrate1h, :rate30m.
NAME_WINDOW = re.compile(r"(?:rate|burnrate|ratio|increase|_|:)(\d+(?:ms|[smhdwy]))$")
DURATION_METRIC = re.compile(r"latency|duration", re.I)
COMPARISONS = {">": ">", ">=": ">", "<": "<", "<=": "<"}
MAX_RESOLVE_DEPTH = 8


class PromQLError(ValueError):
    """An expression promql_parser refuses; the message is the parser's."""


def parse(expr: str) -> Expr:
    try:
        return promql_parser.parse(expr)
    except ValueError as exc:
        raise PromQLError(str(exc)) from None


def substitute_window(query: str, window: str = "5m") -> str:
    """Sloth SLI queries carry ``{{.window}}``; put a real window in before parsing."""
    return WINDOW_PLACEHOLDER.sub(window, query)


def parse_duration(text: str) -> timedelta | None:
    """A Prometheus duration (``5m``, ``1h30m``, ``28d``), or None."""
    try:
        return promql_parser.parse_duration(text.strip())
    except (ValueError, AttributeError):
        return None


def format_duration(delta: timedelta) -> str:
    return promql_parser.display_duration(delta)


def selector_text(metric: str, labels: dict[str, str]) -> str:
    """``metric{label="value",...}`` with the values quoted as PromQL strings."""
    quoted = ",".join(f"{k}={json.dumps(str(v), ensure_ascii=False)}" for k, v in labels.items())
    return f"{metric}{{{quoted}}}"


# -- collecting ----------------------------------------------------------------------------------
def _nodes(expr: Expr) -> list[Expr]:
    found: list[Expr] = []
    promql_parser.walk(expr, lambda node: found.append(node))
    return found


def selectors(expr: Expr) -> list[VectorSelector]:
    """Every vector selector, those inside range selectors included."""
    return [n for n in _nodes(expr) if isinstance(n, VectorSelector)]


def metric_name(selector: VectorSelector) -> str | None:
    if selector.name:
        return selector.name
    return next((m.value for m in selector.matchers.matchers if m.name == "__name__" and m.op == MatchOp.Equal), None)


def metric_names(expr: Expr) -> set[str]:
    return {name for s in selectors(expr) if (name := metric_name(s))}


def equality_matchers(selector: VectorSelector) -> dict[str, str]:
    """The ``label="value"`` matchers of a selector (``__name__`` left out)."""
    return {m.name: m.value for m in selector.matchers.matchers if m.op == MatchOp.Equal and m.name != "__name__"}


def label_matchers(expr: Expr) -> list[tuple[str | None, str, str, str]]:
    """(metric, label, operator, value) for every matcher: ``=``, ``!=``, ``=~`` or ``!~``."""
    ops = ((MatchOp.Equal, "="), (MatchOp.NotEqual, "!="), (MatchOp.Re, "=~"), (MatchOp.NotRe, "!~"))
    return [
        (metric_name(s), m.name, next(text for op, text in ops if m.op == op), m.value)
        for s in selectors(expr)
        for m in s.matchers.matchers
        if m.name != "__name__"
    ]


def range_windows(expr: Expr) -> list[timedelta]:
    """The ranges of every range selector and subquery, outermost first."""
    return [n.range for n in _nodes(expr) if isinstance(n, (MatrixSelector, SubqueryExpr)) and n.range]


def leaf_selectors(expr: Expr, resolve: Resolver | None = None, depth: int = MAX_RESOLVE_DEPTH) -> list[VectorSelector]:
    """The selectors of an expression with recorded series replaced by what they record."""
    found: list[VectorSelector] = []
    for selector in selectors(expr):
        sources = resolve(selector) if resolve and depth > 0 else ()
        if sources:
            for source in sources:
                found += leaf_selectors(source, resolve, depth - 1)
        else:
            found.append(selector)
    return found


def selects_like(selector: VectorSelector, sli: VectorSelector) -> bool:
    """Whether ``selector`` reads the series an SLI selector reads: the same metric, a matcher on
    every label the SLI matches, with the same value where the SLI asks for equality (an alert on
    ``code=~"5.."`` reads what an SLI's ``code!~"5.."`` complements)."""
    if metric_name(selector) != metric_name(sli):
        return False
    labels = {m.name for m in selector.matchers.matchers}
    equal = equality_matchers(selector)
    return all(
        m.name in labels and (m.op != MatchOp.Equal or equal.get(m.name) == m.value)
        for m in sli.matchers.matchers
        if m.name != "__name__"
    )


# -- what an indicator measures ------------------------------------------------------------------
def is_latency_query(expr: Expr) -> bool:
    """True when the query measures duration: a histogram bucket with ``le``, a quantile, or a
    latency/duration metric that is not its event counter (``_count``, ``_sum``, ``_total``)."""
    for node in _nodes(expr):
        if isinstance(node, Call) and node.func.name.startswith("histogram_quantile"):
            return True
        if isinstance(node, VectorSelector):
            name = metric_name(node) or ""
            if name.endswith("_bucket") and any(m.name == "le" for m in node.matchers.matchers):
                return True
            if DURATION_METRIC.search(name) and not re.search(r"_(count|sum|total)$", name):
                return True
    return False


# -- constants -----------------------------------------------------------------------------------
_ARITHMETIC = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b if b else None,
    "^": lambda a, b: a**b,
}


def constant(expr: Expr) -> float | None:
    """The value of a constant expression (``14.4 * (1 - 0.999)``), else None."""
    if isinstance(expr, NumberLiteral):
        return expr.val
    if isinstance(expr, ParenExpr):
        return constant(expr.expr)
    if isinstance(expr, UnaryExpr):
        value = constant(expr.expr)
        return -value if value is not None else None
    if isinstance(expr, BinaryExpr) and str(expr.op) in _ARITHMETIC:
        lhs, rhs = constant(expr.lhs), constant(expr.rhs)
        if lhs is None or rhs is None:
            return None
        try:
            return _ARITHMETIC[str(expr.op)](lhs, rhs)
        except (OverflowError, ZeroDivisionError):
            return None
    return None


def _unparen(expr: Expr) -> Expr:
    while isinstance(expr, ParenExpr):
        expr = expr.expr
    return expr


def _factor_of(threshold: Expr) -> float | None:
    """The burn-rate factor of ``factor * (1 - objective)`` or ``factor * budget``, either order."""
    threshold = _unparen(threshold)
    if not (isinstance(threshold, BinaryExpr) and str(threshold.op) == "*"):
        return None
    for number, other in ((threshold.lhs, threshold.rhs), (threshold.rhs, threshold.lhs)):
        factor, other = constant(number), _unparen(other)
        if factor is None or factor < 1:
            continue
        if isinstance(other, BinaryExpr) and str(other.op) == "-" and constant(other.lhs) == 1:
            return factor
        budget = constant(other)
        if budget is not None and 0 < budget < 1:
            return factor
    return None


# -- burn-rate conditions ------------------------------------------------------------------------
@dataclass(frozen=True)
class BurnRateCondition:
    """One alerting condition on an error ratio: a window pair when ``and``-ed, else one window.

    ``threshold`` is the error-ratio threshold when it is constant; ``factor`` the burn-rate
    factor when it is written out (``14.4 * (1 - 0.999)``, ``14.4 * 0.001``).
    """

    long_window: timedelta | None
    short_window: timedelta | None
    threshold: float | None
    factor: float | None


@dataclass(frozen=True)
class _Single:
    window: timedelta | None
    threshold: float | None
    factor: float | None


def or_branches(expr: Expr) -> list[Expr]:
    """The operands of a top-level ``or`` chain (one alert over several SLIs), else the expression."""
    inner = _unparen(expr)
    if isinstance(inner, BinaryExpr) and str(inner.op).lower() == "or":
        return or_branches(inner.lhs) + or_branches(inner.rhs)
    return [expr]


def burn_rate_conditions(expr: Expr, resolve: Resolver | None = None) -> list[BurnRateCondition]:
    """Every ``<ratio over W> > <threshold>`` condition of an alert, paired through ``and``."""
    return [_as_condition(group) for group in _conditions(expr, resolve)]


def _as_condition(group: tuple[_Single, ...]) -> BurnRateCondition:
    windows = sorted((s.window for s in group if s.window), reverse=True)
    thresholds = [s.threshold for s in group if s.threshold is not None]
    factors = [s.factor for s in group if s.factor is not None]
    return BurnRateCondition(
        long_window=windows[0] if windows else None,
        short_window=windows[-1] if len(windows) > 1 else None,
        threshold=max(thresholds) if thresholds else None,
        factor=max(factors) if factors else None,
    )


def _conditions(expr: Expr, resolve: Resolver | None) -> list[tuple[_Single, ...]]:
    expr = _unparen(expr)
    if isinstance(expr, AggregateExpr):
        return _conditions(expr.expr, resolve)
    if not isinstance(expr, BinaryExpr):
        return []
    op = str(expr.op).lower()
    if op == "or":
        return _conditions(expr.lhs, resolve) + _conditions(expr.rhs, resolve)
    if op == "and":
        left, right = _conditions(expr.lhs, resolve), _conditions(expr.rhs, resolve)
        if not left or not right:
            return left or right
        return [a + b for a in left for b in right]
    if op == "unless":
        return _conditions(expr.lhs, resolve)
    if op in COMPARISONS:
        single = _comparison(expr, resolve)
        return [(single,)] if single else []
    return []


def _comparison(expr: BinaryExpr, resolve: Resolver | None) -> _Single | None:
    """``ratio > threshold`` (or ``threshold < ratio``): the ratio's window and the threshold."""
    above = COMPARISONS[str(expr.op)] == ">"
    if constant(expr.lhs) is not None and constant(expr.rhs) is None:
        ratio, threshold, above = expr.rhs, expr.lhs, not above
    else:
        ratio, threshold = expr.lhs, expr.rhs
    if not above or constant(ratio) is not None:
        return None
    return _Single(window=window_of(ratio, resolve), threshold=constant(threshold), factor=_factor_of(threshold))


def window_of(expr: Expr, resolve: Resolver | None = None, depth: int = MAX_RESOLVE_DEPTH) -> timedelta | None:
    """The window an expression looks over: its longest range selector, else the window of the
    recorded series it reads (by their recording rules, else by a name like ``ratio_rate1h``)."""
    ranges = range_windows(expr)
    if ranges:
        return max(ranges)
    found: list[timedelta] = []
    for selector in selectors(expr):
        sources = resolve(selector) if resolve and depth > 0 else ()
        windows = [w for s in sources if (w := window_of(s, resolve, depth - 1))]
        if not windows and (match := NAME_WINDOW.search(metric_name(selector) or "")):
            windows = [w for w in [parse_duration(match[1])] if w]
        found += windows
    return max(found) if found else None
