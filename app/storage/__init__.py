"""Storage: SQLModel tables, the engine, and alembic migrations (SQLite by default, PostgreSQL past one machine)."""
