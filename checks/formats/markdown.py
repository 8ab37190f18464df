"""Markdown runbooks: headings and their GitHub anchors, body words, what is actionable, and
runbook links.

A runbook is judged by what a reader in an incident gets: actionable content (a command in a code
span or block, numbered steps, a link to a procedure) at any length, or enough words of body text
under headings to navigate by. Placeholder text (TODO, TBD, "coming soon") is not body; HTML
comments, such as a licence header, and YAML front matter are not words.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

from markdown_it import MarkdownIt
from markdown_it.token import Token

from prr.checks.formats.files import NON_PRODUCTION_DIRS
from prr.checks.formats.portals import Link, all_links
from prr.checks.formats.promrules import AlertRule, load_alert_rules
from prr.checks.formats.yamlfile import FormatError
from prr.repo import FileReadError, RepoSnapshot

MARKDOWN_EXTENSIONS = (".md", ".markdown")
RUNBOOK_PATH_RE = re.compile(r"^(?:runbook|runbooks/.+|docs/runbook[^/]*/.+|docs/runbook[^/]*)\.(?:md|markdown)$", re.I)
RUNBOOK_GLOBS = ("RUNBOOK.md", "runbook.md", "runbooks/**.md", "docs/runbook*/**.md", "docs/runbook*.md")
WORD_RE = re.compile(r"[^\W_](?:[\w'’.-]*[^\W_])?")
HTML_ANCHOR_RE = re.compile(r"""<a\s[^>]*?(?:name|id)\s*=\s*["']([^"']+)["']""", re.I)
FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)\s*$")
PLACEHOLDER = re.compile(
    r"\b(?:TODO|TBD|TBA|FIXME|WIP|fill\s+(?:me|this|it)\s+in|coming\s+soon|to\s+be\s+(?:written|added|done|"
    r"documented|defined)|lorem\s+ipsum|placeholder)\b",
    re.I,
)
PLACEHOLDER_MAX_WORDS = 20  # a section this short whose text is a placeholder has no body
# A code span that runs something: a program and at least one argument (`helm rollback api`), not
# a bare name (`orders`).
COMMAND_SPAN = re.compile(r"^\$?\s*[\w./-]+\s+\S")

_parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    line: int  # 1-based
    anchor: str  # GitHub's id for it, without '#'
    words: int  # body words under it, up to the next heading of any level (placeholders: 0)
    commands: tuple[str, ...] = ()  # code blocks, and code spans that run something
    steps: int = 0  # items of numbered lists
    links: tuple[str, ...] = ()  # link targets
    placeholder: bool = False  # its text is a placeholder (TODO, TBD, ...) and nothing actionable

    @property
    def actionable(self) -> bool:
        """A command, numbered steps or a link: substance at any length."""
        return bool(self.commands or self.steps >= 2 or self.links)


@dataclass
class MarkdownDoc:
    path: str
    headings: list[Heading] = field(default_factory=list)
    preamble_words: int = 0  # body words before the first heading
    html_anchors: set[str] = field(default_factory=set)

    @property
    def words(self) -> int:
        """Body words under headings (what a reader in an incident gets)."""
        return sum(h.words for h in self.headings)

    @property
    def sections_with_body(self) -> int:
        return sum(1 for h in self.headings if h.words)

    @property
    def actionable(self) -> list[Heading]:
        return [h for h in self.headings if h.actionable]

    @property
    def anchors(self) -> set[str]:
        return {h.anchor for h in self.headings} | self.html_anchors

    def has_anchor(self, anchor: str) -> bool:
        wanted = unquote(anchor).removeprefix("user-content-")
        return wanted in self.anchors or wanted.lower() in self.anchors

    def is_real_runbook(self, min_words: int) -> bool:
        """Not a stub: something actionable (a command, numbered steps, a link to a procedure),
        or at least ``min_words`` words of body under more than one heading."""
        return bool(self.actionable) or (self.words >= min_words and self.sections_with_body >= 2)

    def describe(self) -> str:
        found = (
            f"{self.words} words of body under {self.sections_with_body} "
            f"heading{'s' if self.sections_with_body != 1 else ''}"
        )
        actions = self.actionable
        if actions:
            found += f", actionable under {len(actions)} ({', '.join(h.text for h in actions[:3])})"
        placeholders = [h.text for h in self.headings if h.placeholder]
        if placeholders:
            found += f", placeholder text under {', '.join(placeholders[:3])}"
        return found

    def headings_matching(self, pattern: re.Pattern[str]) -> list[Heading]:
        return [h for h in self.headings if pattern.search(h.text)]

    def section(self, heading: Heading) -> list[Heading]:
        """A heading and its subsections."""
        start = self.headings.index(heading)
        end = next(
            (i for i in range(start + 1, len(self.headings)) if self.headings[i].level <= heading.level),
            len(self.headings),
        )
        return self.headings[start:end]

    def section_words(self, heading: Heading) -> int:
        """Body words of a section, its subsections included."""
        return sum(h.words for h in self.section(heading))


class Slugger:
    """GitHub's heading ids (github-slugger): lowercase, punctuation dropped, spaces to '-',
    and repeats numbered ``-1``, ``-2``..."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def slug(self, text: str) -> str:
        base = slugify(text)
        result = base
        while result in self.seen:
            self.seen[base] += 1
            result = f"{base}-{self.seen[base]}"
        self.seen[result] = 0
        return result


def slugify(text: str) -> str:
    kept = "".join(c for c in text.lower() if c in " -_" or unicodedata.category(c)[0] in "LMN")
    return kept.replace(" ", "-")


def parse_markdown(text: str, path: str = "") -> MarkdownDoc:
    doc = MarkdownDoc(path)
    tokens = _parser.parse(_blank_front_matter(text))
    slugger = Slugger()
    pending: dict[str, Any] | None = None  # the open heading, until its body is read
    body = _Body()
    ordered_depth = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            inline = tokens[i + 1]
            if pending is not None:
                doc.headings.append(Heading(**pending, **body.fields()))
            elif body.words:
                doc.preamble_words = body.words
            title = _inline_text(inline).strip()
            pending = {
                "level": int(tok.tag[1]),
                "text": title,
                "line": tok.map[0] + 1 if tok.map else 1,
                "anchor": slugger.slug(title),
            }
            body = _Body()
            i += 3
            continue
        if tok.type == "inline":
            body.read_inline(tok)
            doc.html_anchors.update(HTML_ANCHOR_RE.findall(tok.content))
        elif tok.type in ("fence", "code_block"):
            body.words += _count_words(tok.content)
            if tok.content.strip():
                body.commands.append(tok.content.strip())
        elif tok.type == "html_block":
            doc.html_anchors.update(HTML_ANCHOR_RE.findall(tok.content))
        elif tok.type == "ordered_list_open":
            ordered_depth += 1
        elif tok.type == "ordered_list_close":
            ordered_depth -= 1
        elif tok.type == "list_item_open" and ordered_depth:
            body.steps += 1
        i += 1
    if pending is not None:
        doc.headings.append(Heading(**pending, **body.fields()))
    elif body.words:
        doc.preamble_words = body.words
    return doc


@dataclass
class _Body:
    """What the text under one heading holds, as it is read."""

    words: int = 0
    text: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    steps: int = 0
    links: list[str] = field(default_factory=list)

    def read_inline(self, inline: Token) -> None:
        text = _inline_text(inline)
        self.words += _count_words(text)
        self.text.append(text)
        for child in inline.children or []:
            if child.type == "code_inline" and COMMAND_SPAN.match(child.content):
                self.commands.append(child.content)
            elif child.type == "link_open" and str(child.attrs.get("href") or "").strip("#"):
                self.links.append(str(child.attrs["href"]))

    def fields(self) -> dict[str, Any]:
        actionable = bool(self.commands or self.steps >= 2 or self.links)
        placeholder = (
            not actionable and self.words <= PLACEHOLDER_MAX_WORDS and bool(PLACEHOLDER.search(" ".join(self.text)))
        )
        return {
            "words": 0 if placeholder else self.words,
            "commands": tuple(self.commands),
            "steps": self.steps,
            "links": tuple(self.links),
            "placeholder": placeholder,
        }


def _inline_text(inline: Token) -> str:
    parts = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def _count_words(text: str) -> int:
    return len(WORD_RE.findall(text))


def _blank_front_matter(text: str) -> str:
    """YAML front matter (``---`` ... ``---`` at the top) is metadata; blank it, keeping lines."""
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return text
    for end in range(1, min(len(lines), 200)):
        if FRONT_MATTER_END.match(lines[end]):
            return "\n".join([""] * (end + 1) + lines[end + 1 :])
    return text


def load_markdown(repo: RepoSnapshot, path: str) -> MarkdownDoc:
    """Parse one Markdown file of the repo, cached. Raises FormatError when it cannot be read."""
    key = ("markdown", path)
    if key not in repo.cache:
        try:
            repo.cache[key] = parse_markdown(repo.read_text(path), path)
        except FileReadError as exc:
            repo.cache[key] = FormatError(path, None, exc.message)
    value = repo.cache[key]
    if isinstance(value, FormatError):
        raise value
    return value


def is_markdown(path: str) -> bool:
    return path.lower().endswith(MARKDOWN_EXTENSIONS)


def conventional_runbooks(repo: RepoSnapshot) -> list[str]:
    """Markdown files at the places runbooks are kept (RUNBOOK.md, runbooks/, docs/runbook*)."""
    return [p for p in repo.files() if RUNBOOK_PATH_RE.match(p)]


# -- runbook links ----------------------------------------------------------------------------
@dataclass(frozen=True)
class LinkTarget:
    """Where a runbook link leads: an http(s) URL, or a file (and heading) in the repo."""

    link: str
    url: str | None = None  # an external http(s) URL (never fetched)
    path: str | None = None  # the repo file it resolves to
    anchor: str | None = None
    problem: str | None = None  # why it does not resolve; None when it does

    @property
    def resolves(self) -> bool:
        return self.problem is None


def is_http_url(link: str) -> bool:
    parsed = urlparse(link.strip())
    return (
        parsed.scheme.lower() in ("http", "https") and bool(parsed.netloc) and not re.search(r"\s|\{\{", parsed.netloc)
    )


def resolve_link(repo: RepoSnapshot, link: object, base_dir: str = "") -> LinkTarget:
    """Resolve a runbook link: an http(s) URL by its form, or a repo path against the repo root
    and then ``base_dir`` (the folder of the file that holds the link), with ``#anchor`` a
    heading of that Markdown file."""
    if not isinstance(link, str) or not link.strip():
        return LinkTarget(str(link), problem="the runbook link is empty")
    text = link.strip()
    scheme = urlparse(text).scheme.lower()
    if scheme in ("http", "https"):
        if is_http_url(text):
            return LinkTarget(text, url=text)
        return LinkTarget(text, problem=f"{text!r} is not a valid http(s) URL")
    if scheme and len(scheme) > 1:  # mailto:, ftp:, ... (a one-letter scheme is a Windows drive)
        return LinkTarget(text, problem=f"{text!r} is neither an http(s) URL nor a path in the repo")
    raw_path, _, anchor = text.partition("#")
    raw_path = unquote(raw_path.split("?", 1)[0])
    if not raw_path:
        return LinkTarget(text, problem=f"{text!r} names a heading but no file")
    candidates = [raw_path.lstrip("/")]
    if not raw_path.startswith("/") and base_dir:
        candidates.append(posixpath.join(base_dir, raw_path))
    for candidate in candidates:
        path = _inside_repo(candidate)
        if path is None:
            continue
        if repo.is_dir(path) and not repo.exists(path):
            readme = next(
                (f"{path}/{n}" for n in ("README.md", "readme.md", "index.md") if repo.exists(f"{path}/{n}")), None
            )
            if readme is None:
                continue
            path = readme
        if not repo.exists(path):
            continue
        if anchor and is_markdown(path):
            try:
                doc = load_markdown(repo, path)
            except FormatError as exc:
                return LinkTarget(text, path=path, anchor=anchor, problem=f"{path} cannot be read: {exc.message}")
            if not doc.has_anchor(anchor):
                return LinkTarget(
                    text, path=path, anchor=anchor, problem=f"{path} has no heading with anchor #{anchor}"
                )
        return LinkTarget(text, path=path, anchor=anchor or None)
    where = " or ".join(dict.fromkeys(p for p in (_inside_repo(c) for c in candidates) if p)) or raw_path
    return LinkTarget(text, problem=f"{text!r} is not a URL and {where} does not exist in the repo")


def _inside_repo(path: str) -> str | None:
    normal = posixpath.normpath(path)
    if normal in (".", "..") or normal.startswith("../"):
        return None
    return normal


# -- the runbooks of a repo -------------------------------------------------------------------
RUNBOOK_WORD = re.compile(r"run[\s_-]?book", re.I)
RUNBOOK_MIN_WORDS = 80  # words of prose a runbook without anything actionable needs
RUNBOOK_ANNOTATIONS = ("runbook_url", "runbook")  # Prometheus convention; Sloth's `runbook`


def runbook_link_of(rule: AlertRule) -> str | None:
    """An alert's runbook link: ``annotations.runbook_url`` (Sloth: ``runbook``)."""
    return next((rule.annotations[k] for k in RUNBOOK_ANNOTATIONS if rule.annotations.get(k, "").strip()), None)


@dataclass
class Runbooks:
    """Where a service's runbooks are: Markdown files in the repo, and external links."""

    docs: list[MarkdownDoc] = field(default_factory=list)  # in-repo, parsed
    unreadable: list[FormatError] = field(default_factory=list)
    external: list[Link] = field(default_factory=list)  # http(s) catalog/portal links that say runbook
    link_errors: list[FormatError] = field(default_factory=list)  # descriptors that do not parse
    why: dict[str, str] = field(default_factory=dict)  # path -> how it was found

    def real(self, min_words: int = RUNBOOK_MIN_WORDS) -> list[MarkdownDoc]:
        return [d for d in self.docs if d.is_real_runbook(min_words)]

    def main(self, min_words: int = RUNBOOK_MIN_WORDS) -> MarkdownDoc | None:
        """The runbook the runbook checks name: the first real one, else the first stub found."""
        real = self.real(min_words)
        return real[0] if real else next(iter(self.docs), None)


def find_runbooks(repo: RepoSnapshot, dirs: tuple[str, ...] = NON_PRODUCTION_DIRS) -> Runbooks:
    """Runbooks at the conventional places, the in-repo Markdown files alert runbook links point
    to, and catalog-info (or other portal) links whose title or type says runbook. Every check
    that reads the runbook finds it here, so they all name the same file. Cached per snapshot."""
    key = ("markdown.runbooks", dirs)
    if key not in repo.cache:
        repo.cache[key] = _find_runbooks(repo, dirs)
    found: Runbooks = repo.cache[key]
    return found


def _find_runbooks(repo: RepoSnapshot, dirs: tuple[str, ...]) -> Runbooks:
    found = Runbooks()
    for path in conventional_runbooks(repo):
        found.why.setdefault(path, "kept at a runbook path")
    alerts, _errors = load_alert_rules(repo, dirs)  # broken rule files are alerts.defined's to report
    for rule in alerts:
        link = runbook_link_of(rule)
        target = resolve_link(repo, link, posixpath.dirname(rule.path)) if link else None
        if target and target.path and is_markdown(target.path):
            found.why.setdefault(target.path, f"linked from alert {rule.name}")
    links, found.link_errors = all_links(repo)
    for catalog_link in links:
        if not catalog_link.says(RUNBOOK_WORD):
            continue
        if is_http_url(catalog_link.url):
            found.external.append(catalog_link)
            continue
        target = resolve_link(repo, catalog_link.url)
        if target.path and is_markdown(target.path):
            found.why.setdefault(target.path, f"linked from {catalog_link.path}")
    for path in found.why:
        try:
            found.docs.append(load_markdown(repo, path))
        except FormatError as exc:
            found.unreadable.append(exc)
    return found
