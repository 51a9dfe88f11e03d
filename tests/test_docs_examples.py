"""Every shell example in the README and docs/ runs, in order, in a fresh folder, against the mock.

A ```sh block is a promise that the lines in it work when pasted: each file's blocks run one
after another in one new folder (so an example may use what an earlier one made), as
`bash -eu -o pipefail`, with the installed `cartesia-cli` on PATH and `CARTESIA_BASE_URL` and
`CARTESIA_API_KEY` pointing at a fresh fake. Output shown to the reader lives in ```text blocks,
which are not run. The README's two set-up commands are tests/test_readme.py's.

The folder stands for a checkout (the completion scripts are in it). ffplay plays through
SDL's dummy audio driver (no sound card here); `llm` stands for any program
that writes text slowly, as an LLM's command-line client does.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cartesia_cli.mock import FakeCartesia
from tests.conftest import API_KEY, clean_env, stand_in

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.S | re.M)
BLOCK_SECONDS = 120

# Programs the examples name that are not ours: tiny stand-ins, so that the examples run as written.
STAND_INS = {
    "llm": "#!/bin/sh\nprintf 'Once upon a time, a fox lived in a wood. '\nsleep 0.2\n"
    "printf 'One day it found a key. The end.\\n'\n",
}


def shell_blocks(document: Path) -> list[str]:
    text = document.read_text()
    if document.name == "README.md":  # the set-up commands are tests/test_readme.py's
        before, _, after = text.partition("## Set up")
        text = before + after.split("\n## ", 1)[1]
    return [match.group(1) for match in BLOCK.finditer(text)]


def test_every_document_with_examples_is_found() -> None:
    names = {document.name for document in DOCUMENTS if shell_blocks(document)}
    assert {"README.md", "usage.md", "mock.md"} <= names


def _environment(folder: Path, fake: FakeCartesia) -> dict[str, str]:
    stand_ins = folder.parent / "bin"
    for name, script in STAND_INS.items():
        stand_in(stand_ins, name, script)
    home = folder.parent / "home"
    home.mkdir(exist_ok=True)
    path = os.pathsep.join([str(Path(sys.executable).parent), str(stand_ins), os.defpath])
    return clean_env(
        PATH=f"{path}{os.pathsep}{os.environ.get('PATH', '')}",
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_RUNTIME_DIR=str(home / "run"),
        CARTESIA_CLI_CONFIG_DIR=str(home / "config"),
        CARTESIA_CLI_CACHE_DIR=str(home / "cache"),
        CARTESIA_BASE_URL=fake.url,
        CARTESIA_API_KEY=API_KEY,
        SDL_AUDIODRIVER="dummy",
    )


def _run_block(block: str, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    with subprocess.Popen(
        ["bash", "-eu", "-o", "pipefail", "-c", block],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a server an example starts with `&` goes with the block
    ) as proc:
        try:
            out, err = proc.communicate(timeout=BLOCK_SECONDS)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize(
    "document",
    [d for d in DOCUMENTS if shell_blocks(d)],
    ids=lambda d: d.name,
)
def test_the_examples_run_in_order(document: Path, tmp_path: Path) -> None:
    for tool in ("ffplay", "ffmpeg", "jq"):
        if shutil.which(tool) is None:
            pytest.skip(f"the examples use {tool}")
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "completions").symlink_to(ROOT / "completions")  # the folder stands for a checkout
    with FakeCartesia(api_key=None) as fake:  # any key, as `cartesia-cli mock` takes
        env = _environment(folder, fake)
        for number, block in enumerate(shell_blocks(document), start=1):
            done = _run_block(block, folder, env)
            assert done.returncode == 0, (
                f"{document.name}, shell block {number} exited {done.returncode}:\n{block}\n"
                f"--- stderr ---\n{done.stderr[-3000:]}"
            )
            assert API_KEY not in done.stdout + done.stderr
