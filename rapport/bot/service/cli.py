"""The `rapport` command: chat, serve, worker, db upgrade."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

import rapport
from rapport.bot.service.config import Settings
from rapport.bot.service.data_cli import register as register_data_commands
from rapport.bot.service.logs import (
    configure_console_logging,
    configure_logging,
    console_log_path,
)
from rapport.bot.service.startup import (
    StartupError,
    check_config,
    check_revision,
    check_stored_secrets,
    describe_front_ends,
    load_settings,
    log_database_in_use,
    one_line_errors,
    warn_unknown_variables,
)
from rapport.launch import (
    collector_paused,
    keep_from_collector,
    release_stop_signals,
    stop_requested,
)

if TYPE_CHECKING:
    from aiohttp import web

    from rapport.bot.service.runtime import Runtime

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Rapport: keep your work relationships human.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")
logger = logging.getLogger(__name__)
# The commands that run until stopped: a SIGTERM or SIGINT while they start (recorded by
# rapport.launch from the first line on) stops them cleanly at their next start-up step; any
# other command is stopped by it as any program is.
_STOPPED_GRACEFULLY = ("serve", "worker", "chat")


class _StoppedDuringStartup(Exception):
    """A stop signal came before the process started serving."""


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"rapport {rapport.__version__}")
        raise typer.Exit()


@app.callback()
def _main(ctx: typer.Context, version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Rapport: keep your work relationships human."""
    if ctx.invoked_subcommand not in _STOPPED_GRACEFULLY:
        release_stop_signals()


def _settings() -> Settings:
    """Settings from the environment; an invalid variable exits with one line (startup.py)."""
    return load_settings()


@app.command()
def chat(user: Annotated[str | None, typer.Option(help="Who you are in the console.")] = None,
         scheduler: Annotated[bool, typer.Option(help="Deliver nudges while you chat.")] = True
         ) -> None:
    """Talk to Rapport in this terminal; nudges arrive here while the scheduler runs."""
    with one_line_errors():
        settings = _settings()
        check_config(settings, web=False, platforms=False)
        # The same runtime as `serve`, minus the web server and the chat platforms, so a chat
        # session shuts down as gracefully as a server does.
        _run_until_stopped(_serve(settings, with_scheduler=scheduler, with_console=True,
                                  with_web=False, with_platforms=False, console_user=user))


@app.command()
def serve(
    scheduler: Annotated[bool, typer.Option(
        "--scheduler/--no-scheduler", help="Also run the nudge sweep in this process.")] = True,
    console: Annotated[bool | None, typer.Option(
        "--console/--no-console",
        help="Chat in this terminal too (default: when no Slack/Teams credentials are set "
             "and this is a terminal).")] = None,
) -> None:
    """Run the web server (Slack, Teams, health) and, by default, the scheduler."""
    with one_line_errors():
        settings = _settings()
        check_config(settings, web=True, platforms=True)
        use_console = console if console is not None else (
            not settings.any_platform_configured and sys.stdin.isatty())
        if not use_console:  # the console logs to a file (_serve)
            configure_logging(settings.log_level, settings.log_format)
        console_reason = "--no-console" if console is False else (
            "Slack or Teams is configured" if settings.any_platform_configured
            else "not a terminal")
        _run_until_stopped(_serve(settings, with_scheduler=scheduler,
                                  with_console=use_console, console_reason=console_reason))


@app.command()
def worker() -> None:
    """Run only the scheduler (no web server): for replicas that deliver nudges. With
    RAPPORT_METRICS_PORT set, it answers /healthz, /readyz and /metrics there."""
    with one_line_errors():
        settings = _settings()
        check_config(settings, web=False, platforms=True)
        configure_logging(settings.log_level, settings.log_format)
        # Only when asked for: a worker beside a `serve` on one machine would otherwise take
        # (or find taken) the same default operator port.
        operator = "metrics_port" in settings.model_fields_set
        _run_until_stopped(_serve(settings, with_scheduler=True, with_console=False,
                                  with_web=False, with_operator_port=operator,
                                  console_reason="worker"))


def _run_until_stopped(serving: Coroutine[Any, Any, None]) -> None:
    """Run `_serve`; a stop signal before it served ends it cleanly (exit 0), with one line."""
    try:
        asyncio.run(serving)
    except _StoppedDuringStartup:
        logger.info("stopped during start-up, before serving")


def _unless_stopped(stop: asyncio.Event) -> None:
    """Between start-up steps: a stop signal received meanwhile ends the start there."""
    if stop.is_set():
        raise _StoppedDuringStartup


async def _warm_up_then_settle(runtime: Runtime) -> None:
    """Load what the first commands would load, then keep everything start-up built away
    from the garbage collector (`rapport.launch.keep_from_collector`)."""
    await runtime.rapport.warm_up()
    kept = keep_from_collector()
    logger.info("start-up objects kept from the garbage collector", extra={"objects": kept})


async def _serve(settings: Settings, *, with_scheduler: bool, with_console: bool,
                 with_web: bool = True, with_platforms: bool = True,
                 with_operator_port: bool = False, console_user: str | None = None,
                 console_reason: str = "") -> None:
    """Run one process's roles until SIGTERM (or the end of the chat). `with_web`: the public
    and the operator app; else `with_operator_port`: the operator app alone (a worker)."""
    with collector_paused():
        from rapport.bot.platforms.console.chat import (
            PROMPT,
            ConsoleChat,
            ConsoleMessenger,
            console_actor,
            stdin_lines,
        )
        from rapport.bot.platforms.registry import installers_for, messengers_for
        from rapport.bot.service.listen import (
            CannotListen,
            WebServers,
            start_consent_callbacks,
            start_operator,
            start_web,
        )
        from rapport.bot.service.runtime import build_runtime
        from rapport.scheduler.jobs import build_scheduler

    if with_console:
        # Log lines between the answers read like errors to the person chatting (an admin
        # change is logged at WARNING, for operators): they go to a file, where operators
        # find them.
        log_path = console_log_path(settings.database_url)
        try:
            configure_console_logging(settings.log_level, settings.log_format, log_path,
                                      prompt=PROMPT)
        except OSError as failure:
            raise StartupError(f"cannot write the console's log file {log_path} "
                               f"({failure.strerror or type(failure).__name__}); the console "
                               "logs beside an SQLite database, else in the working "
                               "directory.") from failure
    warn_unknown_variables()
    # Handlers first: a SIGTERM during start-up (a migration, Slack being slow) lets that step
    # finish and then shuts down cleanly, instead of killing the process half-way; one that
    # came during the imports was recorded by rapport.launch.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    if stop_requested() is not None:
        stop.set()
    _unless_stopped(stop)
    runtime = await build_runtime(settings)  # the migration: a step that is left to finish
    servers: WebServers | None = None
    callbacks: web.AppRunner | None = None
    operator: web.AppRunner | None = None
    try:
        log_database_in_use(settings)
        _unless_stopped(stop)
        # A key that cannot read the stored tokens stops the start here, not at every request.
        await check_stored_secrets(runtime.engine, settings, platforms=with_platforms)
        for messenger in await messengers_for(runtime) if with_platforms else []:
            runtime.add_messenger(messenger)
        if with_console:
            runtime.add_messenger(ConsoleMessenger())
        _unless_stopped(stop)
        if with_platforms:
            front_ends = describe_front_ends(settings, web=with_web, console=with_console,
                                             console_reason=console_reason)
            logger.info(front_ends.line, extra={"slack": front_ends.slack,
                                                "teams": front_ends.teams,
                                                "console": front_ends.console})
            if with_console:
                print(front_ends.line)
        if with_web:
            try:
                servers = await start_web(runtime, installers=installers_for(settings))
            except CannotListen as failure:
                raise StartupError(str(failure)) from failure
            if with_console:
                print(f"Web server on http://{settings.host}:{servers.public_port} "
                      "(try /healthz).")
        elif with_operator_port:
            try:
                operator = await start_operator(runtime)
            except CannotListen as failure:
                raise StartupError(str(failure)) from failure
        elif with_console and runtime.calendars is not None:
            # The provider sends the browser back to RAPPORT_PUBLIC_URL after consent: without
            # a listener there, `connect calendar` in the console led to a dead page.
            try:
                callbacks = await start_consent_callbacks(runtime)
            except CannotListen as failure:
                print(f"Calendar consent links come back to {settings.public_url}: "
                      f"{failure} (a `rapport serve` on the same database answers them too).")
            else:
                print(f"Calendar consent answers on http://{settings.host}:{settings.port}.")
    except BaseException:
        if servers is not None:
            await servers.cleanup()
        for runner in (callbacks, operator):
            if runner is not None:
                await runner.cleanup()
        await runtime.close()
        raise
    # Date parsing and fuzzy matching load in the background once the server listens: started
    # earlier, that thread's imports hold the GIL the start-up's own imports are waiting for.
    # The console loads them itself, after its prompt.
    warming = None if with_console else asyncio.create_task(_warm_up_then_settle(runtime))
    sched = build_scheduler(
        sweeper=runtime.sweeper, sweep_seconds=settings.sweep_seconds,
        extra_jobs=runtime.scheduled_jobs(), on_report=runtime.metrics.record_sweep,
        uninstall_grace=timedelta(days=settings.uninstall_grace_days)) if with_scheduler else None
    if sched is not None:
        sched.start()
    try:
        if with_console:
            chat = ConsoleChat(rapport=runtime.rapport, actor=console_actor(console_user),
                               lines=stdin_lines(), log_path=log_path, stop=stop)
            try:
                # Until “quit”, the end of input, or `stop` (at the prompt: a line being
                # answered is answered first, and a read nobody answers is left behind).
                await chat.run()
            except Exception as failure:
                # Said in the terminal too (ConsoleNotices): the chat ended without a word.
                logger.error("the console stopped", exc_info=failure)
        else:
            await stop.wait()
    finally:
        logger.info("shutting down")
        runtime.sweeper.stop()
        if runtime.calendars is not None:
            # From now on, so that its claims' release at close shares the sweeper's budget.
            runtime.calendars.sync.stop()
        if sched is not None:
            # Pause first: shutdown() cancels a running sweep, which would cut deliveries the
            # platform already accepted before they are recorded (a repeat after the lease).
            sched.pause()
            # Each release says how many claims it put back ("claims released"), the sweep's
            # own unsent rest included; a count here would only be this last call's share.
            await runtime.sweeper.shutdown(settings.shutdown_seconds)
            # Cancels the jobs still running; each ends with one INFO line (scheduler/jobs.py).
            sched.shutdown(wait=False)
            logger.info("scheduler stopped")
        if servers is not None:
            await servers.cleanup()
        for runner in (callbacks, operator):
            if runner is not None:
                await runner.cleanup()
        if warming is not None and not warming.done():
            await warming
        await runtime.close()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head"
               ) -> None:
    """Bring the database schema to the newest version (also done on every start)."""
    with one_line_errors():
        settings = _settings()
        check_config(settings, web=False, platforms=False)
        # A mistyped revision is refused before the database is opened (or created).
        check_revision(revision)
        configure_logging(settings.log_level, settings.log_format)
        warn_unknown_variables()

        async def _run() -> None:
            from rapport.bot.service.startup import prepare_database
            from rapport.storage import db
            from rapport.storage.uow import close_database

            engine = db.create_engine(settings.database_url)
            try:
                await prepare_database(engine, revision)
                log_database_in_use(settings)
                typer.echo(f"Database at {await db.current_revision(engine)}.")
            finally:
                await close_database(engine)

        asyncio.run(_run())


# `rapport import`, `report`, `retention`, `purge-workspace`, `rotate-key` and `workspace-ai`
# live in data_cli.py.
register_data_commands(app)


@app.command("teams-package")
def teams_package(
    app_id: Annotated[str, typer.Option("--app-id", help="The bot's Microsoft App ID (GUID).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the zip.")] = Path(
        "rapport-teams.zip"),
    name: Annotated[str | None, typer.Option(
        help="The app's name in Teams (at most 30 characters).")] = None,
    developer: Annotated[str | None, typer.Option(
        help="Who publishes the app, e.g. your organisation (at most 32 characters).")] = None,
    website: Annotated[str | None, typer.Option(help="Your support website (https).")] = None,
    privacy_url: Annotated[str | None, typer.Option(
        "--privacy-url", help="Your privacy statement (https).")] = None,
    terms_url: Annotated[str | None, typer.Option(
        "--terms-url", help="Your terms of use (https).")] = None,
    version: Annotated[str | None, typer.Option(
        help="The package version, e.g. 1.0.1; raise it for every re-upload.")] = None,
) -> None:
    """Write the Teams app package (manifest with your bot id and details, icons) to upload."""
    from rapport.bot.platforms.teams.package import (
        AppDetails,
        InvalidDetail,
        build_teams_package,
        example_urls,
        load_manifest_template,
        render_manifest,
    )
    from rapport.storage.db import is_database_file

    if is_database_file(out, _settings().database_url):
        raise typer.BadParameter("that is Rapport's own database; write the package elsewhere.",
                                 param_hint="--out")
    details = AppDetails(name=name, developer=developer, website=website,
                         privacy_url=privacy_url, terms_url=terms_url, version=version)
    try:
        written = build_teams_package(app_id=app_id.strip(), out_path=out, details=details)
    except InvalidDetail as problem:
        raise typer.BadParameter(str(problem), param_hint=problem.option) from problem
    except ValueError as problem:
        raise typer.BadParameter(str(problem), param_hint="--app-id") from problem
    typer.echo(f"Wrote {written}. Upload it in Teams: Apps > Manage your apps > Upload an app.")
    leftover = example_urls(render_manifest(load_manifest_template(), app_id=app_id.strip(),
                                            details=details))
    if leftover:
        typer.echo("Note: the package still links to rapport.example.com; pass --website, "
                   "--privacy-url and --terms-url with your organisation's pages.")


@app.command("slack-manifest")
def slack_manifest(
    url: Annotated[str | None, typer.Option(
        "--url", envvar="RAPPORT_PUBLIC_URL",
        help="Your public HTTPS base URL, e.g. https://bot.example.com "
             "(default: RAPPORT_PUBLIC_URL).")] = None,
    socket_mode: Annotated[bool, typer.Option(
        "--socket-mode", help="Receive events over Socket Mode (SLACK_APP_TOKEN) instead of "
                              "HTTP; no public URL needed.")] = False,
) -> None:
    """Print the Slack app manifest with your URLs, to paste at api.slack.com/apps."""
    from rapport.bot.platforms.slack.manifest import render_slack_manifest

    try:
        typer.echo(render_slack_manifest(url=url, socket_mode=socket_mode), nl=False)
    except ValueError as problem:
        raise typer.BadParameter(str(problem), param_hint="--url") from problem


def main() -> None:
    """Console-script entry point."""
    app()
