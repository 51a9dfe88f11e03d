"""What each path imports: the fake server never, httpx only when a request is made."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY, clean_env

# Loaded with every command: the job's record (options.py builds it) and where the config
# file is (config.py). The rest of cartesia_cli/jobs/ only by a run that does a job.
ALWAYS = ("cartesia_cli.jobs.job", "cartesia_cli.jobs.context")


def job_work(modules: list[str]) -> list[str]:
    """The modules of cartesia_cli/jobs/ that do a job's work."""
    return [m for m in modules if m.startswith("cartesia_cli.jobs.") and m not in ALWAYS]


PROBE = """
import json, os, sys
try:
    if os.environ.get("IMPORT_ENTRY") == "launch":  # the console script's way in, start-up too
        from cartesia_cli.launch import main
        sys.argv[0] = "cartesia-cli"
        main()
    from cartesia_cli.cli import run
    code = run(sys.argv[1:])
except SystemExit as exit:  # shell completion exits from inside typer; launch's main too
    code = exit.code or 0
names = sorted({m.split(".")[0] if not m.startswith("cartesia_cli") else m for m in sys.modules})
with open(os.environ["IMPORT_REPORT"], "w") as report:
    json.dump({"code": code, "modules": names}, report)
"""


def modules_after(args: list[str], tmp_path: Path, **env: str) -> tuple[int, list[str]]:
    """Run the CLI in a fresh interpreter and report the modules it had imported."""
    report = tmp_path / "imports.json"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=clean_env(IMPORT_REPORT=str(report), **env),
        cwd=tmp_path,
        timeout=30,
        check=True,
    )
    assert API_KEY.encode() not in proc.stdout + proc.stderr
    data = json.loads(report.read_text())
    return data["code"], data["modules"]


def test_streaming_never_imports_the_fake_server(fake: FakeCartesia, tmp_path: Path) -> None:
    code, modules = modules_after(
        ["tts", "sse", "Hi", "-o", "out.pcm"],
        tmp_path,
        CARTESIA_API_KEY=API_KEY,
        CARTESIA_BASE_URL=fake.url,
    )
    assert code == 0
    assert "httpx" in modules
    assert not [m for m in modules if m.startswith("cartesia_cli.mock")]
    assert "rich" not in modules  # no terminal: no display, no rich


def test_a_cache_hit_imports_no_http_stack_and_connects_nowhere(
    fake: FakeCartesia, tmp_path: Path
) -> None:
    """A hit sends nothing, so it loads neither httpx (nor ssl) nor the start-up connection:
    run through the entry point, where that connection would otherwise be made."""
    env = {
        "CARTESIA_API_KEY": API_KEY,
        "CARTESIA_BASE_URL": fake.url,
        "CARTESIA_CLI_CACHE_DIR": str(tmp_path / "cache"),
        "CARTESIA_CLI_CONFIG_DIR": str(tmp_path / "config"),
        "IMPORT_ENTRY": "launch",
    }
    code, missed = modules_after(["tts", "sse", "Hi", "--cache", "-o", "a.pcm"], tmp_path, **env)
    assert code == 0
    assert {"httpx", "ssl", "cartesia_cli.api.preconnect"} <= set(missed)  # the probe sees them
    code, hit = modules_after(["tts", "sse", "Hi", "--cache", "-o", "b.pcm"], tmp_path, **env)
    assert code == 0
    assert [r.path for r in fake.requests] == ["/tts/sse"]  # the miss's only
    assert (tmp_path / "b.pcm").read_bytes() == (tmp_path / "a.pcm").read_bytes()
    for heavy in ("httpx", "httpcore", "ssl", "socket", "cartesia_cli.api.contract"):
        assert heavy not in hit
    assert "cartesia_cli.api.preconnect" not in hit


def test_help_imports_no_http_stack(tmp_path: Path) -> None:
    code, modules = modules_after(["tts", "sse", "--help"], tmp_path)
    assert code == 0
    assert "httpx" not in modules
    assert "httpx_sse" not in modules
    assert "cartesia_cli.api.client" not in modules


def test_usage_errors_import_no_http_stack(tmp_path: Path) -> None:
    code, modules = modules_after(["tts", "sse", "Hi", "-e", "wav"], tmp_path)
    assert code == 2
    assert "httpx" not in modules


def test_report_is_json(tmp_path: Path) -> None:
    # Guards the probe itself: it must see what a run imported, and tell runs apart,
    # or the tests above would pass on an empty list.
    code, version_modules = modules_after(["--version"], tmp_path)
    assert code == 0
    assert {"cartesia_cli.cli", "cartesia_cli.commands.tts", "typer"} <= set(version_modules)
    assert job_work(version_modules) == []
    code, usage_modules = modules_after(["tts", "sse", "Hi", "-e", "wav"], tmp_path)
    assert code == 2
    assert "cartesia_cli.jobs.plan" in usage_modules


def completion_env(shell: str, words: str) -> dict[str, str]:
    env = {"_CARTESIA_CLI_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": words}
    if shell == "bash":
        env.update(COMP_WORDS=words, COMP_CWORD=str(len(words.split(" ")) - 1))
    if shell == "fish":
        env["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    return env


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize("words", ["cartesia-cli tts sse --encoding ", "cartesia-cli tts sse --"])
def test_completion_imports_neither_http_nor_rich(tmp_path: Path, shell: str, words: str) -> None:
    # Completing option names makes zsh/fish show their help texts, which typer
    # would import rich to clean up.
    code, modules = modules_after([], tmp_path, **completion_env(shell, words))
    assert code == 0
    assert "typer" in modules  # the probe works: it saw the completion run
    heavy_modules = ("httpx", "httpx_sse", "rich", "cartesia_cli.mock", "cartesia_cli.api")
    assert job_work(modules) == []
    for heavy in (*heavy_modules, "cartesia_cli.settings.resolve", "cartesia_cli.run.pipeline"):
        assert heavy not in modules


def test_help_imports_no_rich(tmp_path: Path) -> None:
    _, modules = modules_after(["--help"], tmp_path)
    assert "rich" not in modules
