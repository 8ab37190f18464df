"""Alertmanager configuration: the route tree, the receivers, and routing an alert through them.

Routing follows Alertmanager 0.25 (``dispatch.Route.Match``): depth first, children in order, the
first matching child wins unless it has ``continue: true``; a node none of whose children match
delivers to its own receiver (inherited from its parent when unset). Matchers come from the old
``match`` / ``match_re`` maps and from ``matchers`` strings parsed like ``labels.ParseMatchers``;
regexes are Go RE2, fully anchored. An absent label matches as the empty string.

Besides plain config files, the configs that Kubernetes installs keep are read: a Secret's
``stringData`` / base64 ``data`` key ``alertmanager.yaml``, kube-prometheus-stack Helm values, and
the prometheus-operator ``AlertmanagerConfig`` resource, modelled as the operator merges it into
the global config (``pkg/alertmanager/amcfg.go``): its route becomes a child of the global root,
ahead of the global routes, with ``continue: true`` forced and a ``namespace="<its namespace>"``
matcher added; its receivers are renamed ``<namespace>/<name>/<receiver>``.
"""

from __future__ import annotations

import base64
import binascii
import json
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import yaml

from prr.checks.formats.files import NON_PRODUCTION_DIRS, first_existing, read_yaml, with_templates
from prr.checks.formats.slo import broken_files_like
from prr.checks.formats.yamlfile import FormatError, YList, YMap, get, load_documents
from prr.repo import RepoSnapshot

PAGING_INTEGRATIONS = ("pagerduty_configs", "opsgenie_configs", "victorops_configs", "incidentio_configs")
OPERATOR_PAGING_INTEGRATIONS = ("pagerdutyConfigs", "opsgenieConfigs", "victoropsConfigs")  # CRD spelling
OPERATOR_API_VERSIONS = ("monitoring.coreos.com/v1alpha1", "monitoring.coreos.com/v1beta1")
# The fields of an AlertmanagerConfig route; the operator refuses others (and kubectl's strict
# validation too), so a snake_case `group_by` or an Alertmanager-style `match` is an error.
_OPERATOR_ROUTE_FIELDS = frozenset(
    {
        "receiver",
        "groupBy",
        "groupWait",
        "groupInterval",
        "repeatInterval",
        "matchers",
        "continue",
        "routes",
        "muteTimeIntervals",
        "activeTimeIntervals",
    }
)
_MATCH_TYPES = ("=", "!=", "=~", "!~")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")  # model.LabelNameRE, for match / match_re / group_by
# labels.ParseMatcher: the name may hold colons; Go's \s is ASCII.
MATCHER_LABEL_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_MATCHER = re.compile(
    rf"[\t\n\f\r ]*({MATCHER_LABEL_NAME.pattern})[\t\n\f\r ]*(=~|=|!=|!~)"
    r"[\t\n\f\r ]*(.*?)[\t\n\f\r ]*",
    re.S,
)
# A YAML file that does not parse is taken for an Alertmanager config when it has these keys.
MARKERS = re.compile(
    r"^(route|receivers):[ \t]*(#.*)?$|^\s+alertmanager\.ya?ml:"
    r"|^kind:[ \t]*AlertmanagerConfig\b",
    re.M,
)
_GO_BOOLS = {"y": True, "Y": True, "n": False, "N": False}  # YAML 1.1 booleans PyYAML reads as text


# -- Go regular expressions --------------------------------------------------------------------
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": r"\x00-\x7f",
    "blank": r"\t ",
    "cntrl": r"\x00-\x1f\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": r"!-/:-@\[-`{-~",
    "space": r"\t\n\v\f\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
# Go's Perl classes are ASCII-only; Python's are Unicode. Spelled out, case folding stays Unicode.
_PERL_CLASSES = {"d": "0-9", "w": "0-9A-Za-z_", "s": r"\t\n\f\r "}
_FLAG_GROUP = re.compile(r"\(\?([imsU]*(?:-[imsU]*)?)([:)])")
# Go's octal (\\0, \\012, \\101; a lone \\1 is a refused backreference) and \\x{…} escapes.
_CODED_CHAR = re.compile(r"\\(?:(0[0-7]{0,2}|[1-7][0-7]{1,2})|x\{([0-9A-Fa-f]{1,6})\})")
_REPEAT = re.compile(r"(?:[*+?]|\{\d+(?:,\d*)?\})\??")


def go_regex(pattern: str) -> re.Pattern[str]:
    """Compile a Go (RE2) regex as Python; use ``fullmatch`` for Alertmanager's ``^(?:re)$``.

    Translates what differs: ``(?i)`` flags mid-pattern (they last to the end of their group in
    Go, an error in Python), POSIX classes, ASCII ``\\d \\w \\s``, ``\\z``, ``\\Q…\\E``, literal
    ``{,n}``; refuses what Go refuses (lookaround, backreferences, nested repetition such as the
    possessive ``a*+``). Raises ``re.error``.
    """
    out: list[str] = []
    flag_groups: list[list[str]] = [[]]  # per open group: the "(?i)" flags set inside it so far
    i = 0
    last_repeat = ""  # the repeat operator just before, if any
    while i < len(pattern):
        c = pattern[i]
        repeat = _REPEAT.match(pattern, i)
        if repeat:
            if last_repeat:
                raise re.error(f"invalid nested repetition operator: `{last_repeat}{repeat[0]}`")
            token, i = repeat[0], repeat.end()
        elif c == "\\":
            token, i = _translate_escape(pattern, i)
        elif c == "[":
            token, i = _translate_class(pattern, i)
        elif c == "(":
            token, i = _open_group(pattern, i, flag_groups)
        elif c == ")" and len(flag_groups) > 1:
            token, i = ")" * (len(flag_groups.pop()) + 1), i + 1
        elif c == "|":
            owed = flag_groups[-1]
            token, i = ")" * len(owed) + "|" + "".join(f"(?{f}:" for f in owed), i + 1
        else:
            token, i = ("\\{" if c == "{" else c), i + 1  # a "{" that is no repeat is literal in Go
        out.append(token)
        last_repeat = repeat[0] if repeat else ""
    out.append(")" * len(flag_groups[0]))
    return re.compile("".join(out))


def _open_group(pattern: str, i: int, flag_groups: list[list[str]]) -> tuple[str, int]:
    flags = _FLAG_GROUP.match(pattern, i)
    if flags:
        spec = flags[1].replace("U", "")  # greediness cannot change whether a whole value matches
        if flags[2] == ":":
            flag_groups.append([])
            return (f"(?{spec}:" if spec.strip("-") else "(?:"), flags.end()
        if spec.strip("-"):
            flag_groups[-1].append(spec)
            return f"(?{spec}:", flags.end()
        return "", flags.end()
    if pattern.startswith("(?", i) and not pattern.startswith("(?P<", i):
        raise re.error(f"invalid or unsupported Perl syntax: `{pattern[i : i + 3]}`")
    flag_groups.append([])
    return "(", i + 1


def _translate_escape(pattern: str, i: int) -> tuple[str, int]:
    nxt = pattern[i + 1 : i + 2]
    if code := _CODED_CHAR.match(pattern, i):
        return _coded_char(code), code.end()
    if nxt == "Q":  # \Q...\E: literal text
        end = pattern.find(r"\E", i + 2)
        end = len(pattern) if end < 0 else end
        return re.escape(pattern[i + 2 : end]), end + 2
    if nxt in _PERL_CLASSES:
        return f"[{_PERL_CLASSES[nxt]}]", i + 2
    if nxt.lower() in _PERL_CLASSES:
        return f"[^{_PERL_CLASSES[nxt.lower()]}]", i + 2
    if nxt == "z":
        return r"\Z", i + 2
    if nxt in ("p", "P"):
        raise re.error(f"Unicode classes (`\\{nxt}`) are not supported by this simulator")
    if nxt == "Z" or (nxt.isdigit() and nxt != "0"):
        raise re.error(f"invalid escape sequence: `\\{nxt}`")
    return pattern[i : i + 2], i + 2


def _coded_char(code: re.Match[str]) -> str:
    octal, hexa = code.groups()
    point = int(octal, 8) if octal else int(hexa, 16)
    if point > 0x10FFFF:
        raise re.error(f"invalid escape sequence: `{code[0]}`")
    return re.escape(chr(point))


def _translate_class(pattern: str, i: int) -> tuple[str, int]:
    out = ["["]
    i += 1
    if pattern.startswith("^", i):
        out.append("^")
        i += 1
    if pattern.startswith("]", i):  # a leading "]" is literal
        out.append(r"\]")
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        c = pattern[i]
        posix = re.match(r"\[:(\^?)([a-z]+):\]", pattern[i:])
        if posix:
            if posix[1] or posix[2] not in _POSIX_CLASSES:
                raise re.error(f"unsupported character class: `{posix[0]}`")
            out.append(_POSIX_CLASSES[posix[2]])
            i += posix.end()
        elif code := _CODED_CHAR.match(pattern, i):
            out.append(_coded_char(code))
            i = code.end()
        elif c == "\\":
            nxt = pattern[i + 1 : i + 2]
            if nxt in _PERL_CLASSES:
                out.append(_PERL_CLASSES[nxt])
            elif nxt in ("p", "P", "D", "W", "S"):
                raise re.error(f"`\\{nxt}` inside a character class is not supported by this simulator")
            else:
                out.append(pattern[i : i + 2])
            i += 2
        else:
            out.append("\\" + c if c in "[&~|" else c)  # Python reads these as set operations
            i += 1
    if i >= len(pattern):
        raise re.error(f"missing closing ]: `{pattern}`")
    out.append("]")
    return "".join(out), i + 1


# -- matchers ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # "=", "!=", "=~", "!~"
    value: str
    regex: re.Pattern[str] | None = field(default=None, compare=False)
    # Holds when the label is absent: for the operator's namespace matcher, as an alert's
    # namespace label comes from its series, which a scan of the repo does not see.
    absent_matches: bool = field(default=False, compare=False)

    @classmethod
    def make(cls, name: str, op: str, value: str, absent_matches: bool = False) -> Matcher:
        """labels.NewMatcher: regex values compile anchored (raises ``re.error``)."""
        return cls(name, op, value, go_regex(value) if "~" in op else None, absent_matches)

    def matches(self, labels: dict[str, str]) -> bool:
        if self.absent_matches and self.name not in labels:
            return True
        value = labels.get(self.name, "")  # an absent label is the empty string
        if self.regex is not None:
            return bool(self.regex.fullmatch(value)) == (self.op == "=~")
        return (value == self.value) == (self.op == "=")

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op}"{escaped}"'


def parse_matchers(text: str) -> list[Matcher]:
    """labels.ParseMatchers: ``{a="x", b=~"y|z"}`` or ``a=x`` (braces optional, commas outside
    quotes separate matchers). Raises ValueError."""
    text = text.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    token: list[str] = []
    inside_quotes = escaped = False
    for c in text:
        if c == "," and not inside_quotes:
            tokens.append("".join(token))
            token = []
            continue
        if c == '"':
            if escaped:
                escaped = False
            else:
                inside_quotes = not inside_quotes
        elif c == "\\":
            escaped = not escaped
        elif c != ",":
            escaped = False
        token.append(c)
    if last := "".join(token).strip():
        tokens.append(last)
    return [parse_matcher(t) for t in tokens]


def parse_matcher(text: str) -> Matcher:
    """labels.ParseMatcher: one ``name op value``, the value optionally double-quoted with
    ``\\"``, ``\\\\`` and ``\\n`` escapes. Raises ValueError."""
    parts = _MATCHER.fullmatch(text)
    if not parts:
        raise ValueError(f"bad matcher format: {text}")
    name, op, raw = parts.groups()
    quoted = raw.startswith('"')
    body = raw[1:] if quoted else raw
    value: list[str] = []
    escaped = False
    for i, c in enumerate(body):
        if escaped:
            escaped = False
            value.append({"n": "\n", '"': '"', "\\": "\\"}.get(c, "\\" + c))
        elif c == "\\" and i < len(body) - 1:
            escaped = True
        elif c == '"':
            if not quoted or i < len(body) - 1:
                raise ValueError(f"matcher value contains unescaped double quote: {raw}")
            quoted = False
        else:
            value.append(c)
    if quoted:
        raise ValueError(f"matcher value contains unescaped double quote: {raw}")
    try:
        return Matcher.make(name, op, "".join(value))
    except re.error as exc:
        raise ValueError(f"error parsing regexp: {exc}") from None


# -- the model ---------------------------------------------------------------------------------
@dataclass
class Route:
    receiver: str  # effective: inherited from the parent when the node sets none
    matchers: list[Matcher]
    continue_: bool
    group_by: list[str]
    routes: list[Route]
    path: str  # "route", "route.routes[1].routes[0]"
    line: int | None

    def match(self, labels: dict[str, str]) -> list[Route]:
        """The routes an alert with ``labels`` is delivered by (dispatch.Route.Match)."""
        if not all(m.matches(labels) for m in self.matchers):
            return []
        found: list[Route] = []
        for child in self.routes:
            matches = child.match(labels)
            found.extend(matches)
            if matches and not child.continue_:
                break
        return found or [self]


@dataclass(frozen=True)
class Receiver:
    name: str
    line: int | None
    paging_integrations: tuple[str, ...]  # the non-empty *_configs that page

    @property
    def pages(self) -> bool:
        return bool(self.paging_integrations)


@dataclass(frozen=True)
class RouteMatch:
    receiver: str
    pages: bool
    route: str  # the route node's path, e.g. "route.routes[2]"
    line: int | None  # that node's line
    matchers: tuple[str, ...]  # the node's own matchers, as text


@dataclass
class AlertmanagerConfig:
    path: str
    route: Route
    receivers: dict[str, Receiver]
    # An AlertmanagerConfig resource ("AlertmanagerConfig payments/checkout"): ``route`` stands for
    # the global config's root, which is not in the repo, with the resource's route as its child.
    resource: str | None = None
    namespace: str | None = None  # the resource's namespace, when the repo says it

    def route_alert(self, labels: dict[str, str]) -> list[RouteMatch]:
        """Where an alert goes, in Alertmanager's order (a receiver may repeat, as in amtool).
        For a resource, only where its own routes take it (empty when its route does not match:
        the global config decides)."""
        return [
            RouteMatch(r.receiver, self.receivers[r.receiver].pages, r.path, r.line, tuple(str(m) for m in r.matchers))
            for r in self.route.match(labels)
            if not (self.resource and r is self.route)
        ]


# -- loading -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Place:
    """Where a config's own lines sit in its file: shifted by ``offset`` (text embedded in a
    file, as a Secret's ``stringData`` block), or, for a base64 ``blob`` (a Secret's ``data``
    key), all at the key's line, since decoded lines do not map to the file."""

    offset: int = 0
    blob: str = ""  # "data.alertmanager.yaml"
    blob_line: int | None = None

    def line(self, line: int | None) -> int | None:
        return self.blob_line if self.blob else line and line + self.offset

    def note(self, line: int | None) -> str:
        """Said after a route or an error inside a blob: where in the decoded text."""
        return f" (line {line} of the base64-decoded {self.blob})" if self.blob and line else ""


def load_alertmanager_config(text: str, path: str, line_offset: int = 0) -> AlertmanagerConfig:
    """Parse an Alertmanager config file. Raises FormatError (bad YAML, bad matcher, undefined
    receiver, what Alertmanager itself refuses at load)."""
    return _load(text, path, _Place(offset=line_offset))


def _load(text: str, path: str, place: _Place) -> AlertmanagerConfig:
    try:
        docs = load_documents(text, path)
    except FormatError as exc:
        raise FormatError(path, place.line(exc.line), exc.message + place.note(exc.line)) from None
    if len(docs) != 1 or not isinstance(docs[0], YMap):
        raise FormatError(path, place.line(1), "an Alertmanager config is one YAML mapping" + place.note(1))
    return _Builder(lambda: text, path, place).config(docs[0])


def _load_base64(blob: str, path: str, key: str, line: int) -> AlertmanagerConfig:
    """The config in a Secret's ``data`` key. Go's base64 skips line breaks, nothing else."""
    where = f"data.{key}"
    try:
        text = base64.b64decode(re.sub(r"[\r\n]", "", blob), validate=True).decode("utf-8")
    except binascii.Error as exc:
        raise FormatError(path, line, f"{where} is not valid base64: {exc}") from None
    except UnicodeDecodeError:
        raise FormatError(path, line, f"{where} does not decode to UTF-8 text") from None
    return _load(text, path, _Place(blob=where, blob_line=line))


class _Builder:
    """Builds the model from one parsed document, raising FormatError at the offending line."""

    def __init__(self, text: Callable[[], str], path: str, place: _Place = _Place()):
        self.text, self.path, self.place = text, path, place  # text: read only if needed
        self._raw: dict[tuple[int, str], str] | None = None

    def fail(self, line: int | None, message: str) -> FormatError:
        return FormatError(self.path, self.place.line(line), message + self.place.note(line))

    def config(self, doc: YMap) -> AlertmanagerConfig:
        receivers = self.receivers(doc)
        root = doc.get("route")
        if not isinstance(root, YMap):
            raise self.fail(doc.line_of("route"), "`route` must be a mapping (the routing tree)")
        if root.get("receiver") in (None, ""):
            raise self.fail(root.line, "root route must specify a default receiver")
        if any(root.get(k) for k in ("match", "match_re", "matchers")):
            raise self.fail(root.line, "root route must not have any matchers")
        if self.boolean(root, "continue"):
            raise self.fail(root.line_of("continue"), "cannot have continue in root route")
        route = self.route(root, "route", None, receivers)
        return AlertmanagerConfig(self.path, route, receivers)

    def receivers(self, doc: YMap) -> dict[str, Receiver]:
        items = doc.get("receivers")
        if not isinstance(items, YList):
            raise self.fail(doc.line_of("receivers") if "receivers" in doc else doc.line, "`receivers` must be a list")
        return self.receiver_list(
            items, "", PAGING_INTEGRATIONS, lambda name: f"notification config name {_q(name)} is not unique"
        )

    def receiver_list(
        self, items: YList, prefix: str, integrations: tuple[str, ...], duplicate: Callable[[str], str]
    ) -> dict[str, Receiver]:
        """Receivers by (prefixed) name; paging when one of ``integrations`` is configured."""
        receivers: dict[str, Receiver] = {}
        for index, item in enumerate(items):
            line = items.line_of(index)
            name = ""
            if isinstance(item, YMap):
                name = self.scalar_text(item.get("name"), item.line_of("name"), "name")
            if not name:
                raise self.fail(line, "missing name in receiver")
            if prefix + name in receivers:
                raise self.fail(line, duplicate(name))
            paging = tuple(k for k in integrations if isinstance(item.get(k), list) and item[k])
            receivers[prefix + name] = Receiver(prefix + name, self.place.line(line), paging)
        return receivers

    def route(self, node: YMap, path: str, parent: Route | None, receivers: dict[str, Receiver]) -> Route:
        receiver = self.scalar_text(node.get("receiver"), node.line_of("receiver"), "receiver")
        if receiver and receiver not in receivers:
            raise self.fail(node.line_of("receiver"), f"undefined receiver {_q(receiver)} used in route")
        route = Route(
            receiver=receiver or _inherited_receiver(parent),
            matchers=self.matchers(node),
            continue_=self.boolean(node, "continue"),
            group_by=self.group_by(node),
            routes=[],
            path=path + self.place.note(node.line),
            line=self.place.line(node.line),
        )
        children = node.get("routes") or []
        if not isinstance(children, list) or not all(isinstance(c, YMap) for c in children):
            raise self.fail(node.line_of("routes"), "`routes` must be a list of routes")
        route.routes = [self.route(child, f"{path}.routes[{i}]", route, receivers) for i, child in enumerate(children)]
        return route

    def matchers(self, node: YMap) -> list[Matcher]:
        found: list[Matcher] = []
        for key, op in (("match", "="), ("match_re", "=~")):
            mapping = node.get(key)
            if mapping is None:
                continue
            if not isinstance(mapping, YMap):
                raise self.fail(node.line_of(key), f"`{key}` must be a mapping of label names to values")
            for name, value in mapping.items():
                line = mapping.line_of(name)
                if not isinstance(name, str) or not LABEL_NAME.fullmatch(name):
                    raise self.fail(line, f"invalid label name {_q(name)}")
                try:
                    found.append(Matcher.make(name, op, self.scalar_text(value, line, name)))
                except re.error as exc:
                    raise self.fail(line, f"error parsing regexp: {exc}") from None
        lines = node.get("matchers") or YList()
        if not isinstance(lines, YList):
            raise self.fail(node.line_of("matchers"), "`matchers` must be a list of strings")
        for index, text in enumerate(lines):
            try:
                if not isinstance(text, str):
                    raise ValueError(f"bad matcher format: {text}")
                found.extend(parse_matchers(text))
            except ValueError as exc:
                raise self.fail(lines.line_of(index), str(exc)) from None
        return found

    def group_by(self, node: YMap) -> list[str]:
        labels = node.get("group_by") or YList()
        if not isinstance(labels, YList):
            raise self.fail(node.line_of("group_by"), "`group_by` must be a list of label names")
        for index, name in enumerate(labels):
            if name != "..." and not (isinstance(name, str) and LABEL_NAME.fullmatch(name)):
                raise self.fail(labels.line_of(index), f"invalid label name {_q(name)} in group_by list")
            if name in labels[:index]:
                raise self.fail(labels.line_of(index), f"duplicated label {_q(name)} in group_by")
        return [str(n) for n in labels]

    def boolean(self, node: YMap, key: str) -> bool:
        value = node.get(key, False)
        value = _GO_BOOLS.get(value, value) if isinstance(value, str) else value
        if not isinstance(value, bool):
            raise self.fail(node.line_of(key), f"`{key}` must be true or false")
        return value

    def scalar_text(self, value: Any, line: int, key: str) -> str:
        """A scalar as Go's YAML reads it into a string: its own text (``yes``, ``0x1F`` stay as
        written, where PyYAML made a bool or an int), null as empty."""
        if isinstance(value, str):
            return value
        if value is None:
            return ""
        if isinstance(value, (dict, list)):
            raise self.fail(line, f"the value of {key!r} must be a string")
        if self._raw is None:
            self._raw = _raw_scalars(self.text())
        return self._raw.get((line, key), str(value))


def _inherited_receiver(parent: Route | None) -> str:
    """The receiver a route without its own takes: its parent's (the root must name its own)."""
    return parent.receiver if parent is not None else ""


def _q(value: Any) -> str:
    """Quoted like Go's %q, so messages read like Alertmanager's."""
    return json.dumps(str(value), ensure_ascii=False)


def _raw_scalars(text: str) -> dict[tuple[int, str], str]:
    """(line, key) → the value's text as written, for every scalar pair of every mapping. Only
    called on text that already loaded (so aliases cannot blow up: each node is visited once)."""
    raw: dict[tuple[int, str], str] = {}
    seen: set[int] = set()
    stack = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and isinstance(value, yaml.ScalarNode):
                    raw[(key.start_mark.line + 1, key.value)] = value.value
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return raw


# -- prometheus-operator AlertmanagerConfig ---------------------------------------------------
class _OperatorBuilder(_Builder):
    """Models an AlertmanagerConfig resource (v1alpha1 or v1beta1) as the operator merges it."""

    def __init__(self, text: Callable[[], str], path: str, api_version: str):
        super().__init__(text, path)
        self.api_version = api_version

    def resource(self, doc: YMap, namespace: str | None) -> AlertmanagerConfig | None:
        """The resource's routing, or None when it has no route (receivers alone route nothing)."""
        metadata = doc.get("metadata")
        name = (
            self.scalar_text(metadata.get("name"), metadata.line_of("name"), "name")
            if isinstance(metadata, YMap)
            else ""
        )
        if not name:
            raise self.fail(doc.line_of("metadata"), "an AlertmanagerConfig needs `metadata.name`")
        spec = doc.get("spec")
        if not isinstance(spec, YMap):
            raise self.fail(doc.line_of("spec"), "`spec` must be a mapping")
        prefix = f"{namespace or '<namespace>'}/{name}/"  # makeNamespacedString
        receivers = self.operator_receivers(spec, prefix)
        top = spec.get("route")
        if top is None:
            return None
        if not isinstance(top, YMap):
            raise self.fail(spec.line_of("route"), "`spec.route` must be a mapping")
        if not top.get("receiver"):
            raise self.fail(top.line, "root route must define a receiver")
        route = self.operator_route(top, "spec.route", None, receivers, prefix, namespace)
        global_root = Route("", [], False, [], [route], "route", doc.line)
        resource = f"AlertmanagerConfig {namespace}/{name}" if namespace else f"AlertmanagerConfig {name}"
        return AlertmanagerConfig(self.path, global_root, receivers, resource, namespace)

    def operator_receivers(self, spec: YMap, prefix: str) -> dict[str, Receiver]:
        items = spec.get("receivers") or YList()
        if not isinstance(items, YList):
            raise self.fail(spec.line_of("receivers"), "`spec.receivers` must be a list")
        return self.receiver_list(
            items, prefix, OPERATOR_PAGING_INTEGRATIONS, lambda name: f"{_q(name)} receiver is not unique"
        )

    def operator_route(
        self,
        node: YMap,
        path: str,
        parent: Route | None,
        receivers: dict[str, Receiver],
        prefix: str,
        namespace: str | None,
    ) -> Route:
        """One route (convertRoute); the top one (no parent) also as the enforcer leaves it."""
        unknown = [k for k in node if k not in _OPERATOR_ROUTE_FIELDS]
        if unknown:
            raise self.fail(
                node.line_of(unknown[0]),
                f"unknown field {_q(unknown[0])} in an "
                "AlertmanagerConfig route (its fields are camelCase: receiver, matchers, "
                "groupBy, continue, routes)",
            )
        receiver = self.scalar_text(node.get("receiver"), node.line_of("receiver"), "receiver")
        if receiver and prefix + receiver not in receivers:
            raise self.fail(node.line_of("receiver"), f"receiver {_q(receiver)} not found")
        matchers = self.operator_matchers(node)
        if parent is None and namespace:
            matchers.append(Matcher.make("namespace", "=", namespace, absent_matches=True))
        group_by = node.get("groupBy") or []
        route = Route(
            receiver=prefix + receiver if receiver else _inherited_receiver(parent),
            matchers=matchers,
            continue_=self.boolean(node, "continue") or parent is None,  # forced on the top route
            group_by=[str(label) for label in group_by] if isinstance(group_by, list) else [],
            routes=[],
            path=path,
            line=self.place.line(node.line),
        )
        children = node.get("routes") or []
        if not isinstance(children, list) or not all(isinstance(c, YMap) for c in children):
            raise self.fail(node.line_of("routes"), "`routes` must be a list of routes")
        route.routes = [
            self.operator_route(child, f"{path}.routes[{i}]", route, receivers, prefix, namespace)
            for i, child in enumerate(children)
        ]
        return route

    def operator_matchers(self, node: YMap) -> list[Matcher]:
        """``[{name, value, matchType}]``; v1alpha1's deprecated ``regex: true`` means ``=~``
        when ``matchType`` is unset (v1beta1 has no ``regex``: the API server drops it)."""
        items = node.get("matchers") or YList()
        if not isinstance(items, YList):
            raise self.fail(node.line_of("matchers"), "`matchers` must be a list of {name, value, matchType}")
        v1alpha1 = self.api_version == OPERATOR_API_VERSIONS[0]
        found = []
        for index, item in enumerate(items):
            line = items.line_of(index)
            if not isinstance(item, YMap):
                raise self.fail(
                    line,
                    f"a matcher is a mapping {{name, value, matchType}}: {_q(item)} "
                    "is Alertmanager's string form, which the CRD does not take",
                )
            name = self.scalar_text(item.get("name"), item.line_of("name"), "name")
            if not MATCHER_LABEL_NAME.fullmatch(name):
                raise self.fail(line, f"invalid label name {_q(name)} in matcher")
            op = self.scalar_text(item.get("matchType"), item.line_of("matchType"), "matchType")
            if op and op not in _MATCH_TYPES:
                raise self.fail(
                    item.line_of("matchType"), f"invalid 'matchType' {_q(op)}: use one of {', '.join(_MATCH_TYPES)}"
                )
            regex = v1alpha1 and self.boolean(item, "regex")
            value = self.scalar_text(item.get("value"), item.line_of("value"), "value")
            try:
                found.append(Matcher.make(name, op or ("=~" if regex else "="), value))
            except re.error as exc:
                raise self.fail(item.line_of("value"), f"error parsing regexp: {exc}") from None
        return found


def resource_namespace(repo: RepoSnapshot, path: str, doc: YMap) -> str | None:
    """A resource's namespace: the ``namespace`` of a kustomization beside it that lists it (which
    kustomize sets over the resource's own), else its ``metadata.namespace``; None when the repo
    does not say (``kubectl -n``, an Argo CD app's destination)."""
    namespace = get(doc, "metadata", "namespace")
    own = namespace if isinstance(namespace, str) and namespace else None
    return _kustomize_namespace(repo, path) or own


def _kustomize_namespace(repo: RepoSnapshot, path: str) -> str | None:
    folder, name = posixpath.split(path)
    kustomization = first_existing(
        repo, *(posixpath.join(folder, k) for k in ("kustomization.yaml", "kustomization.yml", "Kustomization"))
    )
    if kustomization is None:
        return None
    try:
        docs = read_yaml(repo, kustomization)
    except FormatError:
        return None  # not ours to report: kustomize's own build fails on it
    spec = docs[0] if docs else None
    namespace, resources = get(spec, "namespace"), get(spec, "resources", default=[])
    listed = isinstance(resources, list) and name in resources
    return namespace if listed and isinstance(namespace, str) and namespace else None


# -- finding configs in a repo -----------------------------------------------------------------
@dataclass
class FoundConfigs:
    configs: list[AlertmanagerConfig] = field(default_factory=list)
    errors: dict[str, FormatError] = field(default_factory=dict)


def find_alertmanager_configs(repo: RepoSnapshot, dirs: tuple[str, ...] = NON_PRODUCTION_DIRS) -> FoundConfigs:
    """The Alertmanager configs of a repo, outside example/test folders: YAML files with a
    top-level ``route`` and ``receivers``, the same under ``alertmanager.config`` (Helm values
    of kube-prometheus-stack) outside the non-production ``dirs``, the ``alertmanager.yaml`` key of a Secret (``stringData``, or
    base64 ``data``), and prometheus-operator ``AlertmanagerConfig`` resources; templated ones
    (``*.tpl``, ``*.j2``, Helm, Terraform) with their placeholders set aside. A file that does not
    parse is an error when it looks like an Alertmanager config."""
    key = ("alertmanager.configs", dirs)
    if key in repo.cache:
        return repo.cache[key]
    found = FoundConfigs()
    parsed = with_templates(repo, dirs)
    found.errors.update(broken_files_like(repo, parsed.errors, MARKERS))
    for path, docs in parsed.documents.items():
        for doc in docs:
            for load in _loaders(repo, path, doc):
                try:
                    config = load()
                except FormatError as exc:
                    found.errors[path] = exc
                    continue
                if config is not None:
                    found.configs.append(config)
    repo.cache[key] = found
    return found


def _loaders(repo: RepoSnapshot, path: str, doc: Any) -> Sequence[Callable[[], AlertmanagerConfig | None]]:
    """How to load each Alertmanager config in one document."""
    if not isinstance(doc, YMap):
        return []
    text = partial(repo.read_text, path)
    if doc.get("kind") == "Secret":
        return _secret_loaders(path, doc)
    if doc.get("kind") == "AlertmanagerConfig" and doc.get("apiVersion") in OPERATOR_API_VERSIONS:
        builder = _OperatorBuilder(text, path, doc["apiVersion"])
        return [partial(builder.resource, doc, resource_namespace(repo, path, doc))]
    for candidate in (doc, get(doc, "alertmanager", "config")):
        if isinstance(candidate, YMap) and "route" in candidate and "receivers" in candidate:
            return [partial(_Builder(text, path).config, candidate)]
    return []


def _secret_loaders(path: str, doc: YMap) -> list[Callable[[], AlertmanagerConfig]]:
    """A Secret's ``alertmanager.yaml`` (or ``.yml``) key: ``stringData`` text, which wins as the
    API server merges it over ``data``, else base64 ``data``."""
    string_data, data = doc.get("stringData"), doc.get("data")
    loaders: list[Callable[[], AlertmanagerConfig]] = []
    for key in ("alertmanager.yaml", "alertmanager.yml"):
        if isinstance(string_data, YMap) and isinstance(string_data.get(key), str):
            offset = string_data.line_of(key)
            loaders.append(partial(load_alertmanager_config, string_data[key], path, offset))
        elif isinstance(data, YMap) and isinstance(data.get(key), str):
            loaders.append(partial(_load_base64, data[key], path, key, data.line_of(key)))
    return loaders
