"""The platform-free core: grammar, dates, name resolution, use cases, views, drafts, import,
stats. Nothing here imports Slack, Teams or a web framework."""
