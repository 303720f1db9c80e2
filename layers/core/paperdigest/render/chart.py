"""Draw the day's papers-per-category bar chart as PNG bytes, with Hangul that renders.

The chart uses the OFL font that ships in ``paperdigest/fonts`` (NanumSquare), so it
needs no system font. Each category keeps one colour every day, keyed by its taxonomy
id. This is the only module of the package that imports matplotlib.
"""

from __future__ import annotations

import io
import os
import tempfile
import zlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from paperdigest.errors import ConfigError
from paperdigest.taxonomy import load_taxonomy


def _ensure_mplconfigdir() -> None:
    """Point ``MPLCONFIGDIR`` at a writable folder before matplotlib is imported.

    NOTE: Lambda's home is read-only, and matplotlib writes its font cache there
    unless this variable names a folder it can write.
    """
    current = os.environ.get("MPLCONFIGDIR", "")
    if current and os.path.isdir(current) and os.access(current, os.W_OK):
        return
    fallback = Path(tempfile.gettempdir()) / "matplotlib"
    fallback.mkdir(parents=True, exist_ok=True)
    os.environ["MPLCONFIGDIR"] = str(fallback)


_ensure_mplconfigdir()

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

FONT_FILE = Path(__file__).resolve().parent.parent / "fonts" / "NanumSquareR.ttf"
FONT_FAMILY = "NanumSquare"
FALLBACK_FAMILY = "DejaVu Sans"
WIDTH_IN = 8.0
HEIGHT_IN = 4.5
DPI = 100
ROW_IN = 0.42
ROOMY_ROWS = 8
MIN_SLOTS = 4

# One colour per taxonomy id, so a category looks the same every day whatever else
# is on the chart. Names not in the taxonomy hash into EXTRA_COLORS.
ID_COLORS: dict[str, str] = {
    "cv": "#4c72b0",
    "quantum": "#8172b3",
    "nn": "#dd8452",
    "dl": "#c44e52",
    "rl": "#55a868",
    "nlp": "#da8bc3",
    "imitation": "#937860",
    "medicine": "#64b5cd",
    "multimodal": "#ccb974",
    "llm": "#2a9d8f",
    "other": "#8c8c8c",
}
EXTRA_COLORS: tuple[str, ...] = (
    "#e76f51",
    "#264653",
    "#f4a261",
    "#6d597a",
    "#b56576",
    "#3d5a80",
    "#81b29a",
    "#e9c46a",
)


@dataclass(frozen=True, slots=True)
class ChartText:
    """The fixed text of the chart in one language."""

    title: str
    axis: str
    empty: str


CHART_TEXT: dict[str, ChartText] = {
    "ko": ChartText(title="카테고리별 논문 수", axis="논문 수", empty="논문 없음"),
    "en": ChartText(title="Papers per category", axis="Papers", empty="No papers"),
}


def font_family() -> str:
    """Make sure the shipped font is registered with matplotlib; return its family name."""
    manager = font_manager.fontManager
    if not _registered(manager):
        manager.addfont(str(FONT_FILE))
        # NOTE: findfont rebuilds the whole manager when its cache names a font file that
        # is gone (a stale cache), which drops fonts added by addfont and logs "not
        # found" once; looking the family up here lets that happen now, before the
        # chart's text is laid out, and we add the font again after it.
        manager.findfont(font_manager.FontProperties(family=FONT_FAMILY))
        if not _registered(manager):
            manager.addfont(str(FONT_FILE))
    return FONT_FAMILY


def _registered(manager: font_manager.FontManager) -> bool:
    """Return whether the shipped font file is in the manager's font list."""
    return any(Path(entry.fname) == FONT_FILE for entry in manager.ttflist)


def category_color(name: str) -> str:
    """Return the hex colour of a category display name, the same on every chart.

    Taxonomy names map through their stable id; other names hash (CRC-32) into a
    fixed palette.
    """
    try:
        category_id = load_taxonomy().by_name(name).id
    except ConfigError:
        category_id = ""
    if category_id in ID_COLORS:
        return ID_COLORS[category_id]
    return EXTRA_COLORS[zlib.crc32(name.encode("utf-8")) % len(EXTRA_COLORS)]


def chart_rows(
    counts: dict[str, int], colors: dict[str, str] | None = None
) -> list[tuple[str, int, str]]:
    """Return ``(name, count, colour)`` rows, largest first, zero counts left out.

    Ties are ordered by name so the chart is the same for the same counts. Raises
    ``ValueError`` for a negative count.
    """
    negative = sorted(name for name, count in counts.items() if count < 0)
    if negative:
        raise ValueError(f"negative paper counts for {negative}")

    chosen = colors or {}
    ordered = sorted(
        ((name, count) for name, count in counts.items() if count > 0),
        key=lambda row: (-row[1], row[0]),
    )
    return [(name, count, chosen.get(name) or category_color(name)) for name, count in ordered]


def build_figure(
    counts: dict[str, int],
    date: str,
    colors: dict[str, str] | None = None,
    language: str = "ko",
) -> Figure:
    """Return the chart as a matplotlib Figure (not attached to pyplot).

    Raises ``ValueError`` for an unknown language or a negative count.
    """
    text = _chart_text(language)
    rows = chart_rows(counts, colors)
    height = max(HEIGHT_IN, 1.4 + ROW_IN * len(rows)) if len(rows) > ROOMY_ROWS else HEIGHT_IN
    with _styled():
        figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
        axes = figure.subplots()
        axes.set_title(f"{text.title} · {date}", fontsize=15, pad=12)
        if rows:
            names = [name for name, _, _ in rows]
            values = [count for _, count, _ in rows]
            bars = axes.barh(names, values, color=[color for _, _, color in rows], height=0.6)
            axes.bar_label(bars, padding=4, fontsize=11)
            axes.set_xlim(0, max(values) * 1.12 + 0.5)
            # Largest on top, and room for MIN_SLOTS bars so a quiet day's bars stay slim.
            axes.set_ylim(max(len(rows), MIN_SLOTS) - 0.5, -0.5)
        else:
            axes.set_yticks([])
            axes.text(0.5, 0.5, text.empty, ha="center", va="center", transform=axes.transAxes)
        axes.set_xlabel(text.axis, fontsize=11)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.tick_params(axis="y", labelsize=11, length=0)
        axes.grid(axis="x", color="#dddddd", linewidth=0.8)
        axes.set_axisbelow(True)
        for side in ("top", "right", "left"):
            axes.spines[side].set_visible(False)
    return figure


def render_chart(
    counts: dict[str, int],
    date: str,
    colors: dict[str, str] | None = None,
    language: str = "ko",
) -> bytes:
    """Return the chart as PNG bytes, identical for identical input.

    ``counts`` maps category display names to paper counts; ``colors`` may override
    the colour of some names. Raises ``ValueError`` for an unknown language or a
    negative count.
    """
    figure = build_figure(counts, date, colors, language)
    buffer = io.BytesIO()
    try:
        with _styled():
            figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    finally:
        figure.clear()
    return buffer.getvalue()


def _styled() -> AbstractContextManager[None]:
    """Return a context with the chart's settings: the shipped font, no mathtext ("$")."""
    return matplotlib.rc_context(
        {"font.family": [font_family(), FALLBACK_FAMILY], "text.parse_math": False}
    )


def _chart_text(language: str) -> ChartText:
    """Return the chart text of ``language``; raise ``ValueError`` for a language we lack."""
    try:
        return CHART_TEXT[language]
    except KeyError:
        known = ", ".join(sorted(CHART_TEXT))
        raise ValueError(f"unsupported language {language!r} (known: {known})") from None
