"""Rapport: a Slack and Microsoft Teams bot that keeps work relationships human.

Three layers, dependencies pointing one way: `rapport.bot` (people: grammar, use cases,
platforms, service) -> `rapport.scheduler` (time) -> `rapport.storage` (data).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rapport")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
