"""The Alertmanager routing simulator, against a table checked by amtool 0.25 (the oracle).

Each case is (config, labels, receivers in order). The simulator must return the table's receivers;
the oracle test asks amtool the same question and must get the same answer, so the table cannot
drift from Alertmanager's behaviour. Without amtool the oracle tests skip, unless CI is set.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from prr.checks.formats.alertmanager import (
    find_alertmanager_configs,
    go_regex,
    load_alertmanager_config,
    parse_matchers,
)
from prr.checks.formats.yamlfile import FormatError
from prr.repo import open_snapshot

CONFIGS = Path(__file__).parent / "fixtures" / "alertmanager"

ROUTING_CASES = [
    # nested.yml: nested routes, match / match_re, continue inside a subtree
    ("nested", {"alertname": "Watchdog", "severity": "none"}, ["deadmansnitch"]),
    (
        "nested",
        {"alertname": "HighErrorRate", "severity": "critical", "team": "db", "env": "production"},
        ["pagerduty-dba"],
    ),
    ("nested", {"severity": "critical", "team": "payments", "env": "production"}, ["opsgenie-payments"]),
    ("nested", {"severity": "critical", "team": "billing", "env": "staging"}, ["opsgenie-payments", "slack-nonprod"]),
    ("nested", {"severity": "page", "team": "search", "env": "production"}, ["pagerduty-sre"]),
    ("nested", {"severity": "critical", "team": "search"}, ["slack-nonprod"]),  # env absent != "production"
    ("nested", {"severity": "warning", "service": "api-gateway"}, ["slack-api"]),
    ("nested", {"severity": "warning", "service": "web-api"}, ["slack-warnings"]),  # api-.* is anchored
    ("nested", {"severity": "info"}, ["blackhole"]),
    ("nested", {"severity": "information"}, ["slack-default"]),  # info|none is anchored
    ("nested", {"severity": "Critical"}, ["slack-default"]),  # case-sensitive
    ("nested", {}, ["slack-default"]),
    # continue.yml: a catch-all continue child, inherited receivers, continue chains
    ("continue", {"team": "web"}, ["audit-log"]),  # the catch-all matched: root receiver unused
    ("continue", {"service": "checkout", "severity": "warning"}, ["audit-log", "checkout-chat"]),
    (
        "continue",
        {"service": "checkout", "severity": "critical", "team": "core"},
        ["audit-log", "team-email", "pager", "core-pager"],
    ),
    ("continue", {"severity": "critical", "team": "core"}, ["audit-log", "pager", "core-pager"]),
    ("continue", {"severity": "critical", "team": "web"}, ["audit-log", "pager", "critical-fallback"]),
    ("continue", {"team": "core"}, ["audit-log", "core-chat"]),
    # inherit.yml: receivers inherited down two levels
    ("inherit", {"cluster": "prod-eu1", "namespace": "kube-system", "severity": "critical"}, ["prod-pager"]),
    ("inherit", {"cluster": "prod-eu1", "namespace": "kube-system", "severity": "warning"}, ["platform-chat"]),
    ("inherit", {"cluster": "prod-eu1", "namespace": "kube-system", "severity": "info"}, ["prod-pager"]),
    ("inherit", {"cluster": "prod-us2", "namespace": "monitoring"}, ["monitoring-chat"]),
    ("inherit", {"cluster": "staging", "severity": "warning"}, ["ops-default"]),
    ("inherit", {"cluster": "staging", "severity": "critical"}, ["staging-pager"]),
    ("inherit", {"cluster": "prod", "severity": "critical"}, ["ops-default"]),  # prod-.* needs the dash
    # operators.yml: the four operators, quoting forms, anchoring, absent vs empty labels
    ("operators", {"severity": "crit"}, ["exact-crit"]),
    ("operators", {"severity": "critical", "team": "platform"}, ["fallback"]),  # =~"crit" is anchored
    ("operators", {"severity": "critical", "team": "web"}, ["not-platform"]),
    ("operators", {"severity": "critical"}, ["not-platform"]),  # absent team != "platform"
    ("operators", {"severity": "warning", "env": "prod"}, ["warning-prod"]),
    ("operators", {"severity": "warning", "env": "staging"}, ["fallback"]),
    ("operators", {"severity": "warning"}, ["warning-prod"]),  # absent env !~ "dev|staging"
    ("operators", {"service": "api", "tier": "1"}, ["api-tier01"]),
    ("operators", {"service": "api", "tier": "10"}, ["fallback"]),
    ("operators", {"alertname": "DiskAlmostFULL"}, ["disk-full"]),  # (?i) flag
    ("operators", {"alertname": "NodeDiskFull"}, ["fallback"]),
    ("operators", {"severity": "info"}, ["unowned-info"]),  # absent owner = ""
    ("operators", {"severity": "info", "owner": ""}, ["unowned-info"]),
    ("operators", {"severity": "info", "owner": "team-a"}, ["owned-info"]),
    ("operators", {"priority": "1"}, ["p1"]),  # match: {priority: 1} is the text "1"
    ("operators", {"oncall": "yes"}, ["oncall-yes"]),  # ...and {oncall: yes} the text "yes"
    ("operators", {"oncall": "true"}, ["fallback"]),
    ("operators", {"description": 'say "hi", \\ok'}, ["quoted-escapes"]),
    ("operators", {"instance": "node-12.example.com:9100"}, ["node-instance"]),  # POSIX class, \d
    ("operators", {"instance": "node-12xexample.com:9100"}, ["fallback"]),
    ("operators", {"severity": "none"}, ["off"]),  # a receiver named off, unquoted
]

# Configs Alertmanager refuses: (what is wrong, route snippet or whole config, message, line).
ROOT = "route:\n  receiver: default\n  routes:\n    - receiver: other\n"
RECEIVERS = "receivers:\n  - name: default\n  - name: other\n"
INVALID_CASES = [
    (
        "undefined receiver",
        "route:\n  receiver: default\n  routes:\n    - receiver: nope\n" + RECEIVERS,
        'undefined receiver "nope"',
        4,
    ),
    ("bad matcher", ROOT + "      matchers: ['1team=db']\n" + RECEIVERS, "bad matcher format", 5),
    ("empty matcher between commas", ROOT + "      matchers: ['a=b,,c=d']\n" + RECEIVERS, "bad matcher format", 5),
    ("unescaped quote", ROOT + '      matchers: [\'a="x"y"\']\n' + RECEIVERS, "unescaped double quote", 5),
    ("bad regex", ROOT + "      matchers: ['a=~\"(x\"']\n" + RECEIVERS, "error parsing regexp", 5),
    ("lookahead", ROOT + "      match_re:\n        a: '(?=x)'\n" + RECEIVERS, "error parsing regexp", 6),
    ("possessive", ROOT + "      match_re:\n        a: 'x*+'\n" + RECEIVERS, "error parsing regexp", 6),
    (
        "invalid match label",
        ROOT + "      match:\n        team-name: db\n" + RECEIVERS,
        'invalid label name "team-name"',
        6,
    ),
    ("matchers not a list", ROOT + "      matchers: severity=critical\n" + RECEIVERS, "", 5),
    (
        "root matchers",
        "route:\n  receiver: default\n  matchers: [a=b]\n" + RECEIVERS,
        "root route must not have any matchers",
        2,
    ),
    (
        "root continue",
        "route:\n  receiver: default\n  continue: true\n" + RECEIVERS,
        "cannot have continue in root route",
        3,
    ),
    ("root without receiver", "route:\n  group_by: [a]\n" + RECEIVERS, "root route must specify a default receiver", 2),
    (
        "duplicate receiver",
        "route:\n  receiver: default\nreceivers:\n  - name: default\n  - name: default\n",
        'notification config name "default" is not unique',
        5,
    ),
    (
        "receiver without name",
        "route:\n  receiver: default\nreceivers:\n  - name: default\n  - webhook_configs: []\n",
        "missing name in receiver",
        5,
    ),
    ("duplicate group_by", ROOT + "      group_by: [a, a]\n" + RECEIVERS, 'duplicated label "a" in group_by', 5),
    ("bad YAML", "route:\n  receiver: default\n   routes: []\n" + RECEIVERS, "", 3),
]


def _load(name: str):
    path = CONFIGS / f"{name}.yml"
    return load_alertmanager_config(path.read_text(), f"{name}.yml")


@functools.cache
def _find_amtool() -> tuple[str | None, str | None]:
    """amtool's path, or why it cannot be the oracle."""
    amtool = shutil.which("amtool")
    if amtool is None:
        return None, "amtool is not installed (apt install prometheus-alertmanager)"
    version = subprocess.run([amtool, "--version"], capture_output=True, text=True, timeout=10)
    if "version 0.25." not in version.stdout + version.stderr:
        return None, f"amtool is not 0.25, the routing oracle: {version.stdout.splitlines()[:1]}"
    return amtool, None


def _amtool() -> str:
    amtool, reason = _find_amtool()
    if reason and os.environ.get("CI"):
        pytest.fail(f"{reason}; the oracle tests must run in CI")
    if reason:
        pytest.skip(f"{reason}; set CI to make this a failure")
    return amtool


def _amtool_routes(config: Path, labels: dict[str, str]) -> subprocess.CompletedProcess:
    def quote(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    args = [f"{name}={quote(value)}" for name, value in labels.items()]
    return subprocess.run(
        [_amtool(), "config", "routes", "test", f"--config.file={config}", *args],
        capture_output=True,
        text=True,
        timeout=10,
    )


def _case_id(case) -> str:
    config, labels, _ = case
    return f"{config}:" + (",".join(f"{k}={v}" for k, v in labels.items()) or "no-labels")


@pytest.mark.parametrize("config,labels,receivers", ROUTING_CASES, ids=map(_case_id, ROUTING_CASES))
def test_simulator_routes_like_the_table(config, labels, receivers):
    assert [m.receiver for m in _load(config).route_alert(labels)] == receivers


@pytest.mark.parametrize("config,labels,receivers", ROUTING_CASES, ids=map(_case_id, ROUTING_CASES))
def test_amtool_agrees_with_the_table(config, labels, receivers):
    result = _amtool_routes(CONFIGS / f"{config}.yml", labels)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split(",") == receivers


@pytest.mark.parametrize("what,text,message,line", INVALID_CASES, ids=[c[0] for c in INVALID_CASES])
def test_simulator_refuses_what_alertmanager_refuses(what, text, message, line):
    with pytest.raises(FormatError) as raised:
        load_alertmanager_config(text, "alertmanager.yml")
    assert message in raised.value.message
    assert (raised.value.path, raised.value.line) == ("alertmanager.yml", line)


@pytest.mark.parametrize("what,text,message,line", INVALID_CASES, ids=[c[0] for c in INVALID_CASES])
def test_amtool_refuses_the_invalid_configs(what, text, message, line, tmp_path):
    config = tmp_path / "alertmanager.yml"
    config.write_text(text)
    result = _amtool_routes(config, {"a": "x"})
    assert result.returncode != 0
    assert message in result.stderr


def test_route_matches_name_the_route_node_and_whether_it_pages():
    matches = _load("inherit").route_alert({"cluster": "prod-eu1", "namespace": "kube-system", "severity": "info"})
    assert [(m.receiver, m.pages, m.route, m.line) for m in matches] == [
        ("prod-pager", True, "route.routes[0].routes[0].routes[1]", 12)
    ]
    assert matches[0].matchers == ('severity="info"',)
    chat = _load("nested").route_alert({"severity": "warning", "service": "api-gateway"})
    assert [(m.receiver, m.pages, m.route, m.line) for m in chat] == [
        ("slack-api", False, "route.routes[2].routes[0]", 32)
    ]


@pytest.mark.parametrize(
    "receiver,integrations",
    [
        ("pagerduty-sre", ("pagerduty_configs",)),
        ("opsgenie-payments", ("opsgenie_configs",)),
        ("slack-default", ()),
        ("deadmansnitch", ()),  # a webhook does not page
        ("blackhole", ()),
    ],
)
def test_paging_receivers(receiver, integrations):
    assert _load("nested").receivers[receiver].paging_integrations == integrations


@pytest.mark.parametrize(
    "yaml_receivers,pages",
    [
        ("  - name: r\n    victorops_configs: [{api_key: k, routing_key: sre}]\n", True),
        ("  - name: r\n    incidentio_configs: [{url: 'https://api.incident.io/v2/alert_events/http/x'}]\n", True),
        ("  - name: r\n    pagerduty_configs: []\n", False),  # declared but empty
    ],
)
def test_paging_receiver_kinds(yaml_receivers, pages):
    config = load_alertmanager_config("route:\n  receiver: r\nreceivers:\n" + yaml_receivers, "am.yml")
    assert config.route_alert({"alertname": "X"})[0].pages is pages


@pytest.mark.parametrize(
    "text,expected",
    [
        ('severity="critical"', [("severity", "=", "critical")]),
        ("severity = critical ", [("severity", "=", "critical")]),
        ('{team!="a,b", env=~"prod|staging"}', [("team", "!=", "a,b"), ("env", "=~", "prod|staging")]),
        ('job!~"node.*",instance="x:9100"', [("job", "!~", "node.*"), ("instance", "=", "x:9100")]),
        ('msg="say \\"hi\\"\\nbye \\d"', [("msg", "=", 'say "hi"\nbye \\d')]),
        ("namespace:label=x", [("namespace:label", "=", "x")]),
        ('empty=""', [("empty", "=", "")]),
    ],
)
def test_parse_matchers(text, expected):
    assert [(m.name, m.op, m.value) for m in parse_matchers(text)] == expected


# Go regex semantics the simulator must reproduce: (pattern, value, matches).
REGEX_CASES = [
    ("crit", "critical", False),
    ("crit|critical", "critical", True),
    ("a(?i)b|c", "C", True),  # Go's flags last to the end of the group, across "|"
    ("a(?i)b|c", "Ab", False),
    ("(x(?i)y)z", "xYZ", False),
    ("(?i)É", "é", True),  # Unicode case folding
    ("(?U)x+", "xxx", True),
    (r"\d+", "١٢", False),  # Go's \d is ASCII
    (r"\w+", "héllo", False),
    ("[[:upper:]][[:digit:]]", "A1", True),
    (r"\Qa.b\E", "axb", False),
    ("x{,3}", "x{,3}", True),  # not a repeat in Go
    (r"\101\x{42}", "AB", True),  # octal and \x{} escapes
    ("[\\]a-]+", "a]-", True),
    ("x$", "x", True),
]
# Regexes Go refuses; the simulator must refuse them too.
BAD_REGEXES = ["x*+", "x???", "x{2}{3}", "(?=x)", "(?<!x)y", r"(a)\1", r"\C", "(a"]


def _regex_config(tmp_path: Path, pattern: str) -> Path:
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        "route:\n  receiver: miss\n  routes:\n    - receiver: hit\n      match_re:\n"
        f"        a: {json.dumps(pattern)}\nreceivers:\n  - name: miss\n  - name: hit\n"
    )
    return config


@pytest.mark.parametrize("pattern,value,matches", REGEX_CASES)
def test_go_regex(pattern, value, matches):
    assert bool(go_regex(pattern).fullmatch(value)) is matches


@pytest.mark.parametrize("pattern,value,matches", REGEX_CASES)
def test_amtool_agrees_on_regex(pattern, value, matches, tmp_path):
    result = _amtool_routes(_regex_config(tmp_path, pattern), {"a": value})
    assert result.stdout.strip() == ("hit" if matches else "miss"), result.stderr


@pytest.mark.parametrize("pattern", BAD_REGEXES)
def test_go_regex_refuses(pattern):
    with pytest.raises(re.error):
        go_regex(pattern)


@pytest.mark.parametrize("pattern", BAD_REGEXES)
def test_amtool_refuses_regex(pattern, tmp_path):
    result = _amtool_routes(_regex_config(tmp_path, pattern), {"a": "x"})
    assert result.returncode != 0 and "error parsing regexp" in result.stderr


def test_unicode_classes_are_refused_not_guessed():
    with pytest.raises(re.error, match="not supported"):
        go_regex(r"\pL+")


# -- a Secret's base64 data --------------------------------------------------------------------
def _found(make_repo, files: dict[str, str]):
    return find_alertmanager_configs(open_snapshot(str(make_repo(files).path)))


def _secret(data: dict[str, str] | None = None, string_data: dict[str, str] | None = None) -> str:
    """A Secret as `kubectl create secret generic --dry-run=client -o yaml` writes it (line 7: the first key)."""
    text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: alertmanager-main\n  namespace: monitoring\ntype: Opaque\n"
    if data:
        text += "data:\n" + "".join(f"  {k}: {v}\n" for k, v in data.items())
    if string_data:
        text += "stringData:\n" + "".join(
            f"  {k}: |\n" + "".join(f"    {line}\n" for line in v.splitlines()) for k, v in string_data.items()
        )
    return text


def _b64(text: str | bytes) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


@pytest.mark.parametrize("key", ["alertmanager.yaml", "alertmanager.yml"])
@pytest.mark.parametrize("config,labels,receivers", ROUTING_CASES[:12], ids=map(_case_id, ROUTING_CASES[:12]))
def test_base64_secret_routes_like_the_plain_file(key, config, labels, receivers, make_repo):
    secret = _secret({key: _b64((CONFIGS / f"{config}.yml").read_text())})
    found = _found(make_repo, {"deploy/alertmanager-secret.yaml": secret})
    assert not found.errors
    [secret] = found.configs
    assert [m.receiver for m in secret.route_alert(labels)] == receivers


def test_base64_secret_findings_point_at_the_data_key(make_repo):
    secret = _secret({"alertmanager.yaml": _b64((CONFIGS / "nested.yml").read_text())})
    found = _found(make_repo, {"alertmanager-secret.yaml": secret})
    [match] = found.configs[0].route_alert({"severity": "warning", "service": "api-gateway"})
    assert (match.receiver, match.line) == ("slack-api", 8)  # the key line: decoded lines do not map to the file
    assert match.route == "route.routes[2].routes[0] (line 32 of the base64-decoded data.alertmanager.yaml)"
    assert {r.line for r in found.configs[0].receivers.values()} == {8}


def test_string_data_wins_over_data_as_the_api_server_merges_them(make_repo):
    pages = "route:\n  receiver: pd\nreceivers:\n  - name: pd\n    pagerduty_configs: [{routing_key: abc}]\n"
    chat = "route:\n  receiver: chat\nreceivers:\n  - name: chat\n    slack_configs: [{channel: '#x'}]\n"
    found = _found(make_repo, {"secret.yaml": _secret({"alertmanager.yaml": _b64(chat)}, {"alertmanager.yaml": pages})})
    assert [m.receiver for c in found.configs for m in c.route_alert({})] == ["pd"]


BROKEN_SECRETS = [
    # id, data value, message, line (the data key's, after tls.crt)
    ("not base64", "cm91dGU6!!!", "data.alertmanager.yaml is not valid base64", 9),
    ("not padded", _b64("route:\n  receiver: xy\n").rstrip("="), "not valid base64", 9),
    ("not UTF-8", _b64(b"route:\n  receiver: \xff\xfe\n"), "does not decode to UTF-8 text", 9),
    (
        "bad YAML inside",
        _b64("route:\n  receiver: default\n   routes: []\n" + RECEIVERS),
        "(line 3 of the base64-decoded data.alertmanager.yaml)",
        9,
    ),
    (
        "bad matcher inside",
        _b64(ROOT + "      matchers: ['1team=db']\n" + RECEIVERS),
        "bad matcher format: 1team=db (line 5 of the base64-decoded data.alertmanager.yaml)",
        9,
    ),
    ("undefined receiver inside", _b64("route:\n  receiver: nope\n" + RECEIVERS), 'undefined receiver "nope"', 9),
]


@pytest.mark.parametrize("what,value,message,line", BROKEN_SECRETS, ids=[c[0] for c in BROKEN_SECRETS])
def test_broken_base64_secret_is_an_error_at_the_data_key(what, value, message, line, make_repo):
    secret = _secret({"tls.crt": _b64("not a config"), "alertmanager.yaml": value})
    found = _found(make_repo, {"deploy/secret.yaml": secret})
    assert not found.configs
    error = found.errors["deploy/secret.yaml"]
    assert message in error.message
    assert (error.path, error.line) == ("deploy/secret.yaml", line)


def test_line_breaks_in_base64_are_skipped_as_go_does(make_repo):
    blob = _b64((CONFIGS / "inherit.yml").read_text())
    folded = "|\n" + "".join(f"    {blob[i : i + 76]}\n" for i in range(0, len(blob), 76))  # base64 -w 76
    found = _found(make_repo, {"secret.yaml": _secret({"alertmanager.yaml": folded})})
    assert not found.errors and found.configs[0].route_alert({"cluster": "staging"})[0].receiver == "ops-default"


# -- prometheus-operator AlertmanagerConfig ----------------------------------------------------
OPERATOR = CONFIGS / "operator"
# (resource, labels, receivers through the resource's routes). [] means the resource's route did
# not match: the global config's routes decide (the oracle's root receiver, global-default).
OPERATOR_CASES = [
    (
        "checkout-routing",
        {
            "namespace": "payments",
            "team": "payments",
            "severity": "critical",
            "service": "checkout",
            "env": "production",
        },
        ["payments/checkout-routing/payments-pagerduty", "payments/checkout-routing/payments-opsgenie"],
    ),
    (
        "checkout-routing",
        {"namespace": "payments", "team": "payments", "severity": "page", "env": "staging"},
        ["payments/checkout-routing/payments-pagerduty"],
    ),
    (
        "checkout-routing",
        {"namespace": "payments", "team": "payments", "severity": "warning"},
        ["payments/checkout-routing/payments-slack"],
    ),
    (
        "checkout-routing",
        {"namespace": "payments", "team": "payments", "severity": "noncritical"},  # regex: anchored
        ["payments/checkout-routing/payments-slack"],
    ),
    (
        "checkout-routing",
        {"namespace": "payments", "team": "payments", "alertname": "Watchdog", "severity": "none"},
        ["payments/checkout-routing/blackhole"],
    ),
    ("checkout-routing", {"namespace": "payments-staging", "team": "payments", "severity": "critical"}, []),
    ("checkout-routing", {"namespace": "payments", "team": "search", "severity": "critical"}, []),
    (
        "search-alerts",
        {"namespace": "search", "severity": "critical", "env": "production"},
        ["search/search-alerts/search-victorops"],
    ),
    (
        "search-alerts",
        {"namespace": "search", "severity": "critical", "env": "prod-dev"},  # !~ is anchored too
        ["search/search-alerts/search-victorops"],
    ),
    (
        "search-alerts",
        {"namespace": "search", "severity": "critical", "env": "staging"},
        ["search/search-alerts/search-email"],
    ),
    (
        "search-alerts",
        {"namespace": "search", "severity": "page", "alertname": "IndexLagHigh"},  # absent env !~
        ["search/search-alerts/search-indexer-hook"],
    ),
    ("search-alerts", {"namespace": "search", "severity": "warning"}, ["search/search-alerts/search-teams"]),
    ("search-alerts", {"namespace": "payments", "severity": "critical"}, []),
]


@pytest.fixture
def operator_config(make_repo):
    """The model of one resource of tests/fixtures/alertmanager/operator/, found in a repo."""

    def load(name: str):
        found = _found(make_repo, {f"deploy/{name}.yaml": (OPERATOR / f"{name}.yaml").read_text()})
        assert not found.errors, found.errors
        [config] = found.configs
        return config

    return load


@pytest.mark.parametrize("resource,labels,receivers", OPERATOR_CASES, ids=map(_case_id, OPERATOR_CASES))
def test_simulator_routes_an_alertmanagerconfig_like_the_table(resource, labels, receivers, operator_config):
    assert [m.receiver for m in operator_config(resource).route_alert(labels)] == receivers


@pytest.mark.parametrize("resource,labels,receivers", OPERATOR_CASES, ids=map(_case_id, OPERATOR_CASES))
def test_amtool_agrees_on_the_config_the_operator_generates(resource, labels, receivers):
    result = _amtool_routes(OPERATOR / f"{resource}.generated.yml", labels)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split(",") == (receivers or ["global-default"])


def test_alertmanagerconfig_is_modelled_as_the_operator_merges_it(operator_config):
    config = operator_config("checkout-routing")
    assert config.resource == "AlertmanagerConfig payments/checkout-routing"
    [top] = config.route.routes
    assert (top.path, top.line, top.continue_) == ("spec.route", 11, True)  # continue forced on the top route
    assert [str(m) for m in top.matchers] == ['team="payments"', 'namespace="payments"']
    assert [str(m) for r in top.routes for m in r.matchers][:1] == ['severity=~"critical|page"']  # regex: true
    assert {name: r.paging_integrations for name, r in config.receivers.items()} == {
        "payments/checkout-routing/payments-slack": (),
        "payments/checkout-routing/payments-pagerduty": ("pagerdutyConfigs",),
        "payments/checkout-routing/payments-opsgenie": ("opsgenieConfigs",),
        "payments/checkout-routing/blackhole": (),
    }
    assert operator_config("search-alerts").receivers["search/search-alerts/search-victorops"].pages


def test_namespace_matcher_holds_when_the_alert_has_no_namespace_label(operator_config):
    """An alert's namespace label comes from its series, which a repo scan cannot see."""
    config = operator_config("checkout-routing")
    labels = {"team": "payments", "severity": "critical"}
    assert [m.receiver for m in config.route_alert(labels)] == ["payments/checkout-routing/payments-pagerduty"]
    assert config.route_alert({**labels, "namespace": ""}) == []  # a label that is there is tested


AMC = """\
apiVersion: monitoring.coreos.com/v1alpha1
kind: AlertmanagerConfig
metadata:
  name: checkout
spec:
  route:
    receiver: pd
    routes:
      - receiver: chat
        matchers:
          - name: severity
            value: warning
  receivers:
    - name: pd
      pagerdutyConfigs:
        - routingKey: {name: pd, key: key}
    - name: chat
"""
NAMESPACED = AMC.replace("  name: checkout\n", "  name: checkout\n  namespace: payments\n")
KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: payments\nresources:\n"


@pytest.mark.parametrize(
    "files,namespace,receiver,top_matchers",
    [
        ({"deploy/amc.yaml": NAMESPACED}, "payments", "payments/checkout/pd", ['namespace="payments"']),
        (
            {"deploy/amc.yaml": AMC, "deploy/kustomization.yaml": KUSTOMIZATION + "  - amc.yaml\n"},
            "payments",
            "payments/checkout/pd",
            ['namespace="payments"'],
        ),
        (
            {
                "deploy/amc.yaml": NAMESPACED.replace("namespace: payments", "namespace: default"),
                "deploy/kustomization.yaml": KUSTOMIZATION + "  - amc.yaml\n",
            },  # kustomize sets it over the resource's
            "payments",
            "payments/checkout/pd",
            ['namespace="payments"'],
        ),
        (
            {"deploy/amc.yaml": AMC, "deploy/kustomization.yaml": KUSTOMIZATION + "  - other.yaml\n"},
            None,
            "<namespace>/checkout/pd",
            [],
        ),
        ({"deploy/amc.yaml": AMC}, None, "<namespace>/checkout/pd", []),  # kubectl -n, an Argo CD app: no matcher
    ],
    ids=["metadata", "kustomization", "kustomization-over-metadata", "kustomization-without-it", "unknown"],
)
def test_alertmanagerconfig_namespace(files, namespace, receiver, top_matchers, make_repo):
    [config] = _found(make_repo, files).configs
    assert config.namespace == namespace
    assert config.route.routes[0].receiver == receiver
    assert [str(m) for m in config.route.routes[0].matchers] == top_matchers


INVALID_OPERATOR_CASES = [
    # what, change to AMC, message, line
    (
        "top route without receiver",
        ("    receiver: pd\n    routes:", "    routes:"),
        "root route must define a receiver",
        7,
    ),
    ("unknown receiver", ("      - receiver: chat", "      - receiver: slack"), 'receiver "slack" not found', 9),
    (
        "alertmanager-style matchers",
        ("          - name: severity\n            value: warning", '          - severity="warning"'),
        "a matcher is a mapping",
        11,
    ),
    (
        "snake_case field",
        ("        matchers:", "        group_by: [alertname]\n        matchers:"),
        'unknown field "group_by"',
        10,
    ),
    (
        "alertmanager match map",
        (
            "        matchers:\n          - name: severity\n            value: warning",
            "        match:\n          severity: warning",
        ),
        'unknown field "match"',
        10,
    ),
    (
        "bad matchType",
        ("            value: warning", '            value: warning\n            matchType: "=="'),
        "invalid 'matchType'",
        13,
    ),
    (
        "bad regex",
        ("            value: warning", "            value: warn(\n            regex: true"),
        "error parsing regexp",
        12,
    ),
    ("duplicate receiver", ("    - name: chat", "    - name: pd"), '"pd" receiver is not unique', 17),
    ("no name", ("  name: checkout\n", ""), "needs `metadata.name`", 3),
    ("matcher without name", ("          - name: severity\n", "          - "), "invalid label name", 11),
]


@pytest.mark.parametrize("what,change,message,line", INVALID_OPERATOR_CASES, ids=[c[0] for c in INVALID_OPERATOR_CASES])
def test_operator_refuses_what_the_simulator_refuses(what, change, message, line, make_repo):
    text = AMC.replace(*change)
    assert text != AMC
    found = _found(make_repo, {"deploy/amc.yaml": text})
    assert not found.configs
    error = found.errors["deploy/amc.yaml"]
    assert message in error.message
    assert error.line == line


def test_broken_alertmanagerconfig_yaml_is_an_error(make_repo):
    found = _found(make_repo, {"deploy/amc.yaml": AMC.replace("    routes:", "   routes:")})
    assert found.errors["deploy/amc.yaml"].line == 8


@pytest.mark.parametrize(
    "text",
    [
        AMC.replace(
            "spec:\n  route:\n    receiver: pd\n    routes:\n      - receiver: chat\n        matchers:\n"
            "          - name: severity\n            value: warning\n",
            "spec:\n",
        ),  # receivers only
        AMC.replace("monitoring.coreos.com/v1alpha1", "example.com/v1"),  # someone else's kind
    ],
)
def test_what_routes_nothing_is_no_config(text, make_repo):
    found = _found(make_repo, {"deploy/amc.yaml": text})
    assert (found.configs, found.errors) == ([], {})
