"""Mermaid bar charts: labels that cannot break out of the block, an axis from 0, nothing for one bar."""

from __future__ import annotations

from bed.report import mermaid


def test_a_bar_chart_is_one_fenced_block_with_an_axis_from_zero() -> None:
    assert mermaid.bar_chart("proxy boot (s)", "s", [("1.100.5", 4.25), ("1.108.7", 5.0)]) == [
        "```mermaid", "---", "config:", "  xyChart:", "    height: 170", "    showDataLabel: true", "---",
        "xychart-beta horizontal", '    title "proxy boot (s)"', '    x-axis ["1.100.5", "1.108.7"]',
        '    y-axis "s" 0 --> 5.5', "    bar [4.25, 5]", "```"]


def test_labels_cannot_end_the_string_the_line_or_the_block() -> None:
    lines = mermaid.bar_chart('a "b"\n```\n%% c [d]', "ms", [('x"]\n```', 1.0), ("`y`", 2.0)])
    assert lines[0] == "```mermaid"
    assert lines[-1] == "```"
    inner = "\n".join(lines[1:-1])
    assert "```" not in inner
    assert len(lines) == 13  # no label added a line
    assert lines[8] == '    title "a _b_ ___ %% c _d_"'
    assert lines[9] == '    x-axis ["x__ ___", "_y_"]'


def test_fewer_than_two_bars_or_only_zeros_draw_nothing() -> None:
    assert mermaid.bar_chart("t", "s", [("one", 3.0)]) == []
    assert mermaid.bar_chart("t", "s", []) == []
    assert mermaid.bar_chart("t", "s", [("a", 0.0), ("b", 0.0)]) == []


def test_numbers_are_short() -> None:
    assert [mermaid.number(v) for v in (0.0, 0.004, 1.5, 10.0, 123.456)] == ["0", "0", "1.5", "10", "123.46"]
