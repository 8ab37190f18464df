"""The alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import Session, SQLModel, select

import prr.storage.models  # noqa: F401  (registers the tables)
from prr.storage.db import MIGRATIONS, migrate
from prr.storage.models import Service


def head_revision() -> str | None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migrations_match_the_models(request, tmp_path, backend) -> None:
    url = f"sqlite:///{tmp_path / 'prr.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    engine = migrate(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], "models and migrations differ: add a migration under app/migrations/versions"


def test_migrating_twice_keeps_the_data_and_the_head_revision(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'prr.db'}"
    engine = migrate(url)
    with Session(engine) as session:
        session.add(
            Service(
                ref="component:default/checkout",
                name="checkout",
                tier="1",
                repo="/srv/checkout",
                updated_at=datetime(2026, 11, 27, tzinfo=UTC),
            )
        )
        session.commit()
    engine = migrate(url)
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    with Session(engine) as session:
        refs = session.exec(select(Service.ref)).all()
    assert (revision, refs) == (head_revision(), ["component:default/checkout"])
