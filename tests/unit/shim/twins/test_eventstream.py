"""The event stream encoder, read back by botocore's own decoder (which checks both CRCs)."""

from __future__ import annotations

import json

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from bed.shim.twins._eventstream import event, exception, message


def decoded(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(m.headers, m.payload) for m in buffer]


def test_events_decode_with_their_headers_and_payload() -> None:
    data = event("messageStart", {"role": "assistant"}) + event("contentBlockDelta", {
        "delta": {"text": "héllo"}, "contentBlockIndex": 0})
    (h1, p1), (h2, p2) = decoded(data)
    assert h1 == {":event-type": "messageStart", ":content-type": "application/json", ":message-type": "event"}
    assert json.loads(p1) == {"role": "assistant"}
    assert h2[":event-type"] == "contentBlockDelta"
    assert json.loads(p2)["delta"]["text"] == "héllo"


def test_an_exception_message() -> None:
    ((headers, payload),) = decoded(exception("throttlingException", "Too many requests"))
    assert headers[":message-type"] == "exception"
    assert headers[":exception-type"] == "throttlingException"
    assert json.loads(payload) == {"message": "Too many requests"}


def test_a_message_split_across_reads_decodes_once_whole() -> None:
    data = event("messageStop", {"stopReason": "end_turn"})
    buffer = EventStreamBuffer()
    buffer.add_data(data[:7])
    assert list(buffer) == []
    buffer.add_data(data[7:])
    assert [m.headers[":event-type"] for m in buffer] == ["messageStop"]


def test_both_checksums_are_real() -> None:
    data = bytearray(message({"a": "b"}, b"payload"))
    data[-5] ^= 1  # a payload byte: the message CRC no longer matches
    with pytest.raises(ChecksumMismatch):
        decoded(bytes(data))
    data = bytearray(message({"a": "b"}, b"payload"))
    data[8] ^= 1  # the prelude CRC itself
    with pytest.raises(ChecksumMismatch):
        decoded(bytes(data))
