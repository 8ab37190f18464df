"""Limits on what a write may ask for: a waiver cannot outlast ``portal.max_waiver_days`` by way of a
timezone offset, a reason is 10 to 2000 characters of text (not white space), a request body is at
most 1 MiB, and the same waiver posted twice is stored once."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

import pytest
from sqlmodel import Session, select

from prr.storage.models import WaiverRecord
from tests.portal_fixtures import SESSION_NOW, ApiClient, token

SEARCH = "/api/v1/entities/component/default/search"
REASON = "probes land with the v2 rollout next sprint"
IN_A_WEEK = (SESSION_NOW + timedelta(days=7)).isoformat()


def _grant(portal, **body) -> ApiClient:
    api = ApiClient(portal.app)
    payload = {"check": "resilience.probes", "reason": REASON, "expires": IN_A_WEEK, **body}
    return api.post(f"{SEARCH}/waivers", headers=token(portal.app, "carol"), json=payload)


def _stored(portal) -> list[WaiverRecord]:
    with Session(portal.app.extensions["prr.db"]) as session:
        return list(session.exec(select(WaiverRecord)))


def test_a_timezone_offset_does_not_stretch_a_waiver_past_the_limit(portal):
    # 179 days and 23 hours ahead, written at +14:00: within the 180 days, and stored as that instant
    instant = SESSION_NOW + timedelta(days=179, hours=23)
    granted = _grant(portal, expires=instant.astimezone(timezone(timedelta(hours=14))).isoformat())
    assert granted.status_code == 201
    assert granted.json["expires_at"] == instant.isoformat().replace("+00:00", "Z")
    [stored] = _stored(portal)
    assert stored.expires_at.replace(tzinfo=stored.expires_at.tzinfo or UTC) == instant
    too_far = SESSION_NOW + timedelta(days=180, hours=1)
    refused = _grant(portal, expires=too_far.astimezone(timezone(timedelta(hours=-12))).isoformat())
    assert refused.status_code == 422 and "at most 180 days" in refused.json["detail"]


@pytest.mark.parametrize(
    "reason, detail",
    [
        (" " * 40, "too short"),
        ("\n\t  \n" * 10, "too short"),
        ("   short   ", "too short"),
        ("x" * 2001, "too long (at most 2000 characters)"),
    ],
)
def test_a_reason_is_ten_to_2000_characters_of_text(portal, reason, detail):
    refused = _grant(portal, reason=reason)
    assert refused.status_code == 422 and detail in refused.json["detail"] and refused.json["field"] == "reason"
    assert _stored(portal) == []


def test_a_request_body_over_one_mebibyte_is_refused_unread(portal):
    api = ApiClient(portal.app)
    response = api.post(
        f"{SEARCH}/waivers",
        headers=token(portal.app, "carol"),
        json={"check": "resilience.probes", "reason": "x" * 10_000_000, "expires": IN_A_WEEK},
    )
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert _stored(portal) == []


def test_the_same_waiver_posted_twice_is_stored_once(portal):
    first, again = _grant(portal), _grant(portal)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json and again.headers["Location"] == first.headers["Location"]
    assert len(_stored(portal)) == 1
    other_reason = _grant(portal, reason=REASON + " (rescheduled)")
    assert other_reason.status_code == 201 and len(_stored(portal)) == 2
