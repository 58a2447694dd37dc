"""Text from outside made safe for where it goes: XML reports.

Log tails and failure messages come from processes bed does not control: LiteLLM's start-up
banner colours its lines with ANSI escapes, a test may print any byte, a line may be 50 MB long.

    xml_safe(text)       every character XML 1.0 forbids (C0 controls but tab, newline and
                         carriage return; lone surrogates; U+FFFE/U+FFFF), and the C1 controls
                         and DEL it discourages, shown as a visible ``\\x1b``-style escape; ANSI
                         sequences removed first, so a coloured line reads as its words
    strip_ansi(text)     ANSI escape sequences (CSI, OSC and two-character ESC sequences) removed

A leaf: it imports nothing of bed, so any writer can use it.
"""

from __future__ import annotations

import re

_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves (ESC [ 1;37 m)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks, ended by BEL or ST
    r"|\x1b[@-Z\\-_]"  # the other two-character sequences
    r"|\x9b[0-?]*[ -/]*[@-~]"  # CSI as one C1 character
)
# Not allowed in an XML 1.0 document (its Char production), or discouraged there (DEL, C1 controls):
# each becomes a visible escape. Tab, newline and carriage return stay.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def xml_safe(text: str) -> str:
    """``text`` that any XML 1.0 parser accepts (once escaped for markup), encodable as UTF-8."""
    return _NOT_XML.sub(_escaped, strip_ansi(text))


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
