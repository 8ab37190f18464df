"""What a scanned repo cannot change about its service on its own: which source holds its ref, its
owner, and a less critical tier. Each test plays the attack a security review found."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from prr import reads
from prr.actions import scan_and_store
from prr.cli import main
from prr.config import load_config
from prr.context import ReadContext
from prr.custody import RefClaimed
from prr.demo import EXPECTED, create_demo_fleet
from prr.demo.history import backfill_history
from prr.fleet import expand_fleet
from prr.plugin import load_registry
from prr.scorecard import load_scorecard
from prr.storage.db import migrate
from prr.testing import RepoBuilder
from tests.portal_fixtures import SESSION_NOW, ApiClient, catalog, deployment, repo, scan, token

CHECKOUT = "/api/v1/entities/component/default/checkout"
LEDGER = "/api/v1/entities/component/default/ledger"
SEARCH = "/api/v1/entities/component/default/search"
CHECKOUT_PAGE = "/services/component/default/checkout"
REASON = "probes land with the v2 rollout next sprint"
EXPIRES = (SESSION_NOW + timedelta(days=7)).isoformat().replace("+00:00", "Z")


def _impostor(tmp_path: Path, owner: str = "team-evil") -> Path:
    """A new fleet repo whose catalog declares the checkout service."""
    RepoBuilder(tmp_path / "repos" / "impostor").commit(
        {
            "catalog-info.yaml": catalog("checkout", owner, "2"),
            "deploy/deployment.yaml": deployment("checkout", 1, probes=False),
        },
        "impostor",
        date=SESSION_NOW - timedelta(hours=3),
    )
    return tmp_path / "repos" / "impostor"


def _served(api: ApiClient, url: str) -> dict:
    row = api.get(url).json
    return {key: row[key] for key in ("owner", "tier", "level", "ready", "score", "repo", "scan_id")}


def _commit(tmp_path: Path, name: str, files: dict[str, str]) -> None:
    repo(tmp_path, name).commit(files, f"change {name}", date=SESSION_NOW - timedelta(hours=1))


# --------------------------------------------------------------------------- a ref held by its first source


def test_a_repo_declaring_another_services_ref_is_refused_and_changes_nothing(make_portal, receiver, tmp_path: Path):
    portal = make_portal({"webhooks": [{"url": receiver.url, "retries": 0}]})
    api, admin = ApiClient(portal.app), token(portal.app, "root")
    before, history = _served(api, CHECKOUT), api.get(f"{CHECKOUT}/history").json["items"]
    claimant = _impostor(tmp_path)

    with pytest.raises(RefClaimed, match=r"impostor declares component:default/checkout, which .*checkout holds"):
        scan(portal.app, "impostor")

    assert _served(api, CHECKOUT) == before  # owner, tier, verdict and source untouched
    assert api.get(f"{CHECKOUT}/history").json["items"] == history
    assert receiver.received == []  # no false "dropped" alert
    audit = api.get("/api/v1/audit?target=component:default/checkout", headers=admin).json
    refused = [e for e in audit["items"] if e["action"] == "scan.refused"]
    assert len(refused) == 1 and refused[0]["details"]["claimant"] == str(claimant)

    with pytest.raises(RefClaimed):
        scan(portal.app, "impostor")
    (conflict,) = api.get("/api/v1/conflicts").json["items"]
    assert (conflict["ref"], conflict["claimant"], conflict["holder"]) == (
        "component:default/checkout",
        str(claimant),
        before["repo"],
    )
    assert (conflict["state"], conflict["refused_scans"]) == ("open", 2)

    page = portal.app.test_client().get(CHECKOUT_PAGE).get_data(as_text=True)
    assert "Another repo declares this service." in page and str(claimant) in page
    fleet = portal.app.test_client().get("/").get_data(as_text=True)
    assert "1 repo refused." in fleet and f'href="{CHECKOUT_PAGE}"' in fleet

    assert scan(portal.app, "checkout")["service"]["owner"] == "team-payments"  # its own scans go on


def test_only_an_admin_resolves_a_conflict_and_kept_leaves_the_claimant_refused(portal, tmp_path: Path):
    api = ApiClient(portal.app)
    _impostor(tmp_path)
    with pytest.raises(RefClaimed):
        scan(portal.app, "impostor")
    conflict_id = api.get("/api/v1/conflicts").json["items"][0]["id"]
    url = f"/api/v1/conflicts/{conflict_id}/resolve"

    assert api.post(url, headers=token(portal.app, "carol"), json={"keep": "holder"}).status_code == 403
    assert api.post(url, headers=token(portal.app, "root"), json={"keep": "both"}).status_code == 422
    kept = api.post(url, headers=token(portal.app, "root"), json={"keep": "holder"})
    assert kept.status_code == 200 and (kept.json["state"], kept.json["resolved_by"]) == ("kept", "root")
    assert api.post(url, headers=token(portal.app, "root"), json={"keep": "holder"}).status_code == 409

    with pytest.raises(RefClaimed, match=r"An admin \(root\) kept component:default/checkout"):
        scan(portal.app, "impostor")
    assert api.get("/api/v1/conflicts").json["items"] == []
    assert api.get("/api/v1/conflicts?state=all").json["items"][0]["state"] == "kept"


def test_an_admin_can_move_a_service_to_its_new_source(portal, tmp_path: Path):
    api = ApiClient(portal.app)
    claimant = _impostor(tmp_path, owner="team-payments")  # say the service moved to a new repo
    with pytest.raises(RefClaimed):
        scan(portal.app, "impostor")
    conflict_id = api.get("/api/v1/conflicts").json["items"][0]["id"]
    moved = api.post(
        f"/api/v1/conflicts/{conflict_id}/resolve", headers=token(portal.app, "root"), json={"keep": "claimant"}
    )
    assert moved.status_code == 200 and moved.json["state"] == "moved"

    assert scan(portal.app, "impostor")["source"]["repo"] == str(claimant)
    assert api.get(CHECKOUT).json["repo"] == str(claimant)
    with pytest.raises(RefClaimed, match=r"checkout declares component:default/checkout, which .*impostor holds"):
        scan(portal.app, "checkout")


def test_a_service_whose_repo_claims_another_ref_says_so_on_its_own_page(portal, tmp_path: Path):
    search = repo(tmp_path, "search")
    _commit(tmp_path, "search", {"catalog-info.yaml": catalog("checkout", "team-search", "2")})
    with pytest.raises(RefClaimed):
        scan(portal.app, "search")
    page = portal.app.test_client().get("/services/component/default/search").get_data(as_text=True)
    assert "This repo's latest scans were refused." in page and "component:default/checkout" in page
    assert ApiClient(portal.app).get(SEARCH).json["repo"] == str(search.path)


def test_prr_scan_names_the_refused_repo_and_stores_the_rest(tmp_path: Path):
    config = tmp_path / "prr.yaml"
    holder = RepoBuilder(tmp_path / "checkout").commit(
        {"catalog-info.yaml": catalog("checkout", "team-payments", "1")}, "checkout", date=SESSION_NOW
    )
    assert holder
    _impostor(tmp_path)
    fleet = [{"repo": "checkout"}]
    config.write_text(json.dumps({"database_url": f"sqlite:///{tmp_path}/prr.db", "fleet": fleet}))
    assert CliRunner().invoke(main, ["scan", "--config", str(config)]).exit_code in (0, 1)
    fleet.append({"repo": "repos/impostor"})
    config.write_text(json.dumps({"database_url": f"sqlite:///{tmp_path}/prr.db", "fleet": fleet}))

    result = CliRunner().invoke(main, ["scan", "--config", str(config)])

    assert result.exit_code == 3, result.output
    assert "impostor declares component:default/checkout, which" in result.stderr
    assert "the scan was not stored" in result.stderr
    assert "checkout" in result.stdout  # the holder's scan is stored and shown


# --------------------------------------------------------------------------- owner and tier wait for an approver


def test_an_owner_read_from_the_repo_waits_for_an_approver_outside_both_teams(portal, tmp_path: Path):
    api = ApiClient(portal.app)
    _commit(tmp_path, "checkout", {"catalog-info.yaml": catalog("checkout", "team-decoy", "1")})
    scan(portal.app, "checkout")

    assert api.get(CHECKOUT).json["owner"] == "team-payments"
    assert api.get(f"{CHECKOUT}/scorecard").json["service"]["owner"] == "team-payments"
    grant = {"check": "resilience.probes", "reason": REASON, "expires": EXPIRES}
    assert api.post(f"{CHECKOUT}/waivers", headers=token(portal.app, "dave"), json=grant).status_code == 403
    (change,) = api.get(f"{CHECKOUT}/changes").json["items"]
    assert (change["field"], change["in_force"], change["declared"], change["state"]) == (
        "owner",
        "team-payments",
        "team-decoy",
        "pending",
    )
    page = portal.app.test_client().get(CHECKOUT_PAGE).get_data(as_text=True)
    assert "Owner change waiting for an approver." in page and "team-decoy" in page

    accept = f"{CHECKOUT}/changes/{change['id']}/accept"
    assert api.post(accept, headers=token(portal.app, "dave"), json={}).status_code == 403  # in the owning team
    accepted = api.post(accept, headers=token(portal.app, "carol"), json={})
    assert accepted.status_code == 200 and (accepted.json["state"], accepted.json["decided_by"]) == (
        "accepted",
        "carol",
    )
    assert api.get(CHECKOUT).json["owner"] == "team-decoy"
    assert api.post(f"{CHECKOUT}/waivers", headers=token(portal.app, "dave"), json=grant).status_code == 201
    assert api.get(f"{CHECKOUT}/changes").json["items"] == []


def test_an_owner_change_the_repo_takes_back_is_withdrawn(portal, tmp_path: Path):
    api = ApiClient(portal.app)
    _commit(tmp_path, "checkout", {"catalog-info.yaml": catalog("checkout", "team-decoy", "1")})
    scan(portal.app, "checkout")
    repo(tmp_path, "checkout").commit(
        {"catalog-info.yaml": catalog("checkout", "team-payments", "1")},
        "back",
        date=SESSION_NOW - timedelta(minutes=5),
    )
    scan(portal.app, "checkout")
    assert api.get(f"{CHECKOUT}/changes").json["items"] == []
    assert [c["state"] for c in api.get(f"{CHECKOUT}/changes?state=all").json["items"]] == ["withdrawn"]


def test_a_lower_tier_waits_and_the_service_keeps_its_bar(portal, tmp_path: Path):
    api = ApiClient(portal.app)
    assert (api.get(LEDGER).json["tier"], api.get(LEDGER).json["ready"]) == ("0", False)
    _commit(tmp_path, "ledger", {"catalog-info.yaml": catalog("ledger", "team-payments", "2")})
    scan(portal.app, "ledger")

    row, served = api.get(LEDGER).json, api.get(f"{LEDGER}/scorecard").json
    assert (row["tier"], row["ready"], served["scorecard"]["required_level"]) == ("0", False, "gold")
    assert served["service"]["tier_source"].startswith("held at Tier-0 by the portal until an approver accepts")
    assert served["service"]["tier_pending"]["tier"] == "2"
    (change,) = api.get(f"{LEDGER}/changes").json["items"]
    assert (change["field"], change["in_force"], change["declared"]) == ("tier", "0", "2")

    gate = CliRunner().invoke(main, ["gate", str(tmp_path / "repos" / "ledger"), "--format", "json"])
    assert json.loads(gate.stdout)["service"]["tier"] == "2"  # no portal: as the repo declares

    accepted = api.post(f"{LEDGER}/changes/{change['id']}/accept", headers=token(portal.app, "carol"), json={})
    assert accepted.status_code == 200
    scan(portal.app, "ledger")  # the rescan the acceptance queued
    row = api.get(LEDGER).json
    assert (row["tier"], row["ready"]) == ("2", True)
    assert "tier_pending" not in api.get(f"{LEDGER}/scorecard").json["service"]


def test_a_more_critical_tier_applies_at_once(portal, tmp_path: Path):
    api = ApiClient(portal.app)
    _commit(tmp_path, "search", {"catalog-info.yaml": catalog("search", "team-search", "0")})
    scan(portal.app, "search")
    assert (api.get(SEARCH).json["tier"], api.get(SEARCH).json["ready"]) == ("0", False)
    assert api.get(f"{SEARCH}/changes").json["items"] == []


def test_imported_history_is_taken_as_declared_so_the_demo_serves_its_documented_tiers(tmp_path: Path):
    """`prr demo create --history` stores months of past scans: a tier the repo declared back then
    (recommendations: no tier, then Tier-2 120 days ago) is in force, not waiting for an approver."""
    now = SESSION_NOW
    create_demo_fleet(tmp_path / "demo", now=now)
    config = load_config(tmp_path / "demo" / "prr.yaml")
    config = replace(
        config, data={**config.data, "fleet": [{"repo": str(tmp_path / "demo" / "repos" / "recommendations")}]}
    )
    backfill_history(config, now, days_ago=(200, 30), workers=1)
    registry = load_registry()
    ctx = ReadContext(
        engine=migrate(config.database_url),
        config=config,
        registry=registry,
        scorecard=load_scorecard(config.scorecard, registry),
        now=now,
    )
    scan_and_store(ctx, expand_fleet(config)[0])
    row = reads.service(ctx, "component:default/recommendations")
    assert row is not None and (row["tier"], row["level"], row["ready"]) == (
        EXPECTED["recommendations"]["tier"],
        EXPECTED["recommendations"]["level"],
        EXPECTED["recommendations"]["ready"],
    )
    assert reads.service_changes(ctx, row["ref"], pending_only=True) == []
