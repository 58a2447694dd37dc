"""Text from outside made safe for where it goes: XML reports and the terminal, line by line.

Log tails and failure messages come from processes bed does not control: LiteLLM's start-up
banner colours its lines with ANSI escapes, a test may print any byte, a line may be 50 MB long.

    xml_safe(text)       every character XML 1.0 forbids (C0 controls but tab, newline and
                         carriage return; lone surrogates; U+FFFE/U+FFFF), and the C1 controls
                         and DEL it discourages, shown as a visible ``\\x1b``-style escape; ANSI
                         sequences removed first, so a coloured line reads as its words
    strip_ansi(text)     ANSI escape sequences (CSI, OSC and two-character ESC sequences) removed
    cut_lines(text)      every line of a text (a log tail) cut at the limit, saying so
    LineCutter           bytes in, whole lines out, each at most ``limit`` bytes: the rest of an
                         over-long line is dropped as it arrives and counted, so memory stays
                         bounded by the limit and one chunk, whatever the line's length

A leaf: it imports nothing of bed, so the report writers and the live follower can both use it.
"""

from __future__ import annotations

import re

LINE_LIMIT = 8 * 1024  # bytes of one output line shown live; a longer one is cut, and the cut is said

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


def cut_lines(text: str, limit: int = LINE_LIMIT) -> str:
    """``text`` with every line over ``limit`` characters cut, saying how much was cut (a log tail
    that goes into a report: one 50 MB line would be a 50 MB report)."""
    if len(text) <= limit:
        return text
    return "\n".join(line if len(line) <= limit else f"{line[:limit]} [... {len(line) - limit} more characters of "
                     "this line cut by bed]" for line in text.split("\n"))


class LineCutter:
    """Splits a byte stream into lines of at most ``limit`` bytes.

    A line over the limit keeps its first ``limit`` bytes and gets a note saying how many bytes
    were cut; the rest is never held, so a 50 MB line costs ``limit`` bytes of memory, not 50 MB,
    and never blocks the lines after it.
    """

    def __init__(self, limit: int = LINE_LIMIT) -> None:
        self.limit = limit
        self._head = bytearray()
        self._cut = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines ``chunk`` completes (without their newline)."""
        lines: list[bytes] = []
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            self._take(chunk, start, end)
            lines.append(self._line())
            start = end + 1
        self._take(chunk, start, len(chunk))
        return lines

    def end(self) -> list[bytes]:
        """What is left when the stream ends: the last line, when it had no newline."""
        return [self._line()] if self._head or self._cut else []

    def _take(self, chunk: bytes, start: int, end: int) -> None:
        room = max(self.limit - len(self._head), 0)
        kept = min(end - start, room)
        self._head += chunk[start:start + kept]
        self._cut += end - start - kept

    def _line(self) -> bytes:
        line = bytes(self._head)
        if self._cut:
            line += f" [... {self._cut} more bytes of this line cut by bed]".encode()
        self._head.clear()
        self._cut = 0
        return line
