"""Pure rendering of a Digest: the Markdown page and the category chart.

``render_chart`` is imported lazily: the chart module alone loads matplotlib, so that
importing this package (or ``paperdigest.render.markdown``) stays cheap at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from paperdigest.render.markdown import LABELS, Labels, escape_md, labels_for, render_markdown

if TYPE_CHECKING:
    from paperdigest.render.chart import category_color, render_chart

__all__ = [
    "LABELS",
    "Labels",
    "category_color",
    "escape_md",
    "labels_for",
    "render_chart",
    "render_markdown",
]

_CHART_NAMES = ("category_color", "render_chart")


def __getattr__(name: str) -> Any:
    """Return a chart function on first use; raise ``AttributeError`` for other names."""
    if name in _CHART_NAMES:
        from paperdigest.render import chart

        return getattr(chart, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
