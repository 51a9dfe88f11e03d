"""`narrate` against the fake: parts byte for byte, resume, cast, estimate, failures, folders."""

from __future__ import annotations

import copy
import json
import os
import re
import wave
from pathlib import Path
from typing import Any

import pytest

from cartesia_cli.mock import FakeCartesia
from cartesia_cli.mock.scenarios import Scenario
from cartesia_cli.mock.voices import CATALOGUE
from tests.conftest import API_KEY, VOICE, RunCli, assert_one_error_line, spoken_samples

RATE = 44100
PAUSE = 0.6
BOOK = """# One

The first paragraph. It has two sentences.

The second paragraph of chapter one.

# Two

The third paragraph, in chapter two.

The last one.
"""
TEXTS = [
    ["One", "The first paragraph. It has two sentences.", "The second paragraph of chapter one."],
    ["Two", "The third paragraph, in chapter two.", "The last one."],
]
WAV = ("--format", "wav", "--concurrency", "1")


def _book(folder: Path, text: str = BOOK, name: str = "book.md") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _manifest(folder: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((folder / "narrate.json").read_text())
    return loaded


def _part(folder: Path, key: str) -> bytes:
    return (folder / ".parts" / f"{key}.pcm").read_bytes()


def _sent_texts(fake: FakeCartesia, since: int = 0) -> list[str]:
    """The paragraphs sent over every WebSocket since transmission `since`, in order: each
    context's pieces joined up to its flush."""
    texts = []
    for transmission in fake.transmissions[since:]:
        pending: dict[str, str] = {}
        for raw in transmission.messages:
            message = json.loads(raw)
            context = message["context_id"]
            pending[context] = pending.get(context, "") + message.get("transcript", "")
            if message.get("flush"):
                texts.append(pending.pop(context))
    return texts


def _wav_frames(path: Path) -> bytes:
    with wave.open(str(path), "rb") as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, RATE)
        return reader.readframes(reader.getnframes())


def test_each_part_is_what_the_fake_sent_and_each_chapter_the_parts_and_exact_pauses(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    result = cli("narrate", "book.md", *WAV)
    assert result.code == 0, result.stderr
    folder = tmp_path / "book"
    manifest = _manifest(folder)
    assert len(fake.transmissions) == 2  # one connection per chapter
    pause = b"\0" * (round(PAUSE * RATE) * 2)
    for number, (chapter, texts) in enumerate(zip(manifest["chapters"], TEXTS, strict=True)):
        keys = [p["key"] for p in chapter["paragraphs"]]
        parts = [_part(folder, key) for key in keys]
        assert [len(p) for p in parts] == [spoken_samples(t, RATE) * 2 for t in texts]
        # Everything the fake sent on the chapter's connection, in the parts, in order.
        assert b"".join(parts) == bytes(fake.transmissions[number].audio)
        assert _wav_frames(folder / chapter["file"]) == pause.join(parts)
        assert chapter["status"] == "complete"
        ends = [(p["start"], p["end"]) for p in chapter["paragraphs"]]
        assert ends[1][0] == ends[0][1] + len(pause)
    assert _sent_texts(fake) == [text for texts in TEXTS for text in texts]
    assert (folder / "book.wav").is_file() and (folder / "book.vtt").is_file()
    assert "characters billed this run: 133; reused: 0" in result.stderr


def _srt(path: Path) -> list[tuple[float, float, str]]:
    def seconds(clock: str) -> float:
        hours, minutes, rest = clock.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(rest.replace(",", "."))

    cues = []
    for block in path.read_text().split("\n\n"):
        _, times, text = block.strip().split("\n")
        start, end = times.split(" --> ")
        cues.append((seconds(start), seconds(end), text))
    return cues


def test_the_book_s_captions_are_the_chapters_moved_to_their_starts(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    assert cli("narrate", "book.md", *WAV, "--chapter-pause", "1.5").code == 0
    folder = tmp_path / "book"
    one, two = _srt(folder / "01 - One.srt"), _srt(folder / "02 - Two.srt")
    offset = len(_wav_frames(folder / "01 - One.wav")) / 2 / RATE + 1.5
    moved = [(start + offset, end + offset, text) for start, end, text in two]
    book = _srt(folder / "book.srt")
    assert [text for *_, text in book] == [text for *_, text in one + two]
    times = [t for cue in book for t in cue[:2]]
    assert times == pytest.approx([t for cue in one + moved for t in cue[:2]], abs=0.0011)
    assert "One" in book[0][2] and len(book) > 4


def test_a_finished_book_is_not_said_again_and_its_files_are_left_alone(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    assert cli("narrate", "book.md", *WAV).code == 0
    chapter = tmp_path / "book" / "01 - One.wav"
    made = chapter.stat().st_mtime_ns
    again = cli("narrate", "book.md", *WAV, "--json")
    assert again.code == 0, again.stderr
    assert len(fake.transmissions) == 2  # no connection at all the second time
    facts = json.loads(again.stdout)
    assert facts["characters_billed"] == 0 and facts["characters_reused"] == 133
    assert facts["paragraphs_said"] == 0 and facts["paragraphs_reused"] == 6
    assert chapter.stat().st_mtime_ns == made


def test_an_edited_paragraph_alone_is_said_again_and_its_chapter_and_the_book_rebuilt(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    assert cli("narrate", "book.md", *WAV).code == 0
    folder = tmp_path / "book"
    other = (folder / "01 - One.wav").read_bytes()
    book_before = (folder / "book.wav").read_bytes()
    _book(tmp_path, BOOK.replace("The last one.", "The very last one."))
    result = cli("narrate", "book.md", *WAV)
    assert result.code == 0, result.stderr
    assert _sent_texts(fake, since=2) == ["The very last one."]
    assert (folder / "01 - One.wav").read_bytes() == other  # rebuilt for the book, the same
    assert (folder / "book.wav").read_bytes() != book_before
    last = _manifest(folder)["chapters"][1]["paragraphs"][-1]
    assert len(_part(folder, last["key"])) == spoken_samples("The very last one.", RATE) * 2


def test_a_two_voice_script_speaks_each_speaker_in_a_context_of_its_own(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    narrator = CATALOGUE[1]["id"]
    (tmp_path / "cast.toml").write_text(
        f'narrator = "{narrator}"\n[speakers.ALICE]\nvoice = "{VOICE}"\nemotion = "excited"\n'
        f'[speakers.BOB]\nvoice = "{narrator}"\nspeed = 0.9\n'
    )
    _book(
        tmp_path,
        "ALICE: Hello, Bob.\n\nBOB: Hello, Alice.\n\nThey left.\n\nALICE: Bye.\n",
        "play.txt",
    )
    result = cli("narrate", "play.txt", "--cast", "cast.toml", *WAV)
    assert result.code == 0, result.stderr
    messages = [json.loads(m) for m in fake.transmissions[0].messages]
    said = [(m["context_id"], m["transcript"]) for m in messages if m.get("transcript")]
    assert _sent_texts(fake) == ["Hello, Bob.", "Hello, Alice.", "They left.", "Bye."]
    contexts = [context for context, _ in said]
    assert contexts[0] == contexts[3] and len(set(contexts)) == 3  # ALICE continues hers
    first = {m["context_id"]: m for m in reversed(messages)}
    assert first[contexts[0]]["voice"] == VOICE
    assert first[contexts[0]]["generation_config"] == {"emotion": "excited"}
    assert first[contexts[1]]["generation_config"] == {"speed": 0.9}
    assert first[contexts[2]]["voice"] == narrator and "generation_config" not in first[contexts[2]]
    assert all(m.get("add_timestamps") for m in messages if "cancel" not in m)
    vtt = (tmp_path / "play" / "01 - play.vtt").read_text()
    assert "<v ALICE>Hello, Bob." in vtt and "<v BOB>Hello, Alice." in vtt


def test_the_estimate_needs_no_key_sends_nothing_and_counts_only_what_is_missing(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    result = cli("narrate", "book.md", "--estimate", "--json", env={"CARTESIA_API_KEY": ""})
    assert result.code == 0, result.stderr
    facts = json.loads(result.stdout)
    assert (facts["chapters"], facts["paragraphs"], facts["characters_to_bill"]) == (2, 6, 133)
    assert not fake.requests and not fake.transmissions
    assert not (tmp_path / "book").exists()  # an estimate writes nothing
    assert cli("narrate", "book.md", *WAV).code == 0
    _book(tmp_path, BOOK.replace("The last one.", "The very last one."))
    again = cli("narrate", "book.md", "--estimate", env={"CARTESIA_API_KEY": ""})
    assert again.code == 0
    assert "to say: 1 paragraph in 1 chapter, 18 characters billed" in again.stderr
    assert len(fake.transmissions) == 2


def test_max_credits_refuses_a_bigger_job_before_any_request(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    result = cli("narrate", "book.md", *WAV, "--max-credits", "100")
    assert result.code == 2
    assert "needs about 133 characters" in result.stderr
    assert not fake.requests and not fake.transmissions
    assert cli("narrate", "book.md", *WAV, "--max-credits", "133").code == 0


def test_a_cast_voice_the_api_refuses_fails_its_chapter_only(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    gone = copy.deepcopy(CATALOGUE[0])
    gone.update(id="0b6b5c39-0000-4000-8000-000000000001", is_owner=True)
    assert fake.store.add_voice(gone) is None and fake.store.delete_voice(gone["id"]) is None
    (tmp_path / "cast.toml").write_text(f'[speakers.ALICE]\nvoice = "{gone["id"]}"\n')
    text = "# Calm\n\nAll is well.\n\n# Storm\n\nALICE: Help!\n"
    _book(tmp_path, text)
    result = cli("narrate", "book.md", "--cast", "cast.toml", *WAV, "--json")
    assert result.code == 4, result.stderr
    assert "chapter 2 (Storm) failed" in result.stderr and "not found" in result.stderr.lower()
    chapters = _manifest(tmp_path / "book")["chapters"]
    assert [c["status"] for c in chapters] == ["complete", "failed"]
    assert (tmp_path / "book" / "01 - Calm.wav").is_file()
    facts = json.loads(result.stdout)
    assert facts["missing"] == [{"chapter": 2, "title": "Storm", "paragraphs": 2}]


def test_a_connection_cut_mid_chapter_is_retried_for_the_paragraphs_not_yet_complete(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path, "First words here.\n\nSecond words here.\n\nThird words here.\n")
    first_chunks = spoken_samples("First words here.", RATE) // round(0.1 * RATE)
    fake.queue(Scenario(name="cut", after_chunks=first_chunks + 2))  # inside the second
    result = cli("narrate", "book.md", *WAV)
    assert result.code == 0, result.stderr
    assert _sent_texts(fake, since=1) == ["Second words here.", "Third words here."]
    assert len(fake.transmissions) == 2


def test_a_failure_after_the_retries_says_what_is_missing_and_how_to_resume(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    fake.queue("cut", "cut")
    result = cli("narrate", "book.md", *WAV, "--retries", "0")
    assert result.code == 6, result.stderr
    assert "run the same command again to finish" in result.stderr
    assert "1 'One'" in result.stderr and "2 'Two'" in result.stderr
    assert cli("narrate", "book.md", *WAV).code == 0
    assert (tmp_path / "book" / "book.wav").is_file()


# -- hostile folders ---------------------------------------------------------------------


def test_a_folder_that_cannot_be_written_is_refused_before_any_request(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root writes anywhere: a folder no one may make things in
        locked = Path("/proc/sys/narrated")
    result = cli("narrate", "book.md", "-o", str(locked), *WAV)
    assert result.code == 2
    assert_one_error_line(result.stderr)
    assert "permission denied" in result.stderr
    assert not fake.transmissions


def test_a_folder_of_other_files_is_refused(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "notes.txt").write_text("mine")
    result = cli("narrate", "book.md", *WAV)
    assert result.code == 2
    assert "not a narrated book's" in result.stderr and not fake.transmissions


def test_a_folder_made_for_another_book_is_refused_with_a_hint(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    assert cli("narrate", "book.md", "-o", "out", *WAV).code == 0
    _book(tmp_path, "# Else\n\nSomething else entirely.\n", "other.md")
    result = cli("narrate", "other.md", "-o", "out", *WAV)
    assert result.code == 2
    assert_one_error_line(result.stderr)
    assert "holds the audiobook of book.md" in result.stderr and "-o DIR" in result.stderr
    assert len(fake.transmissions) == 2


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m.update(version=9),
        lambda m: m["chapters"][0]["paragraphs"][0].update(bytes=-4),
        lambda m: m["chapters"][0]["paragraphs"][1].update(start=0),
        lambda m: m["chapters"][0]["paragraphs"][0].update(key="../../etc/passwd"),
        lambda m: m["chapters"][0].update(file="../elsewhere.wav"),
        lambda m: m["chapters"][0]["paragraphs"][0].update(bytes=2, start=0, end=2),
    ],
    ids=["version", "negative", "overlap", "key", "file", "size"],
)
def test_a_manifest_edited_into_nonsense_is_refused(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, edit: Any
) -> None:
    _book(tmp_path)
    assert cli("narrate", "book.md", *WAV).code == 0
    path = tmp_path / "book" / "narrate.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))
    result = cli("narrate", "book.md", *WAV)
    assert result.code == 2, result.stderr
    assert_one_error_line(result.stderr)
    assert "narrate.json" in result.stderr and "remove" in result.stderr
    assert len(fake.transmissions) == 2


def test_a_manifest_that_is_not_json_is_refused(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "narrate.json").write_text("{nope")
    result = cli("narrate", "book.md", *WAV)
    assert result.code == 2 and "is not JSON" in result.stderr
    assert not fake.transmissions


def test_the_default_book_is_an_m4b_with_its_chapters_where_the_samples_say(
    cli: RunCli, tmp_path: Path
) -> None:
    import shutil
    import subprocess

    if shutil.which("ffprobe") is None:
        pytest.skip("needs ffprobe")
    _book(tmp_path)
    result = cli("narrate", "book.md")
    assert result.code == 0, result.stderr
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", "book/book.m4b"],
        cwd=tmp_path, capture_output=True, check=True,
    )  # fmt: skip
    chapters = json.loads(probe.stdout)["chapters"]
    assert [c["tags"]["title"] for c in chapters] == ["One", "Two"]
    first = sum(spoken_samples(t, RATE) for t in TEXTS[0]) + 2 * round(PAUSE * RATE)
    assert abs(float(chapters[1]["start_time"]) - (first + 2.0 * RATE) / RATE) < 0.01
    assert (tmp_path / "book" / "01 - One.m4a").is_file()


def test_chapters_refused_over_the_plan_s_limit_lower_the_concurrency_and_go_again(
    cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """6 chapters at --concurrency 4 against a plan that allows 2, with no retries to spend:
    the refused chapters wait their turn under a lower limit (as a batch's items do), and
    every paragraph is said once."""
    from cartesia_cli.api import retry

    monkeypatch.setattr(retry, "INITIAL_DELAY", 0.005)  # the backoff's shape, quicker
    chapters = [(f"Part {n}", [f"Paragraph {n} one.", f"Paragraph {n} two."]) for n in range(6)]
    _book(tmp_path, "".join(f"# {t}\n\n" + "".join(f"{p}\n\n" for p in ps) for t, ps in chapters))
    with FakeCartesia(api_key=API_KEY, concurrency_limit=2, pace=0.02) as limited:
        result = cli(
            "narrate", "book.md", "--format", "wav", "--concurrency", "4", "--retries", "0",
            env={"CARTESIA_BASE_URL": limited.url},
        )  # fmt: skip
        assert result.code == 0, result.stderr
        assert limited.most_in_flight == 2
        said = _sent_texts(limited)
    assert sorted(said) == sorted(text for t, ps in chapters for text in [t, *ps])
    assert re.search(r"the book went on [12] at a time \(--concurrency [12] starts", result.stderr)
    assert all(c["status"] == "complete" for c in _manifest(tmp_path / "book")["chapters"])
