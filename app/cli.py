"""The ``prr`` command line.

Exit codes: 0 ready, 1 not ready, 2 bad usage or configuration, 3 could not evaluate.
Progress and diagnostics go to stderr; reports to stdout or ``--output``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any

import click

from prr import report_output
from prr.config import Config, load_config
from prr.engine import ScanRequest, evaluate
from prr.escaping import each_string, for_terminal
from prr.plugin import ConfigError, Registry, load_registry
from prr.repo import RepoError, open_snapshot, redact_url, working_tree_dirty
from prr.scorecard import load_scorecard
from prr.scoring import only_errors_block

EXIT_READY, EXIT_NOT_READY, EXIT_USAGE, EXIT_UNDECIDED = 0, 1, 2, 3


def _diag(message: str, **style: Any) -> None:
    """A diagnostic line on stderr; repository text in it cannot act on the terminal."""
    message = for_terminal(message)
    click.echo(click.style(message, **style) if sys.stderr.isatty() else message, err=True)


def handles_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn configuration and repository errors into a clear message and its exit code (2 or 3)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            _diag(f"prr: configuration error: {exc}", fg="red")
            sys.exit(EXIT_USAGE)
        except RepoError as exc:
            _diag(f"prr: cannot read the repository: {exc}", fg="red")
            sys.exit(EXIT_UNDECIDED)

    return wrapper


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Portal config file (default: $PRR_CONFIG, else built-in defaults).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="prr-portal")
def main() -> None:
    """PRR Portal: production readiness reviews and tiered scorecards."""


def _scorecard_and_registry(config: Config, scorecard: str | None) -> tuple[Any, Registry]:
    registry = load_registry()
    return load_scorecard(scorecard or config.scorecard, registry), registry


@main.command()
@click.argument("location")
@click.option("--ref", default=None, help="Commit, branch or tag to evaluate (default HEAD).")
@click.option("--tier", default=None, help="Evaluate as this tier, whatever the repo declares.")
@click.option("--scorecard", default=None, help="Shipped scorecard id or a scorecard file.")
@click.option("--format", "fmt", type=click.Choice(list(report_output.RENDERERS)), default="text", show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the report here instead of stdout.",
)
@config_option
@handles_errors
def gate(
    location: str,
    ref: str | None,
    tier: str | None,
    scorecard: str | None,
    fmt: str,
    output: str | None,
    config_path: str | None,
) -> None:
    """Evaluate one repo (a path or git URL) at one commit, without a database.

    Exit 0 ready, 1 not ready, 2 bad usage or configuration, 3 could not evaluate.
    """
    from prr.fleet import snapshot_limits

    config = load_config(config_path)
    card, registry = _scorecard_and_registry(config, scorecard)
    snapshot = open_snapshot(location, ref, limits=snapshot_limits(config))
    if ref is None and working_tree_dirty(location):
        _diag(
            f"prr: note: {redact_url(location)} has uncommitted changes; evaluating the last commit "
            f"{snapshot.commit[:12]} (commit them to have them counted)",
            fg="yellow",
        )
    if tier is not None and tier not in card.required_levels:
        raise ConfigError(f"--tier {tier!r}: the scorecard defines tiers {', '.join(card.tiers)}")
    _diag(f"prr: evaluating {snapshot.location} @ {snapshot.commit[:12]} against {card.id}")
    report = evaluate(
        ScanRequest(
            snapshot=snapshot,
            scorecard=card,
            registry=registry,
            config=config.check_config(),
            tier_override=tier,
            tier_override_source="--tier",
            waivers=config.waivers_for,
            live_clients=config.live,
        )
    )
    text = report_output.render(report, fmt, color=fmt == "text" and output is None and sys.stdout.isatty())
    if output:
        try:
            Path(output).write_text(text)
        except OSError as exc:
            _diag(f"prr: cannot write the report to {output}: {exc.strerror or exc}", fg="red")
            sys.exit(EXIT_USAGE)
        _diag(f"prr: report written to {output}")
    else:
        click.echo(text, nl=False)
    if report["ready"]:
        sys.exit(EXIT_READY)
    if only_errors_block(card, report["service"]["tier"], report["checks"]):
        _diag("prr: only checks that could not decide (error) stand between this service and ready")
        sys.exit(EXIT_UNDECIDED)
    sys.exit(EXIT_NOT_READY)


@main.command()
@config_option
@click.option("--workers", type=int, default=None, help="Services scanned in parallel.")
@click.option(
    "--queue", is_flag=True, help="Send one scan per service to the Celery workers instead (queue.broker_url)."
)
@click.option("--changed", is_flag=True, help="Skip repos whose head did not move since their service's latest scan.")
@handles_errors
def scan(config_path: str | None, workers: int | None, queue: bool, changed: bool) -> None:
    """Scan the configured fleet into the database and print the fleet table."""
    from prr.actions import scan_and_store
    from prr.context import ReadContext
    from prr.fleet import expand_fleet, moved_since_last_scan, scan_fleet
    from prr.status import sync
    from prr.storage.db import migrate

    config = load_config(config_path)
    card, registry = _scorecard_and_registry(config, None)
    entries = expand_fleet(config)
    if not entries:
        raise ConfigError("the config names no fleet to scan (add `fleet: [{repo: PATH}]`)")
    engine = migrate(config.database_url, **config.database_pool)
    if changed:
        moved = moved_since_last_scan(entries, engine, config, card)
        _diag(f"prr: {len(entries) - len(moved)} of {len(entries)} repos unchanged since their latest scan: skipped")
        entries = moved
    if queue:
        from prr.tasks import enqueue_scan, make_celery

        app = make_celery(config)
        for entry in entries:
            enqueue_scan(app, entry)
        _diag(f"prr: {len(entries)} scans queued on {redact_url(str(config.broker_url))}")
        return
    ctx = ReadContext(engine=engine, config=config, registry=registry, scorecard=card)
    sync(ctx)  # served statuses follow a changed scorecard or config waivers before new scans land
    workers = workers or config.data.get("workers") or min(4, os.cpu_count() or 1)
    _diag(f"prr: scanning {len(entries)} services with {workers} workers")
    # the bar only on a terminal: elsewhere click would print its bare label as a line of the log
    hidden = not sys.stderr.isatty()
    with click.progressbar(length=len(entries), label="scanning", file=sys.stderr, show_pos=True, hidden=hidden) as bar:
        outcomes = scan_fleet(
            entries, lambda entry: scan_and_store(ctx, entry), workers=workers, on_done=lambda outcome: bar.update(1)
        )
    for outcome in outcomes:
        if outcome.error:
            _diag(f"prr: {redact_url(outcome.entry.location)}: {outcome.error}", fg="red")
    click.echo(fleet_table([o.report for o in outcomes if o.report]))
    if any(o.error for o in outcomes):
        sys.exit(EXIT_UNDECIDED)


@main.command()
@config_option
@click.option("--month", required=True, help="The month to report, YYYY-MM (a month not over yet: as it stands now).")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None, help="Write here (default: stdout).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "json", "html"]),
    default=None,
    help="Default: from --out's extension, else json.",
)
@handles_errors
def report(config_path: str | None, month: str, out: str | None, fmt: str | None) -> None:
    """The monthly leadership scorecard, from the served verdicts as they stood at the month's end."""
    from prr.context import ReadContext
    from prr.errors import NotFound
    from prr.report import monthly, render
    from prr.storage.db import migrate

    try:
        parsed = monthly.Month.parse(month)
    except ValueError as exc:
        raise ConfigError(f"--month: {exc}") from None
    fmt = fmt or (Path(out).suffix.lstrip(".").lower() if out else "json")
    if fmt not in ("pdf", "json", "html"):
        raise ConfigError(f"--out {out}: say --format pdf, json or html")
    if fmt == "pdf" and out is None and sys.stdout.isatty():
        raise ConfigError("a PDF is not for the terminal: add --out FILE.pdf")
    config = load_config(config_path)
    card, registry = _scorecard_and_registry(config, None)
    ctx = ReadContext(
        engine=migrate(config.database_url, **config.database_pool), config=config, registry=registry, scorecard=card
    )
    try:
        built = monthly.build(ctx, parsed)
    except NotFound as exc:
        raise ConfigError(f"no report for {parsed}: {exc.detail}") from None
    body = {
        "pdf": lambda: render.pdf(built),
        "json": lambda: json.dumps(built.to_dict(), indent=2).encode() + b"\n",
        "html": lambda: render.html(built).encode(),
    }[fmt]()
    if out is None:
        sys.stdout.buffer.write(body)
        return
    try:
        Path(out).write_bytes(body)
    except OSError as exc:
        raise ConfigError(f"cannot write the report to {out}: {exc.strerror or exc}") from None
    _diag(f"prr: {built.label} report written to {out}")


@main.command()
@config_option
@click.option(
    "--concurrency", type=int, default=None, help="Scans run at the same time (default: config workers, else 1)."
)
@click.option(
    "--beat", "with_beat", is_flag=True, help="Also send the periodic fleet rescans (one beat per deployment)."
)
@click.option("--loglevel", default="info", show_default=True, type=click.Choice(["debug", "info", "warning", "error"]))
@handles_errors
def worker(config_path: str | None, concurrency: int | None, with_beat: bool, loglevel: str) -> None:
    """Run a Celery worker that scans the services queued on the broker (queue.broker_url)."""
    import socket

    from prr.storage.db import current_engine
    from prr.tasks import BEAT_STATE, QUEUE, make_celery

    config = load_config(config_path)
    app = make_celery(config)
    current_engine(config.database_url, **config.database_pool)  # migrated by `prr db upgrade`; checked here
    argv = [
        "worker",
        f"--concurrency={concurrency or config.data.get('workers') or 1}",
        "--pool=threads",  # each scan runs its checks in their own process already
        f"--loglevel={loglevel}",
        f"--queues={QUEUE}",
        f"--hostname=prr-{os.getpid()}@{socket.gethostname()}",
        "--without-mingle",
        "--without-gossip",
    ]
    if with_beat:
        argv += ["--beat", f"--schedule={BEAT_STATE}"]
    _diag(f"prr: scan worker on {redact_url(str(config.broker_url))}, storing into {_shown_url(config.database_url)}")
    app.worker_main(argv)


@main.command()
@config_option
@click.option("--loglevel", default="info", show_default=True, type=click.Choice(["debug", "info", "warning", "error"]))
@handles_errors
def beat(config_path: str | None, loglevel: str) -> None:
    """Send the periodic fleet rescans to the workers (schedule.rescan_every_minutes); run one per deployment."""
    from prr.tasks import BEAT_STATE, make_celery

    config = load_config(config_path)
    app = make_celery(config)
    every = (config.data.get("schedule") or {}).get("rescan_every_minutes", 60)
    _diag(f"prr: rescanning the fleet every {every} minutes through {redact_url(str(config.broker_url))}")
    app.start(["beat", f"--schedule={BEAT_STATE}", f"--loglevel={loglevel}"])


def _shown_url(database_url: str) -> str:
    """A database URL with its password hidden."""
    from sqlalchemy.engine import make_url

    return make_url(database_url).render_as_string(hide_password=True)


def fleet_table(reports: list[dict[str, Any]]) -> str:
    """A plain table of services, worst first within each tier."""
    reports = each_string(reports, for_terminal)
    header = f"{'SERVICE':<40} {'TIER':<5} {'LEVEL':<8} {'SCORE':>6}  {'READY':<6} OWNER"
    rows = [header, "-" * len(header)]
    for r in sorted(reports, key=lambda r: (r["service"]["tier"], r["ready"], r["score"] or 0)):
        score = "—" if r["score"] is None else f"{r['score']:.1f}"
        rows.append(
            f"{r['service']['ref']:<40} {r['service']['tier']:<5} {r['level'] or 'none':<8} "
            f"{score:>6}  {'yes' if r['ready'] else 'no':<6} {r['service']['owner'] or '—'}"
        )
    ready = sum(r["ready"] for r in reports)
    rows.append(f"\n{ready} of {len(reports)} services ready")
    return "\n".join(rows)


@main.command("checks")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
def list_checks(fmt: str) -> None:
    """List the installed checks (built-in and plugins)."""
    from prr.checkdocs import checks_markdown

    registry = load_registry()
    if fmt == "json":
        click.echo(json.dumps([c.metadata(datetime.now(UTC)) for c in registry], indent=2))
    elif fmt == "markdown":
        click.echo(checks_markdown(registry), nl=False)
    else:
        for c in registry:
            click.echo(f"{c.id:<28} {c.kind:<7} {c.category:<18} {c.title}")
    for name, problem in sorted(registry.load_errors.items()):
        _diag(f"prr: plugin {name} not loaded: {problem}", fg="yellow")


@main.group()
def scorecard() -> None:
    """Scorecards as code."""


@scorecard.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@handles_errors
def scorecard_validate(file: str) -> None:
    """Validate a scorecard file against the schema and the installed checks."""
    card = load_scorecard(file, load_registry())
    click.echo(f"{file}: valid scorecard {card.id!r} ({len(card.checks)} checks, levels {' < '.join(card.levels)})")


@main.group()
def demo() -> None:
    """The demo fleet of example service repos."""


@demo.command("create")
@click.argument("dest", type=click.Path(file_okay=False), default=".demo")
@click.option("--force", is_flag=True, help="Replace an existing demo fleet.")
@click.option("--history", is_flag=True, help="Also store scans of the repos as they stood in past months.")
@handles_errors
def demo_create(dest: str, force: bool, history: bool) -> None:
    """Generate the demo fleet under DEST and write DEST/prr.yaml to scan it."""

    from prr.demo import create_demo_fleet
    from prr.demo.history import backfill_history

    now = datetime.now(UTC)
    try:
        config_path = create_demo_fleet(Path(dest), now=now, force=force)
    except FileExistsError as exc:
        raise ConfigError(f"{exc} (use --force)") from None
    if history:
        _diag("prr: storing past scans of the demo fleet")
        stored = backfill_history(load_config(config_path), now)
        _diag(f"prr: {stored} past scans stored")
    click.echo(str(config_path))


@demo.command("tokens")
@click.argument("dest", type=click.Path(file_okay=False, exists=True), default=".demo")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="Where the demo portal is served.")
@handles_errors
def demo_tokens(dest: str, url: str) -> None:
    """Create API tokens for the demo's approver and a team owner, and print them to sign in with."""

    from prr.demo import CONFIG_NAME, SIGN_IN_USERS
    from prr.storage.db import migrate
    from prr.tokens import create_token

    engine = migrate(load_config(Path(dest) / CONFIG_NAME).database_url)
    name = f"demo sign-in {datetime.now(UTC):%Y-%m-%d %H:%M:%S.%f}"  # names are unique per user
    click.echo(f"sign in at {url.rstrip('/')}/sign-in with:")
    for user, may in SIGN_IN_USERS.items():
        click.echo(f"  {user:<13} {create_token(engine, user, name)}  ({may})")


@demo.command("live", context_settings={"ignore_unknown_options": True})
@click.argument("dest", type=click.Path(file_okay=False, exists=True))
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
@handles_errors
def demo_live(dest: str, command: tuple[str, ...]) -> None:
    """Run COMMAND with a local Prometheus and Alertmanager named in DEST/prr.yaml.

    Prometheus (127.0.0.1, the demo fleet's alert rules) and Alertmanager (a central routing
    config) are started first and stopped when COMMAND ends, e.g.
    ``prr demo live .demo -- sh -c 'prr scan --config .demo/prr.yaml && prr serve --config .demo/prr.yaml'``.
    """
    from prr.demo.live import ALERTMANAGER, PROMETHEUS, run_demo_with_live_systems

    for binary, package in ((PROMETHEUS, "prometheus"), (ALERTMANAGER, "prometheus-alertmanager")):
        if not Path(binary).is_file():
            raise ConfigError(f"{binary} is missing: install the Debian package {package}")
    sys.exit(run_demo_with_live_systems(Path(dest), list(command)))


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@config_option
@handles_errors
def db_upgrade(config_path: str | None) -> None:
    """Apply the database migrations (alembic upgrade head)."""
    from prr.storage.db import migrate

    config = load_config(config_path)
    migrate(config.database_url, **config.database_pool)
    _diag("prr: database schema is up to date")


# --------------------------------------------------------------------------- the portal


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="gunicorn worker processes (default portal.workers, else one per CPU, 2 to 8; rescan jobs are shared "
    "through the database).",
)
@click.option("--threads", type=int, default=None, help="Threads per worker (default portal.threads, else 8).")
@click.option("--debug", is_flag=True, help="Flask's development server with the debugger; never in production.")
@config_option
@handles_errors
def serve(host: str, port: int, workers: int | None, threads: int | None, debug: bool, config_path: str | None) -> None:
    """Serve the portal (JSON API, pages, /healthz, /metrics) under gunicorn."""
    from prr.context import ReadContext
    from prr.status import sync
    from prr.storage.db import migrate
    from prr.web import create_app

    config = load_config(config_path)
    if _port_in_use(host, port):
        other = 8080 if port != 8080 else 8081
        _diag(
            f"prr: {host}:{port} is already in use: stop what listens there or pass --port {other} "
            f"(make demo: PORT={other})",
            fg="red",
        )
        sys.exit(EXIT_USAGE)
    engine = migrate(config.database_url, **config.database_pool)  # a bad database URL fails here, not in every worker
    try:  # bring the served verdicts up to date once, before the workers start
        card, registry = _scorecard_and_registry(config, None)
        sync(ReadContext(engine=engine, config=config, registry=registry, scorecard=card))
    except ConfigError:
        pass  # the portal's pages say what is wrong with the scorecard
    engine.dispose()  # each worker opens its own connections; none may be shared across the fork
    settings = config.data.get("portal") or {}
    if debug:
        create_app(config).run(host=host, port=port, debug=True, use_reloader=False)
        return
    if not os.environ.get("PRR_SECRET_KEY") and not settings.get("secret_key"):
        import secrets

        os.environ["PRR_SECRET_KEY"] = secrets.token_hex(32)  # shared by this server's workers
        _diag("prr: no PRR_SECRET_KEY set: form sessions end when the server restarts")
    _diag(f"prr: serving {config.path or 'the default config'} on http://{host}:{port}")
    _gunicorn(
        lambda: create_app(config),
        {
            "bind": f"{host}:{port}",
            "workers": workers or settings.get("workers") or _default_workers(),
            "threads": threads or settings.get("threads", 8),
            "worker_class": "gthread",
            "accesslog": "-",
            "errorlog": "-",
            "timeout": 120,
            "graceful_timeout": 30,
            "control_socket_disable": True,  # no socket under $HOME; stop it with a signal
        },
    ).run()


def _default_workers() -> int:
    """One worker process per CPU this process may run on, 2 to 8: a worker renders on one core at
    a time (its threads share one interpreter lock), two keep one slow request from holding up the
    rest, and eight workers of eight threads stay within a default PostgreSQL server's 100
    connections (a busy thread holds one; docs/deployment.md)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(8, max(2, cpus))


def _port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on ``host:port`` (checked by binding it as gunicorn will)."""
    import errno
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError:
        return False  # an unknown host: gunicorn says so
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def _gunicorn(factory: Callable[[], Any], options: dict[str, Any]) -> Any:
    """gunicorn run programmatically: each worker builds its own app (and database engine)."""
    from gunicorn.app.base import BaseApplication

    class PortalServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return factory()

    return PortalServer()


@main.group()
def token() -> None:
    """API tokens (stored hashed; the secret is shown once)."""


@token.command("create")
@click.option("--user", required=True, help="Who the token acts as (roles come from the config).")
@click.option("--name", required=True, help="What the token is for, e.g. ci-rescan.")
@config_option
@handles_errors
def token_create(user: str, name: str, config_path: str | None) -> None:
    """Create a token and print its secret (once: it is stored only as a hash)."""
    from prr.storage.db import migrate
    from prr.tokens import TokenNameTaken, create_token

    database_url = load_config(config_path).database_url
    try:
        secret = create_token(migrate(database_url), user, name)
    except TokenNameTaken as exc:
        _diag(f"prr: {exc}", fg="red")
        sys.exit(EXIT_USAGE)
    click.echo(secret)
    _diag(
        f"prr: token {name!r} created for {user} in {_shown_url(database_url)}; "
        "store the secret now, it cannot be shown again"
    )


@token.command("list")
@config_option
@handles_errors
def token_list(config_path: str | None) -> None:
    """List tokens (never their secrets)."""
    from prr.storage.db import migrate
    from prr.tokens import list_tokens

    for t in list_tokens(migrate(load_config(config_path).database_url)):
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        click.echo(f"{t.id:>4}  {t.user:<20} {t.name:<30} created {t.created_at:%Y-%m-%d}  {state}")


@token.command("revoke")
@click.argument("token_id", type=int)
@config_option
@handles_errors
def token_revoke(token_id: int, config_path: str | None) -> None:
    """Revoke a token by id (see `prr token list`)."""
    from prr.storage.db import migrate
    from prr.tokens import revoke_token

    if revoke_token(migrate(load_config(config_path).database_url), token_id) is None:
        raise ConfigError(f"no token {token_id}")
    _diag(f"prr: token {token_id} revoked")


if __name__ == "__main__":
    main()
