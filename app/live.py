"""Clients of the live monitoring systems that live checks ask: Prometheus and Alertmanager of one
environment, and the allow-list of hosts a repo-supplied URL (a health endpoint) may point at.

Built from the portal config (never from a scanned repo)::

    live:
      environment: production
      environments:
        production:
          prometheus:
            url: http://prometheus.internal:9090
            auth: {bearer_token_env: PROMETHEUS_TOKEN}
            timeout_seconds: 10
          alertmanager: {url: http://alertmanager.internal:9093}
      allowed_hosts: [checkout.internal, "*.svc.internal"]

The clients are plain data (they travel to the check worker processes by pickling); secrets are
read from the environment when the config is loaded and never appear in a repr, a URL shown in a
result, or an error. A system that cannot be reached or answers something that is not its API
raises :class:`LiveError`, which checks turn into an ``error`` result, never a ``fail``.
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from prr.plugin import ConfigError, Evidence, Result, errored, not_applicable

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_RETRIES = 2
BACKOFF_SECONDS = 0.5  # doubled after each failed attempt
MAX_ERROR_TEXT = 300


class LiveError(Exception):
    """A live system could not be asked: unreachable, timed out, refused, or answered garbage."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{display_url(url)}: {reason}")
        self.url = display_url(url)
        self.reason = reason

    def evidence(self) -> Evidence:
        return Evidence(url=self.url, value=self.reason)

    def result(self, what: str) -> Result:
        """The ``error`` result of a check that could not ask ``what`` (e.g. "Prometheus")."""
        return errored(f"could not ask {what}: {self}", [self.evidence()])


class LiveTimeout(LiveError):
    """No answer within the timeout."""


def display_url(url: str) -> str:
    """``url`` without credentials or query string: what may be shown, logged and stored."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


@dataclass(frozen=True)
class Endpoint:
    """One HTTP API: base URL, credentials, timeout, retries with exponential backoff."""

    url: str
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    retries: int = DEFAULT_RETRIES
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)

    def get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        """GET ``path`` and decode its JSON. Connection errors, timeouts, 429 and 5xx are retried;
        other answers are final. Raises LiveError."""
        url = self.url.rstrip("/") + path
        reason = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
            try:
                response = requests.get(
                    url,
                    params=params,
                    headers=dict(self.headers),
                    auth=self.basic_auth,
                    timeout=self.timeout_seconds,
                    allow_redirects=False,
                )
            except requests.Timeout:
                reason = f"no answer within {self.timeout_seconds:g}s"
                continue
            except requests.RequestException as exc:
                reason = f"cannot connect ({_short(exc)})"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                reason = f"HTTP {response.status_code}"
                continue
            return _decode(url, response)
        tries = f" (after {self.retries + 1} attempts)" if self.retries else ""
        raise (LiveTimeout if reason.startswith("no answer") else LiveError)(url, reason + tries)


def _decode(url: str, response: requests.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not 200 <= response.status_code < 300:
        detail = body.get("error") if isinstance(body, dict) else None
        raise LiveError(url, f"HTTP {response.status_code}" + (f": {str(detail)[:MAX_ERROR_TEXT]}" if detail else ""))
    if body is None:
        raise LiveError(url, f"answered with something that is not JSON ({response.headers.get('content-type')})")
    return body


KNOWN_FAILURES = (
    "Connection refused",
    "Name or service not known",
    "Temporary failure in name resolution",
    "No route to host",
    "Connection reset",
    "certificate verify failed",
)


def _short(exc: Exception) -> str:
    """What went wrong, without the URL (and its credentials) that requests' messages repeat."""
    text = str(exc)
    return next((known.lower() for known in KNOWN_FAILURES if known in text), type(exc).__name__)


@dataclass(frozen=True)
class Prometheus:
    """The Prometheus HTTP API (``/api/v1``)."""

    endpoint: Endpoint

    @property
    def url(self) -> str:
        return display_url(self.endpoint.url)

    def _data(self, path: str, params: dict[str, str] | None = None) -> Any:
        body = self.endpoint.get_json(path, params)
        if not isinstance(body, dict) or body.get("status") != "success" or "data" not in body:
            raise LiveError(self.endpoint.url + path, "answered with something that is not a Prometheus API response")
        return body["data"]

    def alerting_rules(self) -> list[dict[str, Any]]:
        """Every loaded alerting rule, each with its group's ``file`` and ``group`` added."""
        data = self._data("/api/v1/rules", {"type": "alert"})
        groups = data.get("groups") if isinstance(data, dict) else None
        if not isinstance(groups, list):
            raise LiveError(self.endpoint.url + "/api/v1/rules", "the answer has no rule groups")
        return [
            {**rule, "file": group.get("file"), "group": group.get("name")}
            for group in groups
            if isinstance(group, dict)
            for rule in group.get("rules") or []
            if isinstance(rule, dict) and rule.get("type") == "alerting"
        ]

    def query(self, expr: str, at: datetime) -> list[tuple[dict[str, str], float]]:
        """An instant query at ``at``: (labels, value) per series of the vector it returns."""
        data = self._data("/api/v1/query", {"query": expr, "time": f"{at.timestamp():.3f}"})
        if not isinstance(data, dict) or data.get("resultType") not in ("vector", "scalar"):
            raise LiveError(self.endpoint.url + "/api/v1/query", "the answer is not an instant vector")
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        try:
            return [(dict(item.get("metric") or {}), float(item["value"][1])) for item in data["result"]]
        except (KeyError, IndexError, TypeError, ValueError):
            raise LiveError(self.endpoint.url + "/api/v1/query", "the answer's samples are malformed") from None

    def config_text(self) -> str:
        data = self._data("/api/v1/status/config")
        if not isinstance(data, dict) or not isinstance(data.get("yaml"), str):
            raise LiveError(self.endpoint.url + "/api/v1/status/config", "the answer holds no config")
        return data["yaml"]


@dataclass(frozen=True)
class Alertmanager:
    """The Alertmanager API (``/api/v2``)."""

    endpoint: Endpoint

    @property
    def url(self) -> str:
        return display_url(self.endpoint.url)

    def config_text(self) -> str:
        """The loaded configuration (``/api/v2/status`` ``config.original``; secrets masked)."""
        body = self.endpoint.get_json("/api/v2/status")
        original = body.get("config", {}).get("original") if isinstance(body, dict) else None
        if not isinstance(original, str):
            raise LiveError(self.endpoint.url + "/api/v2/status", "the answer holds no config.original")
        return original


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    seconds: float


@dataclass(frozen=True)
class LiveClients:
    """What live checks receive as ``ctx.live``: the systems of the configured environment."""

    environment: str | None
    prometheus: Prometheus | None = None
    alertmanager: Alertmanager | None = None
    allowed_hosts: tuple[str, ...] = ()  # exact hosts or shell patterns (*.svc.internal)

    def host_allowed(self, url: str) -> bool:
        """May a URL that a repo supplies be requested? Only when its host is on the allow-list
        (the configured Prometheus and Alertmanager hosts are on it)."""
        host = host_of(url)
        return bool(host) and any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in self.allowed_hosts)

    def probe(self, url: str, timeout_seconds: float) -> HttpAnswer:
        """One GET of an allowed URL, redirects not followed. Raises LiveError (LiveTimeout when
        nothing answered in time), PermissionError when the host is not allowed."""
        if not self.host_allowed(url) or urlsplit(url).scheme not in ("http", "https"):
            raise PermissionError(f"{host_of(url) or url!r} is not on live.allowed_hosts")
        started = time.monotonic()
        try:
            response = requests.get(url, timeout=timeout_seconds, allow_redirects=False, stream=True)
            response.close()
        except requests.Timeout:
            raise LiveTimeout(url, f"no answer within {timeout_seconds:g}s") from None
        except requests.RequestException as exc:
            raise LiveError(url, f"cannot connect ({_short(exc)})") from None
        return HttpAnswer(response.status_code, time.monotonic() - started)


def system_missing(live: LiveClients | None, system: str | None = None) -> Result | None:
    """``not_applicable`` with its reason when the config names no live systems (or not
    ``system``: "prometheus" / "alertmanager"); None when the check can go ahead."""
    if live is None:
        return not_applicable("no live systems configured (the portal config has no `live` section)")
    if system and getattr(live, system) is None:
        return not_applicable(f"no {system} configured for environment {live.environment or '(none)'} in `live`")
    return None


def observed_at(now: datetime) -> str:
    """The time a live result was observed, as stored in its ``details`` (ISO-8601, UTC ``Z``)."""
    return now.isoformat().replace("+00:00", "Z")


# -- from the config ---------------------------------------------------------------------------
def clients_from_config(data: Mapping[str, Any]) -> LiveClients | None:
    """The clients of ``live.environment``; None when the config has no ``live`` section.
    Raises ConfigError for an unknown environment or a secret whose variable is not set."""
    live = data.get("live")
    if not live:
        return None
    environments = live.get("environments") or {}
    name = live.get("environment") or (next(iter(environments)) if len(environments) == 1 else None)
    if environments and name not in environments:
        known = ", ".join(sorted(environments))
        raise ConfigError(f"live.environment {name!r} is not one of live.environments ({known})")
    systems = environments.get(name) or {}
    where = f"live.environments.{name}"
    prometheus = _endpoint(systems["prometheus"], f"{where}.prometheus") if "prometheus" in systems else None
    alertmanager = _endpoint(systems["alertmanager"], f"{where}.alertmanager") if "alertmanager" in systems else None
    implicit = tuple(host_of(e.url) for e in (prometheus, alertmanager) if e is not None)
    return LiveClients(
        environment=name,
        prometheus=Prometheus(prometheus) if prometheus else None,
        alertmanager=Alertmanager(alertmanager) if alertmanager else None,
        allowed_hosts=tuple(str(h) for h in live.get("allowed_hosts") or ()) + implicit,
    )


def _endpoint(system: Mapping[str, Any], where: str) -> Endpoint:
    auth = system.get("auth") or {}
    headers: dict[str, str] = {}
    basic = None
    token = auth.get("bearer_token") or _secret(auth.get("bearer_token_env"), f"{where}.auth.bearer_token_env")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if "basic" in auth:
        password = auth["basic"].get("password") or _secret(
            auth["basic"].get("password_env"), f"{where}.auth.basic.password_env"
        )
        basic = (str(auth["basic"]["username"]), password or "")
    return Endpoint(
        url=str(system["url"]),
        timeout_seconds=float(system.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)),
        retries=int(system.get("retries", DEFAULT_RETRIES)),
        headers=headers,
        basic_auth=basic,
    )


def _secret(variable: str | None, where: str) -> str | None:
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise ConfigError(f"{where}: environment variable ${variable} is not set")
    return value
