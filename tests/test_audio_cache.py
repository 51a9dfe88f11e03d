"""--cache: a hit sends no request and writes the miss's very bytes; only complete audio is kept.

Every test counts the requests at the fake server, and keeps the cache in its
own folder (CARTESIA_CLI_CACHE_DIR).
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.errors import UsageError
from cartesia_cli.formats import MODEL_ALIASES
from cartesia_cli.mock import AudioPlan, FakeCartesia
from cartesia_cli.output.audio_cache import MAGIC, SUFFIX
from cartesia_cli.settings import spec

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env, stand_in


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"CARTESIA_CLI_CACHE_DIR": str(tmp_path / "cache")}


def folder(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "audio"


def entries(tmp_path: Path) -> list[Path]:
    where = folder(tmp_path)
    return sorted(p for p in where.iterdir() if p.suffix == SUFFIX) if where.exists() else []


def leftovers(tmp_path: Path) -> list[str]:
    """Anything in the cache folder that is not an entry: a temporary file left behind."""
    where = folder(tmp_path)
    return [p.name for p in where.iterdir() if p.suffix != SUFFIX] if where.exists() else []


def tts_requests(fake: FakeCartesia) -> int:
    return sum(1 for r in fake.requests if r.path.startswith("/tts/"))


def one_object(text: bytes | str) -> dict[str, object]:
    lines = (text.decode() if isinstance(text, bytes) else text).splitlines()
    doc = json.loads(lines[-1])
    assert isinstance(doc, dict)
    return doc


# --- a hit: no request, the same bytes, in every container ------------------------------------


@pytest.mark.parametrize(
    ("command", "suffix", "extra"),
    [
        ("sse", "pcm", ()),
        ("sse", "wav", ("-e", "pcm_s16le")),  # a WAV header made here, over cached raw audio
        ("sse", "mp3", ()),  # encoded here by ffmpeg from the cached PCM
        ("sse", "flac", ("-e", "pcm_s16le")),
        ("bytes", "wav", ()),  # the server's own WAV, cached as it came
        ("bytes", "mp3", ()),  # the server's MP3
        ("sse", "flac", ()),  # 24-bit FLAC from pcm_f32le
        ("sse", "ogg", ()),  # Ogg Opus: its stream serial is fixed, not drawn at random
    ],
)
def test_a_hit_sends_no_request_and_writes_the_same_bytes(
    cli: RunCli,
    fake: FakeCartesia,
    env: dict[str, str],
    tmp_path: Path,
    command: str,
    suffix: str,
    extra: tuple[str, ...],
) -> None:
    miss = cli("tts", command, "Hello, world!", "-o", f"miss.{suffix}", "--cache", *extra, env=env)
    assert miss.code == 0, miss.stderr
    assert tts_requests(fake) == 1 and ", cached" not in miss.stderr
    assert len(entries(tmp_path)) == 1 and leftovers(tmp_path) == []
    hit = cli("tts", command, "Hello, world!", "-o", f"hit.{suffix}", "--cache", *extra, env=env)
    assert hit.code == 0, hit.stderr
    assert tts_requests(fake) == 1, "a hit sent a request"
    assert (tmp_path / f"hit.{suffix}").read_bytes() == (tmp_path / f"miss.{suffix}").read_bytes()
    summary = next(line for line in hit.stderr.splitlines() if line.startswith("wrote "))
    assert summary.endswith(", cached")


def test_a_hit_on_stdout_is_the_same_bytes(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str]
) -> None:
    miss = cli("tts", "sse", "Hello", "-o", "-", "--cache", env=env)
    hit = cli("tts", "sse", "Hello", "-o", "-", "--cache", env=env)
    assert miss.code == hit.code == 0, hit.stderr
    assert hit.stdout == miss.stdout == bytes(fake.transmissions[0].audio)
    assert tts_requests(fake) == 1


def test_json_says_cached_and_characters_billed(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str]
) -> None:
    miss = one_object(cli("tts", "sse", "Hello, world!", "-o", "a.pcm", "--cache", "--json",
                          env=env).stdout)  # fmt: skip
    hit = one_object(cli("tts", "sse", "Hello, world!", "-o", "b.pcm", "--cache", "--json",
                         env=env).stdout)  # fmt: skip
    assert (miss["cached"], miss["characters_billed"], miss["characters"]) == (False, 13, 13)
    assert (hit["cached"], hit["characters_billed"], hit["characters"]) == (True, 0, 13)
    assert hit["bytes"] == miss["bytes"] and hit["audio_seconds"] == miss["audio_seconds"]
    plain = one_object(cli("tts", "sse", "Hi", "-o", "c.pcm", "--json", env=env).stdout)
    assert (plain["cached"], plain["characters_billed"]) == (False, 2)


def test_say_plays_a_hit_with_no_request(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    records = tmp_path / "records"
    records.mkdir()
    player = f"#!{sys.executable}\nimport os, sys, time\n" + (
        f"open(os.path.join({str(records)!r}, str(time.time_ns())), 'wb')"
        ".write(sys.stdin.buffer.read())\n"
    )
    bin_dir = stand_in(tmp_path / "bin", "ffplay", player)
    env = {**env, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    first = cli("say", "Build", "finished", "--cache", env=env)
    second = cli("say", "Build", "finished", "--cache", env=env)
    assert first.code == second.code == 0, second.stderr
    assert tts_requests(fake) == 1
    heard = [p.read_bytes() for p in sorted(records.iterdir())]
    assert heard == [bytes(fake.transmissions[0].audio)] * 2
    assert second.stderr.rstrip("\n").endswith(", cached")


def test_without_cache_nothing_is_kept_or_read(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    assert cli("tts", "sse", "Hello", "-o", "a.pcm", env=env).code == 0
    assert not (tmp_path / "cache").exists()
    assert cli("tts", "sse", "Hello", "-o", "b.pcm", "--cache", env=env).code == 0
    assert cli("tts", "sse", "Hello", "-o", "c.pcm", "--no-cache", env=env).code == 0
    assert tts_requests(fake) == 3  # --no-cache: asked again though an entry is there


def test_the_environment_and_the_config_file_turn_it_on(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    assert cli("tts", "sse", "Hi", "-o", "a.pcm", env={**env, "CARTESIA_CACHE": "1"}).code == 0
    assert cli("config", "set", "cache", "true", env=env).code == 0
    assert "cache = true\n" in (tmp_path / "config" / "config.toml").read_text()
    assert cli("tts", "sse", "Hi", "-o", "b.pcm", env=env).code == 0  # from the config file
    assert tts_requests(fake) == 1
    off = cli("tts", "sse", "Hi", "-o", "c.pcm", env={**env, "CARTESIA_CACHE": "false"})
    assert off.code == 0 and tts_requests(fake) == 2  # the environment over the file
    assert cli("config", "get", "cache", env=env).stdout == b"true\n"


@pytest.mark.parametrize("alias", MODEL_ALIASES)
def test_aliases_are_not_cached_unless_asked(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path, alias: str
) -> None:
    for name in ("a", "b"):
        result = cli("tts", "sse", "Hi", "-m", alias, "-o", f"{name}.pcm", "--cache", env=env)
        assert result.code == 0, result.stderr
    assert tts_requests(fake) == 2 and entries(tmp_path) == []
    for name in ("c", "d"):
        args = ("-m", alias, "-o", f"{name}.pcm", "--cache", "--cache-aliases")
        assert cli("tts", "sse", "Hi", *args, env=env).code == 0
    assert tts_requests(fake) == 3 and len(entries(tmp_path)) == 1


def test_timestamps_are_always_asked_for(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    for name in ("a", "b"):
        args = ("-o", f"{name}.pcm", "--timestamps", f"{name}.srt", "--cache")
        assert cli("tts", "sse", "Hello, world.", *args, env=env).code == 0
    assert tts_requests(fake) == 2 and entries(tmp_path) == []


def test_every_part_of_the_request_is_in_the_key(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str]
) -> None:
    katie = "f786b574-daa5-4673-aa0c-cbe3e8534c02"
    runs = [(), ("--speed", "1.2"), ("-r", "22050"), ("-v", katie), ("-m", "sonic-3"),
            ("--api-version", "2026-03-01")]  # fmt: skip
    for number, extra in enumerate(runs):
        assert cli("tts", "sse", "Hi", "-o", f"{number}.pcm", "--cache", *extra, env=env).code == 0
    assert tts_requests(fake) == len(runs)
    assert (
        cli("tts", "sse", "Hi", "-o", "again.pcm", "--cache", "--speed", "1.2", env=env).code == 0
    )
    assert tts_requests(fake) == len(runs)


def test_dry_run_says_whether_it_would_be_a_hit(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str]
) -> None:
    before = cli("tts", "sse", "Hi", "--dry-run", "--cache", env=env)
    assert before.stderr.splitlines()[-1].startswith("cache: a miss; the audio would be kept in ")
    assert cli("tts", "sse", "Hi", "-o", "a.pcm", "--cache", env=env).code == 0
    after = cli("tts", "sse", "Hi", "--dry-run", "--cache", env=env)
    assert after.stderr.splitlines()[-1] == (
        "cache: a hit; the audio would come from the cache, with no request"
    )
    alias = cli("tts", "sse", "Hi", "--dry-run", "--cache", "-m", "sonic-latest", env=env)
    assert "an alias that changes (--cache-aliases uses it)" in alias.stderr
    assert tts_requests(fake) == 1


# --- a pronunciation dictionary: keyed by its words, not its id alone -------------------------

WORDS = '[words]\nCartesia = "{sound}"\n'


def dictionary_gets(fake: FakeCartesia) -> int:
    return sum(1 for r in fake.requests if r.method == "GET" and "/pronunciation-dicts/" in r.path)


def test_an_edited_dictionary_is_new_audio_not_the_old_replayed(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "old.toml").write_text(WORDS.format(sound="kar-TEE-zha"))
    (tmp_path / "new.toml").write_text(WORDS.format(sound="car tea sia"))
    assert cli("dicts", "create", "Brands", "old.toml", env=env).code == 0
    speak = ("tts", "sse", "Cartesia speaks.", "--cache", "--pronunciation-dict", "Brands")
    assert cli(*speak, "-o", "old.wav", env=env).code == 0
    hit = cli(*speak, "-o", "old-again.wav", env=env)
    assert hit.code == 0 and hit.stderr.splitlines()[0].endswith(", cached"), hit.stderr
    assert tts_requests(fake) == 1
    assert cli("dicts", "update", "Brands", "new.toml", env=env).code == 0  # a PATCH
    edited = cli(*speak, "-o", "new.wav", env=env)
    assert edited.code == 0 and ", cached" not in edited.stderr, "the old audio was replayed"
    assert tts_requests(fake) == 2
    old, new = (tmp_path / "old.wav").read_bytes(), (tmp_path / "new.wav").read_bytes()
    assert old == (tmp_path / "old-again.wav").read_bytes() and new != old
    assert cli(*speak, "-o", "new-again.wav", env=env).code == 0  # the new words: a hit again
    assert tts_requests(fake) == 2 and (tmp_path / "new-again.wav").read_bytes() == new


def test_a_batch_reads_each_dictionary_once(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "words.toml").write_text(WORDS.format(sound="kar-TEE-zha"))
    assert cli("dicts", "create", "Brands", "words.toml", env=env).code == 0
    (tmp_path / "items.txt").write_text("".join(f"Cartesia line {n}.\n" for n in range(4)))
    (tmp_path / "out").mkdir()
    before = dictionary_gets(fake)
    args = ("--batch", "items.txt", "-o", "out", "--cache", "--pronunciation-dict", "Brands")
    for _ in range(2):
        run = cli("tts", "sse", *args, env=env)
        assert run.code == 0, run.stderr
    assert tts_requests(fake) == 4  # the second batch: every item a hit
    assert dictionary_gets(fake) - before == 2  # one read of the dictionary per run


def test_an_unknown_dictionary_is_exit_4_before_any_speech(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    unknown = "3f8e0c52-1d7a-4e1b-9c55-2b8f7f1d2a10"
    args = ("-o", "a.pcm", "--cache", "--pronunciation-dict", unknown)
    failed = cli("tts", "sse", "Hi", *args, env=env)
    assert failed.code == 4 and "No pronunciation dictionary with id" in failed.stderr
    assert tts_requests(fake) == 0 and not (tmp_path / "a.pcm").exists()
    assert entries(tmp_path) == []


def test_a_dry_run_with_a_dictionary_reads_nothing(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "words.toml").write_text(WORDS.format(sound="kar-TEE-zha"))
    assert cli("dicts", "create", "Brands", "words.toml", env=env).code == 0
    sent = len(fake.requests)
    dry = cli("tts", "sse", "Hi", "--dry-run", "--cache", "--pronunciation-dict", "Brands", env=env)
    assert dry.code == 0, dry.stderr
    assert dry.stderr.splitlines()[-1] == (
        "cache: a hit or a miss by the dictionary's words, which a dry run does not read"
    )
    assert len(fake.requests) == sent


# --- only complete audio is kept ---------------------------------------------------------------


@pytest.mark.parametrize("fault", ["cut", "error-mid-stream", "truncated", "reset"])
def test_a_failed_stream_leaves_no_entry(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path, fault: str
) -> None:
    fake.queue(fault)
    failed = cli("tts", "sse", "Hello, world!", "-o", "a.pcm", "--cache", "--retries", "0", env=env)
    assert failed.code in (5, 6), failed.stderr
    assert entries(tmp_path) == [] and leftovers(tmp_path) == []
    again = cli("tts", "sse", "Hello, world!", "-o", "b.pcm", "--cache", env=env)
    assert again.code == 0 and ", cached" not in again.stderr
    assert tts_requests(fake) == 2 and len(entries(tmp_path)) == 1


def test_a_cache_that_cannot_be_written_costs_a_warning_not_the_audio(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "cache").write_text("a file where the cache directory would be")
    result = cli("tts", "sse", "Hello", "-o", "a.pcm", "--cache", env=env)
    assert result.code == 0, result.stderr
    assert (tmp_path / "a.pcm").read_bytes() == bytes(fake.transmissions[0].audio)
    warning, summary, _hint = result.stderr.splitlines()
    assert warning == (
        f"cartesia-cli: warning: could not keep the audio in the cache {folder(tmp_path)}: "
        "Not a directory"
    )
    assert summary.startswith("wrote a.pcm: ") and not summary.endswith(", cached")


def run_process(
    fake: FakeCartesia, cwd: Path, *args: str, limit: int | None = None
) -> subprocess.Popen[bytes]:
    """The installed entry point, with --cache in `cwd`'s cache; `limit`: RLIMIT_FSIZE."""

    def limited() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url,
                    CARTESIA_CLI_CACHE_DIR=str(cwd / "cache"))  # fmt: skip
    return subprocess.Popen(
        [str(ENTRY_POINT), "tts", "sse", "Hello, world!", "--cache", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        preexec_fn=limited,
    )


def test_a_full_disk_during_a_miss_leaves_no_entry(fake: FakeCartesia, tmp_path: Path) -> None:
    """No file may grow past 64 KiB (RLIMIT_FSIZE): the audio goes to stdout whole, the
    cache's file fails with EFBIG part-way, as on a full disk."""
    with run_process(fake, tmp_path, "-o", "-", limit=64 * 1024) as proc:
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    sent = bytes(fake.transmissions[0].audio)
    assert out == sent and len(sent) > 64 * 1024
    assert "could not keep the audio in the cache" in err.decode()
    assert "File too large" in err.decode()
    assert entries(tmp_path) == [] and leftovers(tmp_path) == []


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_ctrl_c_during_a_miss_leaves_no_entry(tmp_path: Path) -> None:
    slow = FakeCartesia(api_key=API_KEY, plan=AudioPlan(audio_seconds=3.0), pace=1.0)
    out = tmp_path / "out.pcm"
    with slow, run_process(slow, tmp_path, "-o", "out.pcm") as proc:
        wait_for(lambda: out.exists() and out.stat().st_size > 0)
        assert leftovers(tmp_path), "the miss is not being written to the cache as it comes"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, err.decode()
    assert 0 < out.stat().st_size < 3 * 44100 * 4  # cut short: partial audio kept
    assert entries(tmp_path) == [] and leftovers(tmp_path) == []


def test_two_processes_missing_one_key_leave_one_valid_entry(tmp_path: Path) -> None:
    paced = FakeCartesia(api_key=API_KEY, plan=AudioPlan(audio_seconds=0.5), pace=1.0)
    with paced:
        with (
            run_process(paced, tmp_path, "-o", "a.pcm") as one,
            run_process(paced, tmp_path, "-o", "b.pcm") as two,
        ):
            assert one.wait(10) == 0 and two.wait(10) == 0
        assert sum(1 for r in paced.requests if r.path.startswith("/tts/")) == 2  # both missed
        [entry] = entries(tmp_path)
        assert leftovers(tmp_path) == []
        assert entry.read_bytes().startswith(MAGIC)
        with run_process(paced, tmp_path, "-o", "c.pcm") as three:
            assert three.wait(10) == 0
        assert sum(1 for r in paced.requests if r.path.startswith("/tts/")) == 2  # a hit
    audio = (tmp_path / "a.pcm").read_bytes()
    assert (tmp_path / "b.pcm").read_bytes() == audio == (tmp_path / "c.pcm").read_bytes()


# --- batch items ----------------------------------------------------------------------------


def test_batch_items_are_cached_and_the_cap_is_kept(
    cli: RunCli, fake: FakeCartesia, env: dict[str, str], tmp_path: Path
) -> None:
    """Eight items of about 0.35 MB each through a 1 MB cap: the most recent fit, no more."""
    lines = [f"Sentence number {n} is here.\n" for n in range(8)]
    (tmp_path / "items.txt").write_text("".join(lines))
    (tmp_path / "backwards.txt").write_text("".join(reversed(lines)))  # the kept ones first
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    assert cli("config", "set", "cache_max_mb", "1", env=env).code == 0
    run = cli("tts", "sse", "--batch", "items.txt", "-o", "first", "--cache", "--json", env=env)
    assert run.code == 0, run.stderr
    assert tts_requests(fake) == 8
    kept = entries(tmp_path)
    assert 0 < len(kept) < 8 and sum(p.stat().st_size for p in kept) <= 1024 * 1024
    again = cli("tts", "sse", "--batch", "backwards.txt", "-o", "second", "--cache", "--json",
                env=env)  # fmt: skip
    docs = [json.loads(line) for line in again.stdout.splitlines()]
    assert sum(1 for doc in docs if doc["cached"]) == len(kept)  # the evicted ones asked again
    assert tts_requests(fake) == 8 + 8 - len(kept)
    first = sorted(p.read_bytes() for p in (tmp_path / "first").iterdir())
    assert sorted(p.read_bytes() for p in (tmp_path / "second").iterdir()) == first
    info = json.loads(cli("cache", "info", "--json", env=env).stdout)
    assert info["max_bytes"] == 1024 * 1024 and info["bytes"] <= info["max_bytes"]


# --- cache info, cache clear --------------------------------------------------------------------


def test_info_and_clear(cli: RunCli, env: dict[str, str], tmp_path: Path) -> None:
    empty = json.loads(cli("cache", "info", "--json", env=env).stdout)
    assert empty == {"location": str(folder(tmp_path)), "entries": 0, "bytes": 0,
                     "max_bytes": 500 * 1024 * 1024}  # fmt: skip
    for text in ("One", "Two"):
        assert cli("tts", "sse", text, "-o", f"{text}.pcm", "--cache", env=env).code == 0
    size = sum(p.stat().st_size for p in entries(tmp_path))
    shown = cli("cache", "info", env=env).stdout.decode().splitlines()
    assert shown[:2] == [f"location: {folder(tmp_path)}", "entries: 2"]
    assert shown[2].endswith(f"({size} bytes)") and shown[3] == "cap: 500.0 MB (cache_max_mb)"
    cleared = cli("cache", "clear", env=env)
    assert cleared.code == 0 and cleared.stdout == b""
    assert cleared.stderr == f"removed 2 entries ({size / 2**20:.1f} MB) from {folder(tmp_path)}\n"
    assert entries(tmp_path) == []
    again = json.loads(cli("cache", "clear", "--json", env=env).stdout)
    assert again == {"location": str(folder(tmp_path)), "removed_entries": 0, "removed_bytes": 0}


def test_cache_commands_as_a_process(cli_process: RunCli, env: dict[str, str]) -> None:
    result = cli_process("cache", "info", "--json", env=env)
    assert result.code == 0 and json.loads(result.stdout)["entries"] == 0
    assert cli_process("cache", "clear", env=env).stderr.startswith("the audio cache was empty: ")


# --- the on/off parser ------------------------------------------------------------------------


@given(st.text(max_size=8))
def test_yes_no_takes_the_usual_words_and_refuses_the_rest(raw: str) -> None:
    word = raw.strip().lower()
    if word in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        assert spec.yes_no(raw, "--cache") is (word in ("true", "yes", "on", "1"))
    else:
        with pytest.raises(UsageError, match=r"^CARTESIA_CACHE must be true or false, got "):
            spec.yes_no(raw, "CARTESIA_CACHE")


def test_a_bad_environment_value_is_a_usage_error(cli: RunCli, env: dict[str, str]) -> None:
    result = cli("tts", "sse", "Hi", "-o", "a.pcm", env={**env, "CARTESIA_CACHE": "maybe"})
    assert result.code == 2
    assert "CARTESIA_CACHE must be true or false, got 'maybe'" in result.stderr


@pytest.mark.parametrize("xdg", [None, "", "relative/cache", "/abs/cache"])
def test_the_cache_folder_is_platformdirs_unless_overridden(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, xdg: str | None
) -> None:
    """dirs.py writes Linux's rule out (no platformdirs import for a Tab press): it must
    name what platformdirs names, for every XDG_CACHE_HOME; the override wins over both."""
    import platformdirs

    from cartesia_cli.settings import dirs, name_cache

    monkeypatch.delenv(dirs.CACHE_DIR_ENV, raising=False)
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    expected = Path(platformdirs.user_cache_dir(dirs.APP_NAME, appauthor=False))
    assert dirs.cache_dir() == expected
    assert name_cache.cache_path() == expected / name_cache.FILE_NAME  # one rule for both
    monkeypatch.setenv(dirs.CACHE_DIR_ENV, str(tmp_path / "mine"))
    assert dirs.cache_dir() == tmp_path / "mine"
    assert name_cache.cache_path() == tmp_path / "mine" / name_cache.FILE_NAME
