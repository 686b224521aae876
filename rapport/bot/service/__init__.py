"""Running Rapport: runtime wiring, the web server, the CLI, configuration, logs, metrics."""
