"""Alertmanager configuration: the route tree, the receivers, and routing an alert through them.

Routing follows Alertmanager 0.25 (``dispatch.Route.Match``): depth first, children in order, the
first matching child wins unless it has ``continue: true``; a node none of whose children match
delivers to its own receiver (inherited from its parent when unset). Matchers come from the old
``match`` / ``match_re`` maps and from ``matchers`` strings parsed like ``labels.ParseMatchers``;
regexes are Go RE2, fully anchored. An absent label matches as the empty string.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable

import yaml

from app.repo import RepoSnapshot
from checks.formats.files import all_yaml
from checks.formats.slo import broken_files_like
from checks.formats.yamlfile import FormatError, YMap, get, load_documents

PAGING_INTEGRATIONS = ("pagerduty_configs", "opsgenie_configs", "victorops_configs", "incidentio_configs")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")  # model.LabelNameRE, for match / match_re / group_by
# labels.ParseMatcher: the name may hold colons; Go's \s is ASCII.
_MATCHER = re.compile(r"[\t\n\f\r ]*([a-zA-Z_:][a-zA-Z0-9_:]*)[\t\n\f\r ]*(=~|=|!=|!~)"
                      r"[\t\n\f\r ]*(.*?)[\t\n\f\r ]*", re.S)
# A YAML file that does not parse is taken for an Alertmanager config when it has these keys.
MARKERS = re.compile(r"^(route|receivers):[ \t]*(#.*)?$|^\s+alertmanager\.ya?ml:", re.M)
_GO_BOOLS = {"y": True, "Y": True, "n": False, "N": False}  # YAML 1.1 booleans PyYAML reads as text


# -- Go regular expressions --------------------------------------------------------------------
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": r"\x00-\x7f", "blank": r"\t ",
    "cntrl": r"\x00-\x1f\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~",
    "punct": r"!-/:-@\[-`{-~", "space": r"\t\n\v\f\r ", "upper": "A-Z", "word": "0-9A-Za-z_",
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
        raise re.error(f"invalid or unsupported Perl syntax: `{pattern[i:i + 3]}`")
    flag_groups.append([])
    return "(", i + 1


def _translate_escape(pattern: str, i: int) -> tuple[str, int]:
    nxt = pattern[i + 1:i + 2]
    if code := _CODED_CHAR.match(pattern, i):
        return _coded_char(code), code.end()
    if nxt == "Q":  # \Q...\E: literal text
        end = pattern.find(r"\E", i + 2)
        end = len(pattern) if end < 0 else end
        return re.escape(pattern[i + 2:end]), end + 2
    if nxt in _PERL_CLASSES:
        return f"[{_PERL_CLASSES[nxt]}]", i + 2
    if nxt.lower() in _PERL_CLASSES:
        return f"[^{_PERL_CLASSES[nxt.lower()]}]", i + 2
    if nxt == "z":
        return r"\Z", i + 2
    if nxt in ("p", "P"):
        raise re.error(f"Unicode classes (`\\{nxt}`) are not supported by this simulator")
    if nxt == "Z" or nxt.isdigit() and nxt != "0":
        raise re.error(f"invalid escape sequence: `\\{nxt}`")
    return pattern[i:i + 2], i + 2


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
            nxt = pattern[i + 1:i + 2]
            if nxt in _PERL_CLASSES:
                out.append(_PERL_CLASSES[nxt])
            elif nxt in ("p", "P", "D", "W", "S"):
                raise re.error(f"`\\{nxt}` inside a character class is not supported by this simulator")
            else:
                out.append(pattern[i:i + 2])
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

    @classmethod
    def make(cls, name: str, op: str, value: str) -> "Matcher":
        """labels.NewMatcher: regex values compile anchored (raises ``re.error``)."""
        return cls(name, op, value, go_regex(value) if "~" in op else None)

    def matches(self, labels: dict[str, str]) -> bool:
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
    tokens, token = [], []
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
    routes: list["Route"]
    path: str  # "route", "route.routes[1].routes[0]"
    line: int | None

    def match(self, labels: dict[str, str]) -> list["Route"]:
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

    def route_alert(self, labels: dict[str, str]) -> list[RouteMatch]:
        """Where an alert goes, in Alertmanager's order (a receiver may repeat, as in amtool)."""
        return [
            RouteMatch(r.receiver, self.receivers[r.receiver].pages, r.path, r.line,
                       tuple(str(m) for m in r.matchers))
            for r in self.route.match(labels)
        ]


# -- loading -----------------------------------------------------------------------------------
def load_alertmanager_config(text: str, path: str, line_offset: int = 0) -> AlertmanagerConfig:
    """Parse an Alertmanager config file. Raises FormatError (bad YAML, bad matcher, undefined
    receiver, what Alertmanager itself refuses at load)."""
    try:
        docs = load_documents(text, path)
    except FormatError as exc:
        raise FormatError(path, exc.line and exc.line + line_offset, exc.message) from None
    if len(docs) != 1 or not isinstance(docs[0], YMap):
        raise FormatError(path, 1 + line_offset, "an Alertmanager config is one YAML mapping")
    return _Builder(lambda: text, path, line_offset).config(docs[0])


class _Builder:
    """Builds the model from one parsed document, raising FormatError at the offending line."""

    def __init__(self, text: Callable[[], str], path: str, line_offset: int):
        self.text, self.path, self.offset = text, path, line_offset  # text: read only if needed
        self._raw: dict[tuple[int, str], str] | None = None

    def fail(self, line: int | None, message: str) -> FormatError:
        return FormatError(self.path, line and line + self.offset, message)

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
        if not isinstance(items, list):
            raise self.fail(doc.line_of("receivers") if "receivers" in doc else doc.line,
                            "`receivers` must be a list")
        receivers: dict[str, Receiver] = {}
        for index, item in enumerate(items):
            line = items.line_of(index)
            name = ""
            if isinstance(item, YMap):
                name = self.scalar_text(item.get("name"), item.line_of("name"), "name")
            if not name:
                raise self.fail(line, "missing name in receiver")
            if name in receivers:
                raise self.fail(line, f"notification config name {_q(name)} is not unique")
            paging = tuple(k for k in PAGING_INTEGRATIONS if isinstance(item.get(k), list) and item[k])
            receivers[name] = Receiver(name, line + self.offset, paging)
        return receivers

    def route(self, node: YMap, path: str, parent: Route | None, receivers: dict[str, Receiver]) -> Route:
        receiver = self.scalar_text(node.get("receiver"), node.line_of("receiver"), "receiver")
        if receiver:
            if receiver not in receivers:
                raise self.fail(node.line_of("receiver"), f"undefined receiver {_q(receiver)} used in route")
        route = Route(
            receiver=receiver or parent.receiver,
            matchers=self.matchers(node),
            continue_=self.boolean(node, "continue"),
            group_by=self.group_by(node),
            routes=[],
            path=path,
            line=node.line + self.offset,
        )
        children = node.get("routes") or []
        if not isinstance(children, list) or not all(isinstance(c, YMap) for c in children):
            raise self.fail(node.line_of("routes"), "`routes` must be a list of routes")
        route.routes = [self.route(child, f"{path}.routes[{i}]", route, receivers)
                        for i, child in enumerate(children)]
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
        lines = node.get("matchers") or []
        if not isinstance(lines, list):
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
        labels = node.get("group_by") or []
        if not isinstance(labels, list):
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


# -- finding configs in a repo -----------------------------------------------------------------
@dataclass
class FoundConfigs:
    configs: list[AlertmanagerConfig] = field(default_factory=list)
    errors: dict[str, FormatError] = field(default_factory=dict)


def find_alertmanager_configs(repo: RepoSnapshot) -> FoundConfigs:
    """The Alertmanager configs of a repo, outside example/test folders: YAML files with a
    top-level ``route`` and ``receivers``, the same under ``alertmanager.config`` (Helm values
    of kube-prometheus-stack), and the ``alertmanager.yaml`` key of a Secret's ``stringData``.
    A YAML file that does not parse is an error when it looks like an Alertmanager config."""
    key = ("alertmanager.configs",)
    if key in repo.cache:
        return repo.cache[key]
    found = FoundConfigs()
    parsed = all_yaml(repo)
    found.errors.update(broken_files_like(repo, parsed.errors, MARKERS))
    for path, docs in parsed.documents.items():
        for doc in docs:
            for source, offset in _embedded_configs(doc):
                try:
                    if isinstance(source, YMap):
                        text = partial(repo.read_text, path)
                        found.configs.append(_Builder(text, path, 0).config(source))
                    else:
                        found.configs.append(load_alertmanager_config(source, path, offset))
                except FormatError as exc:
                    found.errors[path] = exc
    repo.cache[key] = found
    return found


def _embedded_configs(doc: Any) -> list[tuple[YMap | str, int]]:
    """Alertmanager configs in one document: parsed mappings, or text with its line offset."""
    if not isinstance(doc, YMap):
        return []
    if doc.get("kind") == "Secret":
        data = doc.get("stringData")
        return [(data[k], data.line_of(k)) for k in ("alertmanager.yaml", "alertmanager.yml")
                if isinstance(data, YMap) and isinstance(data.get(k), str)]
    for candidate in (doc, get(doc, "alertmanager", "config")):
        if isinstance(candidate, YMap) and "route" in candidate and "receivers" in candidate:
            return [(candidate, 0)]
    return []
