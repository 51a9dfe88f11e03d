"""Voice names from the API in real shells: a TAB never runs them and still completes.

The voice cache holds whatever `voices list` was sent; these names are written
straight into it, as a hostile server (or anyone who can write the cache) would
leave them. Each shell loads the shipped script from completions/ and completes
with the installed entry point, as a user's would.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer._click.shell_completion import CompletionItem
from typer._completion_classes import ZshComplete

from cartesia_cli.settings import name_cache
from cartesia_cli.settings.name_cache import Offer, shown_name

from .conftest import clean_env

COMPLETIONS = Path(__file__).resolve().parent.parent / "completions"
GOOD_ID, GOOD_NAME = "good-voice-0001", "Katie"
OTHER_ID = "other-voice-0002"  # a good id with a hostile name: listed, name made safe


def hostile_names(marker: Path) -> list[str]:
    """Each tries, in its own way, to run `touch marker` in some shell's completion."""
    touch = f"touch {marker}"
    return [
        f"\\$({touch})",  # a backslash before the escaped `$` unescapes it (zsh)
        f"\\`{touch}\\`",
        f"$({touch})",
        f"`{touch}`",
        f'"; {touch}; "',
        f"'; {touch}; '",
        f"'$({touch})'",
        "trailing backslash\\",
        f'\\"$({touch})\\"',
        f"line\n$({touch})\nbreak",
        f"tab\t$({touch})",
        f"${{(e):-$({touch})}}",
        f"))'; {touch}; : '((",
        f"a:b\\:c $({touch})",
        "\x1b]0;title\x07\x1b[2Jcleared",
        "\u202eevil\u2066bidi\u2069",
        "%F{red}prompt%f * ~root [glob]",
    ]


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


NOWHERE = "http://127.0.0.1:9"  # the shells' base URL: the names are kept for it


def write_cache(directory: Path, names: dict[str, str], base_url: str = NOWHERE) -> Path:
    """The name cache as anyone who can write it could leave it (no check on the way in)."""
    directory.mkdir()
    document = {"version": 2, "sites": {base_url: {"voices": names}}}
    (directory / "names.json").write_text(json.dumps(document))
    return directory


@pytest.fixture
def cache(tmp_path: Path, marker: Path) -> Path:
    """Every hostile name at once, next to a good voice, and hostile ids."""
    voices = {f"bad-voice-{n:04d}": name for n, name in enumerate(hostile_names(marker))}
    voices[GOOD_ID] = GOOD_NAME
    voices[OTHER_ID] = f"$(touch {marker})"
    voices[f"$(touch {marker})"] = "a hostile id"  # never offered: ids are checked
    voices[f"id`touch {marker}`"] = "another"
    return write_cache(tmp_path / "cache", voices)


def shell_env(tmp_path: Path, cache: Path) -> dict[str, str]:
    bin_dir = Path(sys.executable).parent
    return clean_env(
        PATH=f"{bin_dir}:/usr/bin:/bin",
        HOME=str(tmp_path),
        TERM="xterm",
        CARTESIA_CLI_CACHE_DIR=str(cache),
        # Completion never reaches a server: point it at none.
        CARTESIA_BASE_URL=NOWHERE,
    )


class Terminal:
    """An interactive shell on a pseudo-terminal, read with a deadline."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.main, child = pty.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 200, 0, 0))
        self.shell = subprocess.Popen(
            argv, stdin=child, stdout=child, stderr=child, env=env, cwd=cwd,
            start_new_session=True,
        )  # fmt: skip
        os.close(child)
        self.seen = b""

    def send(self, text: str) -> None:
        os.write(self.main, text.encode())

    def wait_for(self, wanted: bytes, timeout: float = 15.0) -> bytes:
        """Everything read until `wanted` appears after what was read before."""
        start = len(self.seen)
        deadline = time.monotonic() + timeout
        while wanted not in self.seen[start:] and time.monotonic() < deadline:
            ready, _, _ = select.select([self.main], [], [], 0.1)
            if ready:
                try:
                    self.seen += os.read(self.main, 65536)
                except OSError:
                    break
        return self.seen[start:]

    def settle(self) -> bytes:
        """What the shell printed until it had handled every key sent (it then prints a sum)."""
        self.send("\x15echo $((6*7))-done\n")
        shown = self.wait_for(b"42-done")
        assert b"42-done" in shown, self.seen[-500:]
        return shown

    def close(self) -> None:
        self.shell.kill()
        self.shell.wait(timeout=10)
        os.close(self.main)


@pytest.fixture
def terminal() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for each in opened:
        each.close()


def need(shell: str) -> str:
    found = shutil.which(shell)
    if found is None:
        pytest.skip(f"{shell} is not installed (CI installs it)")
    return found


def test_zsh_tab_runs_nothing_from_voice_names(
    tmp_path: Path, cache: Path, marker: Path, terminal: list[Terminal]
) -> None:
    zsh = Terminal([need("zsh"), "-f", "-i"], shell_env(tmp_path, cache), tmp_path)
    terminal.append(zsh)
    zsh.send(f"fpath=({COMPLETIONS} $fpath); autoload -U compinit; compinit -u -D\n")
    zsh.send("PS1='READY''> '\n")
    zsh.wait_for(b"READY> ")
    ran, broke = [], []
    # Names that could unbalance the script's quoting, one at a time first: one that
    # breaks the shell's parsing would hide what another one does.
    quoting = [name for name in hostile_names(marker) if set(name) & set("\\'\"")]
    for n, name in enumerate(quoting):
        alone = write_cache(tmp_path / f"cache-{n}", {GOOD_ID: GOOD_NAME, OTHER_ID: name})
        zsh.send(f"export CARTESIA_CLI_CACHE_DIR={alone}\n")
        zsh.send("cartesia-cli tts sse --voice \t")  # lists both voices with their names
        listed = zsh.wait_for(GOOD_NAME.encode(), timeout=5)
        zsh.settle()
        ran += [name] if marker.exists() else []
        broke += [] if GOOD_NAME.encode() in listed else [name]
        marker.unlink(missing_ok=True)
    assert (ran, broke) == ([], [])
    zsh.send(f"export CARTESIA_CLI_CACHE_DIR={cache}\n")
    zsh.send("cartesia-cli tts sse --voice \t")
    listing = zsh.wait_for(GOOD_NAME.encode())
    listing += zsh.settle()  # the whole menu, however the terminal's reads cut it
    zsh.send("cartesia-cli tts sse --voice good\t")
    completed = zsh.wait_for(GOOD_ID.encode())
    zsh.settle()
    assert not marker.exists(), "a voice name ran a command on TAB"
    assert GOOD_NAME.encode() in listing, zsh.seen[-800:]
    assert OTHER_ID.encode() in listing  # a hostile name leaves its (good) id offered
    assert b"\x1b]0;" not in listing and "\u202e".encode() not in listing
    assert f"--voice {GOOD_ID}".encode() in completed, zsh.seen[-800:]


def test_bash_tab_runs_nothing_from_voice_names(
    tmp_path: Path, cache: Path, marker: Path, terminal: list[Terminal]
) -> None:
    bash = Terminal(
        [need("bash"), "--norc", "--noprofile", "-i"], shell_env(tmp_path, cache), tmp_path
    )
    terminal.append(bash)
    bash.send(f"source {COMPLETIONS / 'cartesia-cli.bash'}; PS1='READY''> '\n")
    bash.wait_for(b"READY> ")
    bash.send("cartesia-cli tts sse --voice \t\t")  # the second TAB lists the candidates
    listing = bash.settle()
    bash.send(f"cartesia-cli tts sse --voice {GOOD_NAME[:3].lower()}\t")  # completes the name
    completed = bash.wait_for(f"{GOOD_NAME} ".encode())
    bash.settle()
    assert not marker.exists(), "a voice name ran a command on TAB"
    # A plain name is offered as itself; a hostile one by its (good) id.
    assert GOOD_NAME.encode() in listing and OTHER_ID.encode() in listing, bash.seen[-800:]
    # Hostile ids are never offered (a name shown beside an id has no `$` or backtick left).
    assert b"$(touch" not in listing and b"`touch" not in listing
    assert completed.endswith(f"{GOOD_NAME} ".encode()), bash.seen[-800:]


def test_fish_completion_runs_nothing_from_voice_names(
    tmp_path: Path, cache: Path, marker: Path
) -> None:
    # `complete -C` runs the same completion a TAB does, and prints the candidates.
    script = (
        f"source {COMPLETIONS / 'cartesia-cli.fish'}; complete -C 'cartesia-cli tts sse --voice '"
    )
    proc = subprocess.run(
        [need("fish"), "--no-config", "-c", script],
        capture_output=True, env=shell_env(tmp_path, cache), cwd=tmp_path, timeout=30,
    )  # fmt: skip
    assert not marker.exists(), "a voice name ran a command on TAB"
    lines = proc.stdout.decode().splitlines()
    assert f"{GOOD_NAME}\t{GOOD_ID}" in lines, proc.stdout[-800:]
    assert any(line.startswith(f"{OTHER_ID}\t") for line in lines)
    assert not any("touch" in line.split("\t")[0] for line in lines)
    assert all(ch.isprintable() or ch == "\t" for line in lines for ch in line), lines


# --- the pure part: what a name becomes before any shell sees it -----------------------------

UNSHOWN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


@given(st.text(max_size=300))
def test_a_shown_name_is_one_line_of_plain_text_without_shell_syntax(name: str) -> None:
    shown = shown_name(name)
    assert not set(shown) & set("\\$`'\"")
    assert all(unicodedata.category(c) not in UNSHOWN for c in shown)
    assert all(c == " " or not c.isspace() for c in shown)
    assert "  " not in shown and shown == shown.strip()
    assert len(shown) <= name_cache.NAME_LIMIT
    assert shown_name(shown) == shown  # stored names are shown as they are


@given(st.text(alphabet=st.characters(categories=["L", "N", "Mn"]) | st.sampled_from(" -.,()&!?")))
def test_an_ordinary_name_is_shown_as_it_is(name: str) -> None:
    plain = " ".join(name.split())[: name_cache.NAME_LIMIT].strip()
    assert shown_name(name) == plain


@settings(deadline=None)  # the first call imports what typer renders help with
@given(st.text(max_size=100))
def test_zsh_escaping_of_a_shown_name_leaves_no_live_backslash(name: str) -> None:
    """typer escapes `$`, backticks and `:` for zsh with a backslash, but not a backslash."""
    formatted = ZshComplete.format_completion(
        None,  # type: ignore[arg-type]  # it reads nothing from the instance
        CompletionItem("id", help=shown_name(name)),
    )
    without_colon_escapes = formatted.replace("\\\\:", "")
    assert "\\" not in without_colon_escapes


def test_names_in_the_cache_are_shown_safely(tmp_path: Path) -> None:
    path = write_cache(tmp_path / "c", {OTHER_ID: "O'Neil \\$(x)\u202e\n"}) / "names.json"
    kept = name_cache.names(name_cache.VOICES, NOWHERE, path)
    assert kept == {OTHER_ID: "O'Neil \\$(x)\u202e\n"}  # as sent: a lookup compares it exactly
    # Offered by its id, the name shown made plain; typed with an ASCII quote, still found.
    assert name_cache.offers("o'n", kept) == [Offer(OTHER_ID, "O\u2019Neil (x)")]


@given(st.text(max_size=60))
def test_the_quick_paths_show_and_fold_names_as_the_slow_ones(name: str) -> None:
    """shown_name and folded skip their loop over characters for most names (a Tab over
    tens of thousands of names): what they give is what the loop gives, for any text."""
    import unicodedata

    translated = name.translate(name_cache._SHELL_SYNTAX)
    unshown = name_cache._UNSHOWN
    spaced = "".join(" " if unicodedata.category(c) in unshown else c for c in translated)
    slow_shown = " ".join(spaced.split())[: name_cache.NAME_LIMIT].strip()
    assert name_cache.shown_name(name) == slow_shown
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    slow_folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    assert name_cache.folded(name) == slow_folded
