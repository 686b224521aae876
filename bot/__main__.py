"""`python -m bot` runs the rapport CLI."""

from bot.cli import main

main()
