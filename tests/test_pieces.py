# ruff: noqa: RUF001 -- the sentence marks of Chinese, Japanese and Urdu, as they are written
"""Text cut into WebSocket pieces as it arrives: verbatim, at sentence ends, never in a tag,
never past the limit, in time linear in the text; and the live reader's pauses."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartesia_cli.input import pieces as pieces_module
from cartesia_cli.input import sentences, text_stream
from cartesia_cli.input.pieces import Chunker

ATOMS = ['<break time="1s"/>', '<emotion value="excited"/>', "<spell>ABC</spell>", "<<k|\u0251|ɹ>>"]


def cut(text: str, splits: list[int], max_length: int = 40) -> list[str]:
    chunker = Chunker(max_length)
    pieces: list[str] = []
    start = 0
    for at in sorted(set(splits)):
        pieces += chunker.feed(text[start:at])
        start = at
    pieces += chunker.feed(text[start:])
    return pieces + chunker.finish()


def test_sentences_with_their_spaces() -> None:
    assert cut("Hello, world.  How are you? Fine!", []) == [
        "Hello, world.  ",
        "How are you? ",
        "Fine!",
    ]


def test_a_number_or_a_closing_quote_is_not_cut_wrongly() -> None:
    assert cut('Pi is 3.14. He said "stop." Then left.', []) == [
        "Pi is 3.14. ",
        'He said "stop." ',
        "Then left.",
    ]


def test_a_long_sentence_is_cut_at_a_clause_then_a_word() -> None:
    text = "one two three four five six seven, eight nine ten eleven twelve thirteen fourteen"
    pieces = cut(text, [], max_length=36)
    assert "".join(pieces) == text
    assert pieces[0] == "one two three four five six seven, "


def test_a_piece_is_handed_over_as_soon_as_it_is_complete() -> None:
    chunker = Chunker()
    assert chunker.feed("Hello.") == []  # "Hello.com"? the next character says
    assert chunker.feed(" Wor") == ["Hello. "]
    assert chunker.finish() == ["Wor"]


def test_tags_and_phoneme_blocks_are_never_split() -> None:
    text = 'Wait. <break time="1s"/> Now <spell>A. B. C.</spell> and <<k|\u0251.|ɹ>> done.'
    pieces = cut(text, list(range(len(text))), max_length=10)
    assert "".join(pieces) == text
    for atom in ('<break time="1s"/>', "<spell>A. B. C.</spell>", "<<k|\u0251.|ɹ>>"):
        assert any(atom in piece for piece in pieces)


ATOM_PATTERN = re.compile("|".join(map(re.escape, ATOMS)))
words = st.text(alphabet="abc", min_size=1, max_size=8)
tokens = st.one_of(words, st.sampled_from([" ", "  ", ". ", "? ", ", ", "; ", ".", "\n", *ATOMS]))


@settings(max_examples=400, deadline=None)
@given(st.lists(tokens, max_size=60), st.lists(st.integers(0, 400), max_size=20))
def test_any_text_any_arrival_comes_back_verbatim(parts: list[str], splits: list[int]) -> None:
    text = "".join(parts)
    pieces = cut(text, splits)
    assert "".join(pieces) == text
    assert all(pieces)
    assert all(len(piece) <= 40 for piece in pieces)  # the limit holds (every atom fits in it)
    for piece, after in itertools.pairwise(pieces):
        if piece[-1].isspace() or piece[-1] in ".?,;":  # after a space, or a mark
            continue  # (its spaces past the limit start the next piece)
        # In a word only when the piece has no space to cut at (after something to say).
        spoken = re.sub(r"^\W*", "", ATOM_PATTERN.sub("", piece))
        assert not any(c.isspace() for c in spoken), piece
        assert len(piece) == 40 or ATOM_PATTERN.match(after), (piece, after)
    for atom in ATOM_PATTERN.finditer(text):
        boundaries = {sum(map(len, pieces[:i])) for i in range(len(pieces) + 1)}
        assert not any(atom.start() < b < atom.end() for b in boundaries)
    # Bounded: a piece ends a sentence (or a line), or it and the next hold half the limit.
    marks = sum(text.count(mark) for mark in ".?\n")
    assert len(pieces) <= marks + 4 * len(text) // 40 + 2


@given(st.text(max_size=300), st.lists(st.integers(0, 300), max_size=10))
def test_any_unicode_comes_back_verbatim(text: str, splits: list[int]) -> None:
    assert "".join(cut(text, splits)) == text


@pytest.mark.parametrize(
    "sentence",
    [
        "Mr. Smith met Dr. Jones at 5 p.m. today, e.g. for tea. ",
        "The U.S. team won the cup. ",
        "It happened on Jan. 5. ",
        "Pi is 3.14 or so. ",
        "Mrs. J. R. Hartley, Ph.D. and Prof. Chen i.e. the authors, vs. the rest. ",
    ],
)
def test_a_dot_that_ends_no_sentence_is_no_cut(sentence: str) -> None:
    text = sentence + "Then more."
    for splits in ([], list(range(len(text)))):  # whole, and one character at a time
        assert cut(text, splits, max_length=250) == [sentence, "Then more."]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你好。我很好！你呢？", ["你好。", "我很好！", "你呢？"]),
        ("「你好。」他说。", ["「你好。」", "他说。"]),
        ("元気です。ありがとう！", ["元気です。", "ありがとう！"]),
        ("नमस्ते। आप कैसे हैं? ठीक।", ["नमस्ते। ", "आप कैसे हैं? ", "ठीक।"]),
        ("مرحبا؟ كيف حالك، صديقي؟ نعم.", ["مرحبا؟ ", "كيف حالك، صديقي؟ ", "نعم."]),
        ("یہ کتاب ہے۔ وہ قلم ہے۔", ["یہ کتاب ہے۔ ", "وہ قلم ہے۔"]),
    ],
)
def test_the_sentence_marks_of_other_scripts_are_cuts(text: str, expected: list[str]) -> None:
    assert cut(text, []) == cut(text, list(range(len(text)))) == expected


def test_a_long_sentence_with_no_space_is_cut_at_a_clause_mark_of_its_script() -> None:
    text = "一二三四五六七八，" * 10 + "完。"
    pieces = cut(text, [], max_length=40)
    assert "".join(pieces) == text
    assert all(len(piece) <= 40 for piece in pieces)
    assert all(piece.endswith("，") for piece in pieces[:-1])
    text = "一二三、" * 20
    assert all(piece.endswith("、") for piece in cut(text, [], max_length=40)[:-1])


def test_text_with_no_space_or_mark_is_cut_at_the_limit() -> None:
    text = "a" * 1000
    assert cut(text, [], max_length=250) == ["a" * 250] * 4
    assert cut(text, list(range(0, 1000, 7)), max_length=250) == ["a" * 250] * 4


def test_a_cut_at_the_limit_keeps_letters_whole_and_moves_before_a_tag() -> None:
    accented = "e\u0301" * 30  # e and a combining acute accent: the limit falls between them
    pieces = cut(accented, [], max_length=41)
    assert "".join(pieces) == accented and [len(p) for p in pieces] == [40, 20]
    tag = '<break time="1s"/>'
    assert cut("x" * 30 + tag + "y" * 20, [], max_length=40) == ["x" * 30, tag + "y" * 20]


def test_a_blank_line_ends_a_piece_and_punctuation_alone_is_no_piece() -> None:
    assert cut("Chapter One\n\nIt was a dark night.", []) == [
        "Chapter One\n\n",
        "It was a dark night.",
    ]
    # A first piece of marks only is refused by the server: it goes with what follows.
    assert cut("... Hello. World", [], max_length=250) == ["... Hello. ", "World"]


def test_a_finished_sentence_or_line_is_never_held_for_more() -> None:
    chunker = Chunker()
    assert chunker.feed("This is sentence number 1 of the story.\n") == [
        "This is sentence number 1 of the story.\n"
    ]
    assert chunker.feed("你好。") == [] and chunker.ready_on_pause()  # "」" may yet follow


@pytest.mark.parametrize(
    ("held", "ready"),
    [
        ("Hello.", True),
        ("The end!\u201d", True),
        ("Chapter One\n", True),  # a line with no mark: a heading, a `tail -f` line
        ("server started  \n", True),
        ("你好。", True),
        ("The answer is", False),  # mid-line: the rest of the sentence is coming
        ("The answer is ", False),
        ("I met Mr.", False),
        ("at 5 p.m.", False),
        ("Wait, ", False),
        ('Pause <break time="1s"', False),  # an open tag
        ("\n\n", False),  # nothing to say
    ],
)
def test_what_a_pause_of_the_writer_sends(held: str, ready: bool) -> None:
    chunker = Chunker()
    assert chunker.feed(held) == []
    assert chunker.pending == held
    assert chunker.ready_on_pause() is ready


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for fd in (read_end, write_end):
        with contextlib.suppress(OSError):  # closed by the test already
            os.close(fd)


@pytest.mark.parametrize("line", ["Chapter One\n", "2026-01-01 server started\n", "你好。"])
def test_the_live_reader_sends_a_line_when_the_writer_pauses(
    pipe: tuple[int, int], line: str
) -> None:
    """The writer keeps the pipe open: the line goes out after the pause, not at the end."""
    read_end, write_end = pipe
    os.write(write_end, line.encode())
    pieces = text_stream.pieces_from(read_end)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(next, pieces)
        try:
            assert first.result(timeout=5) == line
        finally:
            os.close(write_end)  # the end: a reader still waiting (old code) returns
    assert list(pieces) == []


def test_the_live_reader_holds_a_line_not_yet_finished(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    pieces = text_stream.pieces_from(read_end)
    got: list[str] = []
    done = threading.Event()

    def read_all() -> None:
        got.extend(pieces)
        done.set()

    reader = threading.Thread(target=read_all, daemon=True)
    reader.start()
    os.write(write_end, b"The answer is")
    # The reader waits with "The answer is" held; more than a pause passes before the rest.
    assert not done.wait(text_stream.PAUSE_SECONDS * 4)
    os.write(write_end, b" 42.\n")
    os.close(write_end)
    assert done.wait(5)
    assert got == ["The answer is 42.\n"]


abbreviations = st.sampled_from(
    [f"{a}." for a in sorted(sentences.ABBREVIATIONS)] + ["U.S.", "p.m.", "e.g.", "i.e.", "J."]
)
plain_words = st.text(alphabet="abcdefgh", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(abbreviations, plain_words, st.just("3.14")), min_size=1, max_size=40),
    st.lists(st.integers(0, 400), max_size=20),
)
def test_an_abbreviation_is_never_a_cut(words: list[str], splits: list[int]) -> None:
    text = " ".join(words) + " end."
    assert cut(text, splits, max_length=10_000) == [text]  # one sentence: one piece


def count_scanned(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many characters the chunker's scan hands to the regular-expression engine."""
    scanned = [0]
    stop = pieces_module._STOP

    class Counting:
        def search(self, text: str, pos: int, endpos: int) -> re.Match[str] | None:
            found = stop.search(text, pos, endpos)
            scanned[0] += (found.end() if found else min(endpos, len(text))) - pos
            return found

    monkeypatch.setattr(pieces_module, "_STOP", Counting())
    return scanned


@pytest.mark.parametrize("step", [1, 7, 4096])
def test_text_fed_in_any_sizes_is_scanned_once(monkeypatch: pytest.MonkeyPatch, step: int) -> None:
    scanned = count_scanned(monkeypatch)
    for text in ("a" * 20_000, "word " * 4_000, "Hi there. " * 2_000, "<<k|a>> " * 2_500):
        scanned[0] = 0
        chunker = Chunker()
        pieces = [p for i in range(0, len(text), step) for p in chunker.feed(text[i : i + step])]
        assert "".join(pieces + chunker.finish()) == text
        assert scanned[0] <= 2 * len(text), (text[:10], step)


def test_a_megabyte_with_no_space_is_cut_in_linear_time() -> None:
    text = "a" * 1_000_000
    chunker = Chunker()
    began = time.perf_counter()
    pieces = [p for i in range(0, len(text), 4096) for p in chunker.feed(text[i : i + 4096])]
    pieces += chunker.finish()
    elapsed = time.perf_counter() - began
    assert pieces == ["a" * 250] * 4000
    assert elapsed < 3, elapsed  # about 0.03 s; a scan from the start at each read took a minute


def test_no_piece_is_only_marks_and_spaces() -> None:
    for text in ("... " + "a" * 300, "   " + "a" * 300, "、、" + "一" * 300):
        pieces = cut(text, [], max_length=250)
        assert "".join(pieces) == text
        assert all(re.search(r"\w", piece) for piece in pieces), pieces
