"""bed.text: XML-safe text and bounded lines."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import xml.sax.saxutils as saxutils

import pytest

from bed.text import LineCutter, cut_lines, strip_ansi, xml_safe


@pytest.mark.parametrize("code", [*range(0x00, 0x20), 0x7F, *(c for c in range(0x80, 0xA0) if c != 0x9B),
                                  0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xFFFE, 0xFFFF])  # 0x9b: a CSI, removed
def test_every_character_xml_forbids_or_discourages_is_shown_escaped(code: int) -> None:
    text = xml_safe(f"a{chr(code)}b")
    document = f"<r a={saxutils.quoteattr(text)}>{saxutils.escape(text)}</r>".encode()
    root = ET.fromstring(document)  # noqa: S314 - test data
    if chr(code) in "\t\n\r":
        assert text == f"a{chr(code)}b"
    elif code == 0x1B:
        assert text == "a\\x1bb"  # a lone ESC, not a sequence: shown
    else:
        assert text in (f"a\\x{code:02x}b", f"a\\u{code:04x}b")
    assert root.text == text.replace("\r", "\n")  # XML's own line-end normalisation


@pytest.mark.parametrize(("raw", "clean"), [
    ("\x1b[1;37m#---#\x1b[0m", "#---#"), ("\x1b[32mLiteLLM\x1b[0m: ok", "LiteLLM: ok"),
    ("\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\", "link"), ("\x1b]0;title\x07rest", "rest"),
    ("a\x1b[2Kb\x1b[1Gc", "abc"), ("\x1bMup", "up"), ("\x9b31mred", "red"), ("plain [1;37m text", "plain [1;37m text"),
])
def test_ansi_sequences_are_removed(raw: str, clean: str) -> None:
    assert strip_ansi(raw) == clean


def test_short_lines_pass_whole_across_chunk_boundaries() -> None:
    cutter = LineCutter(limit=10)
    assert cutter.feed(b"ab") == []
    assert cutter.feed(b"c\nde\n\nf") == [b"abc", b"de", b""]
    assert cutter.end() == [b"f"]
    assert cutter.end() == []


def test_a_long_line_keeps_its_head_and_says_how_much_was_cut() -> None:
    cutter = LineCutter(limit=4)
    assert cutter.feed(b"0123456") == []
    assert cutter.feed(b"789\nnext\n") == [b"0123 [... 6 more bytes of this line cut by bed]", b"next"]
    assert cutter.feed(b"abcdefgh") == []
    assert cutter.end() == [b"abcd [... 4 more bytes of this line cut by bed]"]


def test_a_line_of_exactly_the_limit_is_whole() -> None:
    assert LineCutter(limit=4).feed(b"0123\n") == [b"0123"]


def test_cut_lines_bounds_every_line_of_a_tail() -> None:
    assert cut_lines("short\n" + "x" * 20 + "\nend", limit=10) == \
        "short\nxxxxxxxxxx [... 10 more characters of this line cut by bed]\nend"
    assert cut_lines("tiny", limit=10) == "tiny"
