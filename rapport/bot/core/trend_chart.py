"""The small goal-attainment trend chart: a PNG made with matplotlib's Agg canvas.

matplotlib is imported lazily and may be missing (it may become an optional extra): then
`trend_png` answers None and every platform shows the accessible text line alone. The figure is
built with the object API (no pyplot state), so rendering in a worker thread is safe.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from rapport.scheduler.attainment import TREND_WEEKS, GoalAttainment, trend_text

logger = logging.getLogger(__name__)

# 320 x 128 pixels: small enough for a Teams card (messages are capped near 28 KB) and a
# Slack message, readable on a phone.
WIDTH_INCHES, HEIGHT_INCHES, DPI = 4.0, 1.6, 80
FILENAME = "goal-trend.png"
TITLE = f"Goal attainment, last {TREND_WEEKS} weeks"
_COLORS = ("#3b6ea5", "#4a9a5b", "#e07b39", "#8e5ea2", "#c0392b", "#7f8c8d")


@dataclass(frozen=True, slots=True)
class TrendChart:
    """The chart and the text line that says the same for people who can't see it."""

    png: bytes | None
    alt_text: str
    filename: str = FILENAME
    title: str = TITLE


def trend_chart(goals: Sequence[GoalAttainment]) -> TrendChart | None:
    """The chart of `goals` (None without goals); `png` is None when matplotlib is missing."""
    shown = [goal for goal in goals if any(point.members for point in goal.trend)]
    if not shown:
        return None
    return TrendChart(png=trend_png(shown), alt_text=trend_text(shown))


def trend_png(goals: Sequence[GoalAttainment]) -> bytes | None:
    """One line per goal, 0-100 %, eight weeks ago to now; None when matplotlib is missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        logger.info("matplotlib is not installed; goal trend shown as text only")
        return None
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [f"-{TREND_WEEKS - k}w" if k < TREND_WEEKS else "now"
              for k in range(TREND_WEEKS + 1)]
    for index, goal in enumerate(goals[:len(_COLORS)]):
        xs = [k for k, point in enumerate(goal.trend) if point.share is not None]
        ys = [round((point.share or 0.0) * 100) for point in goal.trend
              if point.share is not None]
        axes.plot(xs, ys, marker="o", markersize=2.5, linewidth=1.4,
                  color=_COLORS[index % len(_COLORS)], label=goal.tag[:20])
    axes.set_ylim(0, 105)
    axes.set_yticks([0, 50, 100], ["0%", "50%", "100%"], fontsize=6)
    axes.set_xticks([0, TREND_WEEKS // 2, TREND_WEEKS],
                    [labels[0], labels[TREND_WEEKS // 2], labels[-1]], fontsize=6)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", linewidth=0.3, alpha=0.5)
    axes.legend(fontsize=6, frameon=False, loc="lower left", ncol=min(len(goals), 3))
    figure.subplots_adjust(left=0.1, right=0.98, top=0.95, bottom=0.15)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
