"""Parsing of single SSE events: chunk, timestamps, done, error, unknown."""

from __future__ import annotations

import base64
import json

import pytest

from cartesia_cli.api.events import (
    AudioChunk,
    Done,
    ErrorEvent,
    PhonemeTimestamps,
    UnknownEvent,
    WordTimestamps,
    parse_event,
)
from cartesia_cli.errors import StreamError


def test_chunk_is_decoded_from_base64() -> None:
    data = json.dumps({"type": "chunk", "data": base64.b64encode(b"\x00\x01\xff").decode()})
    assert parse_event("chunk", data) == AudioChunk(b"\x00\x01\xff")


def test_dispatch_uses_json_type_over_event_name() -> None:
    assert parse_event("message", '{"type":"done","done":true}') == Done()


def test_event_name_is_the_fallback_without_a_type() -> None:
    assert parse_event("done", '{"done":true}') == Done()


def test_structured_error_event() -> None:
    payload = {
        "type": "error",
        "title": "Invalid model",
        "message": "The model is not valid.",
        "status_code": 400,
        "request_id": "r-1",
        "error_code": "model_not_found",
    }
    event = parse_event("error", json.dumps(payload))
    assert event == ErrorEvent(
        "Invalid model: The model is not valid.", 400, "r-1", "model_not_found", "Invalid model"
    )


def test_legacy_error_event() -> None:
    event = parse_event("error", '{"type":"error","status_code":400,"error":"transcript empty"}')
    assert isinstance(event, ErrorEvent)
    assert event.message == "transcript empty"
    assert event.request_id is None


def test_word_and_phoneme_timestamps() -> None:
    words = parse_event(
        "timestamps",
        '{"type":"timestamps","word_timestamps":{"words":["Hi"],"start":[0],"end":[0.4]}}',
    )
    assert words == WordTimestamps(("Hi",), (0.0,), (0.4,))
    phonemes = parse_event(
        "phoneme_timestamps",
        '{"type":"phoneme_timestamps","phoneme_timestamps":'
        '{"phonemes":["h"],"start":[0.1],"end":[0.2]}}',
    )
    assert phonemes == PhonemeTimestamps(("h",), (0.1,), (0.2,))


def test_unknown_types_are_reported_not_fatal() -> None:
    assert parse_event("flush_done", '{"type":"flush_done"}') == UnknownEvent("flush_done")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ('{"type":"chunk","data":"AAAA"', "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"type":"chunk","data":"@@@"}', "not valid base64"),
        ('{"type":"chunk"}', "no base64"),
    ],
)
def test_malformed_events_raise_stream_errors(data: str, fragment: str) -> None:
    with pytest.raises(StreamError, match=fragment) as caught:
        parse_event("chunk", data)
    assert caught.value.exit_code == 6


def test_json_nested_deeper_than_python_recurses_is_malformed() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(StreamError, match="not JSON"):
        parse_event("chunk", deep)
