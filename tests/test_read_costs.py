"""What the busiest reads cost the database: a page takes one connection and a handful of
statements however many reads it shows, and the services list sorted by ref or by score (either
way) is read in index order, not sorted afresh from the whole fleet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event

from tests.portal_fixtures import ScannedPortal


class Recorder:
    """The connections checked out and the statements run on an engine while it listens."""

    def __init__(self) -> None:
        self.checkouts = 0
        self.statements: list[tuple[str, Any]] = []

    def checkout(self, *_args: Any) -> None:
        self.checkouts += 1

    def executed(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        self.statements.append((statement, parameters))

    def clear(self) -> None:
        self.checkouts, self.statements = 0, []


@pytest.fixture
def recorder(portal: ScannedPortal) -> Iterator[Recorder]:
    engine: Engine = portal.app.extensions["prr.db"]
    found = Recorder()
    event.listen(engine, "checkout", found.checkout)
    event.listen(engine, "before_cursor_execute", found.executed)
    yield found
    event.remove(engine, "checkout", found.checkout)
    event.remove(engine, "before_cursor_execute", found.executed)


@pytest.mark.parametrize(
    ("path", "most_statements"),
    [
        # due check, count, page, summary, latest scan, regressions (3: one batch to compare), trends, owners,
        # refused repos
        ("/", 11),
        ("/teams/team-payments", 7),
        # due check, status and report, waivers, attestations, sign-offs, owner/tier changes, ref conflicts
        ("/services/component/default/checkout/review", 7),
        ("/api/v1/services?per_page=50&sort=-score", 3),
        ("/api/v1/entities/component/default/checkout/scorecard", 2),
    ],
)
def test_a_read_takes_one_connection_and_a_few_statements(
    portal: ScannedPortal, recorder: Recorder, path: str, most_statements: int
) -> None:
    client = portal.app.test_client()
    assert client.get(path).status_code == 200  # first use: anything a process does once
    recorder.clear()
    assert client.get(path).status_code == 200
    assert recorder.checkouts == 1, path
    assert len(recorder.statements) <= most_statements, [s for s, _ in recorder.statements]


@pytest.mark.parametrize("sort", ["ref", "score", "-score"])
def test_the_services_list_is_read_in_index_order(portal: ScannedPortal, recorder: Recorder, sort: str) -> None:
    assert portal.app.test_client().get(f"/api/v1/services?per_page=2&sort={sort}").status_code == 200
    statement, parameters = next(  # the page of rows (the other statement counts them)
        (s, p) for s, p in recorder.statements if "service_status.repo" in s and "ORDER BY" in s
    )
    with portal.app.extensions["prr.db"].connect() as connection:
        plan = [row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    assert not any("TEMP B-TREE" in step for step in plan), plan
