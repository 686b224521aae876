"""Microsoft Teams platform: Bot Framework adapter, Adaptive Cards and the Teams app package."""
