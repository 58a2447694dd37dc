"""bed.text: XML-safe text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import xml.sax.saxutils as saxutils

import pytest

from bed.text import strip_ansi, xml_safe


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
