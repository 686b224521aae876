"""The console platform: the same commands and nudges in a terminal."""
