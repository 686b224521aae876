"""Rapport's data: typed models, engine setup, queries and migrations."""
