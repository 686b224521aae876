"""`python -m rapport` runs the rapport CLI."""

from rapport.launch import main

main()
