"""The Teams app package: manifest valid against Microsoft's schema, icons Teams accepts."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from rapport.bot.platforms.teams.package import (
    APP_PACKAGE_DIR,
    PLACEHOLDER_ID,
    AppDetails,
    InvalidDetail,
    build_teams_package,
    load_manifest_template,
)
from tests.bot.processes import clean_env, run_cli, run_cli_in_process

SCHEMA_PATH = Path(__file__).parents[1] / "data" / "schemas" / "MicrosoftTeams.schema.json"
APP_ID = "3f2b8c1e-6a4d-4e9b-9c2f-1d7e5a0b8c6d"
MAIN_COMMANDS = [
    "help", "log", "note", "due", "people", "snooze", "done", "draft", "stats", "settings",
]  # fmt: skip


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    # Some patterns use \p{L} (ECMAScript Unicode classes), which Python's `re` cannot compile,
    # so the metaschema's "regex" format check is skipped; none of them is on our manifest's path.
    jsonschema.Draft4Validator.check_schema(schema, format_checker=None)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def _schema_errors(validator: jsonschema.Draft4Validator, manifest: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]


# -- PNG reading with the standard library (Pillow is not a project dependency) --------------


@dataclass(frozen=True)
class _Png:
    width: int
    height: int
    color_type: int
    pixels: list[tuple[int, int, int, int]]


def _read_png(data: bytes) -> _Png:
    """Decode an 8-bit, non-interlaced RGB/RGBA PNG, the kinds the icons use."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, chunks = 8, []
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunks.append((kind, data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    assert chunks[0][0] == b"IHDR", "IHDR must come first"
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8 and interlace == 0 and color_type in (2, 6)
    channels = 4 if color_type == 6 else 3
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(line)
        previous = line
    pixels = [
        (row[x], row[x + 1], row[x + 2], row[x + 3] if channels == 4 else 255)
        for row in rows
        for x in range(0, stride, channels)
    ]
    return _Png(width, height, color_type, pixels)


# -- the template ----------------------------------------------------------------------------


def test_manifest_template_validates_against_the_teams_schema(
    validator: jsonschema.Draft4Validator,
) -> None:
    manifest = load_manifest_template()

    assert _schema_errors(validator, manifest) == []
    # Draft-04 has no `const`, so the schema alone would accept another version.
    assert manifest["manifestVersion"] == "1.29"
    assert manifest["id"] == PLACEHOLDER_ID


def test_schema_refuses_a_templated_id_which_is_why_the_template_holds_a_zero_guid(
    validator: jsonschema.Draft4Validator,
) -> None:
    manifest = load_manifest_template()
    manifest["id"] = "{{MICROSOFT_APP_ID}}"
    manifest["bots"][0]["botId"] = "{{MICROSOFT_APP_ID}}"
    manifest["accentColor"] = "teal"

    errors = _schema_errors(validator, manifest)

    assert any(error.startswith("id:") for error in errors)
    assert any(error.startswith("bots/0/botId:") for error in errors)
    assert any(error.startswith("accentColor:") for error in errors)


def test_manifest_declares_a_conversational_bot_in_every_scope() -> None:
    [bot] = load_manifest_template()["bots"]

    assert bot["botId"] == PLACEHOLDER_ID
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert bot["isNotificationOnly"] is False
    assert bot["supportsFiles"] is True  # contact import by file upload in the personal chat
    # Every declared scope lists its commands (Teams store validation); in a team or group
    # chat the answers still come privately.
    commands, shared = bot["commandLists"]
    assert commands["scopes"] == ["personal"]
    assert [c["title"] for c in commands["commands"]] == MAIN_COMMANDS
    assert shared["scopes"] == ["team", "groupChat"]


def test_manifest_commands_exist_in_the_command_grammar() -> None:
    from rapport.bot.core.verbs import VERBS

    [bot] = load_manifest_template()["bots"]
    titles = {c["title"] for commands in bot["commandLists"] for c in commands["commands"]}
    assert titles <= set(VERBS)


def test_color_icon_is_a_full_colour_192_square() -> None:
    icon = _read_png((APP_PACKAGE_DIR / "color.png").read_bytes())

    assert (icon.width, icon.height) == (192, 192)
    # Full bleed: Teams shows the colour icon on its own tile, so no see-through corners.
    assert all(alpha == 255 for *_, alpha in icon.pixels)
    assert len({pixel[:3] for pixel in icon.pixels}) > 2


def test_outline_icon_is_white_on_transparent_32_square() -> None:
    icon = _read_png((APP_PACKAGE_DIR / "outline.png").read_bytes())

    assert (icon.width, icon.height) == (32, 32)
    assert icon.color_type == 6, "the outline icon needs an alpha channel"
    visible = [pixel for pixel in icon.pixels if pixel[3] > 0]
    assert visible, "the outline icon is empty"
    assert all(pixel[:3] == (255, 255, 255) for pixel in visible)
    assert any(pixel[3] == 0 for pixel in icon.pixels), "the background must be transparent"


# -- the built zip ---------------------------------------------------------------------------


def test_package_holds_manifest_and_icons_with_the_bot_id(
    tmp_path: Path, validator: jsonschema.Draft4Validator
) -> None:
    out = build_teams_package(app_id=APP_ID, out_path=tmp_path / "dist" / "rapport-teams.zip")

    assert out == tmp_path / "dist" / "rapport-teams.zip"
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        icons = {name: archive.read(name) for name in ("color.png", "outline.png")}

    assert manifest["id"] == APP_ID
    assert [bot["botId"] for bot in manifest["bots"]] == [APP_ID]
    assert PLACEHOLDER_ID not in json.dumps(manifest)
    assert _schema_errors(validator, manifest) == []
    for name, data in icons.items():
        assert data == (APP_PACKAGE_DIR / name).read_bytes()


def test_package_bytes_are_reproducible(tmp_path: Path) -> None:
    first = build_teams_package(app_id=APP_ID, out_path=tmp_path / "a.zip")
    second = build_teams_package(app_id=APP_ID, out_path=tmp_path / "b.zip")

    assert first.read_bytes() == second.read_bytes()


def test_package_can_use_another_template_folder(tmp_path: Path) -> None:
    template = tmp_path / "template"
    template.mkdir()
    manifest = load_manifest_template()
    manifest["name"]["short"] = "Rapport (staging)"
    (template / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for name in ("color.png", "outline.png"):
        (template / name).write_bytes((APP_PACKAGE_DIR / name).read_bytes())

    out = build_teams_package(
        app_id=APP_ID, out_path=tmp_path / "staging.zip", manifest_dir=template
    )

    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as archive:
        assert json.loads(archive.read("manifest.json"))["name"]["short"] == "Rapport (staging)"


@pytest.mark.parametrize(
    "app_id",
    [
        "{{MICROSOFT_APP_ID}}",
        "",
        "rapport-bot",
        "3f2b8c1e6a4d4e9b9c2f1d7e5a0b8c6d",
        "{3f2b8c1e-6a4d-4e9b-9c2f-1d7e5a0b8c6d}",
        " 3f2b8c1e-6a4d-4e9b-9c2f-1d7e5a0b8c6d",
        "3f2b8c1e-6a4d-4e9b-9c2f-1d7e5a0b8c6d\n",
        PLACEHOLDER_ID,
    ],
)
def test_a_non_guid_app_id_is_refused(tmp_path: Path, app_id: str) -> None:
    out = tmp_path / "rapport-teams.zip"

    with pytest.raises(ValueError, match="app_id"):
        build_teams_package(app_id=app_id, out_path=out)

    assert not out.exists()


# -- the organisation's own details ----------------------------------------------------------


def test_teams_package_command_takes_the_organisations_details(
    tmp_path: Path, validator: jsonschema.Draft4Validator
) -> None:
    out = tmp_path / "acme.zip"
    result = run_cli(
        "teams-package", "--app-id", APP_ID, "--out", str(out), "--name", "Acme Rapport",
        "--developer", "Acme IT", "--website", "https://it.acme.test/rapport",
        "--privacy-url", "https://it.acme.test/privacy", "--terms-url",
        "https://it.acme.test/terms", "--version", "1.4.2",
        env=clean_env(tmp_path), cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "rapport.example.com" not in result.stdout
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert _schema_errors(validator, manifest) == []
    assert manifest["name"] == {"short": "Acme Rapport", "full": "Acme Rapport"}
    assert manifest["developer"] == {
        "name": "Acme IT",
        "websiteUrl": "https://it.acme.test/rapport",
        "privacyUrl": "https://it.acme.test/privacy",
        "termsOfUseUrl": "https://it.acme.test/terms",
    }
    assert manifest["version"] == "1.4.2"
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert "rapport.example.com" not in json.dumps(manifest)


def test_teams_package_without_details_warns_about_the_example_urls(tmp_path: Path) -> None:
    # In this process through the real entry point (run_cli_in_process says why); the command
    # runs as a real process in test_teams_package_command_takes_the_organisations_details.
    result = run_cli_in_process("teams-package", "--app-id", APP_ID, "--out",
                                str(tmp_path / "p.zip"), env=clean_env(tmp_path), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "still links to rapport.example.com" in result.stdout
    assert "--privacy-url" in result.stdout


def test_teams_package_never_writes_over_the_database(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    database = tmp_path / "rapport.db"  # clean_env's database
    database.write_bytes(b"SQLite format 3\x00 rows a person keeps")
    link = tmp_path / "package.zip"
    link.symlink_to(database)
    for target in (database, link):
        result = run_cli_in_process("teams-package", "--app-id", APP_ID, "--out", str(target),
                                    env=env, cwd=tmp_path)
        assert result.returncode != 0
        assert "Rapport's own database" in result.stderr
    assert database.read_bytes() == b"SQLite format 3\x00 rows a person keeps"


REFUSED_DETAILS = [
    ("--name", "A name far too long for the Teams app tile"),
    ("--name", "   "),
    ("--developer", "An organisation name longer than 32 characters"),
    ("--website", "http://it.acme.test"),
    ("--privacy-url", "acme.test/privacy"),
    ("--terms-url", "https://"),
    ("--version", "v1"),
    ("--version", "1.4"),
    ("--version", "1.04.2"),
]


@pytest.mark.parametrize(("option", "value"), REFUSED_DETAILS)
def test_teams_package_command_refuses_what_teams_would(
    tmp_path: Path, option: str, value: str
) -> None:
    out = tmp_path / "p.zip"
    # The first refusal runs as a real process; the others only differ in the value checked.
    run = run_cli if (option, value) == REFUSED_DETAILS[0] else run_cli_in_process
    result = run("teams-package", "--app-id", APP_ID, "--out", str(out), option, value,
                 env=clean_env(tmp_path), cwd=tmp_path)

    assert result.returncode == 2
    assert f"Invalid value for {option}" in result.stderr
    assert not out.exists()


def test_details_keep_the_template_where_not_given(validator: jsonschema.Draft4Validator,
                                                   tmp_path: Path) -> None:
    out = build_teams_package(app_id=APP_ID, out_path=tmp_path / "p.zip",
                              details=AppDetails(version="2.0.0"))
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    template = load_manifest_template()
    assert manifest["version"] == "2.0.0"
    assert manifest["name"] == template["name"]
    assert manifest["developer"] == template["developer"]
    assert _schema_errors(validator, manifest) == []
    with pytest.raises(InvalidDetail) as refused:
        build_teams_package(app_id=APP_ID, out_path=tmp_path / "q.zip",
                            details=AppDetails(website="ftp://acme.test"))
    assert refused.value.option == "--website"


def test_every_scope_the_bot_declares_has_its_commands_listed() -> None:
    [bot] = load_manifest_template()["bots"]
    listed = {scope for command_list in bot["commandLists"] for scope in command_list["scopes"]}
    assert listed == set(bot["scopes"])
    for command_list in bot["commandLists"]:
        assert {"help", "due"} <= {c["title"] for c in command_list["commands"]}
