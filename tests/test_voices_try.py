"""`voices try`, `voices list --try` and `dicts try`: samples heard through the player, and kept.

A stand-in `ffplay` on PATH saves every byte it is fed, one file per run of it, so
each test compares what the player heard with what the fake server sent. The
sample store lives in the test's own cache directory (CARTESIA_CLI_CACHE_DIR).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cartesia_cli.input.sample_sentences import SENTENCES
from cartesia_cli.mock import AudioPlan, FakeCartesia
from cartesia_cli.mock.voices import CATALOGUE

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env, stand_in

KATIE = "f786b574-daa5-4673-aa0c-cbe3e8534c02"
THEO = next(v["id"] for v in CATALOGUE if v["name"] == "Théo")
UNKNOWN = "00000000-0000-4000-8000-000000000000"
SAMPLE_SUFFIX = ".audio"

# Saves what it is fed as <PLAYER_RECORD>/<time>-<pid>.audio (its arguments beside it), so
# that the runs of one command are read back in order.
PLAYER = f"""#!{sys.executable}
import json, os, sys, time
mode = os.environ.get("PLAYER_MODE", "")
base = os.path.join(os.environ["PLAYER_RECORD"], f"{{time.time_ns()}}-{{os.getpid()}}")
with open(base + ".args", "w") as f:
    json.dump(sys.argv[1:], f)
data = bytearray()
while chunk := os.read(0, 65536):
    data += chunk
    if mode == "quit" and len(data) >= 100:
        sys.stderr.write("ffplay: pretend failure\\n")
        break
    if mode == "slow":
        time.sleep(0.2)
with open(base + ".audio", "wb") as f:
    f.write(data)
sys.exit(1 if mode == "quit" else 0)
"""


@pytest.fixture
def player(tmp_path: Path) -> Path:
    """The folder holding the stand-in ffplay; its recordings go to `records`."""
    (tmp_path / "records").mkdir()
    return stand_in(tmp_path / "bin", "ffplay", PLAYER)


@pytest.fixture
def env(player: Path, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": f"{player}:/usr/bin:/bin",
        "PLAYER_RECORD": str(tmp_path / "records"),
        "CARTESIA_CLI_CACHE_DIR": str(tmp_path / "cache"),
    }


def heard(tmp_path: Path) -> list[bytes]:
    """What the player was fed, run by run."""
    return [p.read_bytes() for p in sorted((tmp_path / "records").glob("*.audio"))]


def stored(tmp_path: Path) -> list[Path]:
    """Every file in the sample store (entries, and anything left behind)."""
    folder = tmp_path / "cache" / "audio"
    return sorted(folder.iterdir()) if folder.exists() else []


def tts_requests(fake: FakeCartesia) -> list[dict[str, object]]:
    return [r.json() for r in fake.requests if r.path.startswith("/tts/")]


def sent(fake: FakeCartesia, index: int = -1) -> bytes:
    return bytes(fake.transmissions[index].audio)


# --- voices try -----------------------------------------------------------------------------


def test_try_says_the_sample_sentence_of_the_voices_language(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    result = cli("voices", "try", THEO, env=env)
    assert result.code == 0, result.stderr
    assert [(r.method, r.path.split("?")[0]) for r in fake.requests] == [
        ("GET", f"/voices/{THEO}"),  # its language: one GET
        ("POST", "/tts/sse"),
    ]
    body = tts_requests(fake)[0]
    assert body["transcript"] == SENTENCES["fr"] and body["voice"] == THEO
    assert heard(tmp_path) == [sent(fake)]  # byte for byte what the server made
    assert result.stderr.startswith("played: ") and ", cached" not in result.stderr
    assert [p.suffix for p in stored(tmp_path)] == [SAMPLE_SUFFIX]


def test_a_second_try_plays_from_the_store_without_any_request(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    assert cli("voices", "try", THEO, env=env).code == 0
    first, requests = sent(fake), len(fake.requests)
    again = cli("voices", "try", THEO, env=env)
    assert again.code == 0, again.stderr
    assert len(fake.requests) == requests  # not even the voice's language is asked again
    assert heard(tmp_path) == [first, first]
    assert again.stderr.startswith("played: ")
    assert again.stderr.rstrip("\n").endswith(", cached")


def test_the_store_feeds_an_output_file_as_the_stream_did(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    text = ("Your", "order", "has", "shipped.")
    assert cli("voices", "try", KATIE, *text, "-o", "first.wav", env=env).code == 0
    assert tts_requests(fake)[0]["transcript"] == "Your order has shipped."
    again = cli("voices", "try", KATIE, *text, "-o", "again.wav", env=env)
    assert again.code == 0, again.stderr
    assert len(tts_requests(fake)) == 1
    first, second = (tmp_path / "first.wav").read_bytes(), (tmp_path / "again.wav").read_bytes()
    assert first == second and first[:4] == b"RIFF" and first.endswith(sent(fake))
    assert again.stderr.startswith("wrote again.wav: ")
    assert again.stderr.rstrip("\n").endswith(", cached")


@pytest.mark.parametrize(
    "changed",
    [
        ("--speed", "1.2"),
        ("--sample-rate", "24000"),
        ("--encoding", "pcm_s16le"),
        ("--model", "sonic-3"),
        ("--api-version", "2026-03-01"),
        ("--emotion", "calm"),
    ],
)
def test_whatever_changes_the_audio_is_a_new_sample(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], changed: tuple[str, str]
) -> None:
    assert cli("voices", "try", KATIE, "Hi", env=env).code == 0
    result = cli("voices", "try", KATIE, "Hi", *changed, env=env)
    assert result.code == 0, result.stderr
    assert len(tts_requests(fake)) == 2 and ", cached" not in result.stderr
    assert cli("voices", "try", KATIE, "Hi", *changed, env=env).code == 0
    assert len(tts_requests(fake)) == 2  # and that one is stored in its turn


def test_another_server_is_a_new_sample(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str]
) -> None:
    assert cli("voices", "try", KATIE, "Hi", env=env).code == 0
    with FakeCartesia(api_key=API_KEY) as other:
        result = cli("voices", "try", KATIE, "Hi", env={**env, "CARTESIA_BASE_URL": other.url})
        assert result.code == 0, result.stderr
        assert len(tts_requests(other)) == 1


def test_a_voice_named_by_its_name(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    result = cli("voices", "try", "katie", "Hi", env=env)
    assert result.code == 0, result.stderr
    assert tts_requests(fake)[0]["voice"] == KATIE


@pytest.mark.parametrize(
    ("fault", "code"), [("cut", 6), ("error-mid-stream", 5), ("truncated", 6), ("reset", 6)]
)
def test_a_failed_stream_stores_nothing(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path, fault: str, code: int
) -> None:
    fake.plan = AudioPlan(audio_seconds=1.0)  # chunks before the fault and after it
    fake.queue(fault)
    result = cli("voices", "try", KATIE, "Hi", env=env)
    assert result.code == code, result.stderr
    assert stored(tmp_path) == []  # no entry, and no temporary file left
    retry = cli("voices", "try", KATIE, "Hi", env=env)
    assert retry.code == 0 and ", cached" not in retry.stderr  # fetched afresh
    assert len(tts_requests(fake)) == 2 and len(stored(tmp_path)) == 1


def test_a_player_that_fails_is_never_said_to_have_played(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    result = cli("voices", "try", KATIE, "Hi", env={**env, "PLAYER_MODE": "quit"})
    # Nothing else keeps the audio: the player's failure is the run's (exit 7), as say's.
    assert result.code == 7, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("cartesia-cli: error: ffplay quit before the end of the audio")
    asked = len(tts_requests(fake))
    again = cli("voices", "try", KATIE, "Hi", env={**env, "PLAYER_MODE": "quit"})
    assert again.code == 7 and "played" not in again.stderr
    assert len(tts_requests(fake)) == asked  # the audio was whole: kept, and replayed from there


def test_a_store_that_cannot_be_written_costs_a_warning_not_the_sample(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "cache").write_text("a file where the cache directory would be")
    result = cli("voices", "try", KATIE, "Hi", env=env)
    assert result.code == 0, result.stderr
    warning, summary = result.stderr.splitlines()
    samples = tmp_path / "cache" / "audio"
    assert warning == (
        f"cartesia-cli: warning: could not keep the audio in the cache {samples}: Not a directory"
    )
    assert summary.startswith("played: ") and heard(tmp_path) == [sent(fake)]


def test_an_unknown_voice_is_exit_4_and_nothing_is_spent(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    result = cli("voices", "try", UNKNOWN, env=env)
    assert result.code == 4, result.stderr
    assert tts_requests(fake) == [] and heard(tmp_path) == [] and stored(tmp_path) == []


@pytest.mark.parametrize(
    "args",
    [
        ("voices", "try", KATIE),
        ("voices", "list", "--limit", "1", "--try"),
        ("dicts", "try", "bayou", "--dict", UNKNOWN),
    ],
)
def test_no_player_is_a_usage_error_before_any_request(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, args: tuple[str, ...]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli(*args, env={"PATH": str(empty), "CARTESIA_CLI_CACHE_DIR": str(tmp_path / "c")})
    assert result.code == 2
    assert result.stderr.startswith("cartesia-cli: error: --player ffplay: ffplay is not on PATH")
    assert fake.requests == []


def test_try_as_a_process(cli_process: RunCli, fake: FakeCartesia, env: dict[str, str]) -> None:
    result = cli_process("voices", "try", KATIE, env=env)
    assert result.code == 0, result.stderr
    assert tts_requests(fake)[0]["transcript"] == SENTENCES["en"]
    assert result.stdout == b"" and result.stderr.startswith("played: ")


# --- voices list --try ------------------------------------------------------------------------


def test_list_try_speaks_each_voice_listed_after_its_name(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    result = cli("voices", "list", "--language", "fr", "--limit", "2", "--try", env=env)
    assert result.code == 0, result.stderr
    french = [v for v in CATALOGUE if v["language"] == "fr"][:2]
    assert [line.split("\t")[0] for line in result.stdout.decode().splitlines()[1:]] == [
        v["id"] for v in french
    ]  # the listing first, as without --try
    lines = result.stderr.splitlines()
    assert lines[0] == f"Théo (fr, {french[0]['id'][:4]}…)" and lines[1].startswith("played: ")
    assert lines[2] == f"Amélie (fr, {french[1]['id'][:4]}…)" and lines[3].startswith("played: ")
    bodies = tts_requests(fake)
    assert [b["voice"] for b in bodies] == [v["id"] for v in french]
    assert {b["transcript"] for b in bodies} == {SENTENCES["fr"]}
    assert not [r for r in fake.requests if r.path.startswith("/voices/")]  # known languages
    assert heard(tmp_path) == [sent(fake, 0), sent(fake, 1)]


def test_list_try_uses_the_samples_voices_try_stored(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    assert cli("voices", "try", THEO, env=env).code == 0
    result = cli("voices", "list", "--language", "fr", "--limit", "1", "--try", env=env)
    assert result.code == 0, result.stderr
    assert len(tts_requests(fake)) == 1  # Théo's sample was the one `voices try` kept
    assert result.stderr.splitlines()[1].endswith(", cached")


def test_ctrl_c_stops_list_try_at_once_and_keeps_no_half_sample(
    player: Path, tmp_path: Path
) -> None:
    records = tmp_path / "records"
    with FakeCartesia(api_key=API_KEY, plan=AudioPlan(audio_seconds=3.0), pace=1.0) as fake:
        env = clean_env(
            CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url, PATH=f"{player}:/usr/bin:/bin",
            PLAYER_RECORD=str(records), PLAYER_MODE="slow",
            CARTESIA_CLI_CACHE_DIR=str(tmp_path / "cache"),
        )  # fmt: skip
        with subprocess.Popen(
            [str(ENTRY_POINT), "voices", "list", "--limit", "3", "--try"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        ) as proc:  # fmt: skip
            # Some chunks out (each 0.1 s of audio), so that a half sample could be kept.
            chunk = round(0.1 * 44100) * 4
            _wait_for(lambda: bool(fake.transmissions) and fake.transmissions[0].length > 2 * chunk)
            proc.send_signal(signal.SIGINT)
            started = time.monotonic()
            _, err = proc.communicate(timeout=20)
        stopped_after = time.monotonic() - started
    assert proc.returncode == 130, err
    lines = err.decode().splitlines()
    assert lines == ["Katie (en, f786…)", "cartesia-cli: error: interrupted"]
    assert stopped_after < 2  # not the 3 s of the stream, nor the other voices
    assert len(list(records.glob("*.args"))) == 1  # one player started, none after
    assert stored(tmp_path) == []  # the cut sample is not kept, not even half of it


def _wait_for(condition: object, timeout: float = 10.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


# --- dicts try --------------------------------------------------------------------------------


def _dictionary(fake: FakeCartesia, cli: RunCli, env: dict[str, str]) -> str:
    """A dictionary on the fake, made through its API: its id."""
    import httpx

    answer = httpx.post(
        f"{fake.url}/pronunciation-dicts/",
        json={"name": "Bayou words", "items": [{"text": "bayou", "pronunciation": "by-you"}]},
        headers={"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": "2026-08-14"},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def test_dicts_try_says_the_word_without_then_with_the_dictionary(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    dictionary = _dictionary(fake, cli, env)
    result = cli("dicts", "try", "bayou", "--dict", "bayou words", env=env)
    assert result.code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "without the dictionary:" and lines[1].startswith("played: ")
    assert lines[2] == "with Bayou words:" and lines[3].startswith("played: ")
    without, with_it = tts_requests(fake)
    assert "pronunciation_dict_id" not in without and without["transcript"] == "bayou"
    assert with_it["pronunciation_dict_id"] == dictionary
    assert sent(fake, 0) != sent(fake, 1)  # the dictionary changed what was said
    assert heard(tmp_path) == [sent(fake, 0), sent(fake, 1)]


def test_dicts_try_again_is_from_the_store_until_the_dictionary_changes(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    import httpx

    dictionary = _dictionary(fake, cli, env)
    assert cli("dicts", "try", "bayou", "--dict", dictionary, env=env).code == 0
    again = cli("dicts", "try", "bayou", "--dict", dictionary, env=env)
    assert again.code == 0, again.stderr
    assert len(tts_requests(fake)) == 2
    assert [line.endswith(", cached") for line in again.stderr.splitlines()] == [
        False, True, False, True,
    ]  # fmt: skip
    httpx.patch(
        f"{fake.url}/pronunciation-dicts/{dictionary}",
        json={"items": [{"text": "bayou", "pronunciation": "buy-oh"}]},
        headers={"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": "2026-08-14"},
    ).raise_for_status()
    edited = cli("dicts", "try", "bayou", "--dict", dictionary, env=env)
    assert edited.code == 0, edited.stderr
    assert len(tts_requests(fake)) == 3  # only "with" is new: "without" is the same audio


def test_dicts_try_with_an_unknown_dictionary_is_exit_4_before_any_audio(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    result = cli("dicts", "try", "bayou", "--dict", UNKNOWN, env=env)
    assert result.code == 4, result.stderr
    assert tts_requests(fake) == [] and heard(tmp_path) == []


def test_dicts_try_as_a_process(
    cli_process: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    dictionary = _dictionary(fake, cli_process, env)
    result = cli_process("dicts", "try", "bayou", "--dict", dictionary, env=env)
    assert result.code == 0, result.stderr
    assert len(heard(tmp_path)) == 2
    assert json.loads(fake.requests[-1].body)["pronunciation_dict_id"] == dictionary
    assert os.listdir(tmp_path / "cache" / "audio")
