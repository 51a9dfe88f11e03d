"""Text cut into WebSocket pieces as it arrives: verbatim, at sentence ends, never in a tag."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cartesia_cli.pieces import Chunker

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


words = st.text(alphabet="abc", min_size=1, max_size=8)
tokens = st.one_of(words, st.sampled_from([" ", "  ", ". ", "? ", ", ", "; ", ".", "\n", *ATOMS]))


@settings(max_examples=400, deadline=None)
@given(st.lists(tokens, max_size=60), st.lists(st.integers(0, 400), max_size=20))
def test_any_text_any_arrival_comes_back_verbatim(parts: list[str], splits: list[int]) -> None:
    text = "".join(parts)
    pieces = cut(text, splits)
    assert "".join(pieces) == text
    assert all(pieces)
    for piece in pieces[:-1]:
        assert piece[-1].isspace(), piece  # every cut falls after a space: never in a word
    for atom in re.finditer("|".join(map(re.escape, ATOMS)), text):
        boundaries = {sum(map(len, pieces[:i])) for i in range(len(pieces) + 1)}
        assert not any(atom.start() < b < atom.end() for b in boundaries)


@given(st.text(max_size=300), st.lists(st.integers(0, 300), max_size=10))
def test_any_unicode_comes_back_verbatim(text: str, splits: list[int]) -> None:
    assert "".join(cut(text, splits)) == text
