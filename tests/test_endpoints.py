"""The endpoint table is the one place that names a TTS command or tells endpoints apart.

Everything else branches on a row's fields (its transport, what its stream
carries, whether it has timestamps), so a command is added or changed in one place.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cartesia_cli import endpoints
from cartesia_cli.endpoints import ENDPOINTS, TtsEndpoint
from cartesia_cli.formats import SUFFIXES, Container

PACKAGE = Path(__file__).resolve().parent.parent / "cartesia_cli"
TABLE = "endpoints.py"
# The fake server is a server of its own; api/ is the wire, where each path has its parser.
APART = ("mock", "api")
PATH_NAMES = {"SSE_PATH", "BYTES_PATH", "WS_PATH"}


def named_commands(tree: ast.AST) -> list[int]:
    """Lines that spell a TTS command of more than one word: "tts sse", ("tts", "sse")."""
    names = {e.command for e in ENDPOINTS if len(e.words) > 1}
    words = {e.words for e in ENDPOINTS if len(e.words) > 1}
    nodes = [node for node in ast.walk(tree) if isinstance(node, ast.expr)]
    return [node.lineno for node in nodes if _spells(node, names, words)]


def _spells(node: ast.AST, names: set[str], words: set[tuple[str, ...]]) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in names
    return isinstance(node, ast.Tuple | ast.List) and _constants(node.elts) in words


def _constants(nodes: list[ast.expr]) -> tuple[object, ...] | None:
    if not all(isinstance(node, ast.Constant) for node in nodes):
        return None
    return tuple(node.value for node in nodes if isinstance(node, ast.Constant))


def path_branches(tree: ast.AST) -> list[int]:
    """Lines that compare with an endpoint's path (`path == WS_PATH`) or look one up by name."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_name(operand) in PATH_NAMES for operand in operands):
                found.append(node.lineno)
    return found


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def outside_the_table(package: Path) -> dict[str, list[int]]:
    """Each module (but the table, the fake server, api/) naming or telling apart a command."""
    found: dict[str, list[int]] = {}
    for path in sorted(package.rglob("*.py")):
        where = path.relative_to(package)
        if where == Path(TABLE) or where.parts[0] in APART:
            continue
        tree = ast.parse(path.read_text())
        lines = named_commands(tree) + path_branches(tree)
        if lines:
            found[str(where)] = sorted(lines)
    return found


def test_no_module_but_the_table_names_a_tts_command_or_branches_on_its_path() -> None:
    assert outside_the_table(PACKAGE) == {}


@pytest.mark.parametrize(
    "source",
    [
        'JOB_COMMANDS = ("tts sse", "tts bytes")\n',
        'STREAMING = {("tts", "sse"): True}\n',
        "if path == WS_PATH:\n    pass\n",
        "if PATHS[job.command] != protocol.BYTES_PATH:\n    pass\n",
    ],
)
def test_each_way_of_naming_a_command_is_seen(source: str) -> None:
    tree = ast.parse(source)
    assert named_commands(tree) + path_branches(tree) != []


@pytest.mark.parametrize("tts", ENDPOINTS, ids=lambda e: e.command)
def test_each_row_is_found_by_its_words_and_its_name(tts: TtsEndpoint) -> None:
    assert endpoints.in_argv([*tts.words, "Hello", "-o", "x.pcm"]) is tts
    assert endpoints.named(tts.command) is tts
    assert tts.file_prefix == "_".join(tts.words)  # tts_sse_…: the names files have had


@pytest.mark.parametrize("tts", ENDPOINTS, ids=lambda e: e.command)
def test_each_rows_containers_are_containers(tts: TtsEndpoint) -> None:
    sent = [Container(name) for name in tts.containers]
    assert Container.RAW in sent  # raw PCM: what any other container is made from
    assert Container(tts.default_container) in SUFFIXES.values()


def test_words_that_are_no_tts_command_find_no_row() -> None:
    for args in ([], ["tts"], ["voices", "list"], ["tts", "ssex"], ["--", "say"]):
        assert endpoints.in_argv(args) is None
    assert endpoints.named("tts") is None
