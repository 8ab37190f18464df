"""Markdown runbooks: GitHub anchors, body words, stubs, and runbook link resolution."""

from __future__ import annotations

import pytest

from prr.checks.formats.markdown import Slugger, conventional_runbooks, parse_markdown, resolve_link, slugify
from prr.repo import open_snapshot

REAL = """\
# Orders runbook

Orders takes a paid cart and turns it into shipments. It reads from Kafka topic `carts.paid`,
writes to the `orders` Postgres database and calls the warehouse API for stock reservations.

## Consumer lag

When lag grows past ten thousand messages the consumer group is stuck or too small. Check the
pods with `kubectl get pods -n orders -l app=orders-consumer`, restart a stuck pod, and scale the
deployment to six replicas when the lag keeps growing after the restart.

## Escalation

Page the warehouse on-call when reservations fail for more than five minutes.
"""


@pytest.mark.parametrize(
    "heading, anchor",
    [
        ("Rollback", "rollback"),
        ("Roll back the release!", "roll-back-the-release"),
        ("High error rate (5xx)", "high-error-rate-5xx"),
        ("`kubectl` commands", "kubectl-commands"),
        ("snake_case_name", "snake_case_name"),
        ("A -- B", "a----b"),
        ("Ça va? Déjà vu", "ça-va-déjà-vu"),
        ("Emoji 🚀 launch", "emoji--launch"),
        ("What's new: v2.1", "whats-new-v21"),
    ],
)
def test_slugify_follows_github(heading: str, anchor: str) -> None:
    assert slugify(heading) == anchor


def test_duplicate_headings_are_numbered_like_github() -> None:
    slugger = Slugger()
    assert [slugger.slug(h) for h in ("Steps", "Steps", "Steps 1", "Steps")] == [
        "steps",
        "steps-1",
        "steps-1-1",
        "steps-2",
    ]


def test_heading_anchor_uses_rendered_text() -> None:
    doc = parse_markdown("# The *`orders`* [service](https://example.com)\n\n## Rollback\n## Rollback\n")
    assert [(h.anchor, h.line, h.level) for h in doc.headings] == [
        ("the-orders-service", 1, 1),
        ("rollback", 3, 2),
        ("rollback-1", 4, 2),
    ]


PROSE = (
    "# Orders runbook\n\nOrders takes a paid cart and turns it into shipments for the warehouse.\n\n"
    "## Reservations fail\n\nThe warehouse API is slow or down. Ask the warehouse on-call whether they know, "
    "and tell support that shipments are delayed.\n"
)
STUB_CASES = [
    # (name, markdown, min_words, real?)
    ("real runbook", REAL, 80, True),
    ("heading and a sentence", "# Runbook\n\nTODO: write this before launch.\n", 80, False),
    ("many words under one heading", "# Runbook\n\n" + "word " * 200, 80, False),
    ("headings without body", "# Runbook\n## Alerts\n## Rollback\n## Contacts\n", 80, False),
    (
        "licence comment does not make it a stub",
        "<!--\nCopyright 2024 Acme. Licensed under the Apache License, Version 2.0.\n-->\n" + REAL,
        80,
        True,
    ),
    (
        "licence comment is not words",
        "<!-- " + "licence " * 200 + "-->\n# Runbook\n\nTBD.\n## Alerts\n\nTBD.\n",
        80,
        False,
    ),
    (
        "front matter is not words",
        "---\ntitle: Runbook\nowner: team-orders\n---\n# Runbook\n\nTBD.\n## Alerts\n\nTBD.\n",
        5,
        False,
    ),
    (
        "code blocks count as body",
        "# Runbook\n\nRestart:\n\n```sh\nkubectl rollout restart deploy/orders -n orders\n```\n"
        "## Scale\n\n```sh\nkubectl scale deploy/orders --replicas=6 -n orders\n```\n",
        12,
        True,
    ),
    ("threshold is a parameter for prose", PROSE, 500, False),
    ("prose long enough", PROSE, 30, True),
    (
        "one command is substance at any length",
        "# Orders runbook\n\n## Rollback\n\nRoll back with `argocd app rollback order-service` to the previous "
        "healthy revision.\n",
        80,
        True,
    ),
    (
        "numbered steps are substance",
        "# Orders runbook\n\n## Kafka lag\n\n1. Open the consumer lag panel.\n2. Scale the consumers up.\n",
        80,
        True,
    ),
    (
        "a link to the procedure is substance",
        "# Orders runbook\n\n## Failover\n\nFollow the [database failover procedure](../db/failover.md).\n",
        80,
        True,
    ),
    ("a bare name in a code span is not a command", "# Orders\n\nOwned by `team-orders` on call.\n", 80, False),
    (
        "placeholders are not words",
        "# Runbook\n\n## Alerts\n\nTODO: fill me in before launch, with every alert we page on.\n"
        "## Rollback\n\nComing soon.\n",
        5,
        False,
    ),
    (
        "licence comment, then a short real runbook",
        "<!-- SPDX-License-Identifier: Apache-2.0 -->\n# Orders\n\n## Restart\n\n```sh\n"
        "kubectl rollout restart deploy/orders -n orders\n```\n",
        80,
        True,
    ),
]


@pytest.mark.parametrize("name, text, min_words, real", STUB_CASES, ids=[c[0] for c in STUB_CASES])
def test_stub_or_real(name: str, text: str, min_words: int, real: bool) -> None:
    assert parse_markdown(text).is_real_runbook(min_words) is real


def test_words_are_counted_under_headings_only() -> None:
    doc = parse_markdown("Intro words before any heading.\n\n# Title\n\nOne two three.\n\n## Next\n\n- four\n- five\n")
    assert (doc.preamble_words, [h.words for h in doc.headings], doc.words) == (5, [3, 2], 5)


def test_section_words_include_subsections() -> None:
    doc = parse_markdown(
        "# Runbook\n\nintro\n\n## Rollback\n\n### Helm\n\none two three\n\n### Argo\n\nfour five\n\n## Next\n\nsix\n"
    )
    rollback = doc.headings[1]
    assert (rollback.words, doc.section_words(rollback)) == (0, 5)


@pytest.fixture
def links_repo(make_repo):
    repo = make_repo(
        {
            "RUNBOOK.md": REAL + '\n## Payments down\n\n<a id="pd-legacy"></a>\nText.\n',
            "monitoring/alerts.yaml": "groups: []\n",
            "monitoring/runbooks/lag.md": "# Lag\n\n## First checks\n\nLook.\n",
            "docs/runbooks/README.md": "# Runbooks index\n",
            "scripts/restart.sh": "#!/bin/sh\n",
        }
    )
    return open_snapshot(str(repo.path))


LINK_CASES = [
    # (link, base_dir, resolves, path, problem fragment)
    ("https://runbooks.acme.example/orders#lag", "monitoring", True, None, None),
    ("https://wiki.acme.example/{{ $labels.alertname }}", "monitoring", True, None, None),
    ("https://{{ .ExternalURL }}/runbook", "monitoring", False, None, "not a valid http(s) URL"),
    ("RUNBOOK.md", "monitoring", True, "RUNBOOK.md", None),
    ("/RUNBOOK.md#consumer-lag", "monitoring", True, "RUNBOOK.md", None),
    ("./RUNBOOK.md#payments-down", "", True, "RUNBOOK.md", None),
    ("RUNBOOK.md#Consumer-Lag", "", True, "RUNBOOK.md", None),
    ("RUNBOOK.md#pd-legacy", "", True, "RUNBOOK.md", None),
    ("RUNBOOK.md#database-failover", "", False, "RUNBOOK.md", "no heading with anchor #database-failover"),
    ("runbooks/lag.md#first-checks", "monitoring", True, "monitoring/runbooks/lag.md", None),
    ("runbooks/lag.md", "", False, None, "does not exist in the repo"),
    ("../RUNBOOK.md", "monitoring", True, "RUNBOOK.md", None),
    ("../../etc/passwd", "monitoring", False, None, "does not exist"),
    ("docs/runbooks", "", True, "docs/runbooks/README.md", None),
    ("scripts/restart.sh#anything", "", True, "scripts/restart.sh", None),
    ("mailto:oncall@acme.example", "", False, None, "neither an http(s) URL nor a path"),
    ("#consumer-lag", "monitoring", False, None, "names a heading but no file"),
    ("   ", "", False, None, "empty"),
]


@pytest.mark.parametrize(
    "link, base_dir, resolves, path, problem", LINK_CASES, ids=[c[0] or "blank" for c in LINK_CASES]
)
def test_resolve_link(links_repo, link, base_dir, resolves, path, problem) -> None:
    target = resolve_link(links_repo, link, base_dir)
    assert target.resolves is resolves, target.problem
    assert target.path == path
    if problem:
        assert problem in target.problem


def test_conventional_runbook_locations(make_repo) -> None:
    repo = make_repo(
        {
            "RUNBOOK.md": "x",
            "runbooks/db/failover.md": "x",
            "docs/runbook.md": "x",
            "docs/runbooks/kafka.md": "x",
            "docs/Runbook-orders.markdown": "x",
            "docs/architecture.md": "x",
            "services/api/RUNBOOK.md": "x",
            "runbooks/restart.sh": "x",
            "README.md": "x",
        }
    )
    assert conventional_runbooks(open_snapshot(str(repo.path))) == [
        "RUNBOOK.md",
        "docs/Runbook-orders.markdown",
        "docs/runbook.md",
        "docs/runbooks/kafka.md",
        "runbooks/db/failover.md",
    ]
