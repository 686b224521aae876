"""Google Calendar and Microsoft 365 calendars (issue 16): consent with PKCE, an incremental
sync job, and meeting touchpoints captured as metadata only (who and when, never what).

Entry points for the core and the runtime:
- `CalendarConnections` (connect, complete, disconnect, forget a user, status);
- `CalendarSync` (the replica-safe job, with the `on_paused` hook for the "reconnect" DM);
- `briefs.upcoming_meetings` / `briefs.briefs_due` (meetings with contacts, for briefs);
- `service.build_calendar_service` (everything wired from Settings) and `web` (callbacks).
"""
