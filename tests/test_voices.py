"""`voices list` / `voices get`, paging, the completion cache, and --voice completion from it."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartesia_cli.api import voices
from cartesia_cli.errors import StreamError, UsageError
from cartesia_cli.mock import FakeCartesia
from cartesia_cli.settings import name_cache
from cartesia_cli.settings.name_cache import VOICES
from cartesia_cli.ui import voices_view

from .conftest import API_KEY, RunCli, clean_env, run_entry_point

KATIE = "f786b574-daa5-4673-aa0c-cbe3e8534c02"
NOWHERE = "http://127.0.0.1:9"  # a base URL nothing answers: completion never asks it


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def run(cli: RunCli, cache: Path, *args: str, **env: str) -> Any:
    return cli(*args, env={"CARTESIA_CLI_CACHE_DIR": str(cache), **env})


def rows(stdout: bytes) -> list[list[str]]:
    lines = stdout.decode().splitlines()
    assert lines[0] == "id\tname\tlanguage\tgender\tdescription"
    return [line.split("\t") for line in lines[1:]]


# --- listing against the mock ------------------------------------------------------------


def test_list_pages_to_the_end_and_prints_tab_separated_lines(
    cli: RunCli, fake: FakeCartesia, cache: Path
) -> None:
    result = run(cli, cache, "voices", "list")
    assert result.code == 0, result.stderr
    listed = rows(result.stdout)
    assert len(listed) == 25 and listed[0][:4] == [KATIE, "Katie", "en", "feminine"]
    assert [r.path for r in fake.requests] == ["/voices?limit=100"]


def test_limit_stops_after_n_and_asks_for_pages_that_small(
    cli: RunCli, fake: FakeCartesia, cache: Path
) -> None:
    result = run(cli, cache, "voices", "list", "--limit", "12")
    assert len(rows(result.stdout)) == 12
    assert [r.path for r in fake.requests] == ["/voices?limit=12"]


def test_filters_go_to_the_api(cli: RunCli, fake: FakeCartesia, cache: Path) -> None:
    result = run(
        cli, cache, "voices", "list", "--query", "voice", "--gender", "feminine", "--language", "fr"
    )
    assert result.code == 0, result.stderr
    query = parse_qs(urlsplit(fake.requests[0].path).query)
    # Cartesia-Version 2026-08-14 documents no `language` filter: the listing is filtered here.
    assert query == {"limit": ["100"], "q": ["voice"], "gender": ["feminine"]}
    assert [r[1] for r in rows(result.stdout)] == ["Amélie"]


def test_json_is_one_document(cli: RunCli, cache: Path) -> None:
    result = run(cli, cache, "voices", "list", "--language", "de", "--json")
    doc = json.loads(result.stdout)
    assert [v["name"] for v in doc] == ["Jürgen", "Lena"]


def test_get_shows_one_voice(cli: RunCli, cache: Path) -> None:
    result = run(cli, cache, "voices", "get", KATIE)
    assert result.code == 0, result.stderr
    assert rows(result.stdout)[0][:2] == [KATIE, "Katie"]
    assert json.loads(run(cli, cache, "voices", "get", KATIE, "--json").stdout)["name"] == "Katie"


def test_get_an_unknown_voice_is_exit_4_with_the_servers_message(cli: RunCli, cache: Path) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    result = run(cli, cache, "voices", "get", unknown)
    assert result.code == 4
    assert f"Voice not found: No voice with id '{unknown}'." in result.stderr
    assert result.stdout == b""


@pytest.mark.parametrize(
    ("args", "env", "code"),
    [
        ((), {"CARTESIA_API_KEY": ""}, 3),
        (("--api-key", "sk-wrong-key-123"), {}, 3),
        (("--base-url", "ftp://x"), {}, 2),
        (("--gender", "robot"), {}, 2),
        (("--limit", "0"), {}, 2),
    ],
)
def test_auth_and_usage_errors(
    cli: RunCli,
    fake: FakeCartesia,
    cache: Path,
    args: tuple[str, ...],
    env: dict[str, str],
    code: int,
) -> None:
    result = run(cli, cache, "voices", "list", *args, **env)
    assert result.code == code, result.stderr
    assert result.stderr.startswith("cartesia-cli: error: ") and result.stdout == b""


def test_a_server_failure_is_retried_like_a_job(
    cli: RunCli, fake: FakeCartesia, cache: Path
) -> None:
    fake.default_sequence = "http-503,ok"
    result = run(cli, cache, "voices", "list", "--limit", "1")
    assert result.code == 0, result.stderr
    assert len(fake.requests) == 2


def test_the_table_on_a_terminal_escapes_and_cuts(capsys: pytest.CaptureFixture[str]) -> None:
    long = "word " * 200
    name = "[bold]Evil[/bold]\x1b]0;pwned\x07"
    voices_view.show([["id-1", name, "en", "", long]], terminal=True)
    out = capsys.readouterr().out
    assert "[bold]Evil" in out  # shown, not obeyed
    assert "\x1b]0" not in out and out.count("\n") == 2 and "…" in out


# --- paging against servers that end pages their own way ---------------------------------


class Pages(BaseHTTPRequestHandler):
    """Pages of two voices from a list; `has_more` always true (so an empty page ends it)."""

    catalogue: ClassVar[list[dict[str, str]]] = []
    repeat = False
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        self.seen.append(self.path)
        after = query.get("starting_after", [""])[0]
        ids = [v["id"] for v in self.catalogue]
        start = 0 if not after or self.repeat else ids.index(after) + 1
        body = json.dumps({"data": self.catalogue[start : start + 2], "has_more": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def pages() -> Iterator[tuple[str, type[Pages]]]:
    class Fresh(Pages):  # its own class attributes: one server per test
        pass

    handler = Fresh
    handler.catalogue = [{"id": f"v{i}", "name": f"Voice {i}"} for i in range(5)]
    handler.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_an_empty_last_page_ends_the_listing(
    cli: RunCli, cache: Path, pages: tuple[str, type[Pages]]
) -> None:
    url, handler = pages
    result = run(cli, cache, "voices", "list", "--base-url", url)
    assert result.code == 0, result.stderr
    assert [r[0] for r in rows(result.stdout)] == ["v0", "v1", "v2", "v3", "v4"]
    assert len(handler.seen) == 4  # 2 + 2 + 1, then the empty page
    assert handler.seen[-1].endswith("starting_after=v4")


def test_a_repeated_cursor_stops_with_a_warning(
    cli: RunCli, cache: Path, pages: tuple[str, type[Pages]]
) -> None:
    url, handler = pages
    handler.repeat = True  # every page is the first page
    name_cache.remember(
        VOICES, url, [("gone", "Removed")], complete=True, path=cache / "names.json"
    )
    result = run(cli, cache, "voices", "list", "--base-url", url)
    assert result.code == 0
    assert "the server sent voices after v1 again; stopped listing there" in result.stderr
    assert len(handler.seen) == 2  # the page after v1 came back as the first: no third request
    assert [r[0] for r in rows(result.stdout)] == ["v0", "v1"]  # not shown twice
    assert "gone" in name_cache.names(VOICES, url, cache / "names.json")  # a cut listing: no loss


def test_hostile_names_are_escaped_in_the_lines(
    cli: RunCli, cache: Path, pages: tuple[str, type[Pages]]
) -> None:
    url, handler = pages
    handler.catalogue = [{"id": "v0", "name": "a\tb\nc\x1b[2J\x9b", "gender": "x\ry"}]
    result = run(cli, cache, "voices", "list", "--base-url", url)
    assert rows(result.stdout) == [["v0", "a b c\\x1b[2J\\x9b", "", "x y", ""]]


def test_an_id_is_never_a_path_of_its_own(
    cli: RunCli, cache: Path, pages: tuple[str, type[Pages]]
) -> None:
    url, handler = pages
    handler.catalogue = [{"id": "../tts/sse", "name": "Climber"}]
    result = cli("voices", "get", "climber", "--base-url", url,
                 env={"CARTESIA_CLI_CACHE_DIR": str(cache)})  # fmt: skip
    assert result.code == 2 and "not a voice id: '../tts/sse'" in result.stderr
    assert all(seen.startswith("/voices?") for seen in handler.seen)  # the listing alone


@settings(max_examples=200)
@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=30), st.booleans())
def test_paging_always_ends(ids: list[str], has_more: bool) -> None:
    """Whatever pages a server sends, the listing ends, and never asks for a cursor twice."""
    asked: list[str | None] = []

    def fetch(params: Any) -> object:
        asked.append(params.get("starting_after"))
        start = len(asked) - 1
        return {"data": [{"id": i} for i in ids[start * 2 : start * 2 + 2]], "has_more": has_more}

    listed = list(voices.every_voice(fetch, {"limit": "2"}, limit=None, warn=lambda _: None))
    assert len(asked) == len(set(asked)) and len(asked) <= len(ids) // 2 + 2
    assert len(listed) <= len(ids)


@pytest.mark.parametrize(
    "doc", [[], {"data": None}, {"data": [1]}, {"data": [{"id": 3}]}, {"data": [{"name": "x"}]}]
)
def test_a_malformed_page_is_a_stream_error(doc: object) -> None:
    with pytest.raises(StreamError):
        voices.read_page(doc)


# --- the cache and completion --------------------------------------------------------------


def test_a_full_listing_replaces_the_cache_and_a_filtered_one_adds(
    cli: RunCli, fake: FakeCartesia, cache: Path
) -> None:
    path = cache / "names.json"
    name_cache.remember(VOICES, fake.url, [("gone", "Removed Voice")], complete=True, path=path)
    run(cli, cache, "voices", "list", "--language", "fr")
    names = name_cache.names(VOICES, fake.url, path)
    assert names["gone"] == "Removed Voice" and "Théo" in names.values()
    run(cli, cache, "voices", "list")
    names = name_cache.names(VOICES, fake.url, path)
    assert "gone" not in names and len(names) == 25 and names[KATIE] == "Katie"


def bash_complete(tmp_path: Path, cache: Path, line: str, **env: str) -> list[str]:
    """Bash's candidates for `line` (from the names kept for `env`'s base URL, else the fake's)."""
    words = line.split(" ")
    result = run_entry_point(
        (),
        env=clean_env(
            _CARTESIA_CLI_COMPLETE="complete_bash",
            COMP_WORDS=line,
            COMP_CWORD=str(len(words) - 1),
            CARTESIA_CLI_CACHE_DIR=str(cache),
            # Completion must never reach a server: a port nothing listens on (names kept
            # for it are written there by the tests).
            CARTESIA_BASE_URL=env.pop("CARTESIA_BASE_URL", NOWHERE),
            CARTESIA_API_KEY=API_KEY,
            **env,
        ),
        cwd=tmp_path,
    )
    assert result.code == 0 and result.stderr == ""
    return result.stdout.decode().split()


def test_voice_completes_from_the_cache_with_no_request(
    cli: RunCli, fake: FakeCartesia, cache: Path, tmp_path: Path
) -> None:
    run(cli, cache, "voices", "list")
    sent = len(fake.requests)

    def complete(line: str) -> list[str]:
        return bash_complete(tmp_path, cache, line, CARTESIA_BASE_URL=fake.url)

    assert complete("cartesia-cli tts sse --voice f786") == [KATIE]  # an id: the id
    assert complete("cartesia-cli say -v kat") == ["Katie"]  # a name: the name
    assert complete("cartesia-cli tts bytes --voice Jür") == ["Jürgen"]
    assert complete("cartesia-cli tts bytes --voice jur") == ["Jürgen"]  # accents ignored
    assert len(fake.requests) == sent


def test_zsh_gets_names_as_descriptions(
    cli: RunCli, fake: FakeCartesia, cache: Path, tmp_path: Path
) -> None:
    run(cli, cache, "voices", "list")
    result = run_entry_point(
        (),
        env=clean_env(
            _CARTESIA_CLI_COMPLETE="complete_zsh",
            _TYPER_COMPLETE_ARGS="cartesia-cli tts sse --voice f786",
            CARTESIA_CLI_CACHE_DIR=str(cache),
            CARTESIA_BASE_URL=fake.url,
        ),
        cwd=tmp_path,
    )
    assert f'"{KATIE}":"Katie"' in result.stdout.decode()


@pytest.mark.parametrize(
    "content",
    [None, b"", b"not json", b'{"voices": [1, 2]}', b"[1]", b'{"voices": ' + b"[" * 100_000],
)
def test_a_missing_or_broken_cache_completes_nothing_quietly(
    tmp_path: Path, cache: Path, content: bytes | None
) -> None:
    if content is not None:
        cache.mkdir()
        (cache / "names.json").write_bytes(content)
    assert bash_complete(tmp_path, cache, "cartesia-cli tts sse --voice ") == []


def test_an_unwritable_cache_is_a_warning_not_a_failure(cli: RunCli, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run(cli, blocker / "sub", "voices", "list", "--limit", "1")
    assert result.code == 0
    assert "cartesia-cli: warning: could not update the name cache" in result.stderr


@pytest.mark.parametrize(("kind", "said"), [("fifo", "a named pipe"), ("dir", "a directory")])
def test_a_cache_that_is_no_regular_file_is_left_alone(
    cli: RunCli, cache: Path, tmp_path: Path, kind: str, said: str
) -> None:
    cache.mkdir()
    path = cache / "names.json"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    result = run(cli, cache, "voices", "list", "--limit", "1")
    assert result.code == 0
    assert result.stderr.endswith(
        f"warning: could not update the name cache {path}: it is {said}, not a regular file\n"
    )
    assert stat.S_ISFIFO(path.stat().st_mode) if kind == "fifo" else path.is_dir()
    assert bash_complete(tmp_path, cache, "cartesia-cli tts sse --voice ") == []


def test_the_cache_is_replaced_whole(cache: Path) -> None:
    path = cache / "names.json"
    name_cache.remember(VOICES, NOWHERE, [("a", "A")], complete=True, path=path)
    name_cache.remember(VOICES, NOWHERE, [("b", "B")], complete=False, path=path)
    assert name_cache.names(VOICES, NOWHERE, path) == {"a": "A", "b": "B"}
    assert [p.name for p in cache.iterdir()] == ["names.json"]  # no temporary left behind


def test_completion_shows_a_cached_name_escaped(tmp_path: Path, cache: Path) -> None:
    cache.mkdir()
    voices = {"f786-ok": "Evil\x1b]0;pwned\x07\u202eeman"}
    document = {"version": 2, "sites": {NOWHERE: {"voices": voices}}}
    (cache / "names.json").write_text(json.dumps(document))  # a file anyone edits
    result = run_entry_point(
        (),
        env=clean_env(
            _CARTESIA_CLI_COMPLETE="complete_zsh",
            _TYPER_COMPLETE_ARGS="cartesia-cli tts sse --voice f786",
            CARTESIA_CLI_CACHE_DIR=str(cache),
            CARTESIA_BASE_URL=NOWHERE,
        ),
        cwd=tmp_path,
    )
    out = result.stdout.decode()
    # The cache's loader makes the name plain: controls and the bidirectional override go.
    assert '"f786-ok":"Evil ]0;pwned eman"' in out, out
    assert "\x1b" not in out and "\u202e" not in out and "\\" not in out


def test_an_id_of_dots_never_reaches_another_path(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    """Ids `.` and `..` (as a listing may send them) never turn into the collection or the
    root: the name cache does not keep them, and no path is built of them."""
    from .test_dicts import seed

    cache = tmp_path / "cache" / "names.json"
    name_cache.remember(name_cache.DICTIONARIES, fake.url, [(".", "Dot")], complete=False,
                        path=cache)  # fmt: skip
    name_cache.remember(name_cache.VOICES, fake.url, [("..", "Dots")], complete=False, path=cache)
    assert name_cache.names(name_cache.VOICES, fake.url, cache) == {}
    seed(fake, "Other")
    (tmp_path / "w.toml").write_text('[words]\nx = "y"\n')
    assert cli("dicts", "update", "Dot", "w.toml").code == 2
    assert cli("voices", "update", "Dots", "--name", "x").code == 2
    paths = [(r.method, r.path.partition("?")[0]) for r in fake.requests]
    assert all(method == "GET" for method, _ in paths), paths  # listings only
    for bad in (".", "..", "a/b", ""):
        with pytest.raises(UsageError):
            voices.path(bad)
    assert voices.path("AbC.d") == "/voices/AbC.d"
