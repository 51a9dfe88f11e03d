"""The README's commands are the ones CI runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", setup)


def test_readme_has_exactly_two_setup_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = readme_commands()[1]
    assert "pytest" in test_command
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


def test_the_readme_is_a_front_door() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 250, "keep the README to what a newcomer needs; the rest goes in docs/"
    for page in ("usage", "reference", "behaviour", "mock", "performance", "architecture"):
        assert f"(docs/{page}.md)" in "\n".join(lines)
        assert (ROOT / "docs" / f"{page}.md").is_file()
    assert (ROOT / "CHANGELOG.md").is_file()


def test_the_module_table_names_every_module_of_the_tree() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    table = text.split("| module | job |", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"`([\w/]+(?:\.py)?)`", table))
    package = ROOT / "cartesia_cli"
    for path in sorted(package.iterdir()):
        if path.name.startswith("_") or path.name == "__pycache__":
            continue
        entry = f"{path.name}/" if path.is_dir() else path.name
        mentioned = entry in named or any(name.startswith(entry) for name in named)
        assert mentioned, f"docs/architecture.md's module table does not name {entry}"
    for folder in ("settings", "api", "output", "ui", "run", "commands", "jobs"):
        for module in sorted((package / folder).glob("[!_]*.py")):
            mentioned = module.name in named or f"{folder}/{module.name}" in named
            where = f"{folder}/{module.name}"
            assert mentioned, f"docs/architecture.md's module table does not name {where}"


# Names of documents that live outside the repository, spelled in pieces so that this
# file does not cite them itself.
OUTSIDE_DOCUMENTS = ("PRODUCT" + ".md", "cartesia" + "-api", ".." + "/shared")


def test_no_file_outside_the_repository_is_cited() -> None:
    sources = [*(ROOT / "cartesia_cli").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
    documents = [ROOT / "README.md", ROOT / "CHANGELOG.md", *(ROOT / "docs").glob("*.md")]
    for path in [*sources, *(ROOT / "benchmarks").rglob("*.py"), *documents]:
        text = path.read_text()
        for name in OUTSIDE_DOCUMENTS:
            assert name not in text, f"{path} cites {name}, which a clone does not have"


def test_the_quick_start_runs_offline_and_leaves_the_audio(tmp_path: Path) -> None:
    first = readme_commands()[0]
    install = "python3 -m venv .venv && .venv/bin/pip install . && "
    assert first.startswith(install)
    bin_dir = str(Path(sys.executable).parent)  # this venv stands for the fresh one
    command = first[len(install) :].replace(".venv/bin", bin_dir)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}  # no key, no base URL
    proc = subprocess.run(
        command, shell=True, cwd=tmp_path, env=env, capture_output=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert len(list(tmp_path.glob("tts_sse_*.pcm"))) == 1
