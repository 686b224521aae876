"""The team report: aggregate, privacy-preserving numbers for a workspace's admins.

Only counts and shares over at least `MIN_GROUP` users leave this module: no names, notes,
drafts, companies or ids, so no individual can be singled out. Charts are matplotlib PNGs
embedded as data URIs, so `report.html` is one self-contained file. matplotlib (with numpy,
over 160 MB) is the optional `report` extra: without it the page has the same numbers as
tables and says how to get the charts.
"""

from __future__ import annotations

import base64
import html
import io
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport.bot.core.importer import write_safe_csv
from rapport.bot.core.stats import (
    USED_DRAFT_OUTCOMES,
    classify_nudge,
    rewritten_share,
)
from rapport.scheduler import planner
from rapport.storage.models import Contact, Draft, Nudge, Touchpoint, User

logger = logging.getLogger(__name__)

MIN_GROUP = 5
WEEKS = 12
HEALTH_BUCKETS = ("within rhythm", "overdue < 2 weeks", "overdue 2-8 weeks", "overdue > 8 weeks")
CHARTS_HINT = "Charts need matplotlib: pip install 'rapport[report]'"


class GroupTooSmall(Exception):
    """Fewer than MIN_GROUP users have data: a report could single someone out."""

    def __init__(self, users: int) -> None:
        if users == 0:
            who = "No one in this workspace has contacts yet"
        else:
            have = "user in this workspace has" if users == 1 else "users in this workspace have"
            who = f"Only {users} {have} contacts"
        super().__init__(f"{who}; a team report needs at least {MIN_GROUP} so that no one can "
                         "be singled out.")
        self.users = users


@dataclass(frozen=True, slots=True)
class TeamReport:
    """Aggregates over a workspace's users; contains no personal data."""

    generated_at: datetime
    users: int
    contacts: int
    weeks: tuple[date, ...]  # Monday of each week, oldest first
    touchpoints_per_week: tuple[int, ...]
    nudges_resolved_per_week: tuple[int, ...]
    acted_on_per_week: tuple[int, ...]
    health: tuple[tuple[str, int], ...]
    nudges_resolved: int
    nudges_acted_on: int
    drafts_used: int
    drafts_edited: int
    # Do drafts help? The same measures as a person's stats, over everyone.
    drafts_on_nudges: int = 0
    drafts_discarded: int = 0
    mean_rewritten_share: float | None = None
    # (acted on within 48 h, answered) for nudges with a draft and without; `draft_users` is
    # how many people had drafts on answered nudges (the comparison needs MIN_GROUP of them).
    with_draft: tuple[int, int] = (0, 0)
    without_draft: tuple[int, int] = (0, 0)
    draft_users: int = 0

    @property
    def acted_on_rate(self) -> float | None:
        return self.nudges_acted_on / self.nudges_resolved if self.nudges_resolved else None

    @property
    def draft_comparison(self) -> tuple[float, float] | None:
        """Acted-on rate with a draft and without, when at least MIN_GROUP people used drafts
        on nudges (fewer could single someone out) and both sides have nudges."""
        if self.draft_users < MIN_GROUP or not self.with_draft[1] or not self.without_draft[1]:
            return None
        return (self.with_draft[0] / self.with_draft[1],
                self.without_draft[0] / self.without_draft[1])

    def acted_on_rate_per_week(self) -> tuple[float | None, ...]:
        return tuple(a / r if r else None for a, r in
                     zip(self.acted_on_per_week, self.nudges_resolved_per_week, strict=True))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _health_bucket(next_due: datetime | None, now: datetime, tz: str) -> str:
    """Counted in the contact's owner's calendar, as their `stats` counts: someone due today
    is within the rhythm, whatever the hour."""
    days = 0 if next_due is None else planner.days_past_rhythm(next_due, now, tz)
    if days <= 0:
        return HEALTH_BUCKETS[0]
    if days < 14:
        return HEALTH_BUCKETS[1]
    return HEALTH_BUCKETS[2] if days <= 56 else HEALTH_BUCKETS[3]


async def build_report(sessions: async_sessionmaker[AsyncSession], workspace_id: int,
                       now: datetime, *, weeks: int = WEEKS) -> TeamReport:
    """Aggregate a workspace; raises GroupTooSmall under MIN_GROUP users with contacts."""
    this_monday = _monday(now.date())
    mondays = tuple(this_monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks))
    start = datetime.combine(mondays[0], datetime.min.time(), tzinfo=now.tzinfo)
    async with sessions() as session:
        users = await session.scalar(
            select(func.count(Contact.user_id.distinct()))
            .join(User, User.id == Contact.user_id)
            .where(Contact.workspace_id == workspace_id)) or 0
        if users < MIN_GROUP:
            raise GroupTooSmall(users)
        touch_weeks: Counter[date] = Counter(
            _monday(at.date()) for at in (await session.scalars(
                select(Touchpoint.happened_at).where(Touchpoint.workspace_id == workspace_id,
                                                     Touchpoint.happened_at >= start,
                                                     Touchpoint.happened_at <= now))).all())
        drafts = (await session.execute(
            select(Draft.user_id, Draft.nudge_id, Draft.outcome, Draft.edit_distance,
                   Draft.draft_length.label("length"))
            .where(Draft.workspace_id == workspace_id))).all()
        drafted = {row.nudge_id: row.user_id for row in drafts if row.nudge_id is not None}
        resolved_weeks: Counter[date] = Counter()
        acted_weeks: Counter[date] = Counter()
        resolved = acted = 0
        with_draft, without_draft = [0, 0], [0, 0]
        draft_users: set[int] = set()
        for nudge_id, status, snoozes, delivered_at, acted_at, due_at in (
                await session.execute(
                    select(Nudge.id, Nudge.status, Nudge.snooze_count, Nudge.delivered_at,
                           Nudge.acted_at, Nudge.due_at)
                    .where(Nudge.workspace_id == workspace_id))).all():
            kind = classify_nudge(status, snoozes, delivered_at, acted_at, now)
            if kind is None or kind == "waiting":
                continue
            week = _monday((delivered_at or due_at).date())
            resolved += 1
            resolved_weeks[week] += 1
            side = with_draft if nudge_id in drafted else without_draft
            side[0] += kind == "acted_on"
            side[1] += 1
            if nudge_id in drafted:
                draft_users.add(drafted[nudge_id])
            if kind == "acted_on":
                acted += 1
                acted_weeks[week] += 1
        contacts = (await session.execute(
            select(Contact.cadence_days, Contact.next_due_at, User.tz)
            .join(User, User.id == Contact.user_id)
            .where(Contact.workspace_id == workspace_id))).all()
        health = Counter(_health_bucket(due, now, tz) for cadence, due, tz in contacts
                         if cadence)
    used = [row.edit_distance for row in drafts if row.outcome in USED_DRAFT_OUTCOMES]
    rewritten = [rewritten_share(row.edit_distance, row.length) for row in drafts
                 if row.outcome in USED_DRAFT_OUTCOMES and row.edit_distance is not None]
    return TeamReport(
        generated_at=now, users=users, contacts=len(contacts), weeks=mondays,
        touchpoints_per_week=tuple(touch_weeks[m] for m in mondays),
        nudges_resolved_per_week=tuple(resolved_weeks[m] for m in mondays),
        acted_on_per_week=tuple(acted_weeks[m] for m in mondays),
        health=tuple((bucket, health[bucket]) for bucket in HEALTH_BUCKETS),
        nudges_resolved=resolved, nudges_acted_on=acted, drafts_used=len(used),
        drafts_edited=sum(1 for d in used if d), drafts_on_nudges=len(drafted),
        drafts_discarded=sum(1 for row in drafts if row.outcome == "discarded"),
        mean_rewritten_share=sum(rewritten) / len(rewritten) if rewritten else None,
        with_draft=(with_draft[0], with_draft[1]),
        without_draft=(without_draft[0], without_draft[1]), draft_users=len(draft_users))


# ------------------------------------------------------------------------------ charts
def _png(figure: object) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")  # type: ignore[attr-defined]
    return buffer.getvalue()


def charts_available() -> bool:
    """Whether matplotlib (the `report` extra) can be imported here."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def render_charts(report: TeamReport) -> dict[str, bytes]:
    """Three PNG charts: touchpoints per week, acted-on rate per week, health distribution.

    Needs the `report` extra (see `charts_available`).
    """
    import matplotlib

    matplotlib.use("Agg")  # no display; safe in servers and CI
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    labels = [f"{m:%b} {m.day}" for m in report.weeks]
    charts: dict[str, bytes] = {}
    color = "#3b6ea5"

    fig, ax = plt.subplots(figsize=(8, 3.4))
    bars = ax.bar(labels, report.touchpoints_per_week, color=color)
    ax.bar_label(bars, fontsize=8)
    ax.set_title("Conversations logged per week")
    ax.set_xlabel("week starting")
    ax.set_ylabel("conversations")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    charts["touchpoints_per_week"] = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 3.4))
    rates = [None if r is None else r * 100 for r in report.acted_on_rate_per_week()]
    xs = [i for i, r in enumerate(rates) if r is not None]
    ys = [r for r in rates if r is not None]
    ax.plot(xs, ys, marker="o", color=color)
    for x, y in zip(xs, ys, strict=True):
        ax.annotate(f"{y:.0f}%", (x, y), textcoords="offset points", xytext=(0, 6),
                    ha="center", fontsize=8)
    ax.set_xticks(range(len(labels)), labels, rotation=45, fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_title("Nudges acted on within 48 hours (share of answered nudges)")
    ax.set_xlabel("week the nudge arrived")
    ax.set_ylabel("acted on (%)")
    ax.spines[["top", "right"]].set_visible(False)
    charts["acted_on_rate"] = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 3.4))
    names = [name for name, _ in report.health]
    counts = [count for _, count in report.health]
    bars = ax.barh(names, counts, color=["#4a9a5b", "#e0b040", "#e07b39", "#c0392b"])
    ax.bar_label(bars, fontsize=8, padding=2)
    ax.invert_yaxis()
    ax.set_title("Relationship health: contacts with a keep-in-touch rhythm")
    ax.set_xlabel("contacts")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    charts["health"] = _png(fig)
    plt.close(fig)
    return charts


# ------------------------------------------------------------------------------ files
def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{share * 100:.0f}%"


def report_csv(report: TeamReport) -> str:
    """The report's numbers as CSV (section, label, value); every cell formula-safe."""
    rows: list[list[object]] = [["section", "label", "value"],
                                ["summary", "users", report.users],
                                ["summary", "contacts", report.contacts],
                                ["summary", "nudges answered", report.nudges_resolved],
                                ["summary", "nudges acted on within 48h", report.nudges_acted_on],
                                ["summary", "acted-on rate", _pct(report.acted_on_rate)],
                                ["summary", "drafts used", report.drafts_used],
                                ["summary", "drafts edited before use", report.drafts_edited]]
    rows += [["drafts", label, value] for label, value in draft_measures(report)]
    for monday, count in zip(report.weeks, report.touchpoints_per_week, strict=True):
        rows.append(["touchpoints per week", monday.isoformat(), count])
    for monday, rate in zip(report.weeks, report.acted_on_rate_per_week(), strict=True):
        rows.append(["acted-on rate per week", monday.isoformat(), _pct(rate)])
    for bucket, count in report.health:
        rows.append(["health", bucket, count])
    return write_safe_csv(rows)


def draft_measures(report: TeamReport) -> list[tuple[str, str]]:
    """Whether drafts help, in aggregate: the same measures as a person's stats line."""
    comparison = report.draft_comparison
    if comparison is None:
        compared = (f"not shown: fewer than {MIN_GROUP} people used drafts on nudges",) * 2
    else:
        compared = (_pct(comparison[0]), _pct(comparison[1]))
    return [("nudges with a draft", str(report.drafts_on_nudges)),
            ("drafts sent after edits", str(report.drafts_used)),
            ("average share rewritten", _pct(report.mean_rewritten_share)),
            ("drafts discarded", str(report.drafts_discarded)),
            ("acted-on rate with a draft", compared[0]),
            ("acted-on rate without a draft", compared[1])]


def _table(caption: str, header: tuple[str, str], rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>"
                   for a, b in rows)
    return (f"<table class=\"data\"><caption>{html.escape(caption)}</caption><tr>"
            f"<th>{html.escape(header[0])}</th><th>{html.escape(header[1])}</th></tr>"
            f"{body}</table>")


def report_html(report: TeamReport, charts: dict[str, bytes] | None) -> str:
    """A self-contained HTML page: summary table, then each chart (PNG data URIs) or, without
    the `report` extra (`charts` is None), its numbers as a table and how to get the charts."""
    def img(key: str, alt: str) -> str:
        data = base64.b64encode(charts[key]).decode() if charts else ""
        return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">' \
               "</figure>"

    within = dict(report.health).get(HEALTH_BUCKETS[0], 0)
    with_rhythm = sum(count for _, count in report.health)
    within_share = within / with_rhythm if with_rhythm else None
    summary = [("People using Rapport (with contacts)", str(report.users)),
               ("Contacts", str(report.contacts)),
               (f"Conversations logged, last {len(report.weeks)} weeks",
                str(sum(report.touchpoints_per_week))),
               ("Nudges acted on within 48 hours",
                f"{report.nudges_acted_on} of {report.nudges_resolved} answered "
                f"({_pct(report.acted_on_rate)})"),
               ("Contacts within their rhythm",
                f"{within} of {with_rhythm} ({_pct(within_share)})"),
               ("AI drafts used / edited before use",
                f"{report.drafts_used} / {report.drafts_edited}")]
    comparison = report.draft_comparison
    summary.append((
        "Drafts", f"used on {report.drafts_on_nudges} nudges, {report.drafts_used} sent after "
                  f"edits (avg {_pct(report.mean_rewritten_share)} rewritten), "
                  f"{report.drafts_discarded} discarded"))
    summary.append((
        "Nudges acted on with a draft vs without",
        f"{_pct(comparison[0])} vs {_pct(comparison[1])}" if comparison is not None
        else f"not shown: fewer than {MIN_GROUP} people used drafts on nudges"))
    rows = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                     for k, v in summary)
    if charts is not None:
        figures = "\n".join((img("touchpoints_per_week", "Conversations logged per week"),
                             img("acted_on_rate",
                                 "Share of nudges acted on within 48 hours, per week"),
                             img("health", "Contacts by relationship health")))
    else:
        weeks = [m.isoformat() for m in report.weeks]
        figures = "\n".join((
            f'<p class="hint">{html.escape(CHARTS_HINT)}.</p>',
            _table("Conversations logged per week", ("week starting", "conversations"),
                   [(w, str(n)) for w, n in zip(weeks, report.touchpoints_per_week,
                                                strict=True)]),
            _table("Nudges acted on within 48 hours (share of answered nudges)",
                   ("week the nudge arrived", "acted on"),
                   [(w, _pct(r)) for w, r in zip(weeks, report.acted_on_rate_per_week(),
                                                 strict=True)]),
            _table("Relationship health: contacts with a keep-in-touch rhythm",
                   ("health", "contacts"), [(name, str(n)) for name, n in report.health])))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rapport team report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}}
th{{text-align:left;padding-right:2rem;font-weight:500}}img{{max-width:100%}}
table.data{{margin:1.5rem 0}}caption{{text-align:left;font-weight:600}}</style></head>
<body><h1>Rapport team report</h1>
<p>Generated {report.generated_at:%Y-%m-%d %H:%M} UTC. Aggregated over {report.users} people;
no names, notes or drafts are included, and groups under {MIN_GROUP} people get no report.</p>
<table>{rows}</table>
{figures}
</body></html>
"""


def write_report(report: TeamReport, out_dir: Path) -> tuple[Path, Path]:
    """Write report.html and report.csv into `out_dir` (created if missing); the charts only
    when the `report` extra is installed (`charts_available`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = render_charts(report) if charts_available() else None
    html_path, csv_path = out_dir / "report.html", out_dir / "report.csv"
    html_path.write_text(report_html(report, charts), encoding="utf-8")
    csv_path.write_text(report_csv(report), encoding="utf-8")
    return html_path, csv_path
