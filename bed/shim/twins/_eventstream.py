"""AWS event stream encoding (``application/vnd.amazon.eventstream``): the binary framing of
Bedrock's ConverseStream and InvokeModelWithResponseStream answers.

A message is a prelude (total length and headers length, 4-byte big-endian each), the prelude's
CRC32, the headers, the payload and the CRC32 of everything before it. A header is its name's
length (1 byte), the name, a value type (1 byte; 7 is a string) and, for a string, the value's
length (2 bytes) and the value. Bedrock's events carry three string headers: ``:event-type``
(``messageStart``, ``contentBlockDelta``, ...), ``:content-type`` (``application/json``) and
``:message-type`` (``event``); an error in mid-stream is ``:message-type: exception`` with
``:exception-type`` naming it (``throttlingException``, ...).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from typing import Any

from .._http import dumps

CONTENT_TYPE = b"application/vnd.amazon.eventstream"
STRING = 7  # the header value type of a UTF-8 string


def header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    if len(raw_name) > 255 or len(raw_value) > 0xFFFF:
        raise ValueError(f"event stream header {name!r} too long")
    return struct.pack(">B", len(raw_name)) + raw_name + struct.pack(">BH", STRING, len(raw_value)) + raw_value


def message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One framed message: prelude, prelude CRC, headers, payload, message CRC."""
    raw_headers = b"".join(header(k, v) for k, v in headers.items())
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw_headers))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + raw_headers + payload
    return head + struct.pack(">I", zlib.crc32(head))


def event(kind: str, payload: Any) -> bytes:
    """A JSON event, as Bedrock sends each ConverseStream event."""
    return message({":event-type": kind, ":content-type": "application/json", ":message-type": "event"},
                   dumps(payload))


def exception(kind: str, text: str) -> bytes:
    """An error inside a stream that has already started (``kind`` in camelCase: ``throttlingException``)."""
    return message({":exception-type": kind, ":content-type": "application/json", ":message-type": "exception"},
                   dumps({"message": text}))
