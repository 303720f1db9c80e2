"""The category chart: shipped Hangul font, valid deterministic PNG, order and colours."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from PIL import Image
from render_samples import CATEGORY_OF, FAILED_IDS

from paperdigest.render import chart
from paperdigest.render.chart import (
    CHART_TEXT,
    FONT_FILE,
    build_figure,
    category_color,
    font_family,
    render_chart,
)
from paperdigest.taxonomy import load_taxonomy

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATE = "2024-09-24"


def day_counts() -> dict[str, int]:
    """Return the fixture day's papers per category display name, with a zero entry."""
    taxonomy = load_taxonomy()
    counts = {category.name: 0 for category in taxonomy.categories}
    for category_id in CATEGORY_OF.values():
        counts[taxonomy.get(category_id).name] += 1
    counts["Other"] += len(FAILED_IDS)
    return counts


def png_size(data: bytes) -> tuple[int, int]:
    """Return (width, height) read from the IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def rows_of(figure: Figure) -> list[tuple[str, float, str]]:
    """Return (label, bar length, colour) top to bottom as drawn on the figure."""
    axes = figure.axes[0]
    labels = [label.get_text() for label in axes.get_yticklabels()]
    bars = sorted(axes.patches, key=lambda bar: bar.get_y())
    if axes.yaxis_inverted():
        ordered = list(zip(labels, bars, strict=True))
    else:
        ordered = list(zip(reversed(labels), reversed(bars), strict=True))
    return [(name, bar.get_width(), to_hex(bar.get_facecolor())) for name, bar in ordered]


def test_shipped_font_has_every_hangul_character_of_the_chart() -> None:
    cmap = TTFont(FONT_FILE).getBestCmap()

    text = CHART_TEXT["ko"]
    needed = {ch for s in (text.title, text.axis, text.empty) for ch in s if not ch.isspace()}
    needed |= set("0123456789-·") | {ch for c in load_taxonomy().categories for ch in c.name}
    assert {ch for ch in needed if ord(ch) not in cmap} == set()
    assert all(ord(ch) in cmap for ch in "가힣")
    assert (FONT_FILE.parent / "LICENSE-Nanum.txt").read_text().count("Open Font License") >= 1


def test_the_shipped_file_is_registered_under_its_family() -> None:
    family = font_family()

    registered = [f for f in font_manager.fontManager.ttflist if Path(f.fname) == FONT_FILE]
    found = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    assert family == "NanumSquare"
    assert family in {f.name for f in registered}
    assert TTFont(FONT_FILE)["name"].getDebugName(1) == family
    # NOTE: a system copy of the same font (Debian's fonts-nanum) may win the lookup.
    assert Path(found).name == FONT_FILE.name


def test_korean_chart_has_no_missing_glyphs() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_chart(day_counts(), DATE, language="ko")

    assert [str(w.message) for w in caught if "missing from font" in str(w.message)] == []


def test_chart_is_a_png_at_least_800_px_wide() -> None:
    data = render_chart(day_counts(), DATE)

    width, height = png_size(data)
    assert width >= 800
    assert 400 <= height <= width
    with Image.open(io.BytesIO(data)) as image:
        image.verify()


def test_many_categories_make_a_taller_chart() -> None:
    counts = {category.name: 1 for category in load_taxonomy().categories}

    assert png_size(render_chart(counts, DATE))[1] > png_size(render_chart(day_counts(), DATE))[1]


def test_same_input_same_bytes() -> None:
    assert render_chart(day_counts(), DATE) == render_chart(day_counts(), DATE)
    assert b"Software" not in render_chart(day_counts(), DATE)


def test_bars_sorted_largest_on_top_without_zero_counts() -> None:
    figure = build_figure(day_counts(), DATE)

    rows = rows_of(figure)
    assert [(name, width) for name, width, _ in rows] == [
        ("Computer Vision", 3),
        ("LLM", 3),
        ("AI in Medicine", 2),
        ("Multimodal", 2),
        ("Other", 2),
        ("Imitation Learning", 1),
        ("Natural Language Processing", 1),
    ]
    assert "Quantum Computing" not in {name for name, _, _ in rows}


def test_title_carries_the_date_in_the_language() -> None:
    ko = build_figure(day_counts(), DATE).axes[0].get_title()
    en = build_figure(day_counts(), DATE, language="en").axes[0].get_title()

    assert ko == f"카테고리별 논문 수 · {DATE}"
    assert en == f"Papers per category · {DATE}"


def test_counts_are_labelled_at_the_bar_ends() -> None:
    axes = build_figure({"LLM": 4, "Other": 1}, DATE).axes[0]

    labels = sorted(text.get_text() for text in axes.texts)
    assert labels == ["1", "4"]


def test_a_category_keeps_its_colour_whatever_else_is_on_the_chart() -> None:
    first = {name: color for name, _, color in rows_of(build_figure({"LLM": 5, "Other": 2}, DATE))}
    second = {
        name: color
        for name, _, color in rows_of(build_figure({"Computer Vision": 9, "LLM": 1}, DATE))
    }

    assert first["LLM"] == second["LLM"] == category_color("LLM")
    assert first["Other"] != first["LLM"]


def test_the_colour_is_in_the_pixels_of_both_charts() -> None:
    color = category_color("AI in Medicine")
    rgb = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))

    for counts in ({"AI in Medicine": 3, "LLM": 1}, {"Computer Vision": 7, "AI in Medicine": 2}):
        with Image.open(io.BytesIO(render_chart(counts, DATE))) as image:
            pixels = {color for _, color in image.convert("RGB").getcolors(1 << 24)}
        assert rgb in pixels


def test_every_taxonomy_category_has_its_own_colour() -> None:
    colors = [category_color(category.name) for category in load_taxonomy().categories]

    assert len(set(colors)) == len(colors)
    assert category_color("Some New Category") == category_color("Some New Category")


def test_colours_can_be_overridden() -> None:
    rows = rows_of(build_figure({"LLM": 2, "Other": 1}, DATE, colors={"LLM": "#000000"}))

    assert dict((name, color) for name, _, color in rows) == {
        "LLM": "#000000",
        "Other": category_color("Other"),
    }


def test_dollar_signs_in_names_are_not_mathtext() -> None:
    axes = build_figure({"Cost $x^2$ Models": 1}, DATE).axes[0]

    label = axes.get_yticklabels()[0]
    assert label.get_text() == "Cost $x^2$ Models"
    assert label.get_parse_math() is False
    assert render_chart({"Cost $x^2$ Models": 1, "Broken $\\frac{": 1}, DATE)[:8] == PNG_SIGNATURE


def test_no_papers_still_draws_a_chart() -> None:
    data = render_chart({"LLM": 0}, DATE, language="en")

    assert png_size(data)[0] >= 800


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="negative"):
        render_chart({"LLM": -1}, DATE)
    with pytest.raises(ValueError, match="language"):
        render_chart({"LLM": 1}, DATE, language="fr")


def test_mplconfigdir_falls_back_to_a_writable_temp_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(chart.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    chart._ensure_mplconfigdir()
    assert chart.os.environ["MPLCONFIGDIR"] == str(tmp_path / "matplotlib")

    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "missing"))
    chart._ensure_mplconfigdir()
    assert chart.os.environ["MPLCONFIGDIR"] == str(tmp_path / "matplotlib")

    writable = tmp_path / "mine"
    writable.mkdir()
    monkeypatch.setenv("MPLCONFIGDIR", str(writable))
    chart._ensure_mplconfigdir()
    assert chart.os.environ["MPLCONFIGDIR"] == str(writable)
