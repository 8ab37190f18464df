"""The portal config: one YAML file, validated, never read from a scanned repo."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from prr import schemas
from prr.checks.formats.yamlfile import FormatError, load_documents
from prr.live import LiveClients, clients_from_config
from prr.plugin import ConfigError
from prr.scoring import Waiver

DEFAULTS: dict[str, Any] = {
    "database_url": "sqlite:///prr.db",
    "scorecard": "production-readiness",
    "fleet": [],
}


@dataclass
class Config:
    data: dict[str, Any]
    path: Path | None = None
    waivers: list[tuple[str, Waiver]] = field(default_factory=list)  # (service ref, waiver)
    live: LiveClients | None = None  # clients of the live systems named in `live`, for live checks

    @property
    def database_url(self) -> str:
        return os.environ.get("PRR_DATABASE_URL") or self.data["database_url"]

    @property
    def broker_url(self) -> str | None:
        """The Celery broker scans are queued on (``$PRR_BROKER_URL``, else ``queue.broker_url``);
        None: scans run in the process that asks for them."""
        return os.environ.get("PRR_BROKER_URL") or (self.data.get("queue") or {}).get("broker_url")

    @property
    def database_pool(self) -> dict[str, int]:
        """``pool_size`` and ``max_overflow`` of each process's database connections (``database``)."""
        settings = self.data.get("database") or {}
        return {key: int(settings[key]) for key in ("pool_size", "max_overflow") if key in settings}

    @property
    def cache_dir(self) -> Path | None:
        """Where git URLs are mirrored (``cache_dir``; None: the default cache)."""
        value = self.data.get("cache_dir")
        return Path(self.resolve_path(value)) if value else None

    @property
    def scorecard(self) -> str:
        """A shipped id, or a path (relative paths are relative to the config file)."""
        name = self.data["scorecard"]
        if self.path and (name.endswith((".yaml", ".yml")) or "/" in name):
            return str((self.path.parent / name).resolve())
        return name

    def resolve_path(self, value: str) -> str:
        """Paths in the config are relative to the config file."""
        expanded = os.path.expanduser(value)
        if self.path is None or os.path.isabs(expanded) or "://" in value or "@" in value.split("/")[0]:
            return expanded
        return str(self.path.parent / expanded)

    def waivers_for(self, service_ref: str) -> list[Waiver]:
        return [w for ref, w in self.waivers if ref == service_ref]

    def check_config(self) -> dict[str, Any]:
        """The part of the config that checks may read (``ctx.config``)."""
        routing = dict(self.data.get("routing") or {})
        if "alertmanager_config" in routing:
            routing["alertmanager_config"] = self.resolve_path(routing["alertmanager_config"])
        return {"routing": routing, "scan": dict(self.data.get("scan") or {}), "live": self.data.get("live") or {}}


def load_config(path: str | os.PathLike | None = None) -> Config:
    """``--config FILE``, else ``$PRR_CONFIG``, else the built-in defaults."""
    chosen = path or os.environ.get("PRR_CONFIG")
    if not chosen:
        return Config(dict(DEFAULTS))
    file = Path(chosen)
    if not file.is_file():
        raise ConfigError(f"{file}: config file not found")
    try:
        docs = load_documents(file.read_text(), str(file))
    except FormatError as exc:
        raise ConfigError(str(exc)) from None
    data = docs[0] if docs else {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: the config must be a mapping")
    schemas.validate("config", data, str(file))
    config = Config({**DEFAULTS, **data}, file.resolve())
    central = (data.get("routing") or {}).get("alertmanager_config")
    if central and not Path(config.resolve_path(central)).is_file():
        raise ConfigError(f"{file}: routing.alertmanager_config: no such file {config.resolve_path(central)}")
    config.live = clients_from_config(data)
    config.waivers = [
        (
            w["service"],
            Waiver(check=w["check"], reason=w["reason"], approver=w["approver"], expires=_aware(w["expires"])),
        )
        for w in data.get("waivers") or []
    ]
    return config


def _aware(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ConfigError(f"waiver expiry {stamp!r} needs a timezone (e.g. 2027-01-31T00:00:00Z)")
    return moment
