"""Read compose.yaml as Docker Compose would: parse the YAML, then interpolate `${...}` in its
values (comments are never interpolated).

No Compose plugin is needed (this machine has none): the interpolation rules Rapport's file
uses are small, and anything else in the file is refused so the tests notice it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; `$$` is a literal $.
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?"
                       r"(?P<arg>[^}]*)\}")


class MissingVariable(Exception):
    """A `${NAME:?message}` variable was not set: Compose refuses to start with the message."""


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [text for value in node.values() for text in _strings(value)]
    if isinstance(node, list):
        return [text for value in node for text in _strings(value)]
    return [node] if isinstance(node, str) else []


def _raw() -> Any:
    return yaml.safe_load(COMPOSE_FILE.read_text("utf-8"))


def interpolations() -> list[tuple[str, str | None, str]]:
    """(name, operator, argument) of every `${...}` in compose.yaml's values."""
    return [(m["name"], m["op"], m["arg"]) for text in _strings(_raw())
            for m in _VARIABLE.finditer(text) if m["name"]]


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """`text` with every `${...}` replaced as Compose does."""
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match["name"], match["op"], match["arg"]
        value = env.get(name)
        if op in (":-", "-"):
            use_default = value is None or (op == ":-" and value == "")
            return arg if use_default else str(value)
        if op in (":?", "?"):
            if value is None or (op == ":?" and value == ""):
                raise MissingVariable(f"required variable {name} is missing a value: {arg}")
            return str(value)
        return value or ""

    return _VARIABLE.sub(replace, text)


def _render(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {key: _render(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_render(value, env) for value in node]
    return interpolate(node, env) if isinstance(node, str) else node


def load_compose(env: Mapping[str, str]) -> dict[str, Any]:
    """compose.yaml rendered with `env` (the shell or .env of the operator)."""
    rendered: dict[str, Any] = _render(_raw(), env)
    return rendered


def container_environment(service: Mapping[str, Any], env: Mapping[str, str]
                          ) -> dict[str, str]:
    """What the container sees: a key without a value passes the operator's value through,
    and is left out when the operator did not set it."""
    result: dict[str, str] = {}
    for key, value in (service.get("environment") or {}).items():
        if value is None:
            if key in env:
                result[key] = env[key]
        else:
            result[key] = str(value)
    return result
