"""`dicts list|get|create|update|delete|push` at the fake; the wire shapes and the diff below."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.api import dicts
from cartesia_cli.errors import StreamError
from cartesia_cli.input.dict_file import Entry
from cartesia_cli.mock import FakeCartesia
from cartesia_cli.mock.server import RecordedRequest

from .conftest import API_KEY, ENTRY_POINT, RunCli, assert_one_error_line, clean_env
from .test_config import read_until

NAMES = """\
name = "Brand names"

[words]
Cartesia = "kar-TEE-zha"
"iOS" = { pronunciation = "eye oh ess", case_sensitive = true }
"""
UNKNOWN_ID = "3f8e0c52-1d7a-4e1b-9c55-2b8f7f1d2a10"


def seed(fake: FakeCartesia, name: str, *entries: Entry) -> str:
    """A dictionary put straight into the fake's store (two may share a name there)."""
    made = {
        "id": str(uuid.uuid4()),
        "name": name,
        "owner_id": "user_mock",
        "pinned": False,
        "items": [dicts.wire_item(entry) for entry in entries],
        "created_at": "2026-01-02T03:04:05Z",
    }
    assert fake.store.add_dictionary(made) is None
    return str(made["id"])


def writes(fake: FakeCartesia) -> list[RecordedRequest]:
    return [request for request in fake.requests if request.method != "GET"]


def stored(fake: FakeCartesia, dictionary_id: str) -> tuple[Entry, ...]:
    found = fake.store.dictionary(dictionary_id)
    assert found is not None
    return dicts.entries_of(found)


def tsv(stdout: bytes) -> list[list[str]]:
    return [line.split("\t") for line in stdout.decode().splitlines()]


# --- the wire -------------------------------------------------------------------------------


def test_items_go_out_with_both_keys_and_case_sensitive_only_when_set() -> None:
    assert dicts.wire_item(Entry("bayou", "<<b|a|j|u>>")) == {
        "text": "bayou",
        "pronunciation": "<<b|a|j|u>>",
        "alias": "<<b|a|j|u>>",
    }
    assert dicts.wire_item(Entry("iOS", "eye oh ess", False))["case_sensitive"] is False
    assert dicts.update_body([Entry("a", "b", True)]) == {
        "items": [{"text": "a", "pronunciation": "b", "alias": "b", "case_sensitive": True}]
    }


def test_items_are_read_from_pronunciation_else_alias() -> None:
    found = {
        "id": "d",
        "items": [
            {"text": "a", "pronunciation": "new", "alias": "old"},
            {"text": "b", "alias": "only"},
            {"text": "c", "pronunciation": "x", "case_sensitive": True},
            {"text": "d", "pronunciation": "y", "case_sensitive": False},  # the default
        ],
    }
    assert dicts.entries_of(found) == (
        Entry("a", "new"),
        Entry("b", "only"),
        Entry("c", "x", True),
        Entry("d", "y"),
    )


@pytest.mark.parametrize("items", [{"a": 1}, [{"text": "a"}], [{"pronunciation": "b"}], ["a"]])
def test_an_item_that_is_not_one_is_a_stream_error(items: object) -> None:
    with pytest.raises(StreamError, match="malformed pronunciation dictionary"):
        dicts.entries_of({"id": "d", "items": items})


def test_the_diff_names_what_is_added_changed_and_removed() -> None:
    current = [Entry("a", "1"), Entry("b", "2"), Entry("c", "3", True), Entry("d", "4")]
    wanted = [Entry("e", "5"), Entry("c", "3"), Entry("b", "two"), Entry("a", "1", False)]
    change = dicts.diff(current, wanted)
    assert change.added == (Entry("e", "5"),)
    assert change.changed == (
        dicts.Change(Entry("c", "3", True), Entry("c", "3")),
        dicts.Change(Entry("b", "2"), Entry("b", "two")),
    )
    assert change.removed == (Entry("d", "4"),)  # order alone, and unset == false: no change
    assert dicts.diff(current, list(reversed(current))).empty


def test_a_word_the_dictionary_holds_twice_loses_its_second_item() -> None:
    change = dicts.diff([Entry("a", "1"), Entry("a", "2")], [Entry("a", "1")])
    assert change.removed == (Entry("a", "2"),) and not change.changed


texts = st.sampled_from("abcdef")
said = st.sampled_from(["1", "2"])
case = st.sampled_from([None, True, False])
entry_lists = st.lists(st.builds(Entry, texts, said, case), unique_by=lambda e: e.text)


def meaning(entries: list[Entry] | tuple[Entry, ...]) -> dict[str, tuple[str, bool]]:
    return {e.text: (e.pronunciation, bool(e.case_sensitive)) for e in entries}


@given(entry_lists, entry_lists)
def test_the_diff_applied_gives_the_file(current: list[Entry], wanted: list[Entry]) -> None:
    change = dicts.diff(current, wanted)
    result = meaning(current)
    for entry in change.removed:
        del result[entry.text]
    for entry in (*change.added, *(c.after for c in change.changed)):
        result[entry.text] = (entry.pronunciation, bool(entry.case_sensitive))
    assert result == meaning(wanted)
    assert change.empty == (meaning(current) == meaning(wanted))


# --- push -----------------------------------------------------------------------------------


def test_push_creates_then_pushing_the_same_file_again_sends_no_write(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    (tmp_path / "names.toml").write_text(NAMES)
    first = cli("dicts", "push", "names.toml")
    assert first.code == 0, first.stderr
    assert '  added    "Cartesia" = "kar-TEE-zha"' in first.stderr
    assert '  added    "iOS" = "eye oh ess" (case-sensitive)' in first.stderr
    assert "from names.toml: 2 added, 0 changed, 0 removed." in first.stderr
    [post] = writes(fake)
    assert (post.method, post.path) == ("POST", "/pronunciation-dicts/")
    assert post.json() == {
        "name": "Brand names",
        "items": [
            {"text": "Cartesia", "pronunciation": "kar-TEE-zha", "alias": "kar-TEE-zha"},
            {"text": "iOS", "pronunciation": "eye oh ess", "alias": "eye oh ess",
             "case_sensitive": True},
        ],
    }  # fmt: skip
    fake.requests.clear()
    again = cli("dicts", "push", "names.toml")
    assert again.code == 0, again.stderr
    assert "already matches names.toml: nothing to send." in again.stderr
    assert "added" not in again.stderr
    assert [r.method for r in fake.requests] == ["GET", "GET"] and writes(fake) == []


def test_push_makes_the_dictionary_equal_to_the_file_and_says_each_change(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    made = seed(fake, "brand NAMES", Entry("Cartesia", "kar-TAY-zha"), Entry("bayou", "by-you"))
    (tmp_path / "names.toml").write_text(NAMES)
    result = cli("dicts", "push", "names.toml", "--json")
    assert result.code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        '  added    "iOS" = "eye oh ess" (case-sensitive)',
        '  changed  "Cartesia" = "kar-TAY-zha" → "kar-TEE-zha"',
        '  removed  "bayou"',
    ]
    pushed = f'Pushed names.toml to "brand NAMES" ({made}): 1 added, 1 changed, 1 removed.'
    assert lines[3] == pushed
    [patch] = writes(fake)
    assert (patch.method, patch.path) == ("PATCH", f"/pronunciation-dicts/{made}")
    assert list(patch.json()) == ["items"]  # the name stays as it is
    wanted = (Entry("Cartesia", "kar-TEE-zha"), Entry("iOS", "eye oh ess", True))
    assert stored(fake, made) == wanted
    doc = json.loads(result.stdout)
    assert (doc["id"], doc["created"], doc["sent"]) == (made, False, True)
    assert [c["after"]["pronunciation"] for c in doc["changed"]] == ["kar-TEE-zha"]


def test_a_dry_run_shows_the_diff_and_sends_no_write(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    (tmp_path / "names.toml").write_text(NAMES)
    new = cli("dicts", "push", "names.toml", "--dry-run")
    assert new.code == 0, new.stderr
    assert 'Would create "Brand names" from names.toml: 2 added' in new.stderr
    made = seed(fake, "Brand names", Entry("Cartesia", "kar"))
    old = cli("dicts", "push", "names.toml", "--dry-run", "--json")
    assert old.code == 0, old.stderr
    assert '  changed  "Cartesia" = "kar" → "kar-TEE-zha"' in old.stderr
    assert "1 added, 1 changed, 0 removed (dry run: nothing sent)" in old.stderr
    assert json.loads(old.stdout)["sent"] is False
    assert writes(fake) == [] and stored(fake, made) == (Entry("Cartesia", "kar"),)


def test_a_file_without_a_name_pushes_to_the_dictionary_named_as_the_file(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    made = seed(fake, "places")
    (tmp_path / "places.csv").write_text("text,pronunciation\nTchoupitoulas,chop-uh-TOO-liss\n")
    result = cli("dicts", "push", "places.csv")
    assert result.code == 0, result.stderr
    assert stored(fake, made) == (Entry("Tchoupitoulas", "chop-uh-TOO-liss"),)


def test_a_name_two_dictionaries_share_is_refused_before_any_write(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    first, second = seed(fake, "Brand names"), seed(fake, "brand names")
    (tmp_path / "names.toml").write_text(NAMES)
    result = cli("dicts", "push", "names.toml")
    assert result.code == 2
    assert_one_error_line(result.stderr)
    assert first in result.stderr and second in result.stderr
    assert writes(fake) == []


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("names.toml", 'x = "a"\nx = "b"\n', "names.toml, line 2, column 1: 'x' is given twice"),
        ("names.csv", "a,b\nc\n", "names.csv, line 2: expected text,pronunciation"),
        ("names.txt", "a,b\n", "names.txt: a dictionary file ends in .toml or .csv"),
        ("missing.toml", None, "cannot read missing.toml: No such file or directory"),
        (
            "names.csv",
            "Cartesia,a\ncartesia,b\n",
            "names.csv, line 2, column 1: 'cartesia' and 'Cartesia' (line 1) differ only in letter",
        ),
    ],
)
def test_a_bad_file_is_exit_2_before_any_request(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, name: str, text: str | None, message: str
) -> None:
    if text is not None:
        (tmp_path / name).write_text(text)
    for args in (("push", name), ("create", "New", name), ("update", UNKNOWN_ID, name)):
        result = cli("dicts", *args)
        assert result.code == 2, result.stderr
        assert result.stderr.startswith(f"cartesia-cli: error: {message}")
        assert_one_error_line(result.stderr)
    assert fake.requests == []


# --- get ------------------------------------------------------------------------------------


def test_get_shows_the_words_by_name_or_id(cli: RunCli, fake: FakeCartesia) -> None:
    made = seed(fake, "Brand names", Entry("Cartesia", "kar-TEE-zha"), Entry("iOS", "eye", True))
    result = cli("dicts", "get", "brand names")
    assert result.code == 0, result.stderr
    assert tsv(result.stdout) == [
        ["text", "pronunciation", "case_sensitive"],
        ["Cartesia", "kar-TEE-zha", ""],
        ["iOS", "eye", "true"],
    ]
    fake.requests.clear()
    by_id = cli("dicts", "get", made, "--json")
    assert json.loads(by_id.stdout)["items"][1]["case_sensitive"] is True
    assert [r.path for r in fake.requests] == [f"/pronunciation-dicts/{made}"]  # no listing


def test_get_writes_a_file_that_push_takes_back_unchanged(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    seed(fake, "Brand names", Entry("Cartesia", "kar-TEE-zha"), Entry("iOS", "eye", True))
    result = cli("dicts", "get", "Brand names", "-o", "names.toml")
    assert result.code == 0, result.stderr
    assert result.stderr == 'Wrote 2 words of "Brand names" to names.toml.\n'
    assert (tmp_path / "names.toml").read_text() == (
        'name = "Brand names"\n\n[words]\nCartesia = "kar-TEE-zha"\n'
        'iOS = { pronunciation = "eye", case_sensitive = true }\n'
    )
    fake.requests.clear()
    pushed = cli("dicts", "push", "names.toml")
    assert pushed.code == 0, pushed.stderr
    assert writes(fake) == []


def test_a_csv_file_keeps_the_name_so_push_finds_the_same_dictionary(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    seed(fake, "Brand names", Entry("a, b", 'say "x"'))
    result = cli("dicts", "get", "Brand names", "--format", "csv")
    assert result.stdout == b'# name: Brand names\ntext,pronunciation\n"a, b","say ""x"""\n'
    written = cli("dicts", "get", "Brand names", "-o", "brands.csv")
    assert written.code == 0 and "warning" not in written.stderr, written.stderr
    assert (tmp_path / "brands.csv").read_bytes() == result.stdout
    with (tmp_path / "brands.csv").open("a") as csv:
        csv.write("bayou,BY-you\n")
    pushed = cli("dicts", "push", "brands.csv")
    assert pushed.code == 0, pushed.stderr
    assert len(fake.store.dictionaries()) == 1  # the same one, not a new "brands"
    assert 'Pushed brands.csv to "Brand names"' in pushed.stderr


def test_get_to_stdout_is_o_dash_with_a_format(cli: RunCli, fake: FakeCartesia) -> None:
    seed(fake, "Brand names", Entry("bayou", "BY-you"))
    refused = cli("dicts", "get", "Brand names", "-o", "-")
    assert refused.code == 2 and "--format toml|csv" in refused.stderr
    assert fake.requests == []
    dashed = cli("dicts", "get", "Brand names", "-o", "-", "--format", "toml")
    assert dashed.code == 0, dashed.stderr
    assert dashed.stdout == cli("dicts", "get", "Brand names", "--format", "toml").stdout
    assert b'bayou = "BY-you"' in dashed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-o", "names.toml"), "names.toml already exists; use --force to overwrite it"),
        (("-o", "names.txt"), "names.txt: a dictionary file ends in .toml or .csv"),
        (("-o", "x.csv", "--format", "csv"), "give -o FILE (its suffix is the format) or"),
        (("--format", "yaml"), "--format must be toml or csv, got 'yaml'"),
        (("--format", "csv", "--json"), "--format and --json both write to stdout"),
    ],
)
def test_get_refuses_a_bad_output_before_any_request(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "names.toml").write_text("kept\n")
    result = cli("dicts", "get", "Brand names", *args)
    assert result.code == 2
    assert message in result.stderr
    assert fake.requests == [] and (tmp_path / "names.toml").read_text() == "kept\n"


def test_get_force_overwrites_and_an_unknown_dictionary_leaves_no_file(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    seed(fake, "Brand names", Entry("a", "b"))
    (tmp_path / "names.csv").write_text("old\n")
    assert cli("dicts", "get", "Brand names", "-o", "names.csv", "--force").code == 0
    assert (tmp_path / "names.csv").read_text() == "# name: Brand names\ntext,pronunciation\na,b\n"
    missing = cli("dicts", "get", UNKNOWN_ID, "-o", "new.toml")
    assert missing.code == 4 and "No pronunciation dictionary with id" in missing.stderr
    assert not (tmp_path / "new.toml").exists()
    unnamed = cli("dicts", "get", "Nope")
    assert unnamed.code == 2
    assert "no pronunciation dictionary named 'Nope'" in unnamed.stderr


def test_names_and_words_from_the_server_are_shown_escaped(cli: RunCli, fake: FakeCartesia) -> None:
    evil = "Evil\x1b]0;pwned\x07"
    made = seed(fake, evil, Entry("a\tb\x1b[2J", "c"))
    listed = cli("dicts", "list")
    assert tsv(listed.stdout)[1][:2] == [made, "Evil\\x1b]0;pwned\\x07"]
    words = cli("dicts", "get", made)
    assert tsv(words.stdout)[1] == ["a b\\x1b[2J", "c", ""]
    deleted = cli("dicts", "delete", made, "--yes")
    assert deleted.code == 0 and "\x1b" not in deleted.stderr and "pwned" in deleted.stderr


# --- list, create, update -------------------------------------------------------------------


def test_list_pages_to_the_end(cli: RunCli, fake: FakeCartesia) -> None:
    made = [seed(fake, f"dict {n}", *[Entry(str(i), "x") for i in range(n)]) for n in range(3)]
    result = cli("dicts", "list")
    assert result.code == 0, result.stderr
    assert tsv(result.stdout) == [
        ["id", "name", "words", "created_at"],
        *([made[n], f"dict {n}", str(n), "2026-01-02T03:04:05Z"] for n in range(3)),
    ]
    assert [r.path for r in fake.requests] == ["/pronunciation-dicts/?limit=100"]
    doc = json.loads(cli("dicts", "list", "--json").stdout)
    assert [d["name"] for d in doc] == ["dict 0", "dict 1", "dict 2"]


def test_create_with_a_file_without_one_and_a_name_taken(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    (tmp_path / "names.csv").write_text("a,b,true\n")
    result = cli("dicts", "create", "Brand names", "names.csv", "--json")
    assert result.code == 0, result.stderr
    made = json.loads(result.stdout)
    assert result.stderr.splitlines() == [
        f'Created "Brand names" ({made["id"]}) with 1 word.',
        "cartesia-cli: warning: `cartesia-cli dicts push names.csv` would push to a dictionary "
        'named "names", not to this one (give the file a first line `# name: Brand names`)',
    ]
    assert stored(fake, made["id"]) == (Entry("a", "b", True),)
    empty = cli("dicts", "create", "Scratch")
    assert empty.code == 0, empty.stderr
    assert writes(fake)[-1].json() == {"name": "Scratch"}
    fake.requests.clear()
    taken = cli("dicts", "create", "brand names")
    assert taken.code == 2 and "exists already" in taken.stderr
    assert writes(fake) == []


def test_a_create_that_reached_the_server_is_not_sent_again(
    cli: RunCli, fake: FakeCartesia
) -> None:
    fake.default_sequence = "ok,http-503,ok"  # the listing, then the POST fails
    result = cli("dicts", "create", "Brand names")
    assert result.code == 5, result.stderr
    assert [r.method for r in fake.requests] == ["GET", "POST"]


def test_dicts_create_failing_after_send_says_it_may_have_been_made(
    cli: RunCli, fake: FakeCartesia
) -> None:
    # A creating POST that failed after it was sent may have created all the same (as
    # voices clone says), rather than only "HTTP 500".
    result = cli(
        "dicts", "create", "Brand", env={"CARTESIA_BASE_URL": f"{fake.url}/scenario/ok,http-500"}
    )
    assert result.code == 5
    assert_one_error_line(result.stderr)
    assert result.stderr.endswith(
        "the dictionary may have been made all the same:"
        " check with `cartesia-cli dicts get Brand`\n"
    )


@pytest.mark.parametrize(
    ("existing", "said"),
    [
        (False, "the dictionary may have been made all the same: check with `cartesia-cli dicts get"
                " 'Brand names'`"),
        (True, "the words may have been replaced all the same: check with `cartesia-cli dicts get"),
    ],
)  # fmt: skip
def test_a_push_that_fails_after_sending_claims_no_change_and_says_what_may_be_done(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, existing: bool, said: str
) -> None:
    if existing:
        seed(fake, "Brand names", Entry("Cartesia", "kar"))
        fake.queue("ok", "ok", "http-500")  # the listing, the dictionary, then the PATCH
    else:
        fake.queue("ok", "http-500")  # the listing, then the POST
    (tmp_path / "names.toml").write_text(NAMES)
    result = cli("dicts", "push", "names.toml", "--retries", "0")
    assert result.code == 5
    assert_one_error_line(result.stderr)  # no "added …" line, as if the words were added
    assert said in result.stderr
    assert len(writes(fake)) == 1


def test_an_update_that_fails_after_sending_says_the_words_may_be_replaced(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    made = seed(fake, "Brand names")
    (tmp_path / "new.toml").write_text('[words]\nnew = "here"\n')
    fake.queue("http-500")
    result = cli("dicts", "update", made, "new.toml", "--retries", "0")
    assert result.code == 5
    assert result.stderr.endswith(
        "the words may have been replaced all the same:"
        f" check with `cartesia-cli dicts get {made}`\n"
    )


def test_update_replaces_the_words_by_name(cli: RunCli, fake: FakeCartesia, tmp_path: Path) -> None:
    made = seed(fake, "Brand names", Entry("old", "gone"))
    (tmp_path / "new.toml").write_text('name = "Other"\n[words]\nnew = "here"\n')
    result = cli("dicts", "update", "BRAND NAMES", "new.toml")
    assert result.code == 0, result.stderr
    assert result.stderr == f'Updated "Brand names" ({made}): now 1 word, from new.toml.\n'
    [patch] = writes(fake)
    assert patch.json() == {"items": [{"text": "new", "pronunciation": "here", "alias": "here"}]}
    assert stored(fake, made) == (Entry("new", "here"),)


# --- delete ---------------------------------------------------------------------------------


def test_delete_finds_them_all_first(cli: RunCli, fake: FakeCartesia) -> None:
    one, two = seed(fake, "One"), seed(fake, "Two", Entry("a", "b"))
    unknown = cli("dicts", "delete", "One", UNKNOWN_ID, "--yes")
    assert unknown.code == 4 and "No pronunciation dictionary with id" in unknown.stderr
    misnamed = cli("dicts", "delete", "One", "Three", "--yes")
    assert misnamed.code == 2 and "no pronunciation dictionary named 'Three'" in misnamed.stderr
    assert writes(fake) == []
    result = cli("dicts", "delete", "one", two, "One", "--yes", "--json")
    assert result.code == 0, result.stderr
    assert result.stderr == f'Deleted "One" ({one}).\nDeleted "Two" ({two}).\n'
    assert [r.path for r in writes(fake)] == [f"/pronunciation-dicts/{i}" for i in (one, two)]
    assert json.loads(result.stdout) == [
        {"id": one, "name": "One", "deleted": True},
        {"id": two, "name": "Two", "deleted": True},
    ]


def test_dicts_delete_failing_mid_list_reports_what_was_deleted(
    cli: RunCli, fake: FakeCartesia
) -> None:
    # As voices delete: each deleted one named, the failed one "may have been deleted",
    # the rest "not deleted", and --json still tells a script what was deleted.
    first, second, third = (seed(fake, name) for name in ("A", "B", "C"))
    scenario = f"{fake.url}/scenario/ok,ok,ok,ok,http-500,ok"
    result = cli(
        "dicts", "delete", first, second, third, "--yes", "--json",
        env={"CARTESIA_BASE_URL": scenario},
    )  # fmt: skip
    assert result.code == 5
    assert fake.store.dictionary(first) is None  # the first one did go
    assert json.loads(result.stdout) == [{"id": first, "name": "A", "deleted": True}]
    deleted, failed = result.stderr.splitlines()
    assert deleted == f'Deleted "A" ({first}).'
    assert (
        f'"B" ({second}) may have been deleted: check with `cartesia-cli dicts get {second}`'
        in (failed)
    )
    assert failed.endswith(f'; not deleted: "C" ({third})')
    assert fake.store.dictionary(third) is not None


def test_quiet_says_nothing_but_errors(cli: RunCli, fake: FakeCartesia, tmp_path: Path) -> None:
    (tmp_path / "names.toml").write_text(NAMES)
    for args in (
        ("create", "Brand names", "names.toml", "--quiet"),
        ("update", "Brand names", "names.toml", "-q"),
        ("push", "names.toml", "-q"),
        ("delete", "Brand names", "--yes", "-q"),
        ("push", "names.toml", "-q"),
        ("delete", "Brand names", "--yes", "-q"),
    ):
        result = cli("dicts", *args)
        assert (result.code, result.stderr) == (0, ""), args
    assert fake.store.dictionaries() == []
    failed = cli("dicts", "delete", UNKNOWN_ID, "--yes", "-q")
    assert failed.code == 4 and "error:" in failed.stderr


def test_delete_without_yes_off_a_terminal_is_refused_before_any_request(
    cli: RunCli, fake: FakeCartesia
) -> None:
    seed(fake, "One")
    result = cli("dicts", "delete", "One")
    assert result.code == 2
    assert "deleting needs --yes when not on a terminal" in result.stderr
    assert fake.requests == []


@pytest.mark.parametrize(("answer", "left"), [(b"n\n", 1), (b"y\n", 0)])
def test_delete_on_a_terminal_asks_naming_what_goes(
    fake: FakeCartesia, tmp_path: Path, answer: bytes, left: int
) -> None:
    made = seed(fake, "One", Entry("a", "b"))
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url)
    env["CARTESIA_CLI_CONFIG_DIR"] = str(tmp_path / "config")
    pid, terminal = os.forkpty()
    if pid == 0:  # the child, on a pseudo-terminal
        os.execve(str(ENTRY_POINT), [str(ENTRY_POINT), "dicts", "delete", "One"], env)
    screen = read_until(terminal, b"[y/N]")
    os.write(terminal, answer)
    screen += read_until(terminal, b".\r\n")
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 0
    assert f'"One" ({made}), 1 word'.encode() in screen
    assert (b"Nothing was deleted." in screen) == bool(left)
    assert len(fake.store.dictionaries()) == left


# --- one real process per command -----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("list",), "Brand names"),
        (("get", "Brand names", "--format", "toml"), 'Cartesia = "kar"'),
        (("create", "New", "names.toml"), 'Created "New"'),
        (("update", "Brand names", "names.toml"), "now 2 words"),
        (("delete", "Brand names", "--yes"), 'Deleted "Brand names"'),
        (("push", "names.toml"), "1 added, 1 changed, 0 removed"),
    ],
)
def test_each_command_as_a_process(
    cli_process: RunCli, fake: FakeCartesia, tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    seed(fake, "Brand names", Entry("Cartesia", "kar"))
    (tmp_path / "names.toml").write_text(NAMES)
    result = cli_process("dicts", *args)
    assert result.code == 0, result.stderr
    assert expected in result.stdout.decode() + result.stderr


def test_help_ends_with_examples(cli: RunCli) -> None:
    for command in ("list", "get", "create", "update", "delete", "push"):
        shown = cli("dicts", command, "--help").stdout.decode()
        assert "Examples:" in shown and "--base-url" in shown, command
