"""People: the command grammar and use cases (core), the chat platforms, the capture
connectors, and the service that runs them (runtime, web server, CLI, configuration)."""
