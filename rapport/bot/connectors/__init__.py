"""Connectors that capture touchpoints for a user (calendars, work chat), driven by scheduler
jobs; they hand the core typed touchpoints and never import a chat platform."""
