"""Rapport: a Slack and Microsoft Teams bot that keeps work relationships human.

Three layers, dependencies pointing one way: `rapport.bot` (people: grammar, use cases,
platforms, service) -> `rapport.scheduler` (time) -> `rapport.storage` (data).
"""


def __getattr__(name: str) -> str:
    # Looked up on first use: reading the installed metadata scans site-packages, which every
    # start would otherwise pay for (`--version` is the only command that prints it).
    if name != "__version__":
        raise AttributeError(f"module 'rapport' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rapport")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"
