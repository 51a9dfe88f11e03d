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
    # Nothing is said to be written that was not: the summary says the files were up to date.
    plain = cli("narrate", "book.md", *WAV)
    assert "up to date, nothing written:" in plain.stderr and "wrote " not in plain.stderr
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


# -- parts that are not the audio received ---------------------------------------------------


def _largest_part(folder: Path) -> Path:
    return max((folder / ".parts").glob("*.pcm"), key=lambda path: path.stat().st_size)


def _without_wavs(folder: Path) -> None:
    for made in folder.glob("*.wav"):
        made.unlink()


def test_narrate_does_not_splice_a_symlinked_part_into_the_book(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    """A link at a part's name is not a part: what it points to was never received. It is
    said again (the link replaced, its target untouched), never read into the book."""
    _book(tmp_path)
    assert cli("narrate", "book.md", *WAV).code == 0
    folder = tmp_path / "book"
    victim = _largest_part(folder)
    received = victim.read_bytes()
    foreign = tmp_path / "foreign.pcm"
    foreign.write_bytes(bytes([0x7F, 1]) * (len(received) // 2))
    victim.unlink()
    victim.symlink_to(foreign)
    _without_wavs(folder)
    result = cli("narrate", "book.md", *WAV)
    assert result.code == 0, result.stderr
    assert len(_sent_texts(fake, since=2)) == 1  # that paragraph alone, said again
    assert not victim.is_symlink() and victim.read_bytes() == received
    assert foreign.read_bytes() == bytes([0x7F, 1]) * (len(received) // 2)
    assert foreign.read_bytes()[:4096] not in (folder / "book.wav").read_bytes()


def test_a_part_changed_at_the_same_size_is_said_again_never_spliced(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    assert cli("narrate", "book.md", *WAV).code == 0
    folder = tmp_path / "book"
    book_before = (folder / "book.wav").read_bytes()
    victim = _largest_part(folder)
    received = victim.read_bytes()
    junk = bytes([0x55, 0x2A]) * (len(received) // 2)
    with victim.open("r+b") as file:  # the same file, the same size, other bytes
        file.write(junk)
    _without_wavs(folder)
    result = cli("narrate", "book.md", *WAV)
    assert result.code == 0, result.stderr
    assert "is not what was received" in result.stderr
    assert len(_sent_texts(fake, since=2)) == 1
    assert victim.read_bytes() == received
    assert (folder / "book.wav").read_bytes() == book_before  # as if nothing had happened
    assert not list(folder.glob(".*.partial"))


def test_a_part_without_its_record_is_said_again(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    assert cli("narrate", "book.md", *WAV).code == 0
    folder = tmp_path / "book"
    victim = _largest_part(folder)
    victim.with_suffix(".json").unlink()
    _without_wavs(folder)
    result = cli("narrate", "book.md", *WAV)
    assert result.code == 0, result.stderr
    assert len(_sent_texts(fake, since=2)) == 1
    assert json.loads(victim.with_suffix(".json").read_text())["sha256"]


def test_a_finished_book_reads_no_part_again(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digests are checked as parts stream into a file being made: a finished book makes
    no file, so its re-run opens no part (and sends nothing)."""
    from cartesia_cli.output import pcm_concat

    _book(tmp_path)
    assert cli("narrate", "book.md", *WAV).code == 0

    def no_read(path: Path) -> object:
        raise AssertionError(f"{path} read")

    monkeypatch.setattr(pcm_concat, "open_part", no_read)
    result = cli("narrate", "book.md", *WAV)
    assert result.code == 0, result.stderr
    assert len(fake.transmissions) == 2


def test_a_killed_run_s_temporary_files_are_removed_and_no_other_file(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    assert cli("narrate", "book.md", *WAV).code == 0
    folder = tmp_path / "book"
    ours = [".book.wav.ab12cd_3.partial", ".01 - One.wav.zz9yy8xx.partial",
            ".book.vtt.q1w2e3r4.partial", ".narrate.json.partial-a1b2c3d4"]  # fmt: skip
    theirs = [".book.wav.partial", ".mine.ab12cd34.partial", "notes.partial",
              ".book.wav.ab12cd34.partial.keep"]  # fmt: skip
    for name in [*ours, *theirs]:
        (folder / name).write_bytes(b"x" * 100)
    (folder / ".parts" / "partial-k2j3h4g5").write_bytes(b"x")
    result = cli("narrate", "book.md", *WAV)
    assert result.code == 0, result.stderr
    left = {path.name for path in folder.iterdir()}
    assert not left & set(ours)
    assert set(theirs) <= left
    assert not list((folder / ".parts").glob("partial-*"))
    assert len(fake.transmissions) == 2


def test_another_format_replaces_the_files_narrate_made_in_the_old_one(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    assert cli("narrate", "book.md", *WAV).code == 0
    folder = tmp_path / "book"
    (folder / "mine.wav").write_bytes(b"a file of the user's")
    result = cli("narrate", "book.md", "--format", "mp3", "--concurrency", "1")
    assert result.code == 0, result.stderr
    names = {path.name for path in folder.iterdir()}
    assert {"01 - One.mp3", "02 - Two.mp3", "book.mp3", "mine.wav"} <= names
    assert not {"01 - One.wav", "02 - Two.wav", "book.wav"} & names
    assert "made before in another format" in result.stderr
    assert len(fake.transmissions) == 2  # the parts are the same: nothing said again


def test_captions_show_no_inline_tags(cli: RunCli, fake: FakeCartesia, tmp_path: Path) -> None:
    _book(tmp_path, '# One\n\nWait for it. <break time="1s"/> Now <emotion value="excited"/>go!\n')
    assert cli("narrate", "book.md", *WAV).code == 0
    for name in ("01 - One.vtt", "01 - One.srt", "book.vtt", "book.srt"):
        text = (tmp_path / "book" / name).read_text()
        assert "<break" not in text and "time=" not in text and "emotion" not in text, text
        assert "Wait for it." in text and "go!" in text


# -- what narrate says ---------------------------------------------------------------------


def test_an_incomplete_book_says_what_is_missing_once_in_plain_numbers(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path)
    fake.queue("ok", "cut")  # chapter two's connection is cut
    result = cli("narrate", "book.md", *WAV, "--retries", "0", "--json")
    assert result.code == 6, result.stderr
    assert result.stderr.count("'Two'") == 1, result.stderr
    assert "1 chapter with paragraphs missing: 2 'Two' (3 paragraphs)" in result.stderr
    assert "1 chapters" not in result.stderr
    assert "run the same command again" in result.stderr
    assert json.loads(result.stdout)["error"]["kind"] == "stream"


def test_a_stop_while_the_files_are_made_says_what_is_left(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cartesia_cli.jobs import narrate_assembly

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(narrate_assembly, "assemble", interrupted)
    _book(tmp_path)
    result = cli("narrate", "book.md", *WAV, "--json")
    assert result.code == 130
    assert "nothing is missing" not in result.stderr
    assert "make the chapter and book files" in result.stderr
    assert json.loads(result.stdout)["error"]["kind"] == "interrupted"


def test_one_chapter_and_one_paragraph_are_counted_in_the_singular(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    _book(tmp_path, "# One\n\nOnly this.\n")
    estimate = cli("narrate", "book.md", *WAV, "--estimate")
    assert "book.md: 1 chapter, 2 paragraphs" in estimate.stderr, estimate.stderr
    result = cli("narrate", "book.md", *WAV)
    assert result.code == 0, result.stderr
    assert "1 chapter, 2 paragraphs" in result.stderr and "1 chapters" not in result.stderr


def test_help_describes_json_as_narrate_has_it(cli: RunCli) -> None:
    shown = cli("narrate", "--help").stdout.decode()
    assert "-o -" not in shown and "--json" in shown


def test_a_chapter_pattern_that_backtracks_for_ever_is_refused_by_name(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cartesia_cli.input import book

    monkeypatch.setattr(book, "PATTERN_SECONDS", 0.2)
    _book(tmp_path, "Chapter 1\n\n" + "a" * 40 + "!\n\nText here.\n", name="redos.txt")
    result = cli("narrate", "redos.txt", "--chapter-pattern", "^(a|aa|aaa)+$", "--estimate")
    assert result.code == 2
    assert_one_error_line(result.stderr)
    assert "'^(a|aa|aaa)+$'" in result.stderr and "line 3" in result.stderr
    assert not fake.transmissions
