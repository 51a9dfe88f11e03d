"""Voices and pronunciation dictionaries by name: looked up once (the name cache first, per
base URL), named in the summary and --json, stored as ids by `config set`, and completed as
names in real shells."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.api.contract import ApiConfig
from cartesia_cli.errors import UsageError
from cartesia_cli.jobs import names
from cartesia_cli.mock import FakeCartesia
from cartesia_cli.settings import name_cache
from cartesia_cli.settings.name_cache import DICTIONARIES, VOICES

from .conftest import API_KEY, RunCli, clean_env
from .test_completion_hostile import COMPLETIONS, Terminal, need

KATIE = "f786b574-daa5-4673-aa0c-cbe3e8534c02"
NARRATOR = "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"  # "Default Narrator": a name with a space
NOWHERE = "http://127.0.0.1:9"
AMELIE = "b354f3e4-1447-5366-92f9-110420be4e5e"
TWINS = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222")


def listings(fake: FakeCartesia) -> list[str]:
    return [r.path for r in fake.requests if r.path.startswith("/voices?")]


def spoken_voice(fake: FakeCartesia) -> str:
    body = [r for r in fake.requests if r.path == "/tts/sse"][-1].json()
    voice: str = body["voice"]
    return voice


def kept(tmp_path: Path, base_url: str, kind: str = VOICES) -> dict[str, str]:
    return name_cache.names(kind, base_url, tmp_path / "cache" / "names.json")


def keep(tmp_path: Path, base_url: str, pairs: list[tuple[str, str]], kind: str = VOICES) -> None:
    path = tmp_path / "cache" / "names.json"
    name_cache.remember(kind, base_url, pairs, complete=True, path=path)


# --- --voice by name ---------------------------------------------------------------------------


def test_a_name_is_looked_up_once_then_taken_from_the_cache(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    first = cli("tts", "sse", "Hello", "--voice", "katie", "-o", "a.pcm", "--json", "--debug")
    assert first.code == 0, first.stderr
    assert listings(fake) == ["/voices?limit=100&q=katie"]  # one request, narrowed by the name
    assert spoken_voice(fake) == KATIE
    assert f"voice 'katie' is {KATIE} (from the API)" in first.stderr
    assert json.loads(first.stdout)["voice"] == {"id": KATIE, "name": "Katie"}
    second = cli("tts", "sse", "Hello", "--voice", "KATIE", "-o", "b.pcm")
    assert second.code == 0, second.stderr
    assert len(listings(fake)) == 1  # the cache answered
    assert second.stderr.splitlines()[0].endswith(f", voice Katie ({KATIE})")


def test_an_id_is_sent_with_no_lookup(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "bytes", "Hello", "-v", NARRATOR, "-o", "a.wav", "--json")
    assert result.code == 0, result.stderr
    assert listings(fake) == []
    assert json.loads(result.stdout)["voice"] == {"id": NARRATOR, "name": None}


@pytest.mark.parametrize("command", [("tts", "ws"), ("say",)])
def test_ws_and_say_take_names_too(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, command: tuple[str, ...]
) -> None:
    from .conftest import stand_in

    player = stand_in(tmp_path / "bin", "ffplay", "#!/bin/sh\ncat > /dev/null\n")
    env = {"PATH": f"{player.parent}:/usr/bin:/bin"}
    result = cli(*command, "Hello there.", "--voice", "Default Narrator", "-o", "x.pcm", env=env)
    assert result.code == 0, result.stderr
    assert f"voice Default Narrator ({NARRATOR})" in result.stderr


def test_an_unknown_name_is_exit_2_before_any_speech(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "sse", "Hello", "--voice", "Nobody", "-o", "a.pcm")
    assert (result.code, result.stderr) == (
        2, "cartesia-cli: error: no voice named 'Nobody' (see `cartesia-cli voices list`)\n"
    )  # fmt: skip
    assert [r.path for r in fake.requests] == ["/voices?limit=100&q=Nobody"]
    accents = cli("tts", "sse", "Hello", "--voice", "amelie", "-o", "a.pcm")
    assert "no voice named 'amelie'; did you mean 'Amélie'?" in accents.stderr


class Twins(BaseHTTPRequestHandler):
    """A listing with two voices named Narrator (in two languages), and nothing else."""

    seen: ClassVar[list[str]] = []
    catalogue: ClassVar[list[dict[str, str]]] = [
        {"id": "11111111-1111-4111-8111-111111111111", "name": "Narrator", "language": "en"},
        {"id": "22222222-2222-4222-8222-222222222222", "name": "narrator", "language": "de"},
        {"id": "d1", "name": "Names", "language": "en"},
    ]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        query = parse_qs(urlsplit(self.path).query)
        wanted = query.get("q", [""])[0].lower()
        data = [v for v in self.catalogue if wanted in v["name"].lower()]
        body = json.dumps({"data": data, "has_more": False}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def twins() -> Iterator[str]:
    Twins.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Twins)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_ambiguous_name_lists_the_candidates(cli: RunCli, twins: str) -> None:
    result = cli("tts", "sse", "Hi", "--voice", "NARRATOR", "--base-url", twins, "-o", "a.pcm")
    assert result.code == 2
    assert result.stderr == (
        "cartesia-cli: error: 2 voices are named 'NARRATOR'; give the id of one: "
        "11111111-1111-4111-8111-111111111111 (en); 22222222-2222-4222-8222-222222222222 (de)\n"
    )
    assert not Path("a.pcm").exists()


def test_dictionaries_are_looked_up_in_their_listing(twins: str, tmp_path: Path) -> None:
    api = ApiConfig(twins, API_KEY, "2026-08-14", 5.0, 5.0, 0)
    path = tmp_path / "names.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(name_cache.CACHE_DIR_ENV, str(tmp_path))
        found = names.look_up(names.DICTIONARY, "names", api)
        assert found == names.Named("d1", "Names")
        assert Twins.seen == ["/pronunciation-dicts/?limit=100"]  # no `q`: dictionaries have none
        # The whole listing was seen: it replaced what was kept of dictionaries for this URL.
        assert set(name_cache.names(DICTIONARIES, twins, path)) == {"d1", *_twin_ids()}
        assert names.look_up(names.DICTIONARY, "d1", api).name == "Names"  # an id kept: no request
    assert len(Twins.seen) == 1


def _twin_ids() -> set[str]:
    return {v["id"] for v in Twins.catalogue if v["id"] != "d1"}


def test_a_dictionary_by_name_is_looked_up_in_the_fakes_listing(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    brand = "4b5f1c2e-7a3d-4e8f-9b6a-0c1d2e3f4a5b"
    dictionary = {"id": brand, "name": "Brand", "items": [], "owner_id": "o", "pinned": False}
    fake.store.add_dictionary(dictionary)
    result = cli("tts", "sse", "Hi", "--pronunciation-dict", "brand", "-o", "a.pcm")
    assert result.code == 0, result.stderr
    asked = [r.path for r in fake.requests if r.path.startswith("/pronunciation-dicts/")]
    assert asked == ["/pronunciation-dicts/?limit=100"]
    assert fake.requests[-1].json()["pronunciation_dict_id"] == brand
    assert kept(tmp_path, fake.url, DICTIONARIES) == {brand: "Brand"}  # the whole listing


def test_a_dictionary_name_reaches_the_body_as_its_id(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    keep(tmp_path, fake.url, [("pd-1234", "Brand names")], kind=DICTIONARIES)
    result = cli("tts", "sse", "Hi", "--pronunciation-dict", "brand names", "--dry-run", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["body"]["pronunciation_dict_id"] == "pd-1234"
    assert fake.requests == []


def test_a_dry_run_takes_names_from_the_cache_only(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    refused = cli("tts", "sse", "Hi", "--voice", "Katie", "--dry-run")
    assert refused.code == 2 and "a dry run sends nothing" in refused.stderr
    keep(tmp_path, fake.url, [(KATIE, "Katie")])
    shown = cli("tts", "sse", "Hi", "--voice", "katie", "--dry-run", "--json")
    assert json.loads(shown.stdout)["body"]["voice"] == KATIE
    assert fake.requests == []


def test_a_stale_cached_name_says_where_it_came_from(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    gone = "33333333-3333-4333-8333-333333333333"
    keep(tmp_path, fake.url, [(gone, "Removed")])
    fake.default_sequence = "http-404"  # the voice was deleted since it was listed
    result = cli("tts", "sse", "Hi", "--voice", "removed", "-o", "a.pcm")
    assert result.code == 4
    assert (
        f"the voice 'Removed' was taken from the name cache as {gone}, which may be out of"
        " date: it is forgotten, so the next run looks the name up again"
    ) in result.stderr
    assert listings(fake) == []
    assert kept(tmp_path, fake.url) == {}  # the next run asks the API, not the stale entry


def test_names_are_kept_per_base_url(cli: RunCli, fake: FakeCartesia, tmp_path: Path) -> None:
    keep(tmp_path, NOWHERE, [("elsewhere-1", "Katie")])  # another server's Katie
    result = cli("tts", "sse", "Hi", "--voice", "Katie", "-o", "a.pcm")
    assert result.code == 0, result.stderr
    assert spoken_voice(fake) == KATIE  # not the other server's id
    assert kept(tmp_path, NOWHERE) == {"elsewhere-1": "Katie"}
    assert kept(tmp_path, fake.url + "/") == {KATIE: "Katie"}  # one key, with or without /


def test_a_batch_looks_each_name_up_once(cli: RunCli, fake: FakeCartesia, tmp_path: Path) -> None:
    items = [
        json.dumps({"transcript": f"Item {n}.", "voice": voice})
        for n, voice in enumerate(["Lena", "lena", "LENA", "Mateo", "Nobody", "nobody"])
    ]
    (tmp_path / "in.jsonl").write_text("\n".join(items) + "\n")
    result = cli("tts", "sse", "--batch", "in.jsonl", "--voice", "katie", "--concurrency", "2")
    assert result.code == 2, result.stderr
    queries = sorted(parse_qs(urlsplit(p).query)["q"][0] for p in listings(fake))
    assert queries == ["Lena", "Mateo", "Nobody", "katie"]  # once per name, whatever the case
    # Every name of the file is looked up before the first item: a bad one costs no speech.
    assert result.stderr == (
        "cartesia-cli: error: line 5: no voice named 'Nobody' (see `cartesia-cli voices list`);"
        " no item was sent\n"
    )
    assert fake.transmissions == []


def test_a_batch_with_an_unknown_command_voice_stops_before_any_item(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    (tmp_path / "in.txt").write_text("One.\nTwo.\n")
    result = cli("tts", "sse", "--batch", "in.txt", "--voice", "nobody")
    assert result.code == 2 and "no voice named 'nobody'" in result.stderr
    assert not [r for r in fake.requests if r.path == "/tts/sse"]


# --- config set and voices get ---------------------------------------------------------------


def test_config_set_voice_stores_the_id_a_name_names(cli: RunCli, tmp_path: Path) -> None:
    config_file = tmp_path / "config" / "config.toml"
    saved = cli("config", "set", "voice", "jürgen")
    assert saved.code == 0, saved.stderr
    stored = config_file.read_text()
    voice_id = stored.split('"')[1]
    assert saved.stderr == f"saved voice = {voice_id} (Jürgen) in {config_file}\n"
    assert names.is_id(voice_id)
    refused = cli("config", "set", "voice", "nobody")
    assert refused.code == 2 and "no voice named 'nobody'" in refused.stderr
    assert config_file.read_text() == stored  # nothing saved


def test_config_set_voice_with_an_id_needs_no_key(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("config", "set", "voice", KATIE, env={"CARTESIA_API_KEY": ""})
    assert result.code == 0, result.stderr
    assert fake.requests == []


def test_voices_get_takes_a_name(cli_process: RunCli, fake: FakeCartesia) -> None:
    result = cli_process("voices", "get", "default narrator", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["id"] == NARRATOR
    assert [r.path for r in fake.requests] == [
        "/voices?limit=100&q=default+narrator",
        f"/voices/{NARRATOR}",
    ]


# --- the cache ---------------------------------------------------------------------------------


def test_the_cache_keeps_the_base_urls_used_last(tmp_path: Path) -> None:
    path = tmp_path / "names.json"
    urls = [f"http://127.0.0.1:{port}" for port in range(1000, 1000 + name_cache.MAX_SITES + 2)]
    for url in urls:
        name_cache.remember(VOICES, url, [("v1", url)], complete=True, path=path)
    name_cache.remember(DICTIONARIES, urls[2], [("d1", "D")], complete=True, path=path)
    assert name_cache.names(VOICES, urls[0], path) == {}  # the oldest went
    assert name_cache.names(VOICES, urls[2], path) == {"v1": urls[2]}  # used again: kept
    name_cache.forget(VOICES, urls[2], ["v1"], path)
    assert name_cache.names(VOICES, urls[2], path) == {}
    assert name_cache.names(DICTIONARIES, urls[2], path) == {"d1": "D"}


def test_names_that_differ_only_in_case_are_ambiguous() -> None:
    known = {"a": "Sam", "b": "sam", "c": "Samantha"}
    with pytest.raises(UsageError):
        names.resolve(names.VOICE, "SAM", lambda: [{"id": i, "name": n} for i, n in known.items()])


ids = st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True)


@given(st.dictionaries(ids, st.text(max_size=30), max_size=8), st.text(max_size=6))
def test_what_completion_inserts_names_one_voice_or_is_an_id(
    known: dict[str, str], typed: str
) -> None:
    for value, shown in name_cache.offers(typed, known):
        if value in known:
            continue  # an id
        # A name: that of exactly one voice, plain (it reads the same shown), the id beside it.
        owners = [i for i, n in known.items() if n.casefold() == value.casefold()]
        assert owners == [shown] and known[shown] == value == name_cache.shown_name(value)


# --- completion in real shells -------------------------------------------------------------


@pytest.fixture
def shell_env(tmp_path: Path) -> dict[str, str]:
    """A shell whose name cache holds, for its base URL, a name with a space, an accented
    name, and two voices sharing a name."""
    from .test_completion_hostile import shell_env as hostile_env

    cache = tmp_path / "cache"
    pairs = [(NARRATOR, "Default Narrator"), (AMELIE, "Amélie"), (KATIE, "Katie"),
             (TWINS[0], "Twin"), (TWINS[1], "Twin")]  # fmt: skip
    name_cache.remember(VOICES, NOWHERE, pairs, complete=True, path=cache / "names.json")
    return hostile_env(tmp_path, cache)


@pytest.fixture
def shells() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for each in opened:
        each.close()


def words_after_tab(shell: Terminal, line: str, shown: bytes) -> bytes:
    """Complete `line` with one TAB, then print the words the shell reads from the result."""
    shell.send(line + "\t")
    shell.wait_for(shown)  # the completion is on the line
    # Ctrl-A, Ctrl-E: the same words, as printf's arguments
    shell.send("\x01printf '[%s]' \x05; echo\n")
    return shell.wait_for(b"]\r\n")


def test_bash_completes_names_escaped_and_lists_ids(
    tmp_path: Path, shell_env: dict[str, str], shells: list[Terminal]
) -> None:
    bash = Terminal([need("bash"), "--norc", "--noprofile", "-i"], shell_env, tmp_path)
    shells.append(bash)
    bash.send(f"source {COMPLETIONS / 'cartesia-cli.bash'}; PS1='READY''> '\n")
    bash.wait_for(b"READY> ")
    spaced = words_after_tab(bash, "cartesia-cli tts sse --voice def", b"Narrator")
    accented = words_after_tab(bash, "cartesia-cli say --voice ame", "Amélie".encode())
    bash.send("cartesia-cli tts sse --voice Tw\t")  # two voices named Twin: their ids
    bash.wait_for(b"\x07")  # the bell: nothing in common to insert
    bash.send("\t")  # the second TAB lists them, each with its name
    listing = bash.settle()
    assert b"[--voice][Default Narrator]" in spaced, bash.seen[-800:]
    assert "[--voice][Amélie]".encode() in accented, bash.seen[-800:]
    assert f"{TWINS[0]} (Twin)".encode() in listing, bash.seen[-800:]
    assert f"{TWINS[1]} (Twin)".encode() in listing


def test_zsh_completes_names_and_shows_ids(
    tmp_path: Path, shell_env: dict[str, str], shells: list[Terminal]
) -> None:
    zsh = Terminal([need("zsh"), "-f", "-i"], shell_env, tmp_path)
    shells.append(zsh)
    zsh.send(f"fpath=({COMPLETIONS} $fpath); autoload -U compinit; compinit -u -D\n")
    zsh.send("PS1='READY''> '\n")
    zsh.wait_for(b"READY> ")
    spaced = words_after_tab(zsh, "cartesia-cli tts sse --voice Def", b"Narrator")
    accented = words_after_tab(zsh, "cartesia-cli say --voice Am", "Amélie".encode())
    zsh.send("cartesia-cli tts sse --voice \t")
    listing = zsh.wait_for(NARRATOR.encode())
    zsh.settle()
    assert b"[--voice][Default Narrator]" in spaced, zsh.seen[-800:]
    assert "[--voice][Amélie]".encode() in accented, zsh.seen[-800:]
    assert b"Katie" in listing and KATIE.encode() in listing and TWINS[1].encode() in listing


def test_fish_completes_names_with_ids_beside_them(
    tmp_path: Path, shell_env: dict[str, str]
) -> None:
    script = f"source {COMPLETIONS / 'cartesia-cli.fish'}; complete -C 'cartesia-cli say --voice '"
    proc = subprocess.run(
        [need("fish"), "--no-config", "-c", script],
        capture_output=True, env=shell_env, cwd=tmp_path, timeout=30,
    )  # fmt: skip
    lines = proc.stdout.decode().splitlines()
    assert f"Default Narrator\t{NARRATOR}" in lines, lines
    assert f"Amélie\t{AMELIE}" in lines and f"{TWINS[0]}\tTwin" in lines


def test_completion_reads_the_names_of_the_base_url_in_use(tmp_path: Path) -> None:
    """--base-url on the line being completed, else the environment, else the config file."""
    from .conftest import run_entry_point

    cache = tmp_path / "cache"
    path = cache / "names.json"
    name_cache.remember(VOICES, "http://127.0.0.1:7", [("seven", "Sevenvoice")], complete=True,
                        path=path)  # fmt: skip
    name_cache.remember(VOICES, NOWHERE, [("nine", "Ninevoice")], complete=True, path=path)
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text('base_url = "http://127.0.0.1:7"\n')

    def complete(line: str, **env: str) -> list[str]:
        words = line.split(" ")
        result = run_entry_point(
            (),
            env=clean_env(
                _CARTESIA_CLI_COMPLETE="complete_bash",
                COMP_WORDS=line,
                COMP_CWORD=str(len(words) - 1),
                CARTESIA_CLI_CACHE_DIR=str(cache),
                CARTESIA_CLI_CONFIG_DIR=str(config),
                **env,
            ),
            cwd=tmp_path,
        )
        return result.stdout.decode().split()

    assert complete("cartesia-cli tts sse --voice ") == ["Sevenvoice"]  # the config file's
    assert complete("cartesia-cli tts sse --voice ", CARTESIA_BASE_URL=NOWHERE) == ["Ninevoice"]
    line = f"cartesia-cli tts sse --base-url {NOWHERE} --voice "
    assert complete(line) == ["Ninevoice"]


def test_voice_arguments_complete_names(tmp_path: Path, shell_env: dict[str, str]) -> None:
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed (CI installs it)")
    script = f"source {COMPLETIONS / 'cartesia-cli.fish'}; complete -C 'cartesia-cli voices get K'"
    proc = subprocess.run(
        ["fish", "--no-config", "-c", script],
        capture_output=True, env=shell_env, cwd=tmp_path, timeout=30,
    )  # fmt: skip
    assert proc.stdout.decode().splitlines() == [f"Katie\t{KATIE}"]


# -- review of issue 22 ------------------------------------------------------------------


def test_a_clone_named_like_a_library_voice_makes_the_name_ambiguous(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    from .test_voice_admin import wav_clip

    clip = tmp_path / "me.wav"
    clip.write_bytes(wav_clip())
    made = cli("voices", "clone", str(clip), "--name", "Katie", "--language", "en")
    assert made.code == 0, made.stderr
    new = made.stdout.decode().strip()
    # The creation says the name is shared, and offers the id, not the name, to speak with.
    assert f"'Katie' already names another voice ({KATIE})" in made.stderr
    assert made.stderr.endswith(f"speak with it: --voice {new}\n")
    result = cli("tts", "sse", "hi", "--voice", "katie", "-o", "out.pcm")
    assert result.code == 2, (result.code, result.stderr)
    assert KATIE in result.stderr and new in result.stderr


def test_a_name_in_nfd_finds_the_voice_named_in_nfc(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    import unicodedata

    from .test_voice_admin import wav_clip

    clip = tmp_path / "me.wav"
    clip.write_bytes(wav_clip())
    nfc = unicodedata.normalize("NFC", "Zoé Test")
    assert cli("voices", "clone", str(clip), "--name", nfc, "--language", "fr").code == 0
    nfd = unicodedata.normalize("NFD", nfc)
    cached = cli("tts", "sse", "hi", "--voice", nfd, "-o", "a.pcm")  # from the name cache
    assert cached.code == 0, cached.stderr
    (tmp_path / "cache" / "names.json").unlink()  # resolved by the listing, not the cache
    listed = cli("tts", "sse", "hi", "--voice", nfd, "-o", "b.pcm")
    assert listed.code == 0, listed.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("voices", "try", "Mine"),  # its language is asked for: 404
        ("voices", "update", "Mine", "--name", "Other"),
        ("voices", "delete", "Mine", "--yes"),
        ("voices", "get", "Mine"),
    ],
)
def test_a_cached_name_of_a_deleted_voice_is_forgotten_and_said(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, command: tuple[str, ...]
) -> None:
    from .conftest import stand_in
    from .test_voices_try import PLAYER

    gone = "44444444-4444-4444-8444-444444444444"  # deleted elsewhere since it was cached
    keep(tmp_path, fake.url, [(gone, "Mine"), (KATIE, "Katie")])
    (tmp_path / "records").mkdir()
    player = stand_in(tmp_path / "bin", "ffplay", PLAYER)
    env = {"PATH": f"{player}:/usr/bin:/bin", "PLAYER_RECORD": str(tmp_path / "records")}
    result = cli(*command, env=env)
    assert result.code == 4, result.stderr
    assert f"the voice 'Mine' was taken from the name cache as {gone}" in result.stderr
    assert "it is forgotten, so the next run looks the name up again" in result.stderr
    assert kept(tmp_path, fake.url) == {KATIE: "Katie"}
    again = cli(*command, env=env)
    assert again.code == 2 and "no voice named 'Mine'" in again.stderr  # asked the API


def test_an_upper_case_id_is_sent_in_the_apis_lower_case(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("voices", "get", KATIE.upper(), "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["id"] == KATIE
    spoken = cli("tts", "sse", "Hi", "--voice", KATIE.upper(), "-o", "a.pcm")
    assert spoken.code == 0 and spoken_voice(fake) == KATIE


def test_a_batch_from_a_pipe_looks_names_up_as_its_items_come(
    cli_process: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    items = [json.dumps({"transcript": f"Item {n}.", "voice": v}) for n, v in
             enumerate(["Katie", "Nobody", "Katie"])]  # fmt: skip
    result = cli_process("tts", "sse", "--batch", "-", input=("\n".join(items) + "\n").encode())
    assert result.code == 2, result.stderr  # a pipe cannot be read twice: the item fails alone
    assert "line 2: no voice named 'Nobody'" in result.stderr
    assert "batch: 3 items, 2 ok, 1 failed" in result.stderr
