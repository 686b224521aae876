"""`python -m rapport` runs the rapport CLI."""

from rapport.bot.service.cli import main

main()
