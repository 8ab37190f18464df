"""YAML loading that remembers line numbers and refuses YAML bombs.

Every mapping is a :class:`YMap` and every sequence a :class:`YList`; both carry the 1-based
``line`` they start on, and ``line_of(key_or_index)`` for their members, so findings can name the
file and line. Timestamps stay strings (as JSON would have them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from prr.plugin import Evidence

try:  # libyaml scans, parses and composes many times faster; constructing stays in Python
    from yaml._yaml import CParser
except ImportError:  # a PyYAML built without libyaml
    CParser = None  # type: ignore[misc,assignment]

MAX_EXPANDED_NODES = 200_000  # a real manifest is a few thousand; a billion-laughs file is 10^9


class FormatError(Exception):
    """A file that cannot be understood: names the file, the line and what is wrong."""

    def __init__(self, path: str, line: int | None, message: str):
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")

    def __reduce__(self):  # crosses process boundaries with its fields
        return (type(self), (self.path, self.line, self.message))

    def evidence(self) -> Evidence:
        """The problem as result evidence: where it is and what is wrong."""
        return Evidence(path=self.path, line=self.line, value=self.message)


class YMap(dict):
    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class YList(list):
    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class _Constructor(SafeConstructor):
    def construct_ymap(self, node: MappingNode):
        data = YMap()
        data.line = node.start_mark.line + 1
        data.key_lines = {}
        yield data
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool, type(None))):
                raise yaml.constructor.ConstructorError(None, None, "found an unhashable key", key_node.start_mark)
            data[key] = self.construct_object(value_node, deep=True)
            data.key_lines[key] = key_node.start_mark.line + 1

    def construct_ylist(self, node: SequenceNode):
        data = YList()
        data.line = node.start_mark.line + 1
        data.item_lines = [n.start_mark.line + 1 for n in node.value]
        yield data
        data.extend(self.construct_object(n, deep=True) for n in node.value)


_Constructor.add_constructor("tag:yaml.org,2002:map", _Constructor.construct_ymap)  # type: ignore[type-var]
_Constructor.add_constructor("tag:yaml.org,2002:seq", _Constructor.construct_ylist)  # type: ignore[type-var]
_Constructor.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)  # type: ignore[type-var]
# A plain `=` (YAML 1.1's "value" key type, e.g. `matchType: =`) is the string "=", as kubectl reads it.
_Constructor.add_constructor("tag:yaml.org,2002:value", SafeConstructor.construct_yaml_str)  # type: ignore[type-var]


def too_big(root: Node) -> Node | None:
    """The first node (children before parents) that is over :data:`MAX_EXPANDED_NODES` nodes once
    every alias in it is expanded (a node anchored once and aliased n times counts n+1 times; a node
    that contains itself through an alias counts once), or None. It walks the composed graph, in
    which an aliased node is one node however often it is aliased, so a bomb is cheap to measure."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:  # iterative: documents may nest as deep as libyaml allows
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if not children_done:
            if key in on_path:
                continue  # an alias of a node being composed (a recursive structure)
            on_path.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        on_path.discard(key)
        sizes[key] = 1 + sum(sizes.get(id(child), 1) for child in children)
        if sizes[key] > MAX_EXPANDED_NODES:
            return node
    return None


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


class _Guarded(_Constructor):
    """Refuses a document that aliases expand past the limit, before anything is constructed."""

    def guard(self, stream: str) -> None:
        self._aliased = "&" in stream  # without an anchor there is no alias: nothing expands

    def construct_document(self, node: Node) -> Any:
        bomb = too_big(node) if self._aliased else None
        if bomb is not None:
            raise yaml.YAMLError(
                f"line {bomb.start_mark.line + 1}: document expands to over {MAX_EXPANDED_NODES} "
                "nodes through aliases (a YAML bomb?)"
            )
        return super().construct_document(node)


class _Loader(Reader, Scanner, Parser, Composer, _Guarded, Resolver):
    def __init__(self, stream: str):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Guarded.__init__(self)
        Resolver.__init__(self)
        self.guard(stream)


if CParser is not None:

    class _FastLoader(CParser, _Guarded, Resolver):
        """libyaml scans, parses and composes the nodes (keeping their lines)."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            _Guarded.__init__(self)
            Resolver.__init__(self)
            self.guard(stream)


def load_documents(text: str, path: str) -> list[Any]:
    """Every YAML document in ``text`` (empty documents dropped). Raises :class:`FormatError`."""
    if CParser is not None:
        try:
            return _documents(_FastLoader(text))
        except (yaml.YAMLError, RecursionError):
            pass  # read again below, for the pure-Python parser's more telling message
    try:
        return _documents(_Loader(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise FormatError(path, line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        match = re.match(r"line (\d+): (.*)", str(exc))
        raise FormatError(path, int(match[1]) if match else None, match[2] if match else str(exc)) from None
    except RecursionError:
        raise FormatError(path, None, "invalid YAML: nested too deeply") from None


def _documents(loader: Any) -> list[Any]:
    docs = []
    try:
        while loader.check_data():
            doc = loader.get_data()
            if doc is not None:
                docs.append(doc)
    finally:
        loader.dispose()
    return docs


# Helm/Jinja at the start of a line or as a whole value, Terraform ``${var}`` (not GitHub's ``${{ }}``).
TEMPLATE_LINE = re.compile(r"^\s*(\{\{-?|\{%)|^[^#\"']*:\s*\{\{[^}]*\}\}\s*$|\$\{(?!\{)[^}]+\}", re.M)


def looks_templated(text: str) -> bool:
    """Helm / Jinja / Terraform templating outside quoted strings: not plain YAML."""
    return bool(TEMPLATE_LINE.search(text))


# Go/Helm ``{{ }}``, Jinja ``{% %}`` and ``{# #}``, Terraform ``${ }`` and ``%{ }`` (not GitHub's ``${{ }}``).
PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\$\{(?!\{)[^}]*\}|%\{[^}]*\}", re.S)
TEMPLATED_VALUE = "__templated__"


def _keep_newlines(placeholder: str) -> str:
    return "\x00" + "\n" * placeholder.count("\n")


def load_templated(text: str, path: str) -> list[Any]:
    """The documents of a templated YAML file once its placeholders are set aside, keeping line
    numbers: a line holding only directives (``{{- if ... }}``, ``{% for %}``, ``%{ endif }``,
    ``{{ include ... | nindent 4 }}``) is blanked, a placeholder within a value becomes
    ``__templated__``. Raises FormatError when it still is not YAML."""
    marked = re.sub(PLACEHOLDER, lambda m: _keep_newlines(m[0]), text)
    lines = []
    for line in marked.split("\n"):
        bare = line.replace("\x00", "").strip().lstrip("-").strip()
        lines.append("" if "\x00" in line and not bare else line.replace("\x00", TEMPLATED_VALUE))
    try:
        return load_documents("\n".join(lines), path)
    except FormatError as exc:
        raise FormatError(
            path, exc.line, f"a templated file that is not YAML once its placeholders are set aside: {exc.message}"
        ) from None


@dataclass
class YamlFile:
    path: str
    documents: list[Any]


def get(node: Any, *keys: Any, default: Any = None) -> Any:
    """Walk nested mappings; ``default`` when any step is missing or not a mapping."""
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def line_of(node: Any, key: Any = None) -> int | None:
    if key is not None and isinstance(node, (YMap, YList)):
        return node.line_of(key)
    return getattr(node, "line", None)


def line_at(document: Any, path: list[Any]) -> int | None:
    """The line of the node at ``path`` (keys and indexes), or of its nearest parent that has one."""
    node, line = document, getattr(document, "line", None)
    for step in path:
        if isinstance(node, (YMap, YList)):
            try:
                line = node.line_of(step)
                node = node[step]
            except (KeyError, IndexError, TypeError):
                break
        else:
            break
    return line
