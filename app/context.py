"""What every read and write of the portal needs: the database, the config, the checks, the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from prr.config import Config
from prr.plugin import Registry
from prr.scorecard import Scorecard


@dataclass
class ReadContext:
    """The database, the portal config, the installed checks, the configured scorecard and "now".

    Built per request by :func:`prr.web.appstate.context`, and by the CLI for ``prr scan``.
    """

    engine: Engine
    config: Config
    registry: Registry
    scorecard: Scorecard | None  # None when the configured scorecard cannot be loaded
    scorecard_error: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def portal_settings(self) -> dict:
        """The ``portal`` section of the config."""
        return self.config.data.get("portal") or {}
