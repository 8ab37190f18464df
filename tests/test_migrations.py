"""The alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import prr.storage.models  # noqa: F401  (registers the tables)
from prr.storage.db import migrate


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migrations_match_the_models(request, tmp_path, backend) -> None:
    url = f"sqlite:///{tmp_path / 'prr.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    engine = migrate(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], "models and migrations differ: add a migration under app/migrations/versions"


def test_migrating_twice_is_harmless(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'prr.db'}"
    migrate(url)
    migrate(url)
