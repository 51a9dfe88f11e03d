"""The mock's WebSocket conversation without a socket, on a clock the test moves."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cartesia_cli.mock.events import AudioPlan
from cartesia_cli.mock.scenarios import OK, Scenario
from cartesia_cli.mock.speech import utterance
from cartesia_cli.mock.ws_messages import Cancel, Piece, Rejected, parse_message
from cartesia_cli.mock.ws_session import Close, Send, WsSession

from .conftest import VOICE

RATE = 8000
PER_CHUNK = 800  # 0.1 s chunks at 8 kHz


def piece(text: str, *, more: bool = True, delay: int | None = 0, **extra: Any) -> str:
    body: dict[str, Any] = {
        "context_id": "c",
        "model_id": "sonic-3",
        "voice": VOICE,
        "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": RATE},
        "transcript": text,
        "continue": more,
        **extra,
    }
    if delay is not None:
        body["max_buffer_delay_ms"] = delay
    return json.dumps(body)


def session(scenario: Scenario = OK, pace: float = 0.0) -> WsSession:
    return WsSession(scenario=scenario, legacy_errors=False, request_id=lambda: "r", pace=pace)


def drain(s: WsSession, now: float) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while batch := s.take(now):
        got += [json.loads(item.text) for item in batch if isinstance(item, Send)]
    return got


def audio(events: list[dict[str, Any]]) -> bytes:
    return b"".join(base64.b64decode(e["data"]) for e in events if e["type"] == "chunk")


def spoken(text: str) -> bytes:
    return utterance(text, "pcm_s16le", RATE, PER_CHUNK).cycle


def test_text_leaves_the_buffer_when_its_delay_has_passed() -> None:
    s = session()
    s.receive(piece("Hello, ", delay=500), now=0.0)
    s.receive(piece("world.", delay=500), now=0.2)
    assert s.take(0.4) == []
    assert abs((s.wait(0.4) or 0) - 0.1) < 1e-9  # due at 0.5: from the oldest text's arrival
    assert audio(drain(s, 0.5)) == spoken("Hello, world.")
    assert s.wait(0.6) is None  # nothing owed: wait for the client


def test_the_default_delay_is_three_seconds() -> None:
    s = session()
    s.receive(piece("Hello.", delay=None), now=0.0)
    assert drain(s, 2.99) == []
    assert audio(drain(s, 3.0)) == spoken("Hello.")


def test_a_running_utterance_finishes_after_a_cancel() -> None:
    s = session(pace=1.0)  # one chunk per 0.1 s: the utterance is under way
    s.receive(piece("One two three."), now=0.0)
    s.receive(piece(" Four."), now=0.0)  # queued, not begun: dropped
    first = drain(s, 0.0)
    s.receive(json.dumps({"context_id": "c", "cancel": True}), now=0.0)
    rest = [e for t in range(1, 40) for e in drain(s, t / 10)]
    assert audio(first + rest) == spoken("One two three.")
    assert all(e["type"] != "done" for e in rest)


def test_pacing_spaces_the_chunks_by_their_length() -> None:
    s = session(pace=1.0)
    s.receive(piece("Hello.", more=False), now=0.0)
    assert [e["type"] for e in drain(s, 0.0)] == ["chunk"]
    assert s.wait(0.0) == 0.1


def test_a_stall_holds_the_chunk_back_for_its_seconds() -> None:
    s = session(Scenario.parse("stall"))
    s.receive(piece("One two three four.", more=False), now=0.0)
    assert len([e for e in drain(s, 0.0) if e["type"] == "chunk"]) == 1
    assert s.wait(0.0) == 60.0
    later = drain(s, 60.0)
    assert audio(later) and later[-1]["type"] == "done"


def test_a_close_fault_comes_as_a_close() -> None:
    s = session(Scenario.parse("close-1011"))
    s.receive(piece("One two three four.", more=False), now=0.0)
    items = s.take(0.0) + s.take(0.0)
    assert items[-1] == Close(code=1011, reason="internal error")
    assert s.take(0.0) == [] and s.wait(0.0) is None


pieces = st.lists(st.text(alphabet="ab .,?!'<>é", min_size=0, max_size=12), min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(pieces)
def test_buffered_pieces_sound_as_their_concatenation(texts: list[str]) -> None:
    s = session()
    for text in texts:
        s.receive(piece(text, delay=5000), now=0.0)
    s.receive(piece("", more=False, delay=5000), now=0.0)
    got = drain(s, 0.0)
    joined = "".join(texts)
    assert audio(got) == (spoken(joined) if joined.split() else b"")
    assert got[-1]["type"] == "done"


@settings(max_examples=150, deadline=None)
@given(pieces)
def test_unbuffered_pieces_are_each_their_own_utterance(texts: list[str]) -> None:
    s = session()
    for text in texts:
        s.receive(piece(text), now=0.0)
    s.receive(piece("", more=False), now=0.0)
    expected = b"".join(spoken(text) for text in texts if text.split())
    assert audio(drain(s, 0.0)) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_or_is_rejected(text: str) -> None:
    assert isinstance(parse_message(text), Piece | Cancel | Rejected)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(list(json.loads(piece("x")))), json_values))
def test_any_object_with_the_right_keys_is_judged_without_an_exception(
    body: dict[str, Any],
) -> None:
    message = parse_message(json.dumps(body))
    if isinstance(message, Rejected) and message.context_id is None:
        assert not (isinstance(body.get("context_id"), str) and body["context_id"])
    s = session()
    s.receive(json.dumps(body), now=0.0)
    for item in s.take(0.0):
        assert isinstance(item, Send) and json.loads(item.text)["type"] in (
            "error",
            "chunk",
            "timestamps",
            "done",
            "flush_done",
        )


def test_plan_fixed_length_applies_to_each_utterance() -> None:
    s = WsSession(
        scenario=OK,
        legacy_errors=True,
        request_id=lambda: "r",
        plan=AudioPlan(audio_seconds=0.5),
    )
    s.receive(piece("Hi.", more=False), now=0.0)
    assert len(audio(drain(s, 0.0))) == RATE // 2 * 2


def test_text_past_the_cap_backlogs_and_past_the_hard_cap_is_refused() -> None:
    s = WsSession(scenario=OK, legacy_errors=False, request_id=lambda: "r", unspoken_cap=10)
    s.receive(piece("x" * 8, delay=5000), 0.0)
    assert not s.backlogged()
    s.receive(piece("x" * 8, delay=5000), 0.0)
    assert s.backlogged()  # 16 characters waiting, over 10: read no more for now
    s.receive(piece("x" * 200, delay=5000), 0.0)  # past 16 times the cap: refused
    (error,) = drain(s, 0.0)
    assert error["type"] == "error" and error["title"] == "Too much text waiting"
    assert not s.backlogged()  # the refusal ended the context: its text is let go


def test_text_being_spoken_no_longer_counts_as_waiting() -> None:
    s = WsSession(scenario=OK, legacy_errors=False, request_id=lambda: "r", unspoken_cap=10)
    s.receive(piece("one two three four", more=False), 0.0)
    assert s.backlogged()
    assert drain(s, 0.0)[-1]["type"] == "done"
    assert not s.backlogged()
