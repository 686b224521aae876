"""Build the Teams app package: the zip an admin uploads to install Rapport in Teams.

The template lives in ``app_package/`` beside this module (``manifest.json``, ``color.png``,
``outline.png``) so it ships inside the installed package. Its app id and bot id are the all-zero
GUID because the manifest schema only accepts GUIDs; the bot's Microsoft App ID replaces them here.
The organisation's own name, developer, URLs and version come from `AppDetails`
(`rapport teams-package --name ... --website ...`), so nobody edits files in site-packages.
"""

from __future__ import annotations

import json
import logging
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

APP_PACKAGE_DIR = Path(__file__).with_name("app_package")
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
# The pattern of "#/definitions/guid" in the Teams manifest schema.
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Fixed zip timestamps make the same inputs produce the same bytes (diffable, cacheable).
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)
# Teams wants MAJOR.MINOR.PATCH and refuses an upload whose version did not go up.
_VERSION = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
# The template's URLs: a package that still names them is a sign the operator forgot them.
EXAMPLE_HOST = "rapport.example.com"


class InvalidDetail(ValueError):
    """An `AppDetails` value Teams would refuse; `option` names the CLI option."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class AppDetails:
    """What an organisation changes in the app package; None keeps the template's value."""

    name: str | None = None
    developer: str | None = None
    website: str | None = None
    privacy_url: str | None = None
    terms_url: str | None = None
    version: str | None = None

    def apply(self, manifest: dict[str, Any]) -> None:
        """Write the given values into `manifest`, refusing what Teams would refuse."""
        if self.name is not None:
            name = _text("--name", self.name, most=30, why="Teams shows it under the icon")
            manifest["name"] = {"short": name, "full": name}
        developer = manifest["developer"]
        if self.developer is not None:
            developer["name"] = _text("--developer", self.developer, most=32,
                                      why="the Teams manifest allows no more")
        for option, key, value in (("--website", "websiteUrl", self.website),
                                   ("--privacy-url", "privacyUrl", self.privacy_url),
                                   ("--terms-url", "termsOfUseUrl", self.terms_url)):
            if value is not None:
                developer[key] = _https(option, value)
        if self.version is not None:
            version = self.version.strip()
            if not _VERSION.fullmatch(version):
                raise InvalidDetail("--version", f"--version must look like 1.4.2 (three "
                                                 f"numbers), not {version[:40]!r}")
            manifest["version"] = version


def example_urls(manifest: dict[str, Any]) -> list[str]:
    """The developer URLs that still point at the template's example host."""
    developer = manifest.get("developer", {})
    return [key for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl")
            if EXAMPLE_HOST in str(developer.get(key, ""))]


def _text(option: str, value: str, *, most: int, why: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidDetail(option, f"{option} must not be empty")
    if len(value) > most:
        raise InvalidDetail(option, f"{option} must be at most {most} characters ({why}); "
                                    f"{value[:40]!r} has {len(value)}")
    return value


def _https(option: str, value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"https://[^\s/?#]+\.[^\s/?#]+(/\S*)?", value) or len(value) > 2048:
        raise InvalidDetail(option, f"{option} must be an https:// URL (Teams app validation "
                                    f"requires HTTPS), not {value[:80]!r}")
    return value


def is_guid(value: str) -> bool:
    """Whether ``value`` is a GUID as the Teams manifest schema defines one."""
    return bool(_GUID.fullmatch(value))


def load_manifest_template(manifest_dir: Path | None = None) -> dict[str, Any]:
    """The manifest template as a dict, placeholder ids included."""
    source = manifest_dir or APP_PACKAGE_DIR
    manifest: dict[str, Any] = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    return manifest


def render_manifest(manifest: dict[str, Any], *, app_id: str,
                    details: AppDetails | None = None) -> dict[str, Any]:
    """A copy of ``manifest`` with the app id and every bot id set to ``app_id``, and the
    organisation's `details` applied."""
    _check_app_id(app_id)
    rendered: dict[str, Any] = json.loads(json.dumps(manifest))
    rendered["id"] = app_id
    for bot in rendered.get("bots", []):
        bot["botId"] = app_id
    if details is not None:
        details.apply(rendered)
    if PLACEHOLDER_ID in json.dumps(rendered):
        # A placeholder in a field this function does not know about would ship a broken app.
        raise ValueError("manifest still contains the placeholder GUID after filling in app_id")
    return rendered


def build_teams_package(*, app_id: str, out_path: Path, manifest_dir: Path | None = None,
                        details: AppDetails | None = None) -> Path:
    """Write the Teams app zip (manifest with ``app_id`` and `details` filled in, plus icons)
    to ``out_path``."""
    _check_app_id(app_id)
    source = manifest_dir or APP_PACKAGE_DIR
    manifest = render_manifest(load_manifest_template(source), app_id=app_id, details=details)
    icon_names = [manifest["icons"]["color"], manifest["icons"]["outline"]]
    icons = {name: (source / name).read_bytes() for name in icon_names}

    out_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # Teams requires the three files at the zip root, not inside a folder.
        _write(archive, "manifest.json", (json.dumps(manifest, indent=2) + "\n").encode())
        for name, data in icons.items():
            _write(archive, name, data)
    logger.info("teams app package written", extra={"path": str(out_path)})
    return out_path


def _write(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def _check_app_id(app_id: str) -> None:
    if not is_guid(app_id):
        raise ValueError(
            f"app_id must be the bot's Microsoft App ID, a GUID like "
            f"12345678-90ab-cdef-1234-567890abcdef; got {app_id[:64]!r}"
        )
    if app_id == PLACEHOLDER_ID:
        raise ValueError(
            "app_id is the template's placeholder GUID; use the bot's Microsoft App ID"
        )
