"""Build the Teams app package: the zip an admin uploads to install Rapport in Teams.

The template lives in ``bot/teams/app_package/`` (``manifest.json``, ``color.png``,
``outline.png``) so it ships inside the installed package. Its app id and bot id are the all-zero
GUID because the manifest schema only accepts GUIDs; the bot's Microsoft App ID replaces them here.
"""

from __future__ import annotations

import json
import logging
import re
import zipfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

APP_PACKAGE_DIR = Path(__file__).with_name("app_package")
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
# The pattern of "#/definitions/guid" in the Teams manifest schema.
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Fixed zip timestamps make the same inputs produce the same bytes (diffable, cacheable).
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)


def is_guid(value: str) -> bool:
    """Whether ``value`` is a GUID as the Teams manifest schema defines one."""
    return bool(_GUID.fullmatch(value))


def load_manifest_template(manifest_dir: Path | None = None) -> dict[str, Any]:
    """The manifest template as a dict, placeholder ids included."""
    source = manifest_dir or APP_PACKAGE_DIR
    manifest: dict[str, Any] = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    return manifest


def render_manifest(manifest: dict[str, Any], *, app_id: str) -> dict[str, Any]:
    """A copy of ``manifest`` with the app id and every bot id set to ``app_id``."""
    _check_app_id(app_id)
    rendered: dict[str, Any] = json.loads(json.dumps(manifest))
    rendered["id"] = app_id
    for bot in rendered.get("bots", []):
        bot["botId"] = app_id
    if PLACEHOLDER_ID in json.dumps(rendered):
        # A placeholder in a field this function does not know about would ship a broken app.
        raise ValueError("manifest still contains the placeholder GUID after filling in app_id")
    return rendered


def build_teams_package(*, app_id: str, out_path: Path, manifest_dir: Path | None = None) -> Path:
    """Write the Teams app zip (manifest with ``app_id`` filled in, plus icons) to ``out_path``."""
    _check_app_id(app_id)
    source = manifest_dir or APP_PACKAGE_DIR
    manifest = render_manifest(load_manifest_template(source), app_id=app_id)
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
