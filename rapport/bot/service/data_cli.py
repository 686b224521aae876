"""CLI commands about data: `rapport import`, `rapport report`, `rapport retention`,
`rapport purge-workspace`, `rapport rotate-key`, `rapport workspace-ai`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.bot.service.config import Settings
from rapport.bot.service.logs import configure_logging
from rapport.bot.service.startup import (
    check_config,
    check_database_exists,
    load_settings,
    one_line_errors,
    warn_unknown_variables,
)
from rapport.storage import db
from rapport.storage.models import Workspace

if TYPE_CHECKING:
    from rapport.bot.service.runtime import Runtime

logger = logging.getLogger(__name__)


class CliError(Exception):
    """A problem the admin must fix; printed without a traceback."""


async def find_workspace(sessions: async_sessionmaker[AsyncSession], ref: str) -> Workspace:
    """A workspace by numeric id or by `platform:external_id` (e.g. slack:T012AB)."""
    async with sessions() as session:
        if ref.isdigit():
            workspace = await session.get(Workspace, int(ref))
        else:
            platform, _, external_id = ref.partition(":")
            workspace = await session.scalar(select(Workspace).where(
                Workspace.platform == platform, Workspace.external_id == external_id))
    if workspace is None:
        raise CliError(f"No workspace {ref!r}. Use its id or platform:external_id, for example "
                       "slack:T0123ABCD or console:local.")
    return workspace


def parse_user_ref(ref: str) -> tuple[str, str, str]:
    """`platform:workspace:user` (the user part may itself contain colons, as Teams ids do)."""
    parts = ref.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise CliError(f"--user must look like platform:workspace:user (for example "
                       f"console:local:alex), not {ref!r}.")
    return parts[0], parts[1], parts[2]


def _run(coroutine_factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
    try:
        # An operator's bulk work (a workspace's report, retention, an import) is bounded as
        # the scheduler's jobs are, not by a chat command's few seconds.
        with one_line_errors(), db.background_work():
            asyncio.run(coroutine_factory())
    except CliError as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(2) from None


def _settings() -> Settings:
    """Settings, or one line and exit 2 when a variable is invalid or the database it names
    does not exist (see startup.py); then logging in RAPPORT_LOG_FORMAT, as every command
    logs: a collector reading JSON lines reads these commands' too."""
    with one_line_errors():
        settings = load_settings()
        check_config(settings, web=False, platforms=False)
        check_database_exists(settings)
    # An admin at a terminal reads the command's own answer: its INFO lines (start-up, the
    # migration check) only when RAPPORT_LOG_LEVEL asks for them.
    level = settings.log_level if "log_level" in settings.model_fields_set else "WARNING"
    configure_logging(level, settings.log_format)
    warn_unknown_variables()
    return settings


async def _runtime(settings: Settings) -> Runtime:
    from rapport.bot.service.runtime import build_runtime

    return await build_runtime(settings)


def register(app: typer.Typer) -> None:
    """Add the data commands to the `rapport` Typer app."""

    @app.command("import")
    def import_command(
        file: Annotated[Path, typer.Argument(help="A .csv (name,kind,company,email,cadence,"
                                                  "notes) or .vcf file.", exists=True,
                                             dir_okay=False, readable=True)],
        user: Annotated[str, typer.Option(help="Whose contacts: platform:workspace:user.")],
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and report only.")]
        = False,
    ) -> None:
        """Import contacts from CSV or vCard: all rows or none; merges with existing ones."""
        settings = _settings()
        try:
            platform, workspace_ext, user_ext = parse_user_ref(user)
        except CliError as problem:
            typer.echo(str(problem), err=True)
            raise typer.Exit(2) from None
        from rapport.bot.core.importer import MAX_BYTES, OWN_DATABASE
        from rapport.storage.db import is_database_file

        if is_database_file(file, settings.database_url):
            # Before the file is opened: see is_database_file.
            typer.echo(OWN_DATABASE, err=True)
            raise typer.Exit(1)
        if file.stat().st_size > MAX_BYTES:
            typer.echo(f"{file.name} is larger than {MAX_BYTES // 1_000_000} MB; split it up.",
                       err=True)
            raise typer.Exit(1)
        data = file.read_bytes()

        async def run() -> None:
            from rapport.bot.core.context import Actor

            runtime = await _runtime(settings)
            try:
                if platform != "console":
                    # A typo must not create a new tenant; users appear on first contact anyway.
                    await find_workspace(runtime.sessions, f"{platform}:{workspace_ext}")
                reply = await runtime.rapport.handle_import(
                    Actor(platform=platform, workspace_external_id=workspace_ext,
                          user_external_id=user_ext), file.name, data, dry_run=dry_run)
            finally:
                await runtime.close()
            typer.echo(reply.text)
            if not reply.ok:
                raise typer.Exit(1)

        _run(run)

    @app.command()
    def report(
        workspace: Annotated[str, typer.Option(help="Workspace id or platform:external_id.")],
        out: Annotated[Path, typer.Option(help="Directory for report.html and report.csv.")],
        weeks: Annotated[int, typer.Option(min=1, max=104, help="Weeks of history.")] = 12,
    ) -> None:
        """Write a privacy-preserving team report (HTML with charts, and CSV)."""
        settings = _settings()

        async def run() -> None:
            from rapport.bot.core.report import (
                CHARTS_HINT,
                GroupTooSmall,
                build_report,
                charts_available,
                write_report,
            )

            runtime = await _runtime(settings)
            try:
                ws = await find_workspace(runtime.sessions, workspace)
                try:
                    team = await build_report(runtime.sessions, ws.id, runtime.clock(),
                                              weeks=weeks)
                except GroupTooSmall as small:
                    raise CliError(str(small)) from None
            finally:
                await runtime.close()
            html_path, csv_path = write_report(team, out)
            typer.echo(f"Wrote {html_path} and {csv_path} ({team.users} people).")
            if not charts_available():
                typer.echo(f"The page has tables instead of charts. {CHARTS_HINT}.")

        _run(run)

    @app.command()
    def retention(
        workspace: Annotated[str, typer.Option(help="Workspace id or platform:external_id.")],
        months: Annotated[int, typer.Option(min=0, max=120, help="Keep touchpoint summaries "
                                            "and notes this many months; 0 keeps them forever.")],
        apply_now: Annotated[bool, typer.Option("--apply-now", help="Also delete now instead "
                                                "of at the next scheduled run.")] = False,
    ) -> None:
        """Set how long a workspace keeps touchpoint summaries and notes."""
        settings = _settings()

        async def run() -> None:
            from rapport.scheduler.retention import apply_retention, set_retention

            runtime = await _runtime(settings)
            try:
                ws = await find_workspace(runtime.sessions, workspace)
                await set_retention(runtime.sessions, ws.id, months)
                if months == 0:
                    typer.echo("Retention off: summaries and notes are kept until users "
                               "delete them.")
                    return
                typer.echo(f"Touchpoint summaries and notes older than {months} month(s) will "
                           "be deleted by the scheduler (every 6 hours).")
                if apply_now:
                    result = await apply_retention(runtime.sessions, runtime.clock(),
                                                   workspace_id=ws.id)
                    typer.echo(f"Cleared {result.summaries_cleared} summaries and deleted "
                               f"{result.notes_deleted} notes; cleared the texts of "
                               f"{result.drafts_cleared} drafts.")
            finally:
                await runtime.close()

        _run(run)

    @app.command("purge-workspace")
    def purge_workspace_command(
        platform: Annotated[str, typer.Option(help="slack, teams or console.")],
        workspace: Annotated[str, typer.Option(help="The Slack team id or Teams tenant id.")],
        yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")]
        = False,
    ) -> None:
        """Delete a workspace's data now (and its stored Slack tokens): every user, contact,
        conversation, note, nudge and draft. Without this, data of an uninstalled workspace is
        deleted RAPPORT_UNINSTALL_GRACE_DAYS after the uninstall."""
        settings = _settings()
        if not yes:
            typer.confirm(f"Delete everything Rapport stores for {platform}:{workspace}?",
                          abort=True)

        async def run() -> None:
            from rapport.bot.core.admin import withdraw_grants
            from rapport.scheduler.lifecycle import purge_workspace

            runtime = await _runtime(settings)
            try:
                ws = await find_workspace(runtime.sessions, f"{platform}:{workspace}")
                # Grants are revoked at the providers before the rows holding them go.
                await purge_workspace(runtime.sessions, ws.id, release=lambda workspace_id:
                                      withdraw_grants(runtime.rapport, workspace_id))
                tokens = await _delete_slack_tokens(runtime, workspace) \
                    if platform == "slack" else 0
            finally:
                await runtime.close()
            typer.echo(f"Deleted every row of {platform}:{workspace}"
                       + (f" and {tokens} stored Slack installation(s)." if tokens else "."))

        _run(run)

    @app.command("rotate-key")
    def rotate_key() -> None:
        """Re-encrypt every stored token with the first key of RAPPORT_ENCRYPTION_KEY (and
        encrypt rows stored in plain text), all in one transaction; afterwards older keys can
        be removed."""
        settings = _settings()

        async def run() -> None:
            from rapport.bot.platforms.slack.install import TOKEN_COLUMNS
            from rapport.storage.secrets import (
                Secrets,
                SecretsError,
                encrypt_columns,
                sealed_model_columns,
            )

            try:
                secrets = Secrets.from_setting(settings.encryption_key)
            except SecretsError as problem:
                raise CliError(str(problem)) from None
            if secrets is None:
                raise CliError("Set RAPPORT_ENCRYPTION_KEY first: the new key, then the old "
                               "ones, comma-separated.")
            # slack_sdk's token tables, and every sealed column of Rapport's own (calendar
            # tokens, DM capture grants, pending consents): the old key is removed after this,
            # so a value left under it would be lost.
            columns = {**TOKEN_COLUMNS, **sealed_model_columns()}
            runtime = await _runtime(settings)
            try:
                # One transaction: all of them under the first key, or none of them.
                report = await encrypt_columns(runtime.engine, secrets, columns, rotate=True,
                                               one_transaction=True)
            except SecretsError as problem:
                raise CliError(f"{problem}; nothing was re-encrypted.") from None
            finally:
                await runtime.close()
            typer.echo(f"Re-encrypted {report.total} stored token row(s) with the first key.")

        _run(run)

    @app.command("workspace-ai")
    def workspace_ai(
        ai: Annotated[str | None, typer.Option(
            help="AI drafts for the workspace: on or off.")] = None,
        disclosure: Annotated[str | None, typer.Option(
            help="Disclosure line on AI-assisted messages: required, optional or off.")] = None,
        platform: Annotated[str | None, typer.Option(help="slack, teams or console.")] = None,
        workspace: Annotated[str | None, typer.Option(
            help="The Slack team id or Teams tenant id; every workspace when left out.")] = None,
    ) -> None:
        """Turn AI drafts off (or on) and set the disclosure policy, per workspace or
        everywhere."""
        if ai not in (None, "on", "off") or \
                disclosure not in (None, "required", "optional", "off"):
            raise typer.BadParameter("use --ai on|off and --disclosure required|optional|off")
        settings = _settings()

        async def run() -> None:
            from rapport.bot.core.drafts import set_workspace_ai
            from rapport.bot.service.startup import prepare_database
            from rapport.storage.uow import close_database

            engine = db.create_engine(settings.database_url)
            try:
                await prepare_database(engine)
                sessions = db.session_factory(engine)
                if platform is not None or workspace is not None:
                    # A mistyped id must not read as done ("Updated 0 workspace(s).").
                    await _check_workspaces_exist(sessions, platform=platform,
                                                  external_id=workspace)
                updated = await set_workspace_ai(
                    sessions, platform=platform, external_id=workspace,
                    ai_enabled=None if ai is None else ai == "on",
                    disclosure_policy=disclosure)
            finally:
                await close_database(engine)
            typer.echo(f"Updated {updated} workspace(s).")

        _run(run)


async def _check_workspaces_exist(sessions: async_sessionmaker[AsyncSession], *,
                                  platform: str | None, external_id: str | None) -> None:
    """A CliError when no workspace has that platform and external id (either may be left
    out), as `find_workspace` is for the commands that name one workspace."""
    query = select(Workspace.id).limit(1)
    if platform is not None:
        query = query.where(Workspace.platform == platform)
    if external_id is not None:
        query = query.where(Workspace.external_id == external_id)
    async with sessions() as session:
        if await session.scalar(query) is not None:
            return
    if external_id is not None:
        ref = f"{platform}:{external_id}" if platform is not None else external_id
        named = f"workspace {ref!r}"
    else:
        named = f"{platform} workspace"
    raise CliError(f"No {named} in the database: check --platform (slack, teams or console) "
                   "and --workspace (the Slack team id, e.g. T0123ABCD, or the Teams tenant "
                   "id); leave both out for every workspace.")


async def _delete_slack_tokens(runtime: Runtime, team_id: str) -> int:
    """Delete the slack_sdk installation rows of a team (OAuth mode); returns how many."""
    from rapport.bot.platforms.slack.install import delete_team_tokens

    return await delete_team_tokens(runtime.engine, team_id)
