"""The `rapport` command: chat, serve, worker, db upgrade."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from rapport.bot.service.config import Settings
from rapport.bot.service.data_cli import register as register_data_commands
from rapport.bot.service.logs import configure_logging

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Rapport: keep your work relationships human.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")
logger = logging.getLogger(__name__)


def _settings() -> Settings:
    return Settings()


@app.command()
def chat(user: Annotated[str | None, typer.Option(help="Who you are in the console.")] = None,
         scheduler: Annotated[bool, typer.Option(help="Deliver nudges while you chat.")] = True
         ) -> None:
    """Talk to Rapport in this terminal; nudges arrive here while the scheduler runs."""
    settings = _settings()
    configure_logging("WARNING", "text")
    # The same runtime as `serve`, minus the web server and the chat platforms, so a chat
    # session shuts down as gracefully as a server does.
    asyncio.run(_serve(settings, with_scheduler=scheduler, with_console=True, with_web=False,
                       with_platforms=False, console_user=user))


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
    settings = _settings()
    use_console = console if console is not None else (
        not settings.any_platform_configured and sys.stdin.isatty())
    configure_logging("WARNING" if use_console else settings.log_level,
                      "text" if use_console else settings.log_format)
    asyncio.run(_serve(settings, with_scheduler=scheduler, with_console=use_console))


@app.command()
def worker() -> None:
    """Run only the scheduler (no web server): for replicas that deliver nudges."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(_serve(settings, with_scheduler=True, with_console=False, with_web=False))


async def _serve(settings: Settings, *, with_scheduler: bool, with_console: bool,
                 with_web: bool = True, with_platforms: bool = True,
                 console_user: str | None = None) -> None:
    from aiohttp import web

    from rapport.bot.platforms.console.chat import (
        ConsoleChat,
        ConsoleMessenger,
        console_actor,
        stdin_lines,
    )
    from rapport.bot.platforms.registry import installers_for, messengers_for
    from rapport.bot.service.runtime import build_runtime
    from rapport.bot.service.server import build_web_app
    from rapport.scheduler.jobs import build_scheduler

    runtime = await build_runtime(settings)
    # Date parsing and fuzzy matching load in the background while the server starts.
    warming = asyncio.create_task(runtime.rapport.warm_up())
    for messenger in await messengers_for(runtime) if with_platforms else []:
        runtime.add_messenger(messenger)
    if with_console:
        runtime.add_messenger(ConsoleMessenger())
    runner: web.AppRunner | None = None
    if with_web:
        web_app = await build_web_app(runtime, installers=installers_for(settings))
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        logger.info("listening", extra={"host": settings.host, "port": settings.port})
        if with_console:
            print(f"Web server on http://{settings.host}:{settings.port} (try /healthz).")
    sched = build_scheduler(sweeper=runtime.sweeper, sweep_seconds=settings.sweep_seconds,
                            on_report=runtime.metrics.record_sweep) if with_scheduler else None
    if sched is not None:
        sched.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        if with_console:
            chat_task = asyncio.create_task(ConsoleChat(
                rapport=runtime.rapport, actor=console_actor(console_user),
                lines=stdin_lines()).run())
            stop_task = asyncio.create_task(stop.wait())
            await asyncio.wait({chat_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
            for task in (chat_task, stop_task):
                task.cancel()
        else:
            await stop.wait()
    finally:
        logger.info("shutting down")
        runtime.sweeper.stop()
        if sched is not None:
            # Pause first: shutdown() cancels a running sweep, which would cut deliveries the
            # platform already accepted before they are recorded (a repeat after the lease).
            sched.pause()
            released = await runtime.sweeper.shutdown(settings.shutdown_seconds)
            sched.shutdown(wait=False)
            logger.info("scheduler stopped", extra={"released": released})
        if runner is not None:
            await runner.cleanup()
        if not warming.done():
            await warming
        await runtime.close()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head"
               ) -> None:
    """Bring the database schema to the newest version (also done on every start)."""
    settings = _settings()
    configure_logging(settings.log_level, "text")

    async def _run() -> None:
        from rapport.storage import db

        engine = db.create_engine(settings.database_url)
        try:
            await db.upgrade(engine, revision)
            typer.echo(f"Database at {await db.current_revision(engine)}.")
        finally:
            await engine.dispose()

    asyncio.run(_run())


# `rapport import`, `rapport report`, `rapport retention` live in bot/data_cli.py.
register_data_commands(app)


@app.command("workspace-ai")
def workspace_ai(
    ai: Annotated[str | None, typer.Option(help="AI drafts for the workspace: on or off.")] = None,
    disclosure: Annotated[str | None, typer.Option(
        help="Disclosure line on AI-assisted messages: required, optional or off.")] = None,
    platform: Annotated[str | None, typer.Option(help="slack, teams or console.")] = None,
    workspace: Annotated[str | None, typer.Option(
        help="The Slack team id or Teams tenant id; every workspace when left out.")] = None,
) -> None:
    """Turn AI drafts off (or on) and set the disclosure policy, per workspace or everywhere."""
    if ai not in (None, "on", "off") or disclosure not in (None, "required", "optional", "off"):
        raise typer.BadParameter("use --ai on|off and --disclosure required|optional|off")
    settings = _settings()
    configure_logging(settings.log_level, "text")

    async def _run() -> int:
        from rapport.bot.core.drafts import set_workspace_ai
        from rapport.storage import db

        engine = db.create_engine(settings.database_url)
        try:
            await db.upgrade(engine)
            return await set_workspace_ai(
                db.session_factory(engine), platform=platform, external_id=workspace,
                ai_enabled=None if ai is None else ai == "on", disclosure_policy=disclosure)
        finally:
            await engine.dispose()

    typer.echo(f"Updated {asyncio.run(_run())} workspace(s).")


@app.command("teams-package")
def teams_package(
    app_id: Annotated[str, typer.Option("--app-id", help="The bot's Microsoft App ID (GUID).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the zip.")] = Path(
        "rapport-teams.zip"),
) -> None:
    """Write the Teams app package (manifest with your bot id, icons) to upload in Teams."""
    from rapport.bot.platforms.teams.package import build_teams_package

    try:
        written = build_teams_package(app_id=app_id.strip(), out_path=out)
    except ValueError as problem:
        raise typer.BadParameter(str(problem), param_hint="--app-id") from problem
    typer.echo(f"Wrote {written}. Upload it in Teams: Apps > Manage your apps > Upload an app.")


def main() -> None:
    """Console-script entry point."""
    app()
