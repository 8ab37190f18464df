"""live.health: the service's declared health URL answers 2xx within its timeout."""

from __future__ import annotations

from prr.checks.formats.readiness import DOCS_URL, READINESS_FILES, try_readiness
from prr.live import LiveError, LiveTimeout, display_url, host_of, observed_at, system_missing
from prr.plugin import CheckContext, Evidence, Result, check, errored, failed, not_applicable, passed

EXAMPLE = """\
# readiness.yaml
health_url: https://checkout.svc.internal/healthz"""
ALLOW_EXAMPLE = """\
# portal config
live:
  allowed_hosts: [checkout.svc.internal]   # or a pattern: "*.svc.internal\""""


@check(
    id="live.health",
    title="Health endpoint answers",
    category="observability",
    kind="live",
    description="The health URL the service declares (`readiness.yaml` `health_url`) answers a "
    "GET with a 2xx status within the timeout (redirects are not followed). The URL comes from "
    "the repo, so it is requested only when its host is on the portal config's "
    "`live.allowed_hosts`; otherwise the check is an error that says how to allow it.",
    remediation="Declare an endpoint that answers 2xx when the service can serve, and make sure it "
    f"does:\n\n```yaml\n{EXAMPLE}\n```\n\nAn operator allows its host in the portal config:"
    f"\n\n```yaml\n{ALLOW_EXAMPLE}\n```",
    docs_url=DOCS_URL,
    params={
        "properties": {
            "timeout_seconds": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 60,
                "default": 5,
                "description": "How long the endpoint may take to answer.",
            }
        }
    },
    time_dependent=True,
    reads=("readiness.yaml `health_url`",),
)
def live_health(ctx: CheckContext) -> Result:
    unconfigured = system_missing(ctx.live)
    if unconfigured:
        return unconfigured
    readiness, error = try_readiness(ctx.repo)
    if error is not None:
        return errored(str(error), [error.evidence()])
    url = readiness.value("health_url") if readiness else None
    if readiness is None or not url:
        return not_applicable(f"no health URL declared ({READINESS_FILES[0]} `health_url`)")
    where = Evidence(path=readiness.path, line=readiness.line_of("health_url"), value=display_url(str(url)))
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return errored(f"health_url {str(url)[:100]!r} is not an http(s) URL", [where])
    if not ctx.live.host_allowed(url):
        host = host_of(url)
        return errored(
            f"not requested: host {host!r} of the health URL is not on the portal config's live.allowed_hosts "
            f"(an operator adds {host!r}, or a pattern such as '*.{host.partition('.')[2] or host}', to allow it)",
            [where],
            reason="host not allowed",
        )
    timeout = float(ctx.params["timeout_seconds"])
    details = {"environment": ctx.live.environment, "url": display_url(url), "observed_at": observed_at(ctx.now)}
    try:
        answer = ctx.live.probe(url, timeout)
    except LiveTimeout:
        return failed(f"{display_url(url)} did not answer within {timeout:g}s", [where], **details)
    except LiveError as exc:
        return errored(f"could not reach {exc}", [where, exc.evidence()], **details)
    said = f"HTTP {answer.status} in {answer.seconds:.2f}s"
    details["http_status"] = answer.status
    if 200 <= answer.status < 300:
        return passed(f"{display_url(url)} answered {said}", [where], **details)
    return failed(f"{display_url(url)} answered {said}, not 2xx", [where], **details)
