"""Pronunciation dictionary files (TOML, CSV): read, refused with the place named, written back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cartesia_cli.input import dict_file
from cartesia_cli.input.dict_file import CSV, TOML, DictFile, DictFileError, Entry

BAYOU = "<<\u02c8|b|\u0251|\u02c8|j|u>>"  # IPA, as the API writes it
EXAMPLE = f"""\
name = "Brand names"

[words]
Cartesia = "kar-TEE-zha"
bayou = "{BAYOU}"
"iOS" = {{ pronunciation = "eye oh ess", case_sensitive = true }}
"""


def parse(text: str | bytes, fmt: str = TOML) -> DictFile:
    raw = text.encode() if isinstance(text, str) else text
    return dict_file.parse(raw, f"names.{fmt}", fmt)


def refused(text: str | bytes, fmt: str = TOML) -> str:
    with pytest.raises(DictFileError) as caught:
        parse(text, fmt)
    assert caught.value.exit_code == 2
    message = caught.value.message
    assert "\n" not in message and message.startswith(f"names.{fmt}")
    return message


# --- TOML -----------------------------------------------------------------------------------


def test_toml_names_the_dictionary_and_keeps_the_words_in_order() -> None:
    assert parse(EXAMPLE) == DictFile(
        "Brand names",
        (
            Entry("Cartesia", "kar-TEE-zha"),
            Entry("bayou", BAYOU),
            Entry("iOS", "eye oh ess", True),
        ),
    )


def test_a_word_may_be_called_name_and_a_sub_table_is_a_word_too() -> None:
    text = '[words]\nname = "naym"\n[words.iOS]\npronunciation = "eye oh ess"\n'
    assert parse(text) == DictFile(None, (Entry("name", "naym"), Entry("iOS", "eye oh ess")))


def test_an_empty_file_is_an_empty_dictionary() -> None:
    assert parse("") == DictFile(None, ())
    assert parse("", CSV) == DictFile(None, ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[words]\nx = "a"\n"x" = "b"\n', "line 3, column 1: 'x' is given twice (first on line 2)"),
        ('[words]\nx = "a"\ny = "b"\nx = "c"\nz = "d"\n', "line 4, column 1: 'x' is given twice"),
        ('[words]\nx = "  "\n', "line 2, column 1: empty pronunciation for 'x'"),
        ('[words]\n"" = "a"\n', "line 2, column 1: empty text"),
        (
            '[words]\n  x = { pronunciation = "a", case_sensitive = "yes" }\n',
            "line 2, column 3: case_sensitive of 'x' must be true or false",
        ),
        (
            '[words.x]\npronunciation = "a"\ncase_sensitive = 1\n',
            "line 3, column 1: case_sensitive of 'x' must be true or false",
        ),
        ('[words]\nx = { alias = "a" }\n', "line 2, column 1: unknown key 'alias' for 'x'"),
        ("[words]\nx = { case_sensitive = true }\n", "line 2, column 1: 'x' needs pronunciation"),
        ("[words]\nx = 3\n", "line 2, column 1: 'x' must be a pronunciation in quotes"),
        ('[words]\nx = "a\\tb"\n', "line 2, column 1: the pronunciation 'a\\tb' has a control"),
        ('Cartesia = "k"\n', "line 1, column 1: 'Cartesia' is outside [words]"),
        ("wrds = 3\n", "line 1, column 1: unknown key 'wrds'"),
        ("name = 3\n", "line 1, column 1: name must be a string"),
        ('name = ""\n', "line 1, column 1: the name is empty"),
        ('words = "x"\n', "line 1, column 1: words must be a table"),
        ("[words]\nx = \n", "line 2, column 5: not valid TOML: invalid value"),
        ('[words]\nx = "a\n', "line 2, column 7: not valid TOML: "),
        ("x = " + "[" * 5000, "names.toml: not valid TOML: nested too deeply"),
    ],
)
def test_toml_errors_name_the_line_and_column(text: str, expected: str) -> None:
    assert expected in refused(text)


def test_a_file_that_is_not_utf8_names_the_byte_and_where_it_is() -> None:
    message = refused(b'[words]\nx = "caf\xe9"\n')
    assert message == "names.toml, line 2, column 9: not UTF-8 text (a byte 0xe9)"


def test_a_byte_order_mark_is_skipped() -> None:
    assert parse("\ufeff" + EXAMPLE).name == "Brand names"
    assert parse("\ufeffa,b\n", CSV).entries == (Entry("a", "b"),)


def test_a_file_too_large_is_refused_before_it_is_parsed() -> None:
    message = refused(b"#" * (dict_file.MAX_BYTES + 1))
    assert message == "names.toml is over 2 MB: not a dictionary"


# --- CSV ------------------------------------------------------------------------------------


def test_csv_with_and_without_a_header() -> None:
    expected = DictFile(None, (Entry("Cartesia", "kar-TEE-zha"), Entry("a, b", 'say "x"', True)))
    body = 'Cartesia, kar-TEE-zha\n"a, b" ,"say ""x""",TRUE\r\n\n'
    assert parse(body, CSV) == expected
    assert parse("Text,Pronunciation,Case_Sensitive\n" + body, CSV) == expected
    assert parse("text,pronunciation\nx,y,false\nz,w,\n", CSV).entries == (
        Entry("x", "y", False),
        Entry("z", "w", None),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b\nc,d\na,e\n", "line 3, column 1: 'a' is given twice (first on line 1)"),
        ("a,b,maybe\n", "line 1, column 5: case_sensitive must be true, false or empty"),
        ('a,"b\n', "line 1, column 3: a quote is not closed on its line"),
        ('a,b"c\n', "line 1, column 4: a quote inside a field"),
        ('"a"b,c\n', "line 1, column 4: a comma must follow a closing quote"),
        ("a\n", "line 1: expected text,pronunciation"),
        ("a,b,,d\n", "line 1, column 6: expected text,pronunciation[,case_sensitive]"),
        ("a, \n", "line 1, column 4: empty pronunciation for 'a'"),
        ('" ",b\n', "line 1, column 1: empty text"),
        ("x,y\na\x07,b\n", "line 2, column 1: the text 'a\\x07' has a control character"),
        (b"x,y\n\xff,b\n", "line 2, column 1: not UTF-8 text (a byte 0xff)"),
    ],
)
def test_csv_errors_name_the_line_and_column(text: str | bytes, expected: str) -> None:
    assert expected in refused(text, CSV)


# --- the file itself ------------------------------------------------------------------------


def test_the_suffix_decides_the_format(tmp_path: Path) -> None:
    (tmp_path / "names.TOML").write_text(EXAMPLE)
    assert dict_file.read(str(tmp_path / "names.TOML")).name == "Brand names"
    (tmp_path / "names.csv").write_text("a,b\n")
    assert dict_file.read(str(tmp_path / "names.csv")).entries == (Entry("a", "b"),)
    for name in ("names.txt", "names", "names.toml.bak"):
        with pytest.raises(DictFileError, match=r"ends in .toml or .csv") as caught:
            dict_file.read(str(tmp_path / name))
        assert caught.value.exit_code == 2


def test_a_missing_file_a_folder_and_a_pipe_are_refused_without_waiting(tmp_path: Path) -> None:
    with pytest.raises(DictFileError, match=r"cannot read .*missing.toml: No such file"):
        dict_file.read(str(tmp_path / "missing.toml"))
    (tmp_path / "folder.toml").mkdir()
    with pytest.raises(DictFileError, match=r"folder.toml is not a regular file"):
        dict_file.read(str(tmp_path / "folder.toml"))
    os.mkfifo(tmp_path / "pipe.csv")  # nobody writes to it: reading it would wait for ever
    with pytest.raises(DictFileError, match=r"pipe.csv is not a regular file"):
        dict_file.read(str(tmp_path / "pipe.csv"))


# --- writing --------------------------------------------------------------------------------


def test_written_toml_is_plain_to_read() -> None:
    text = dict_file.dump(parse(EXAMPLE), TOML, "out.toml")
    assert text == EXAMPLE.replace('"iOS"', "iOS")
    assert dict_file.dump(parse(EXAMPLE), CSV, "out.csv") == (
        "# name: Brand names\n"
        "text,pronunciation,case_sensitive\n"
        "Cartesia,kar-TEE-zha,\n"
        f"bayou,{BAYOU},\n"
        "iOS,eye oh ess,true\n"
    )


@pytest.mark.parametrize(
    ("dictionary", "expected"),
    [
        (DictFile(None, (Entry("a", "b"), Entry("a", "c"))), "out.toml: 'a' is in the dictionary"),
        (DictFile(None, (Entry("a\n", "b"),)), "out.toml: the text 'a\\n' has a control"),
        (DictFile(None, (Entry("a", "\ud800"),)), "out.toml: the pronunciation '\\ud800' is not"),
        (DictFile("", ()), "out.toml: the name is empty"),
    ],
)
def test_what_cannot_be_read_back_is_not_written(dictionary: DictFile, expected: str) -> None:
    with pytest.raises(DictFileError) as caught:
        dict_file.dump(dictionary, TOML, "out.toml")
    assert expected in caught.value.message


# --- words that differ only in case ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ('[words]\nCartesia = "a"\ncartesia = "b"\n', TOML,
         "names.toml, line 3, column 1: 'cartesia' and 'Cartesia' (line 2) differ only in letter"
         " case, so each matches both: keep one, or mark both case_sensitive = true"),
        ('[words]\nCartesia = { pronunciation = "a", case_sensitive = true }\ncartesia = "b"\n',
         TOML, "line 3, column 1: 'cartesia' and 'Cartesia' (line 2) differ only"),
        ("text,pronunciation\nCartesia,a\nx,y\nCARTESIA,b,false\n", CSV,
         "names.csv, line 4, column 1: 'CARTESIA' and 'Cartesia' (line 2) differ only"),
    ],
)  # fmt: skip
def test_words_differing_only_in_case_are_refused_naming_both_lines(
    text: str, fmt: str, expected: str
) -> None:
    assert expected in refused(text, fmt)


def test_words_differing_only_in_case_are_taken_when_both_are_case_sensitive() -> None:
    text = "iOS,eye oh ess,true\nios,eye oss,true\n"
    assert parse(text, CSV).entries == (
        Entry("iOS", "eye oh ess", True),
        Entry("ios", "eye oss", True),
    )
    twins = DictFile(None, (Entry("iOS", "a", True), Entry("ios", "b")))
    with pytest.raises(DictFileError, match="differ only in letter case"):
        dict_file.dump(twins, TOML, "out.toml")


# --- CSV: the name line, and fields a spreadsheet could take for a formula --------------------


def test_a_csv_file_names_its_dictionary_on_a_first_comment_line() -> None:
    text = '\ufeff# name: "Brand, names"\ntext,pronunciation\na,b\n'
    assert parse(text, CSV) == DictFile("Brand, names", (Entry("a", "b"),))
    assert parse("# name: Places\na,b\n", CSV).name == "Places"
    dumped = dict_file.dump(DictFile(" Brand ", (Entry("a", "b"),)), CSV, "out.csv")
    assert dumped.startswith('# name: " Brand "\ntext,pronunciation\n')
    assert "line 1, column 12: one name" in refused("# name: a, b\nx,y\n", CSV)
    # Only a first line names: a word that starts so later is a word.
    assert parse("a,b\n# name: c,d\n", CSV) == DictFile(
        None, (Entry("a", "b"), Entry("# name: c", "d"))
    )


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_a_field_a_spreadsheet_could_take_for_a_formula_is_quoted_and_reads_back(
    start: str,
) -> None:
    dictionary = DictFile(None, (Entry(f"{start}SUM(A1)", f"{start}1+1"),))
    text = dict_file.dump(dictionary, CSV, "out.csv")
    assert text == f'text,pronunciation\n"{start}SUM(A1)","{start}1+1"\n'
    assert parse(text, CSV) == dictionary


# --- properties -----------------------------------------------------------------------------

# Any text but controls and surrogates (which a dictionary file refuses), quotes,
# commas, backslashes, brackets and spaces included.
words = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), min_codepoint=1), min_size=1, max_size=20
)
entries = st.builds(Entry, words, words, st.sampled_from([None, True, False]))


@st.composite
def dictionaries(draw: st.DrawFn, fmt: str) -> DictFile:
    found = draw(st.lists(entries, max_size=8, unique_by=lambda entry: entry.text))
    for entry in found:
        assume(dict_file.problem(entry) is None)
    assume(dict_file.case_twin(found) is None)
    name = draw(st.none() | words)
    assume(name is None or dict_file.name_problem(name) is None)
    return DictFile(name, tuple(found))


@given(dictionaries(TOML))
def test_any_dictionary_written_as_toml_reads_back_equal(dictionary: DictFile) -> None:
    assert parse(dict_file.dump(dictionary, TOML, "x.toml")) == dictionary


@given(dictionaries(CSV))
def test_any_dictionary_written_as_csv_reads_back_equal(dictionary: DictFile) -> None:
    text = dict_file.dump(dictionary, CSV, "x.csv")
    assert parse(text, CSV) == dictionary
    for entry in dictionary.entries:  # a field a spreadsheet could take for a formula: quoted
        for value in (entry.text, entry.pronunciation):
            if value.startswith(("=", "+", "-", "@")):
                assert '"' + value.replace('"', '""') + '"' in text


toml_like = st.lists(st.sampled_from([*"[]{}=.\"',\\ \n\txyz#0123", "words", "name", "true"])).map(
    "".join
)


@given(st.binary() | toml_like.map(str.encode), st.sampled_from([TOML, CSV]))
def test_garbage_is_only_ever_a_dictionary_file_error(raw: bytes, fmt: str) -> None:
    try:
        found = dict_file.parse(raw, f"x.{fmt}", fmt)
    except DictFileError as exc:
        assert "\n" not in exc.message
        return
    for entry in found.entries:  # what is accepted is fit to send and to write back
        assert dict_file.problem(entry) is None
    dict_file.dump(found, fmt, f"x.{fmt}")
