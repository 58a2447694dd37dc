"""Charts as Mermaid blocks: text in a Markdown report that GitHub and GitLab draw as a picture.

A chart in the report itself needs no plotting library on the machine that writes it and no
image file beside it, and it shows wherever the Markdown does: a PR comment, a job summary,
a merge request. Only ``xychart-beta`` bar charts with one series are written: that diagram
has no legend, so the bars' labels say what each bar is, and one series never overlaps another.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# What a label or title may hold: Mermaid ends a quoted string at ", and a fenced block at ```;
# anything unusual (quotes, brackets, backticks, control characters) becomes "_".
HEIGHT_PER_BAR = 40  # px
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._@+:/=()%,-]")


def text(value: str) -> str:
    """A label or title as Mermaid reads it safely (quoted, no line breaks)."""
    return _UNSAFE.sub("_", " ".join(value.split()))


def number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def bar_chart(title: str, unit: str, bars: Sequence[tuple[str, float]]) -> list[str]:
    """A horizontal bar chart (one bar per label) as the lines of a fenced ```mermaid block;
    [] when there are fewer than two bars or all are 0 (nothing to compare). The value axis
    starts at 0, so bar lengths compare honestly."""
    top = max((value for _, value in bars), default=0.0)
    if len(bars) < 2 or top <= 0:
        return []
    labels = ", ".join(f'"{text(label)}"' for label, _ in bars)
    values = ", ".join(number(value) for _, value in bars)
    # The height follows the bars (the default 500 px is tall for two bars); data labels print each
    # value on its bar. Renderers too old for these settings ignore them.
    height = min(HEIGHT_PER_BAR * len(bars) + 90, 900)
    return ["```mermaid", "---", "config:", "  xyChart:", f"    height: {height}", "    showDataLabel: true", "---",
            "xychart-beta horizontal", f'    title "{text(title)}"', f"    x-axis [{labels}]",
            f'    y-axis "{text(unit)}" 0 --> {number(top * 1.1)}', f"    bar [{values}]", "```"]
