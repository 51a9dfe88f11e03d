"""Shell completion: the shipped scripts match the app, and values complete from the app."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cartesia_cli.formats import KNOWN_MODELS

from .conftest import clean_env, run_entry_point

COMPLETIONS = Path(__file__).resolve().parent.parent / "completions"


def complete(tmp_path: Path, **env: str) -> str:
    result = run_entry_point((), env=clean_env(**env), cwd=tmp_path)
    assert result.code == 0, result.stderr
    return result.stdout.decode()


@pytest.mark.parametrize(
    ("shell", "filename"),
    [("bash", "cartesia-cli.bash"), ("zsh", "_cartesia-cli"), ("fish", "cartesia-cli.fish")],
)
def test_shipped_scripts_match_the_app(tmp_path: Path, shell: str, filename: str) -> None:
    generated = complete(tmp_path, _CARTESIA_CLI_COMPLETE=f"source_{shell}")
    shipped = (COMPLETIONS / filename).read_text()
    assert shipped.strip() == generated.strip(), (
        f"completions/{filename} is stale: run completions/regenerate.sh"
    )


def bash_candidates(tmp_path: Path, line: str) -> list[str]:
    words = line.split(" ")
    out = complete(
        tmp_path,
        _CARTESIA_CLI_COMPLETE="complete_bash",
        COMP_WORDS=line,
        COMP_CWORD=str(len(words) - 1),
    )
    return out.split()


def test_encoding_completes_the_four_encodings(tmp_path: Path) -> None:
    assert bash_candidates(tmp_path, "cartesia-cli tts sse --encoding ") == [
        "pcm_f32le",
        "pcm_s16le",
        "pcm_mulaw",
        "pcm_alaw",
    ]
    assert bash_candidates(tmp_path, "cartesia-cli tts sse -e pcm_m") == ["pcm_mulaw"]


def test_sample_rate_and_model_complete_known_values(tmp_path: Path) -> None:
    assert bash_candidates(tmp_path, "cartesia-cli tts sse --sample-rate ") == [
        "8000",
        "16000",
        "22050",
        "24000",
        "44100",
        "48000",
    ]
    assert bash_candidates(tmp_path, "cartesia-cli tts sse --model ") == list(KNOWN_MODELS)


def test_zsh_and_fish_complete_values_too(tmp_path: Path) -> None:
    zsh = complete(
        tmp_path,
        _CARTESIA_CLI_COMPLETE="complete_zsh",
        _TYPER_COMPLETE_ARGS="cartesia-cli tts sse --encoding ",
    )
    assert all(f'"{e}"' in zsh for e in ("pcm_f32le", "pcm_s16le", "pcm_mulaw", "pcm_alaw"))
    fish = complete(
        tmp_path,
        _CARTESIA_CLI_COMPLETE="complete_fish",
        _TYPER_COMPLETE_FISH_ACTION="get-args",
        _TYPER_COMPLETE_ARGS="cartesia-cli tts sse -e ",
    )
    assert fish.split() == ["pcm_f32le", "pcm_s16le", "pcm_mulaw", "pcm_alaw"]


def test_subcommands_complete(tmp_path: Path) -> None:
    assert "sse" in bash_candidates(tmp_path, "cartesia-cli tts ")


def test_controls_and_config_keys_complete(tmp_path: Path) -> None:
    assert bash_candidates(tmp_path, "cartesia-cli tts bytes --emotion ex") == ["excited"]
    assert bash_candidates(tmp_path, "cartesia-cli tts sse --language d") == ["de", "da"]
    assert bash_candidates(tmp_path, "cartesia-cli tts bytes --container ") == [
        "raw",
        "wav",
        "mp3",
        "flac",
        "ogg",
    ]
    assert bash_candidates(tmp_path, "cartesia-cli config set sp") == ["speed"]


def test_zsh_completes_on_the_first_tab(tmp_path: Path) -> None:
    """A new interactive zsh, the script in $fpath as docs/usage.md says, one TAB."""
    zsh = shutil.which("zsh")
    if zsh is None:
        pytest.skip("zsh is not installed (CI installs it)")
    bin_dir = Path(sys.executable).parent
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm"}
    main, child = pty.openpty()
    with subprocess.Popen(
        [zsh, "-f", "-i"], stdin=child, stdout=child, stderr=child, env=env,
        start_new_session=True,
    ) as shell:  # fmt: skip
        os.close(child)
        try:
            os.write(
                main,
                f"fpath=({COMPLETIONS} $fpath); autoload -U compinit; compinit -u -D\n".encode(),
            )
            os.write(main, b"PS1='READY> '\n")
            assert b"READY> " in _read_until(main, b"READY> ")
            os.write(main, b"cartesia-cli tts s\t")  # the first TAB of this shell
            screen = _read_until(main, b"sse")
        finally:
            shell.kill()
            os.close(main)
    assert b"cartesia-cli tts sse" in screen, screen[-300:]


def _read_until(fd: int, wanted: bytes, timeout: float = 15.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen


def test_config_set_completes_the_value_as_the_keys_flag_does(tmp_path: Path) -> None:
    """`config set model son<Tab>` offers models; `config set voice kat<Tab>` a voice's name."""
    from cartesia_cli.settings import name_cache

    cache = tmp_path / "cache"
    name_cache.remember(
        name_cache.VOICES, "https://api.cartesia.ai", [("f786b574-daa5-4673-aa0c-cbe3e8534c02",
        "Katie")], complete=True, path=cache / name_cache.FILE_NAME,
    )  # fmt: skip
    env = {"CARTESIA_CLI_CACHE_DIR": str(cache), "CARTESIA_CLI_CONFIG_DIR": str(tmp_path)}
    words = "cartesia-cli config set voice kat"
    out = complete(
        tmp_path, _CARTESIA_CLI_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD="4", **env
    )
    assert out.split() == ["Katie"]
    models = bash_candidates(tmp_path, "cartesia-cli config set model sonic-3.6")
    assert models and all(model.startswith("sonic-3.6") for model in models)
    assert bash_candidates(tmp_path, "cartesia-cli config set nosuch x") == []
