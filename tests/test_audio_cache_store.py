"""The audio cache's store: whole entries only, bounded, least recently used evicted, regular
files only.

And the sample sentences: every language the API speaks has one; anything else is English.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartesia_cli.formats import LANGUAGES
from cartesia_cli.input import sample_sentences
from cartesia_cli.output import audio_cache
from cartesia_cli.output.audio_cache import MAGIC, AudioCache


def key_of(name: str) -> str:
    return audio_cache.key({"name": name})


A, B, C = key_of("a"), key_of("b"), key_of("c")


@pytest.fixture
def store(tmp_path: Path) -> AudioCache:
    return AudioCache(tmp_path / "samples")


def names(store: AudioCache) -> list[str]:
    """The entries, least recently used first, by their key."""
    return [entry.path.stem for entry in store.entries()]


def used_at(store: AudioCache, wanted: str, seconds: int) -> None:
    """Mark an entry as used at `seconds` after the epoch: an order no clock can blur."""
    os.utime(store.folder / f"{wanted}.audio", ns=(seconds * 10**9, seconds * 10**9))


def test_what_is_put_is_got(store: AudioCache) -> None:
    assert store.get(A) is None
    assert store.put(A, b"audio" * 100)
    assert store.get(A) == b"audio" * 100
    assert os.listdir(store.folder) == [f"{A}.audio"]  # no temporary file left


def test_the_key_is_every_part_in_any_order() -> None:
    one = audio_cache.key({"body": {"speed": 1.2, "model_id": "m"}, "base_url": "x"})
    same = audio_cache.key({"base_url": "x", "body": {"model_id": "m", "speed": 1.2}})
    other = audio_cache.key({"base_url": "y", "body": {"model_id": "m", "speed": 1.2}})
    assert one == same != other and len(one) == 64


def test_the_least_recently_used_goes_first(tmp_path: Path) -> None:
    store = AudioCache(tmp_path / "samples", max_entries=2)
    store.put(A, b"a")
    store.put(B, b"b")
    used_at(store, A, 100)
    used_at(store, B, 200)
    assert store.get(A) == b"a"  # A is used now: B becomes the oldest
    store.put(C, b"c")
    assert sorted(names(store)) == sorted([A, C])
    assert store.get(B) is None


def test_eviction_keeps_the_byte_bound(tmp_path: Path) -> None:
    entry = len(MAGIC) + 130 + 1000  # one entry's file: header and audio
    store = AudioCache(tmp_path / "samples", max_bytes=entry * 2 + 10)
    for number in range(5):
        wanted = key_of(str(number))
        assert store.put(wanted, bytes([number]) * 1000)
        used_at(store, wanted, 100 + number)
    kept = store.entries()
    assert len(kept) == 2 and sum(e.size for e in kept) <= store.max_bytes
    assert names(store) == [key_of("3"), key_of("4")]  # the two most recent


def test_the_bounds_hold_at_their_defaults() -> None:
    assert audio_cache.MAX_BYTES == 500 * 1024 * 1024  # cache_max_mb's default
    assert audio_cache.MAX_ENTRIES >= 100_000  # generous: the bytes are the bound


def test_many_entries_stay_within_the_count(tmp_path: Path) -> None:
    store = AudioCache(tmp_path / "samples", max_entries=3)
    for number in range(10):
        store.put(key_of(str(number)), b"x")
    assert len(store.entries()) == 3


def test_audio_larger_than_the_store_is_not_kept(tmp_path: Path) -> None:
    store = AudioCache(tmp_path / "samples", max_bytes=1000)
    assert not store.put(A, b"x" * 1000)
    assert store.entries() == []


def test_nothing_empty_is_kept(store: AudioCache) -> None:
    assert not store.put(A, b"")
    assert store.get(A) is None


@pytest.mark.parametrize(
    "spoil",
    [
        lambda data: data[:-1],  # cut short
        lambda data: data + b"x",  # grown
        lambda data: data[:-1] + bytes([data[-1] ^ 1]),  # one bit of the audio
        lambda data: b"RIFF" + data[4:],  # not our header
        lambda data: data.replace(A.encode(), B.encode()),  # another key's entry
        lambda data: b"",
    ],
)
def test_a_corrupt_or_foreign_entry_is_a_miss_and_is_replaced(
    store: AudioCache, spoil: Callable[[bytes], bytes]
) -> None:
    store.put(A, b"audio" * 10)
    path = store.folder / f"{A}.audio"
    path.write_bytes(spoil(path.read_bytes()))
    assert store.get(A) is None
    assert store.put(A, b"fresh")
    assert store.get(A) == b"fresh"


@settings(max_examples=50)  # each example writes and syncs a file
@given(audio=st.binary(min_size=1, max_size=300), at=st.integers(0), bit=st.integers(0, 7))
def test_any_flipped_bit_is_never_played(
    tmp_path_factory: pytest.TempPathFactory, audio: bytes, at: int, bit: int
) -> None:
    store = AudioCache(tmp_path_factory.mktemp("flip"))
    store.put(A, audio)
    path = store.folder / f"{A}.audio"
    data = bytearray(path.read_bytes())
    data[at % len(data)] ^= 1 << bit
    path.write_bytes(bytes(data))
    assert store.get(A) is None


def test_a_named_pipe_is_not_read(store: AudioCache) -> None:
    """A FIFO at an entry's name would block a reader for ever: it is not even opened as one."""
    store.folder.mkdir()
    os.mkfifo(store.folder / f"{A}.audio")
    done = threading.Event()
    found: list[bytes | None] = []

    def read() -> None:
        found.append(store.get(A))
        done.set()

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(5), "the store blocked on a named pipe"
    assert found == [None]
    assert store.entries() == []  # nor counted as an entry
    assert store.put(A, b"audio")  # and a real entry takes its place
    assert store.get(A) == b"audio"


def test_a_symbolic_link_is_not_followed(store: AudioCache, tmp_path: Path) -> None:
    elsewhere = AudioCache(tmp_path / "elsewhere")
    elsewhere.put(A, b"someone else's")
    store.folder.mkdir()
    (store.folder / f"{A}.audio").symlink_to(elsewhere.folder / f"{A}.audio")
    assert store.get(A) is None
    assert store.entries() == []
    store.put(A, b"ours")
    assert store.get(A) == b"ours"
    assert elsewhere.get(A) == b"someone else's"  # the link was replaced, its target untouched


def test_a_directory_in_the_way_is_an_error_not_a_crash(store: AudioCache) -> None:
    (store.folder / f"{A}.audio").mkdir(parents=True)
    assert store.get(A) is None
    with pytest.raises(OSError):
        store.put(A, b"audio")
    assert [p.name for p in store.folder.iterdir()] == [f"{A}.audio"]  # no temporary left


def test_an_interrupted_write_leaves_no_entry(
    store: AudioCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.put(A, b"audio")
    assert list(store.folder.iterdir()) == []


def test_a_temporary_left_by_a_killed_run_goes_in_time(store: AudioCache) -> None:
    store.folder.mkdir()
    old = store.folder / ".partial-abc"
    old.write_bytes(b"half")
    os.utime(old, (0, 0))
    recent = store.folder / ".partial-def"
    recent.write_bytes(b"being written")
    store.put(A, b"audio")
    assert not old.exists() and recent.exists()


def test_files_that_are_not_entries_are_left_alone(store: AudioCache) -> None:
    store.folder.mkdir()
    (store.folder / "README").write_text("mine")
    store.put(A, b"audio")
    assert (store.folder / "README").read_text() == "mine"
    assert names(store) == [A]


def test_a_key_that_is_not_a_digest_is_refused(store: AudioCache) -> None:
    assert store.get("../../etc/passwd") is None
    with pytest.raises(ValueError):
        store.put("../x", b"audio")


def test_a_writer_puts_the_entry_in_place_only_on_commit(store: AudioCache) -> None:
    with store.writer(A) as writer:
        writer.add(b"first ")
        writer.add(b"second")
        assert store.get(A) is None and names(store) == []  # being written: no entry yet
        [temporary] = store.folder.iterdir()
        assert temporary.name.startswith(".partial-")
        assert writer.commit()
    assert store.get(A) == b"first second"
    assert os.listdir(store.folder) == [f"{A}.audio"]


def test_a_writer_never_committed_leaves_nothing(store: AudioCache) -> None:
    with pytest.raises(KeyboardInterrupt), store.writer(A) as writer:
        writer.add(b"half of it")
        raise KeyboardInterrupt
    assert list(store.folder.iterdir()) == []


def test_audio_past_the_cap_is_dropped_as_it_comes(tmp_path: Path) -> None:
    store = AudioCache(tmp_path / "audio", max_bytes=audio_cache.header_size() + 10)
    with store.writer(A) as writer:
        writer.add(b"12345")
        writer.add(b"67890")
        writer.add(b"1")  # one byte over: the file goes at once, not at the end
        assert writer.too_large and list(store.folder.iterdir()) == []
        assert not writer.commit()
    assert store.entries() == [] and writer.failure is None


def test_a_failed_write_is_kept_as_the_writers_failure(store: AudioCache) -> None:
    store.folder.parent.mkdir(exist_ok=True)
    store.folder.write_text("a file where the folder would be")
    with store.writer(A) as writer:
        writer.add(b"audio")
        assert isinstance(writer.failure, FileExistsError)  # a file, not a folder
        assert not writer.commit()


def test_clear_removes_entries_and_leftovers_only(store: AudioCache) -> None:
    store.put(A, b"a" * 10)
    store.put(B, b"b" * 20)
    (store.folder / ".partial-xyz").write_bytes(b"left by a killed run")
    (store.folder / "README").write_text("mine")
    assert store.usage() == (2, 2 * audio_cache.header_size() + 30)
    assert store.clear() == (2, 2 * audio_cache.header_size() + 30)
    assert os.listdir(store.folder) == ["README"] and store.usage() == (0, 0)


# --- sample sentences -----------------------------------------------------------------------


def test_every_language_the_api_speaks_has_a_sentence() -> None:
    assert set(sample_sentences.SENTENCES) == set(LANGUAGES)
    assert all(s.strip() for s in sample_sentences.SENTENCES.values())


@pytest.mark.parametrize(
    ("code", "language"),
    [("fr", "fr"), ("pt-BR", "pt"), ("pt_br", "pt"), (" DE ", "de"), ("xx", "en"), ("", "en"),
     (None, "en"), (3, "en"), ("en-GB", "en")],
)  # fmt: skip
def test_the_sentence_follows_the_voices_language(code: object, language: str) -> None:
    assert sample_sentences.sentence_for(code) == sample_sentences.SENTENCES[language]


@given(st.one_of(st.text(), st.none(), st.integers(), st.lists(st.text())))
def test_any_language_a_server_sends_has_a_sentence(code: object) -> None:
    assert sample_sentences.language_of(code) in sample_sentences.SENTENCES


def test_the_table_id_changes_with_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    before = sample_sentences.table_id()
    monkeypatch.setitem(sample_sentences.SENTENCES, "en", "Hi.")
    assert sample_sentences.table_id() != before
