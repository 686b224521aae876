"""A meeting brief the messenger does not send is not lost silently: a failure worth another
try gives the meeting back to the next run (until the meeting begins), one that cannot go
through as it is stays handled and is logged, as the nudge sweep does with a failed nudge."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from rapport.bot.connectors.calendars.briefs import BriefJob, UpcomingMeeting, release_claim
from rapport.scheduler.messenger import DeliveryResult
from rapport.storage import db, queries
from rapport.storage.models import CapturedEvent
from rapport.storage.uow import Database
from tests.connectors.seed import connected_user
from tests.connectors.test_meeting_briefs import MEETING, _setup
from tests.fakes.calendar_fixtures import CalendarApp

BRIEFS_LOGGER = "rapport.bot.connectors.calendars.briefs"


async def _job_answering(app: CalendarApp, *answers: bool | DeliveryResult
                         ) -> tuple[BriefJob, list[str]]:
    """The brief job of `_setup`'s meeting, whose messenger answers `answers` in turn (then
    sends)."""
    await _setup(app)
    told: list[str] = []
    queue = list(answers)

    async def tell(user_id: int, text: str, people: object = ()) -> bool | DeliveryResult:
        told.append(text)
        return queue.pop(0) if queue else True

    return BriefJob(sessions=app.runtime.sessions, tell=tell, clock=app.clock), told


@pytest.mark.parametrize("failure", [DeliveryResult.retry("teams 503", retry_after=30), False])
async def test_a_brief_not_sent_for_now_is_tried_again_by_the_next_run(
        calendar_app: CalendarApp, failure: bool | DeliveryResult,
        caplog: pytest.LogCaptureFixture) -> None:
    job, told = await _job_answering(calendar_app, failure, failure)
    calendar_app.clock.set(MEETING - timedelta(minutes=29))

    with caplog.at_level(logging.WARNING, logger=BRIEFS_LOGGER):
        assert await job.run_once() == 0
        calendar_app.clock.advance(minutes=1)
        assert await job.run_once() == 0
        calendar_app.clock.advance(minutes=1)
        assert await job.run_once() == 1

    assert len(told) == 3 and told[0] == told[2]
    logged = [record for record in caplog.records if record.name == BRIEFS_LOGGER]
    assert [record.getMessage() for record in logged] == [
        "meeting brief not sent, retried next run"] * 2
    assert (logged[0].__dict__["status"], logged[0].__dict__["error"]) == (
        "retry", "teams 503" if failure else "not sent")
    # Briefed once: nothing more to send.
    calendar_app.clock.advance(minutes=1)
    assert await job.run_once() == 0 and len(told) == 3


@pytest.mark.parametrize("failure", [DeliveryResult.failed("teams 400"),
                                     DeliveryResult.gone("teams 403")])
async def test_a_brief_that_cannot_go_through_is_logged_and_not_retried(
        calendar_app: CalendarApp, failure: DeliveryResult,
        caplog: pytest.LogCaptureFixture) -> None:
    job, told = await _job_answering(calendar_app, failure)
    calendar_app.clock.set(MEETING - timedelta(minutes=29))

    with caplog.at_level(logging.WARNING, logger=BRIEFS_LOGGER):
        assert await job.run_once() == 0
        calendar_app.clock.advance(minutes=1)
        assert await job.run_once() == 0

    assert len(told) == 1
    [record] = [record for record in caplog.records if record.name == BRIEFS_LOGGER]
    assert record.getMessage() == "meeting brief failed, not retried"
    assert (record.__dict__["status"], record.__dict__["error"]) == (failure.status,
                                                                    failure.error)
    # The log says which meeting, never what the brief says.
    assert "Dana" not in str(record.__dict__)


async def test_a_brief_is_not_retried_once_the_meeting_has_begun(
        calendar_app: CalendarApp) -> None:
    job, told = await _job_answering(calendar_app, DeliveryResult.retry("teams 503"))
    calendar_app.clock.set(MEETING - timedelta(minutes=1))
    assert await job.run_once() == 0

    calendar_app.clock.set(MEETING + timedelta(minutes=1))
    assert await job.run_once() == 0

    assert len(told) == 1


async def test_a_claim_given_back_is_the_one_made_then_on_both_databases(
        any_engine: AsyncEngine) -> None:
    """The claim is given back by its moment (microseconds included, as the real clock has
    them); one made at another moment (by another run) stays."""
    claimed_at = datetime(2026, 11, 23, 12, 30, 0, 123456, tzinfo=UTC)
    start = claimed_at + timedelta(minutes=30)
    database = Database(db.session_factory(any_engine))

    def seed(session: Session) -> UpcomingMeeting:
        ref = connected_user(session, "alex", claimed_at, "UTC")
        meetings = [session.execute(insert(CapturedEvent).values(
            connection_id=ref.connection_id, workspace_id=ref.workspace_id,
            user_id=ref.user_id, event_id=f"event-{number}", start_at=start,
            end_at=start + timedelta(minutes=30), updated_at=claimed_at)
            .returning(CapturedEvent.id)).scalar_one() for number in range(3)]
        assert queries.claim_brief(session, meetings[0], claimed_at)
        assert queries.claim_brief(session, meetings[1], claimed_at)
        assert queries.claim_brief(session, meetings[2], claimed_at - timedelta(minutes=1))
        return UpcomingMeeting(meeting_id=meetings[0], workspace_id=ref.workspace_id,
                               user_id=ref.user_id, provider="google", start_at=start,
                               end_at=start + timedelta(minutes=30), contact_ids=(),
                               same_in_other_calendars=tuple(meetings[1:]))

    meeting = await database.run(seed)
    await database.run(lambda session: release_claim(session, meeting, claimed_at))

    async with db.session_factory(any_engine)() as session:
        handled = dict((await session.execute(
            select(CapturedEvent.id, CapturedEvent.brief_sent_at))).all())
    assert handled == {meeting.meeting_id: None, meeting.same_in_other_calendars[0]: None,
                       meeting.same_in_other_calendars[1]: claimed_at - timedelta(minutes=1)}
