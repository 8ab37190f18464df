"""The alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL;
the database is migrated once (``prr db upgrade``, ``prr serve``), and a portal process refuses a
database at another schema."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlmodel import Session, SQLModel, select

import prr.storage.models  # noqa: F401  (registers the tables)
from prr.cli import main
from prr.config import load_config
from prr.storage.db import MIGRATIONS, SchemaNotCurrent, alembic_config, get_engine, migrate
from prr.storage.models import Service
from prr.web import create_app


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


def portal_config(tmp_path: Path) -> Path:
    config = tmp_path / "prr.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'prr.db'}\n")
    return config


def test_the_portal_refuses_an_unmigrated_database_until_prr_db_upgrade(tmp_path) -> None:
    config = portal_config(tmp_path)
    with pytest.raises(SchemaNotCurrent, match=r"has no prr schema yet: run `prr db upgrade`"):
        create_app(load_config(config))
    upgrade = CliRunner().invoke(main, ["db", "upgrade", "--config", str(config)])
    assert upgrade.exit_code == 0, upgrade.output
    assert create_app(load_config(config)).test_client().get("/healthz").json == {"status": "ok", "database": "ok"}


def test_the_portal_refuses_a_database_of_an_older_schema(tmp_path) -> None:
    config = portal_config(tmp_path)
    cfg = alembic_config()
    with get_engine(load_config(config).database_url).begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
    with pytest.raises(SchemaNotCurrent, match=r"is at schema revision 0001, not \d+: run `prr db upgrade`"):
        create_app(load_config(config))
