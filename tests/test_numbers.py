"""Numbers from the server are never trusted, and the exit code names the cause.

Timestamps that are not finite, plausible seconds are dropped where they arrive;
an error event's 4xx status is exit 4 on every command; a bug still gives the
--json object; a terminal lost mid-run is a hang-up; the summary, --json and
the file agree on bytes and seconds.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.api.events import MAX_TIMESTAMP, WordTimestamps, parse_event, sanitised
from cartesia_cli.mock import AudioPlan, FakeCartesia
from cartesia_cli.mock.mp3 import encode_mp3
from cartesia_cli.output import captions
from cartesia_cli.output.mp3_frames import Mp3Clock

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env, run_in_process, stand_in
from .test_hostile import RawServer, response
from .test_json_result import one_object


def strict_json(text: str | bytes) -> Any:
    """Parse as strict JSON: NaN and Infinity, which Python would accept, are refused."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


# --- timestamps: the sanitiser -----------------------------------------------------------

# What a hostile or broken server might put where a number of seconds belongs.
hostile_number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([-1, 0, 0.5, 1e306, -0.0, MAX_TIMESTAMP, MAX_TIMESTAMP + 1]),
    st.text(max_size=5),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
hostile_label = st.one_of(st.text(max_size=8), hostile_number)


@given(
    labels=st.lists(hostile_label, max_size=12),
    starts=st.lists(hostile_number, max_size=12),
    ends=st.lists(hostile_number, max_size=12),
)
def test_only_finite_plausible_ordered_times_come_through(
    labels: list[Any], starts: list[Any], ends: list[Any]
) -> None:
    block = {"words": labels, "start": starts, "end": ends}
    words, start, end, dropped = sanitised(block, "words")
    assert len(words) == len(start) == len(end)
    assert len(words) + dropped == max(len(labels), len(starts), len(ends))
    for text, begin, finish in zip(words, start, end, strict=True):
        assert isinstance(text, str)
        assert math.isfinite(begin) and math.isfinite(finish)
        assert 0.0 <= begin <= finish <= MAX_TIMESTAMP
    # Every kept entry is one the server sent, in its order (an end may be moved up).
    sent = [
        (label, float(s))
        for label, s, e in zip(labels, starts, ends, strict=False)
        if _plausible(s) and _plausible(e) and _text_like(label)
    ]
    assert [(w, s) for w, s in zip(words, start, strict=True)] == [(str(w), s) for w, s in sent]


def _plausible(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and 0 <= value <= MAX_TIMESTAMP
    except OverflowError:
        return False


def _text_like(value: object) -> bool:
    return isinstance(value, str) or (_plausible(value) or _finite_number(value))


def _finite_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


@given(
    labels=st.lists(hostile_label, max_size=12),
    starts=st.lists(hostile_number, max_size=12),
    ends=st.lists(hostile_number, max_size=12),
)
def test_subtitles_from_any_timestamps_are_written_and_strict(
    labels: list[Any], starts: list[Any], ends: list[Any]
) -> None:
    batch = WordTimestamps(*sanitised({"words": labels, "start": starts, "end": ends}, "words"))
    words = captions.in_order([(batch.words, batch.start, batch.end)])
    cues = captions.cues(words)
    assert captions.srt(cues).count(" --> ") == len(cues)
    assert captions.vtt(cues).startswith("WEBVTT")
    assert len(strict_json(captions.as_json(words, words, complete=True))["words"]) == len(words)


@pytest.mark.parametrize(
    "block",
    [None, [], "x", {"words": ["a"]}, {"words": "a", "start": [0], "end": [1]}],
)
def test_a_timestamps_event_without_its_lists_is_dropped_not_fatal(block: object) -> None:
    event = parse_event("timestamps", json.dumps({"type": "timestamps", "word_timestamps": block}))
    assert event == WordTimestamps((), (), (), 1)


def test_json_numbers_python_reads_as_nan_or_infinity_are_dropped() -> None:
    data = (
        '{"type":"timestamps","word_timestamps":{"words":["a","b","c","d","e"],'
        '"start":[NaN,Infinity,-Infinity,1e400,0.25],"end":[1,1,1,1,1e999]}}'
    )
    assert parse_event("timestamps", data) == WordTimestamps((), (), (), 5)


# --- timestamps: a whole run against a server that sends garbage -----------------------

AUDIO = bytes(range(256)) * 40  # 10,240 bytes: 2,560 f32 samples
GARBAGE_TIMES = [
    '{"words":["one","two"],"start":[NaN,0.1],"end":[0.2,Infinity]}',
    '{"words":["three","four"],"start":[-1,1e306],"end":[0.4,1e307]}',
    '{"words":["five","six","seven"],"start":["0.5",null,[1]],"end":[0.6,0.7,0.8]}',
    '{"words":["eight","nine"],"start":[0.9,1.0,1.1],"end":[1.0]}',  # lengths differ
    '{"words":["ten"],"start":[1.3],"end":[1.2]}',  # ends before it starts
    '{"words":["eleven"],"start":[' + "1" * 400 + '],"end":[2]}',  # past a float
    "null",
]


def sse_body(*events: str) -> bytes:
    return "".join(f"event: x\ndata: {event}\n\n" for event in events).encode()


def garbage_stream() -> bytes:
    chunk = json.dumps({"type": "chunk", "data": base64.b64encode(AUDIO).decode()})
    stamps = [f'{{"type":"timestamps","word_timestamps":{block}}}' for block in GARBAGE_TIMES]
    body = sse_body(chunk, *stamps, chunk, '{"type":"done"}')
    return response("200 OK", body, "Content-Type: text/event-stream")


@pytest.mark.parametrize("suffix", ["srt", "vtt", "json"])
def test_garbage_timestamps_never_fail_a_run_whose_audio_came_whole(
    tmp_path: Path, suffix: str
) -> None:
    server = RawServer(garbage_stream())
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=server.url)
    args = ("tts", "sse", "Hello", "-o", "out.pcm", "--timestamps", f"subs.{suffix}", "--json")
    try:
        result = run_in_process(args, env=env, cwd=tmp_path)
    finally:
        server.close()
    assert result.code == 0, result.stderr
    assert (tmp_path / "out.pcm").read_bytes() == AUDIO * 2
    assert one_object(result.stdout)["exit_code"] == 0
    # Only "eight" and "ten" had usable times ("ten" ended before it started: moved up).
    text = (tmp_path / f"subs.{suffix}").read_text()
    if suffix == "json":
        words = strict_json(text)["words"]
        assert [w["word"] for w in words] == ["eight", "ten"]
        assert words[1] == {"word": "ten", "start": 1.3, "end": 1.3}
    else:
        assert "eight ten" in text and "one" not in text and "NaN" not in text
    assert "11 dropped: the server sent no usable time for them" in result.stderr


# --- an error event's status is the exit code's cause ------------------------------------


@pytest.fixture
def quiet_player(tmp_path: Path) -> dict[str, str]:
    """A stand-in `ffplay` that reads its input and plays nothing, for `say`."""
    folder = stand_in(tmp_path / "bin", "ffplay", "#!/bin/sh\ncat > /dev/null\n")
    return {"PATH": f"{folder}:/usr/bin:/bin"}


@pytest.mark.parametrize(
    "command",
    [("tts", "sse"), ("tts", "ws"), ("say",), ("tts", "bytes")],
    ids=lambda words: " ".join(words),
)
def test_a_refusal_sent_as_an_error_event_is_exit_4_on_every_command(
    cli: RunCli, fake: FakeCartesia, quiet_player: dict[str, str], command: tuple[str, ...]
) -> None:
    # An unknown model: the server answers 200 and an error event carrying status 400
    # (tts bytes, which has no events, gets HTTP 400: the code all the others must match).
    result = cli(*command, "Hello.", "--model", "sonic-9", "-o", "out.pcm", "--json",
                 env=quiet_player)  # fmt: skip
    assert result.code == 4, result.stderr
    assert "Invalid model" in result.stderr
    doc = one_object(result.stdout)
    assert doc["exit_code"] == 4
    assert doc["error"]["kind"] == "rejected" and doc["error"]["status"] == 400


def test_a_refusal_in_a_batch_is_exit_4(cli: RunCli, fake: FakeCartesia, tmp_path: Path) -> None:
    (tmp_path / "items.jsonl").write_text('{"transcript": "Hi.", "model": "sonic-9"}\nHello.\n')
    result = cli("tts", "sse", "--batch", "items.jsonl", "--json")
    assert result.code == 4, result.stderr
    codes = [json.loads(line)["exit_code"] for line in result.stdout.splitlines()]
    assert sorted(codes) == [0, 4]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"status_code": 400, "title": "Invalid voice", "message": "No such voice."}, 4),
        ({"status": 404, "title": "Not found", "message": "No such voice."}, 4),
        ({"status_code": "422", "error": "bad"}, 4),  # a status written as text
        ({"status_code": 401, "error": "key revoked"}, 3),
        ({"status_code": 500, "error": "busy"}, 5),
        ({"status_code": True, "error": "odd"}, 5),  # not a status at all
        ({"status_code": 4e2, "error": "odd"}, 5),
        ({"error": "no status"}, 5),
    ],
)
def test_the_status_in_an_error_event_names_the_exit_code(
    tmp_path: Path, payload: dict[str, Any], code: int
) -> None:
    event = json.dumps({"type": "error", "done": True, **payload})
    body = sse_body(event)
    server = RawServer(response("200 OK", body, "Content-Type: text/event-stream"))
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=server.url)
    try:
        result = run_in_process(("tts", "sse", "Hi", "-o", "out.pcm", "--retries", "0"),
                                env=env, cwd=tmp_path)  # fmt: skip
    finally:
        server.close()
    assert result.code == code, result.stderr
    assert result.stderr.startswith("cartesia-cli: error: the server reported an error: ")


# --- a bug still gives the --json object -------------------------------------------------


def test_a_bug_in_a_job_still_writes_its_json_object(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cartesia_cli.run import pipeline

    def broken(stats: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(pipeline, "require_audio", broken)
    result = cli("tts", "sse", "Hello.", "-o", "out.pcm", "--json")
    assert result.code == 1
    assert result.stderr.startswith("cartesia-cli: error: internal error: ZeroDivisionError: a bug")
    assert "Traceback" not in result.stderr
    doc = one_object(result.stdout)
    assert doc["exit_code"] == 1
    assert doc["error"]["kind"] == "internal"
    assert doc["bytes"] == (tmp_path / "out.pcm").stat().st_size > 0  # what it had done


def test_a_bug_before_the_job_still_writes_a_json_object(
    cli: RunCli, fake: FakeCartesia, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cartesia_cli.jobs import speak

    def broken(job: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(speak, "speak", broken)
    result = cli("tts", "ws", "Hello.", "-o", "-", "--json")
    assert result.code == 1
    doc = one_object(result.stderr.splitlines()[-1])  # audio on stdout: the object on stderr
    assert doc["command"] == "tts ws"
    assert doc["exit_code"] == 1 and doc["error"]["kind"] == "internal"
    assert fake.requests == []


def test_a_bug_outside_the_cli_boundary_is_one_line_and_the_object(tmp_path: Path) -> None:
    # Between the early connection (whose own failures only mean connecting as usual) and
    # the CLI's boundary: launch.py's own step of freezing the start-up heap.
    script = (
        "import gc, sys\n"
        "from cartesia_cli import launch\n"
        "def broken():\n"
        "    raise RuntimeError('a bug')\n"
        "gc.freeze = broken\n"
        "sys.argv = ['cartesia-cli', 'tts', 'sse', 'Hello.', '-o', 'out.pcm', '--json']\n"
        "launch.main()\n"
    )
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL="http://127.0.0.1:9")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env,
                          cwd=tmp_path, timeout=30)  # fmt: skip
    stderr = done.stderr.decode()
    assert done.returncode == 1
    assert stderr == (
        "cartesia-cli: error: internal error: RuntimeError: a bug "
        "(rerun with --debug for details)\n"
    )
    doc = one_object(done.stdout)
    assert doc["command"] == "tts sse" and doc["error"]["kind"] == "internal"


# --- a terminal lost mid-run is a hang-up ------------------------------------------------

SHOWN_BYTES = re.compile(rb"([1-9][0-9,]*) B")


@pytest.mark.parametrize("command", [("tts", "sse"), ("tts", "ws")], ids=" ".join)
@pytest.mark.parametrize("stdout_too", [False, True], ids=["stderr", "stdout and stderr"])
def test_a_terminal_closed_mid_stream_is_a_hang_up_with_the_audio_kept(
    tmp_path: Path, command: tuple[str, ...], stdout_too: bool
) -> None:
    with FakeCartesia(api_key=API_KEY, plan=AudioPlan(audio_seconds=3.0), pace=1.0) as fake:
        main, terminal = pty.openpty()
        env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url, TERM="xterm")
        proc = subprocess.Popen(
            [str(ENTRY_POINT), *command, "Hello there.", "-o", "out.pcm", "--json"],
            stdin=subprocess.DEVNULL, stdout=terminal if stdout_too else subprocess.PIPE,
            stderr=terminal, env=env, cwd=tmp_path,
        )  # fmt: skip
        os.close(terminal)
        try:
            _wait_for_audio_on_screen(main)
        finally:
            os.close(main)  # the terminal goes away while the audio is still coming
        stdout, _ = proc.communicate(timeout=10)
        sent = bytes(fake.transmissions[-1].audio)
    assert proc.returncode == 129
    kept = (tmp_path / "out.pcm").read_bytes()
    assert 0 < len(kept) < 3 * 44100 * 4  # cut short, not played out
    assert sent.startswith(kept)
    if not stdout_too:  # else the object had nowhere to go
        doc = one_object(stdout)
        assert doc["exit_code"] == 129 and doc["error"]["kind"] == "hangup"
        assert doc["bytes"] == len(kept)


def _wait_for_audio_on_screen(main: int) -> None:
    """Read the terminal until the live display shows some audio received."""
    screen = b""
    deadline = time.monotonic() + 10
    while not SHOWN_BYTES.search(screen):
        ready, _, _ = select.select([main], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no audio on the live display: {screen[-200:]!r}"
        screen += os.read(main, 65536)


# --- the summary, --json and the file agree -----------------------------------------------


def test_a_wav_made_here_is_counted_with_its_header_everywhere(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    result = cli("tts", "sse", "Hello.", "--container", "wav", "-o", "out.wav", "--json")
    assert result.code == 0, result.stderr
    size = (tmp_path / "out.wav").stat().st_size
    doc = one_object(result.stdout)
    assert doc["bytes"] == size
    assert f"wrote out.wav: {doc['audio_seconds']:.2f} s of audio, {size} bytes," in result.stderr


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs ffprobe (ffmpeg)")
@pytest.mark.parametrize("rate", ["8000", "16000", "22050", "24000", "44100", "48000"])
def test_mp3_seconds_are_the_files_own_at_every_sample_rate(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, rate: str
) -> None:
    # 128 kb/s is more than MPEG-2.5 carries at 8 kHz: the encoder makes 64 kb/s of it.
    result = cli("tts", "bytes", "Hello there, a test.", "--container", "mp3", "-r", rate,
                 "--bit-rate", "128000", "-o", "out.mp3", "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    doc = one_object(result.stdout)
    probed = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
         str(tmp_path / "out.mp3")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert doc["audio_seconds"] == pytest.approx(float(probed), abs=0.001)
    assert doc["bytes"] == (tmp_path / "out.mp3").stat().st_size
    assert f"{doc['audio_seconds']:.2f} s of audio, {doc['bytes']} bytes" in result.stderr
    kbps = "64 kbps" if rate == "8000" else "128 kbps"
    assert f"mp3 {rate} Hz {kbps}" in result.stderr


@pytest.fixture(scope="module")
def mp3_file() -> bytes:
    if shutil.which("ffmpeg") is None:
        pytest.skip("needs ffmpeg")
    samples = b"".join(int(8000 * math.sin(i / 5)).to_bytes(2, "little", signed=True)
                       for i in range(16000))  # fmt: skip
    return encode_mp3("ffmpeg", samples, 16000, 32000)


@given(cuts=st.lists(st.integers(min_value=0, max_value=20_000), max_size=30))
def test_mp3_time_does_not_depend_on_how_the_bytes_were_cut(
    mp3_file: bytes, cuts: list[int]
) -> None:
    whole = Mp3Clock()
    whole.feed(mp3_file)
    assert whole.frames >= 27  # a second at 16 kHz: frames of 576 samples (MPEG-2)
    assert whole.seconds == pytest.approx(whole.frames * 576 / 16000)
    pieces = Mp3Clock()
    edges = sorted({0, len(mp3_file), *(cut % (len(mp3_file) + 1) for cut in cuts)})
    for start, end in itertools.pairwise(edges):
        pieces.feed(mp3_file[start:end])
    assert pieces.frames == whole.frames and pieces.bit_rate == whole.bit_rate
    assert pieces.seconds == whole.seconds


def test_an_id3_tag_and_stray_bytes_are_not_audio(mp3_file: bytes) -> None:
    size = bytes([0, 0, 300 >> 7, 300 & 0x7F])  # "syncsafe": 7 bits a byte
    tag = b"ID3\x04\x00\x00" + size + b"\xff\xfb" * 150  # 300 bytes that look like frames
    clock = Mp3Clock()
    clock.feed(tag[:5])
    clock.feed(tag[5:] + mp3_file + b"TAG" + b"\xff" * 125)  # and an ID3v1 tag at the end
    plain = Mp3Clock()
    plain.feed(mp3_file)
    assert (clock.frames, clock.seconds) == (plain.frames, plain.seconds)


# --- what we write is strict JSON, whatever the server sent ------------------------------


def test_numbers_json_cannot_hold_become_null_in_what_we_write(tmp_path: Path) -> None:
    voice = '{"id":"v1","name":"A","score":NaN,"big":1e400,"low":-Infinity,"ok":0.5}'
    body = f'{{"data":[{voice}],"has_more":false}}'.encode()
    server = RawServer(response("200 OK", body, "Content-Type: application/json"))
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=server.url,
                    CARTESIA_CLI_CACHE_DIR=str(tmp_path / "cache"))  # fmt: skip
    try:
        listed = run_in_process(("voices", "list", "--json"), env=env, cwd=tmp_path)
        table = run_in_process(("voices", "list"), env=env, cwd=tmp_path)
    finally:
        server.close()
    assert listed.code == 0, listed.stderr
    assert strict_json(listed.stdout) == [
        {"id": "v1", "name": "A", "score": None, "big": None, "low": None, "ok": 0.5}
    ]
    assert table.code == 0 and b"NaN" not in table.stdout


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("batch", [False, True], ids=["one job", "batch"])
def test_a_json_object_stdout_cannot_take_is_an_output_error(
    fake: FakeCartesia, tmp_path: Path, batch: bool
) -> None:
    (tmp_path / "items.txt").write_text("Hi.\n")
    what = ("--batch", "items.txt") if batch else ("Hi.", "-o", "out.pcm")
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url)
    with open("/dev/full", "w") as full:
        done = subprocess.run([str(ENTRY_POINT), "tts", "sse", *what, "--json"],
                              stdin=subprocess.DEVNULL, stdout=full, stderr=subprocess.PIPE,
                              env=env, cwd=tmp_path, timeout=30)  # fmt: skip
    stderr = done.stderr.decode()
    assert done.returncode == 7, stderr
    last = stderr.splitlines()[-1]
    assert last == "cartesia-cli: error: could not write the --json object to stdout: " + (
        "No space left on device"
    )
    (written,) = tmp_path.glob("*.pcm")  # the audio is whole all the same
    assert written.read_bytes() == bytes(fake.transmissions[-1].audio)
