"""Jinja filters for the pages: safe links, evidence links into the repo's web UI, Markdown, times.

Everything a scanned repo supplies is untrusted. Templates autoescape it; the only links built
from it are http(s) URLs (:func:`safe_url`), file links under the repo's own web URL, which is
derived from the fleet entry's https/ssh git URL, else from the catalog's
``backstage.io/source-location`` or ``github.com/project-slug`` annotation — http(s) only, built
from the parsed host and path, never a ``javascript:`` or other URL taken as written — and, for a
repo without a web URL, links to the portal's own view of the file (:mod:`prr.web.source`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from markdown_it import MarkdownIt
from markupsafe import Markup

from prr.web.source import source_url

_SCP_URL = re.compile(r"^[\w.-]+@(?P<host>[\w.-]+):(?P<path>[\w./~-]+?)(?:\.git)?/?$")
_PROJECT_SLUG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_MD.validateLink = lambda url: _is_http(url) or url.startswith("#")  # type: ignore[method-assign]


def _is_http(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def safe_url(url: Any) -> str | None:
    """``url`` when it is an absolute http(s) URL, else None (no ``javascript:``, ``data:``, relative…)."""
    return url.strip() if _is_http(url) else None


def markdown(text: str | None) -> Markup:
    """Render check remediation Markdown; raw HTML is shown as text and links must be http(s)."""
    if not text:
        return Markup("")
    html = _MD.render(text)
    return Markup(html.replace("<a href=", '<a rel="noopener noreferrer" href='))


def repo_web_url(location: str | None) -> str | None:
    """The repo's browsable https URL from its git location (``https://host/org/repo(.git)`` or
    ``git@host:org/repo.git``); None for a local path or anything else."""
    if not location:
        return None
    match = _SCP_URL.match(location)
    if match:
        return f"https://{match['host']}/{match['path'].strip('/')}"
    parts = urlsplit(location)
    if parts.scheme not in ("https", "http", "ssh") or not parts.hostname:
        return None
    path = parts.path.rstrip("/").removesuffix(".git")
    if not path.strip("/"):
        return None
    web = parts.scheme if parts.scheme in ("http", "https") else "https"  # ssh: its web UI is https
    host = parts.hostname + (f":{parts.port}" if parts.port and parts.scheme != "ssh" else "")
    return f"{web}://{host}{path}"


def source_location_url(value: Any) -> str | None:
    """The repo's web URL from a Backstage ``backstage.io/source-location`` annotation
    (``url:https://github.com/org/repo/tree/main/``): the http(s) URL with the branch-and-path tail
    (``/tree/…``, ``/blob/…``, GitLab's ``/-/tree/…``, Bitbucket's ``/src/…``) cut off, so that
    links can name the scanned commit instead. None for ``dir:`` locations and anything not http(s).
    """
    if not isinstance(value, str) or not value.strip().startswith("url:"):
        return None
    url = value.strip().removeprefix("url:").strip()
    if not _is_http(url):
        return None
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    for marker, keep in (("-", 0), ("tree", 2), ("blob", 2), ("src", 2)):
        if marker in segments[keep:]:
            segments = segments[: segments.index(marker, keep)]
            break
    if segments:
        segments[-1] = segments[-1].removesuffix(".git")
    if not [s for s in segments if s] or any(s in (".", "..") for s in segments):
        return None
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")  # never the userinfo
    return f"{parts.scheme.lower()}://{host}/" + "/".join(quote(s, safe="@+~%") for s in segments)


def project_slug_url(value: Any) -> str | None:
    """``github.com/project-slug: org/repo`` -> ``https://github.com/org/repo``; None unless a valid slug."""
    if not isinstance(value, str) or not _PROJECT_SLUG.fullmatch(value.strip()):
        return None
    owner, repo = value.strip().split("/")
    repo = repo.removesuffix(".git")
    return None if repo in ("", ".", "..") else f"https://github.com/{owner}/{repo}"


def service_web_url(location: str | None, service: dict[str, Any] | None) -> str | None:
    """Where the scanned repo is browsable: from the fleet entry's git URL, else the service's
    catalog ``source_location``, else its ``project_slug`` (as carried in the §7 report)."""
    service = service or {}
    return (
        repo_web_url(location)
        or source_location_url(service.get("source_location"))
        or project_slug_url(service.get("project_slug"))
    )


def file_url(web_url: str | None, commit: str, path: str, line: int | None = None) -> str | None:
    """A link to ``path`` (and ``line``) at ``commit`` in the repo's web UI, in the host's URL style."""
    if not web_url or not path or path.startswith("/") or ".." in path.split("/"):
        return None
    host = urlsplit(web_url).hostname or ""
    quoted = quote(path)
    if "gitlab" in host:
        return f"{web_url}/-/blob/{commit}/{quoted}" + (f"#L{line}" if line else "")
    if "bitbucket" in host:
        return f"{web_url}/src/{commit}/{quoted}" + (f"#lines-{line}" if line else "")
    return f"{web_url}/blob/{commit}/{quoted}" + (f"#L{line}" if line else "")


def commit_url(web_url: str | None, commit: str) -> str | None:
    if not web_url:
        return None
    host = urlsplit(web_url).hostname or ""
    return f"{web_url}/-/commit/{commit}" if "gitlab" in host else f"{web_url}/commit/{commit}"


def evidence_href(evidence: dict[str, Any], source: dict[str, Any]) -> str | None:
    """Where an evidence item links: its file in the repo's web UI, or, for a repo without one, the
    portal's read-only view of the file at the scanned commit (``source["ref"]`` names the service);
    else the item's own http(s) URL."""
    if evidence.get("path"):
        path, commit = str(evidence["path"]), source.get("commit", "")
        line = evidence.get("line") if isinstance(evidence.get("line"), int) else None
        web_url = source.get("web_url")
        linked = file_url(web_url, commit, path, line) if web_url else source_url(source.get("ref"), commit, path, line)
        return linked or safe_url(evidence.get("url"))
    return safe_url(evidence.get("url"))


# --------------------------------------------------------------------------- times


def as_datetime(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:  # a time a check wrote in its details is not trusted to parse
            return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def ago(value: datetime | str | None, now: datetime | None = None) -> str:
    """ "3 h ago", "2 days ago", "in 5 days"."""
    moment = as_datetime(value)
    if moment is None:
        return "never"
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    for size, unit in ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day"), (3600, "h"), (60, "min")):
        if seconds >= size:
            n = int(seconds // size)
            text = f"{n} {unit}" + ("s" if n != 1 and unit not in ("h", "min") else "")
            return f"in {text}" if future else f"{text} ago"
    return "just now"


def fulltime(value: datetime | str | None) -> str:
    moment = as_datetime(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def dateonly(value: datetime | str | None) -> str:
    moment = as_datetime(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d") if moment else "—"


def isotime(value: datetime | str | None) -> str:
    moment = as_datetime(value)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else ""


def pct(value: float | None) -> str:
    """``50.0`` -> ``50%``, ``33.3`` -> ``33.3%``."""
    return "—" if value is None else f"{round(value, 1):g}%"


# ``ago`` needs the portal's clock: the pages register it themselves.
FILTERS = {
    "pct": pct,
    "safe_url": safe_url,
    "markdown": markdown,
    "evidence_href": evidence_href,
    "fulltime": fulltime,
    "dateonly": dateonly,
    "isotime": isotime,
}
