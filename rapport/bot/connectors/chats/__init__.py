"""Chat capture (issue 16): a direct message between a user who opted in and one of their
contacts counts as a `chat` touchpoint for that day. Metadata only: who and when, never what.

`capture.log_chat_day` is the one write (platform-neutral); the Slack grant flow and event
listener live in `rapport.bot.platforms.slack.dm_capture`.
"""
