"""Start-up checks: each configuration or connection problem is one line an operator can act on.

They run before any migration, so a mistyped variable never half-starts a replica or leaves a
new SQLite file behind. The full traceback is printed only with RAPPORT_LOG_LEVEL=DEBUG.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import ipaddress
import logging
import os
import socket
import sys
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import AliasChoices, ValidationError
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.bot.service.config import Settings
from rapport.storage.db import is_sqlite, sqlite_database_path

# Exit status of every start-up error (2, like a usage error: the operator must change something).
EXIT_STARTUP = 2
# How long the first database connection may take before start-up gives up.
CONNECT_SECONDS = 15.0
SUPPORTED_DRIVERS = ("postgresql+asyncpg", "sqlite+aiosqlite")
_EXAMPLES = ("postgresql+asyncpg://user:password@host:5432/rapport (PostgreSQL) or "
             "sqlite+aiosqlite:///./rapport.db (SQLite)")
# Values of these settings are never echoed back, even when invalid.
_SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD", "KEY")
# RAPPORT_* variables that are not settings but are read elsewhere (docs/configuration.md,
# "Read outside the server's settings"): the console, the test suite, compose and the image.
_READ_ELSEWHERE = ("RAPPORT_CONSOLE_USER", "RAPPORT_TEST_DATABASE_URL",
                   "RAPPORT_PUBLISH_ADDRESS", "RAPPORT_PUBLISH_PORT", "RAPPORT_IMAGE_TAG",
                   "RAPPORT_EXTRAS")

logger = logging.getLogger(__name__)


class StartupError(Exception):
    """What is wrong and how to fix it; ``str()`` is the one line printed before exiting."""


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn a StartupError into one line on stderr and exit code 2 (traceback only at DEBUG),
    after a line for each of its notes (`naming_unknown_variables`)."""
    try:
        yield
    except StartupError as problem:
        # The environment, not Settings: the settings themselves may be what failed to load.
        if os.environ.get("RAPPORT_LOG_LEVEL", "").strip().upper() == "DEBUG":
            traceback.print_exception(problem)
        for note in getattr(problem, "__notes__", ()):
            print(note, file=sys.stderr)
        print(f"Cannot start: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_STARTUP) from None


@contextlib.contextmanager
def naming_unknown_variables() -> Iterator[None]:
    """A StartupError raised in the block gets a note for each unknown variable, printed before
    its line. A configuration error stops the start before logging is set up, so before
    `warn_unknown_variables`, and a misspelled variable is often its very cause: with
    RAPPORT_ENCRYPTON_KEY set, RAPPORT_ENCRYPTION_KEY is "not set"."""
    try:
        yield
    except StartupError as problem:
        for name, closest in unknown_variables(os.environ):
            problem.add_note(f"Warning: {_unknown_variable_message(name, closest)}")
        raise


def load_settings() -> Settings:
    """Settings from the environment; an invalid value is a StartupError naming the variable."""
    with naming_unknown_variables():
        try:
            return Settings()
        except ValidationError as invalid:
            raise StartupError(describe_invalid_settings(invalid)) from invalid


def describe_invalid_settings(invalid: ValidationError) -> str:
    """One line naming each invalid variable (aliases are the environment variable names)."""
    problems = []
    for error in invalid.errors():
        name = ".".join(str(part) for part in error["loc"]) or "a setting"
        value = error.get("input")
        shown = "" if value is None or any(word in name.upper() for word in _SECRET_WORDS) \
            else f"={str(value)[:40]!r}"
        problems.append(f"{name}{shown} is invalid ({error['msg']})")
    them = "them" if len(problems) > 1 else "it"
    return "; ".join(problems) + f"; fix or unset {them} (see docs/configuration.md)."


def unknown_variables(environ: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """Each RAPPORT_* variable in `environ` that Rapport does not read, with the known name
    closest to it (None when none is close): settings ignore unknown variables, so a misspelled
    one (RAPPORT_DATABASE_URI) would otherwise leave its setting at the default unnoticed."""
    prefix = "RAPPORT_"
    known = {name.upper() for name in (*_setting_names(), *_READ_ELSEWHERE)}
    # Compared without the prefix, which every candidate shares: RAPPORT_FOO is not "close" to
    # RAPPORT_PORT.
    known_rest = sorted(name.removeprefix(prefix) for name in known if name.startswith(prefix))
    unknown = []
    for name in sorted(environ):
        spelled = name.upper()  # settings are read in any case
        if spelled.startswith(prefix) and spelled not in known:
            closest = difflib.get_close_matches(spelled.removeprefix(prefix), known_rest, n=1,
                                                cutoff=0.6)
            unknown.append((name, prefix + closest[0] if closest else None))
    return unknown


def _setting_names() -> list[str]:
    names: list[str] = []
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.append(alias)
        elif isinstance(alias, AliasChoices):
            names.extend(str(choice) for choice in alias.choices)
    return names


def describe_database(url: str) -> dict[str, str]:
    """The driver and where the database is (an SQLite file's absolute path, a server's
    host:port/name), never a user or password: which database a process really uses."""
    parsed = make_url(url)
    path = sqlite_database_path(url)
    if path is not None:
        where = str(path.absolute())
    elif parsed.get_backend_name() == "sqlite":
        where = "(memory)"
    else:
        where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"
    return {"driver": parsed.drivername, "database": where}


def warn_unknown_variables() -> None:
    """Once logging is set up: a warning for each variable that looks like a setting but is
    none (its value is never logged)."""
    for name, closest in unknown_variables(os.environ):
        logger.warning(_unknown_variable_message(name, closest),
                       extra={"variable": name, "did_you_mean": closest})


def _unknown_variable_message(name: str, closest: str | None) -> str:
    hint = f"did you mean {closest}?" if closest else "see docs/configuration.md."
    return f"{name} is not a Rapport setting and is ignored; {hint}"


def log_database_in_use(settings: Settings) -> None:
    """Which database this process uses, once it answered (a database that does not is one
    line on its own: `check_database`)."""
    logger.info("using database", extra=describe_database(settings.database_url))


def check_database_url(url: str) -> URL:
    """The parsed URL, or a StartupError when it is unparsable or uses an unsupported driver."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # Never echo the URL: it may hold a password.
        raise StartupError(f"RAPPORT_DATABASE_URL is not a database URL Rapport can read; use "
                           f"{_EXAMPLES}.") from None
    driver = parsed.drivername
    if driver in SUPPORTED_DRIVERS:
        if parsed.get_backend_name() == "sqlite":
            _check_sqlite_path(parsed)
        return parsed
    backend = driver.split("+", 1)[0]
    if backend in ("postgresql", "postgres"):
        raise StartupError(
            f"RAPPORT_DATABASE_URL starts with {driver}://, but Rapport talks to PostgreSQL "
            f"through asyncpg: write postgresql+asyncpg://{_after_scheme(parsed)}.")
    if backend == "sqlite":
        raise StartupError(f"RAPPORT_DATABASE_URL starts with {driver}://; write "
                           f"sqlite+aiosqlite://{_after_scheme(parsed)} instead.")
    raise StartupError(f"RAPPORT_DATABASE_URL uses {driver}, which Rapport does not support; "
                       f"use {_EXAMPLES}.")


def _after_scheme(parsed: URL) -> str:
    return parsed.render_as_string(hide_password=True).split("://", 1)[1]


def _check_sqlite_path(parsed: URL) -> None:
    database = parsed.database or ""
    if not database or database == ":memory:" or "mode=memory" in str(parsed):
        return
    folder = Path(database).expanduser().parent
    if not folder.is_dir():
        raise StartupError(f"RAPPORT_DATABASE_URL points at {database}, but the folder "
                           f"{folder} does not exist; create it or choose another path.")


def check_config(settings: Settings, *, web: bool, platforms: bool) -> None:
    """Refuse settings that cannot work, before anything touches the database."""
    with naming_unknown_variables():
        check_database_url(settings.database_url)
        if web:
            _check_ports(settings)
        if platforms:
            _check_slack(settings, web=web)
            _check_teams(settings)
        _check_secrets(settings, platforms=platforms)
        if settings.reuse_port and is_sqlite(settings.database_url):
            raise StartupError("RAPPORT_REUSE_PORT lets several processes share a port; SQLite "
                               "is for one process: use PostgreSQL (RAPPORT_DATABASE_URL) or "
                               "unset it.")


def _check_ports(settings: Settings) -> None:
    """The public app and the operator app (/readyz, /metrics) each need a port of their own;
    found only when the second bind failed, this came after the migration, and unclearly."""
    port = settings.port
    if port == 0 or port != settings.metrics_port:
        return  # 0 picks a free port for each
    if _separate_addresses(settings.host, settings.metrics_host):
        return
    raise StartupError(f"RAPPORT_METRICS_PORT must differ from RAPPORT_PORT (both are {port}): "
                       "the operator port (/readyz, /metrics) is never the public one; choose "
                       "another RAPPORT_METRICS_PORT (default 3001), or 0 for any free port.")


def _separate_addresses(first: str, second: str) -> bool:
    """Whether listening on both hosts at one port works: two different IP addresses, neither
    of them every address of the machine (0.0.0.0, ::). Names are taken to clash."""
    try:
        addresses = [ipaddress.ip_address(host.strip().strip("[]")) for host in (first, second)]
    except ValueError:
        return False
    return addresses[0] != addresses[1] and not any(a.is_unspecified for a in addresses)


def check_database_exists(settings: Settings) -> None:
    """For commands that change an existing database (the data commands): an SQLite file that
    is not there is a mistyped path, never a reason to create and migrate a new, empty one."""
    database = sqlite_database_path(settings.database_url)
    if database is not None and not database.exists():
        with naming_unknown_variables():
            raise StartupError(f"No database at {database}: check RAPPORT_DATABASE_URL. This "
                               "command works on an existing database and never creates one "
                               "(`rapport db upgrade` creates a new one).")


def _check_secrets(settings: Settings, *, platforms: bool) -> None:
    from rapport.storage.secrets import Secrets, SecretsError

    try:
        secrets = Secrets.from_setting(settings.encryption_key)
    except SecretsError as problem:
        raise StartupError(f"RAPPORT_ENCRYPTION_KEY: {problem}") from problem
    oauth = bool(settings.slack_client_id and settings.slack_client_secret)
    if platforms and oauth and secrets is None \
            and not settings.allow_plaintext_tokens:
        # The same rule as slack.install.token_secrets, asked here so that it stops the start
        # before any migration instead of as a traceback once the platforms are built.
        raise StartupError("Slack OAuth (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET) stores every "
                           "workspace's tokens: set RAPPORT_ENCRYPTION_KEY to encrypt them "
                           "(docs/security.md), or RAPPORT_ALLOW_PLAINTEXT_TOKENS=true for "
                           "development only.")
    if settings.calendar_providers and not settings.encryption_key \
            and not settings.allow_plaintext_tokens:
        raise StartupError("Calendars are configured (GOOGLE_* or MICROSOFT_CLIENT_*): set "
                           "RAPPORT_ENCRYPTION_KEY so their refresh tokens are encrypted at "
                           "rest (docs/security.md), or unset the calendar credentials.")


def _check_slack(settings: Settings, *, web: bool) -> None:
    client_id, client_secret = settings.slack_client_id, settings.slack_client_secret
    if bool(client_id) != bool(client_secret):
        have, missing = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET") if client_id else \
            ("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID")
        raise StartupError(f"{have} is set but {missing} is not: set both for OAuth installs "
                           f"(many workspaces), or neither and use SLACK_BOT_TOKEN for one "
                           f"workspace.")
    app_token = settings.slack_app_token
    if app_token and not app_token.startswith("xapp-"):
        raise StartupError("SLACK_APP_TOKEN must be an app-level token (xapp-...) with the "
                           "connections:write scope (Basic Information > App-Level Tokens).")
    if not settings.slack_configured:
        stray = [name for name, value in (("SLACK_SIGNING_SECRET",
                                           settings.slack_signing_secret),
                                          ("SLACK_APP_TOKEN", app_token)) if value]
        if stray:
            verb = "are" if len(stray) > 1 else "is"
            raise StartupError(f"{' and '.join(stray)} {verb} set, but Slack has no token: set "
                               f"SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
                               f"SLACK_CLIENT_SECRET (OAuth), or unset {' and '.join(stray)}.")
        return
    if web and not settings.slack_signing_secret and not app_token:
        # Without a secret every request signature would be forgeable.
        raise StartupError("Slack needs SLACK_SIGNING_SECRET (HTTP mode; Basic Information > "
                           "App Credentials) or SLACK_APP_TOKEN (Socket Mode).")


def _check_teams(settings: Settings) -> None:
    if settings.microsoft_app_password and not settings.teams_configured:
        raise StartupError("MicrosoftAppPassword is set but MicrosoftAppId is not: set the "
                           "bot's App ID too, or unset MicrosoftAppPassword.")
    if not settings.teams_configured:
        return
    from rapport.bot.platforms.teams.adapter import TeamsConfigError, check_settings

    try:
        check_settings(settings)
    except TeamsConfigError as problem:
        raise StartupError(str(problem)) from problem


async def check_database(engine: AsyncEngine, *, seconds: float = CONNECT_SECONDS) -> None:
    """Connect once (PostgreSQL) so an unreachable or missing database is one clear line."""
    if engine.dialect.name == "sqlite":
        return  # connecting would create the file; the folder was checked with the URL
    from rapport.storage.db import connecting_by

    url = engine.url
    where = _where(engine)
    try:
        # The whole budget for the connect too: longer than a running process waits for one
        # (the database may still be starting beside us).
        with connecting_by(time.monotonic() + seconds):
            async with asyncio.timeout(seconds), engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError as failure:
        raise StartupError(f"The database at {where} did not answer within {seconds:.0f} s; "
                           f"check the host and port in RAPPORT_DATABASE_URL and the network."
                           ) from failure
    except socket.gaierror as failure:
        raise StartupError(f"Cannot find the database host {url.host!r} "
                           f"(RAPPORT_DATABASE_URL): check its spelling and DNS.") from failure
    except ConnectionRefusedError as failure:
        raise StartupError(f"Nothing accepts connections at {where}: is PostgreSQL running "
                           f"there? Check RAPPORT_DATABASE_URL.") from failure
    except Exception as failure:
        raise StartupError(database_problem(failure, where=where)) from failure


# Tokens stored encrypted with RAPPORT_ENCRYPTION_KEY: what they are (for the message), and
# the table and columns holding them (the first column that is set is the one tried).
_StoredSecret = tuple[str, str, tuple[str, ...]]
_SLACK_TOKENS: _StoredSecret = ("Slack tokens", "slack_bots", ("bot_token",))
_SLACK_DM_TOKENS: _StoredSecret = ("Slack DM capture tokens", "chat_grants", ("token_encrypted",))
_CALENDAR_TOKENS: _StoredSecret = ("calendar tokens", "connections",
                                   ("refresh_token_encrypted", "access_token_encrypted"))


def _stored_secrets_in_use(settings: Settings, *, platforms: bool) -> list[_StoredSecret]:
    """The encrypted tokens this process will read: Slack's with OAuth (the bots' tokens,
    and the DM capture grants when capture can be on), the calendars' when calendars are on.
    Tokens no part of this process reads never stop its start."""
    kinds: list[_StoredSecret] = []
    if platforms and settings.slack_client_id and settings.slack_client_secret:
        kinds.append(_SLACK_TOKENS)
        if settings.public_url and settings.encryption_key:
            kinds.append(_SLACK_DM_TOKENS)
    if settings.calendar_providers and settings.encryption_key:
        kinds.append(_CALENDAR_TOKENS)
    return kinds


async def check_stored_secrets(engine: AsyncEngine, settings: Settings, *,
                               platforms: bool) -> None:
    """Refuse to start when RAPPORT_ENCRYPTION_KEY cannot decrypt the tokens already stored
    (the process was started with another key): otherwise every request that needs one fails,
    while /readyz says ready. One read: the newest encrypted value of each kind in use."""
    from sqlalchemy import column, func, literal, select, table
    from sqlalchemy.exc import SQLAlchemyError

    from rapport.storage.secrets import PREFIX, Secrets, SecretsError

    kinds = _stored_secrets_in_use(settings, platforms=platforms)
    if not kinds:
        return
    newest = []
    for _what, table_name, column_names in kinds:
        stored = table(table_name, column("id"), *(column(name) for name in column_names))
        token = func.coalesce(*(stored.c[name] for name in column_names)) \
            if len(column_names) > 1 else stored.c[column_names[0]]
        newest.append(select(token).where(token.like(literal(PREFIX + "%")))
                      .order_by(stored.c.id.desc()).limit(1).scalar_subquery())
    try:
        async with engine.connect() as connection:
            found = (await connection.execute(select(*newest))).one()
    except (SQLAlchemyError, OSError) as failure:
        raise StartupError(database_problem(failure, where=_where(engine))) from failure
    secrets = Secrets.from_setting(settings.encryption_key)  # check_config has read it
    unreadable = []
    for (what, _table, _columns), value in zip(kinds, found, strict=True):
        if not isinstance(value, str):
            continue  # none stored
        try:
            if secrets is None:
                raise SecretsError("no key")
            secrets.decrypt(value)  # the plaintext is dropped at once: only "can it" matters
        except SecretsError:
            unreadable.append(what)
    if not unreadable:
        return
    them = " and the ".join(unreadable)
    if secrets is None:
        raise StartupError(f"The database holds {them} encrypted with RAPPORT_ENCRYPTION_KEY, "
                           "which is not set: set it to the key they were stored with.")
    raise StartupError(f"RAPPORT_ENCRYPTION_KEY cannot decrypt the {them} stored in the "
                       "database: they were encrypted with another key. Keep your new key "
                       "first and add the old one after it, comma-separated "
                       "(RAPPORT_ENCRYPTION_KEY=new,old, as for a key rotation: "
                       "docs/security.md).")


async def prepare_database(engine: AsyncEngine, revision: str = "head") -> None:
    """Check the connection, then migrate; a failure either way is one line."""
    from sqlalchemy.exc import SQLAlchemyError

    from rapport.storage import db

    check_revision(revision)
    await check_database(engine)
    try:
        await db.upgrade(engine, revision)
    except db.SchemaAheadOfCode as ahead:
        raise StartupError(f"At {_where(engine)}, {ahead}: run the newer version of Rapport, "
                           "or restore a backup taken before it migrated the database."
                           ) from ahead
    except db.SchemaProblem as problem:
        raise StartupError(_revision_problem(revision, problem)) from problem
    except (SQLAlchemyError, OSError) as failure:
        raise StartupError("Migrating the schema failed: "
                           + database_problem(failure, where=_where(engine))) from failure


def check_revision(revision: str) -> None:
    """Refuse a target revision this version does not ship, before anything connects."""
    from rapport.storage import db

    try:
        db.check_revision(revision)
    except db.SchemaProblem as problem:
        raise StartupError(_revision_problem(revision, problem)) from problem


def _revision_problem(revision: str, problem: Exception) -> str:
    from rapport.storage import db

    return (f"Cannot migrate the schema to {revision!r} ({problem}); name a revision this "
            f"version ships, or leave it out for the newest ({db.SCHEMA_HEAD}).")


def _where(engine: AsyncEngine) -> str:
    url = engine.url
    if engine.dialect.name == "sqlite":
        return url.database or "(memory)"
    return f"{url.host or 'localhost'}:{url.port or 5432}"


def database_problem(failure: BaseException, *, where: str) -> str:
    """One line for a database error: the driver's own message and what to check."""
    root = _root_cause(failure)
    message = (str(root).strip().splitlines() or [type(root).__name__])[0][:200]
    name = type(root).__name__
    if name == "InvalidCatalogNameError":
        hint = "create it (createdb) or fix the database name in RAPPORT_DATABASE_URL"
    elif name in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
        hint = "check the user and password in RAPPORT_DATABASE_URL"
    elif isinstance(root, OSError):
        hint = "check the host and port in RAPPORT_DATABASE_URL"
    else:
        hint = "check RAPPORT_DATABASE_URL (RAPPORT_LOG_LEVEL=DEBUG shows the traceback)"
    return f"The database at {where} refused Rapport: {message}; {hint}."


def _root_cause(failure: BaseException) -> BaseException:
    seen: set[int] = set()
    current = failure
    while id(current) not in seen:
        seen.add(id(current))
        nested = getattr(current, "orig", None) or current.__cause__
        if not isinstance(nested, BaseException):
            break
        current = nested
    return current


@dataclass(frozen=True)
class FrontEnds:
    """Which front ends this process runs, each with the reason, for the start-up line."""

    slack: str
    teams: str
    console: str

    @property
    def line(self) -> str:
        return f"Slack: {self.slack}. Teams: {self.teams}. Console: {self.console}."


def describe_front_ends(settings: Settings, *, web: bool, console: bool,
                        console_reason: str = "") -> FrontEnds:
    """What is on and why the rest is off (never a token, only which variables matter)."""
    if settings.slack_configured:
        tenancy = "OAuth, many workspaces" if settings.slack_client_id else "single workspace"
        transport = "Socket Mode" if settings.slack_app_token else "HTTP"
        slack = f"on ({tenancy}, {transport})" if web else \
            f"on ({tenancy}, sending nudges only: this process serves no requests)"
    else:
        slack = "off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or SLACK_CLIENT_ID and " \
                "SLACK_CLIENT_SECRET)"
    if not settings.teams_configured:
        teams = "off (set MicrosoftAppId, MicrosoftAppPassword)"
    elif not (settings.microsoft_app_id or "").strip():
        teams = "on (EMULATOR MODE: no authentication, loopback only)"
    else:
        teams = f"on ({settings.microsoft_app_type})" if web else \
            f"on ({settings.microsoft_app_type}, sending nudges only)"
    console_text = "on" if console else f"off ({console_reason or 'not a terminal'})"
    return FrontEnds(slack=slack, teams=teams, console=console_text)
