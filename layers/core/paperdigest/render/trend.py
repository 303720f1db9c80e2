"""Draw papers per category over recent digests as a stacked bar chart (PNG bytes).

Each category keeps the colour of the daily chart (``category_color``) and the text
uses the shipped Hangul font. This module imports matplotlib through the chart
module: import it lazily, never at a handler's cold start.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from paperdigest.render.archive import ArchiveEntry
from paperdigest.render.chart import DPI, FALLBACK_FAMILY, category_color, font_family

TREND_LIMIT = 30
WIDTH_IN = 9.0
HEIGHT_IN = 4.8
BAR_WIDTH = 0.7
# Room for this many dates, so the first digests' bars stay slim; history grows rightwards.
MIN_SLOTS = 7


@dataclass(frozen=True, slots=True)
class TrendText:
    """The fixed text of the trend chart in one language."""

    title: str
    axis: str


TREND_TEXT: dict[str, TrendText] = {
    "ko": TrendText(title="최근 {count}회 다이제스트의 카테고리별 논문 수", axis="논문 수"),
    "en": TrendText(title="Papers per category, last {count} digests", axis="Papers"),
}


def date_labels(dates: list[str]) -> list[str]:
    """Axis labels of ISO dates: month and day, with the year on the first and on each new year."""
    labels, year = [], ""
    for date in dates:
        labels.append(date if date[:4] != year else date[5:])
        year = date[:4]
    return labels


def trend_series(entries: list[ArchiveEntry]) -> tuple[list[str], dict[str, list[int]]]:
    """Return the dates (oldest first) and each category's counts over them.

    ``entries`` are newest first; the newest ``TREND_LIMIT`` are used. Categories are
    ordered by their total, largest first, ties by name.
    """
    shown = list(reversed(entries[:TREND_LIMIT]))
    dates = [entry.date for entry in shown]
    series: dict[str, list[int]] = {}
    for position, entry in enumerate(shown):
        for category in entry.categories:
            counts = series.setdefault(category.name, [0] * len(shown))
            counts[position] += category.papers
    ordered = sorted(series, key=lambda name: (-sum(series[name]), name))
    return dates, {name: series[name] for name in ordered}


def render_trend(entries: list[ArchiveEntry], language: str) -> bytes:
    """Return the trend chart as PNG bytes, identical for identical entries.

    Raises ``ValueError`` for a language we lack or no entries.
    """
    if language not in TREND_TEXT:
        known = ", ".join(sorted(TREND_TEXT))
        raise ValueError(f"unsupported language {language!r} (known: {known})")
    if not entries:
        raise ValueError("a trend needs at least one digest")

    text = TREND_TEXT[language]
    dates, series = trend_series(entries)
    buffer = io.BytesIO()
    with matplotlib.rc_context(
        {"font.family": [font_family(), FALLBACK_FAMILY], "text.parse_math": False}
    ):
        figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
        axes = figure.subplots()
        positions = list(range(len(dates)))
        bottoms = [0] * len(dates)
        for name, counts in series.items():
            axes.bar(
                positions,
                counts,
                width=BAR_WIDTH,
                bottom=bottoms,
                color=category_color(name),
                label=name,
            )
            bottoms = [b + c for b, c in zip(bottoms, counts, strict=True)]
        axes.set_title(text.title.format(count=len(dates)), fontsize=14, pad=10)
        axes.set_ylabel(text.axis, fontsize=11)
        axes.set_xlim(-0.5 - BAR_WIDTH / 2, max(len(dates), MIN_SLOTS) - 0.5)
        axes.set_xticks(positions, date_labels(dates), rotation=45, ha="right")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="y", color="#dddddd", linewidth=0.8)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        if series:
            figure.legend(loc="outside right upper", fontsize=9, frameon=False)
        try:
            figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        finally:
            figure.clear()
    return buffer.getvalue()
