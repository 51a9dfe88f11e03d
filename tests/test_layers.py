"""The layering, enforced over every import in the package (function bodies included),
and the one door to stderr.

Each layer is exempt only from its own ban: typer in the CLI layer (cli.py,
options.py, commands/), rich in ui/, httpx and httpx-sse in api/. The job
(jobs/) sits between the commands and the layers it uses. The fake server
imports nothing of the rest. Lower layers never import upper ones.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cartesia_cli"
CLI_LAYER = ("cartesia_cli.cli", "cartesia_cli.options", "cartesia_cli.commands")

# Third-party packages, and the only modules (by prefix) that may import them.
OWNERS = {
    "typer": CLI_LAYER,
    "click": (),  # typer vendors it; nobody imports it directly
    "rich": ("cartesia_cli.ui",),
    "httpx": ("cartesia_cli.api",),
    "httpx_sse": ("cartesia_cli.api",),
    "httpcore": ("cartesia_cli.api",),
    # The WebSocket framing: the client in api/, and the fake's one socket module.
    "websockets": ("cartesia_cli.api", "cartesia_cli.mock.websocket"),
    # Process concerns: signal handlers are installed at the entry point only.
    "signal": ("cartesia_cli.launch", "cartesia_cli.process"),
    # Lines for people go through ui/console.py, not a logging or warnings handler.
    "logging": (),
    "warnings": (),
}
# The I/O-free core of the API package: no network, files, processes or threads.
IO_FREE = (
    "cartesia_cli.api.protocol",
    "cartesia_cli.api.events",
    "cartesia_cli.api.retry",
    # The fake's WebSocket conversation, apart from its socket.
    "cartesia_cli.mock.ws_messages",
    "cartesia_cli.mock.ws_session",
)
IO_MODULES = (
    "httpx", "httpx_sse", "httpcore", "socket", "ssl", "select", "selectors", "subprocess",
    "http", "urllib.request", "threading", "asyncio", "os", "io", "sys",
)  # fmt: skip
# The small shared modules everything may import: they import (almost) nothing of ours.
LEAVES = {
    "cartesia_cli.base_url": (),
    "cartesia_cli.endpoints": (),
    "cartesia_cli.errors": (),
    "cartesia_cli.formats": (),
    "cartesia_cli.redact": (),
}
# Modules that may import nothing of ours but what is listed: the leaves, and the two
# that run before the CLI is loaded (signals; where a stream will go).
MAY_IMPORT_ONLY = {
    **LEAVES,
    "cartesia_cli.process": (),
    "cartesia_cli.stream_target": (
        "cartesia_cli.base_url",
        "cartesia_cli.endpoints",
        "cartesia_cli.api.proxy",
        "cartesia_cli.settings.location",
    ),
}
UPPER = (*CLI_LAYER, "cartesia_cli.launch")
# A TTS job below typer: it may use every layer below, and only those.
JOBS = "cartesia_cli.jobs"
# The top: the entry points and the CLI layer, which may import every layer below.
TOP = (*UPPER, "cartesia_cli.__main__")
# Module prefix -> internal modules (by prefix) it must not import.
FORBIDDEN = {
    # The job does the commands' work, parsed already: no typer (OWNERS), no command.
    JOBS: UPPER,
    "cartesia_cli.api": (
        *UPPER,
        JOBS,
        "cartesia_cli.ui",
        "cartesia_cli.run",
        "cartesia_cli.output",
        "cartesia_cli.settings",
    ),
    "cartesia_cli.settings": (
        *UPPER,
        JOBS,
        "cartesia_cli.ui",
        "cartesia_cli.run",
        "cartesia_cli.api",
        "cartesia_cli.output",
    ),
    "cartesia_cli.output": (
        *UPPER,
        JOBS,
        "cartesia_cli.ui",
        "cartesia_cli.run",
        "cartesia_cli.api",
        "cartesia_cli.settings",
    ),
    # The run knows nothing of terminals, signals or where settings come from.
    "cartesia_cli.run": (*UPPER, JOBS, "cartesia_cli.ui", "cartesia_cli.settings", "signal"),
    "cartesia_cli.ui": (
        *UPPER,
        JOBS,
        "cartesia_cli.api",
        "cartesia_cli.settings",
        "cartesia_cli.input",
    ),
    # Where text comes from: read and cut, knowing nothing of requests, output or people.
    "cartesia_cli.input": (
        *UPPER,
        JOBS,
        "cartesia_cli.ui",
        "cartesia_cli.run",
        "cartesia_cli.api",
        "cartesia_cli.output",
        "cartesia_cli.settings",
    ),
}
STDERR_WRITER = "cartesia_cli.ui.console"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    """Every module an import statement anywhere in `tree` names (relative ones resolved)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: -node.level]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer_violations(module: str, source: str) -> list[str]:
    """What `module` (with this source) imports that its layer must not."""
    tree = ast.parse(source)
    problems = []
    for line, name in imported(tree, module):
        top = name.split(".")[0]
        # mock/__main__.py is `python -m cartesia_cli.mock`: it runs the CLI's mock command.
        if module.startswith("cartesia_cli.mock") and module != "cartesia_cli.mock.__main__":
            if (top == "cartesia_cli" and not _within(name, ("cartesia_cli.mock",))) or (
                top in OWNERS and not _within(module, OWNERS[top])
            ):
                problems.append(f"{module}:{line} the fake server imports {name}")
            if module in IO_FREE and _within(name, IO_MODULES):
                problems.append(f"{module}:{line} is I/O-free but imports {name}")
            continue
        if top in OWNERS and not _within(module, OWNERS[top]):
            problems.append(f"{module}:{line} imports {top}, which belongs to {OWNERS[top]}")
        if module in IO_FREE and _within(name, IO_MODULES):
            problems.append(f"{module}:{line} is I/O-free but imports {name}")
        if module in MAY_IMPORT_ONLY and top == "cartesia_cli":
            allowed = ("cartesia_cli.__version__", *MAY_IMPORT_ONLY[module])
            package_of_allowed = any(a.startswith(name + ".") for a in allowed)  # `from a import b`
            if name != "cartesia_cli" and not package_of_allowed and not _within(name, allowed):
                problems.append(f"{module}:{line} may import only {allowed}, not {name}")
        for layer, banned in FORBIDDEN.items():
            if _within(module, (layer,)) and _within(name, banned):
                problems.append(f"{module}:{line} ({layer}) imports {name}")
    return problems


def stderr_writes(source: str) -> list[int]:
    """Lines that write to stderr: sys.stderr, os.write(2, …), Console(stderr=True), err=True."""
    nodes = ast.walk(ast.parse(source))
    return [getattr(node, "lineno", 0) for node in nodes if _writes_stderr(node)]


def _writes_stderr(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return _is_sys_stderr(node)
    if isinstance(node, ast.keyword):  # reported at its value's line
        flagged = node.arg in ("stderr", "err")
        return flagged and isinstance(node.value, ast.Constant) and node.value.value is True
    if isinstance(node, ast.Call):
        return _is_os_write_2(node) or _prints_a_traceback(node)
    if isinstance(node, ast.ImportFrom):
        return _imports_sys_stderr(node)
    return False


def _is_sys_stderr(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr in ("stderr", "__stderr__")
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


def _imports_sys_stderr(node: ast.ImportFrom) -> bool:
    return node.module == "sys" and any(a.name in ("stderr", "__stderr__") for a in node.names)


def _prints_a_traceback(call: ast.Call) -> bool:
    printers = ("print_exc", "print_exception", "print_stack", "print_tb", "print_last")
    return isinstance(call.func, ast.Attribute) and call.func.attr in printers


def _is_os_write_2(call: ast.Call) -> bool:
    func = call.func
    is_write = isinstance(func, ast.Attribute) and func.attr == "write"
    first = call.args[0] if call.args else None
    return is_write and isinstance(first, ast.Constant) and first.value == 2


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_each_module_keeps_to_its_layer(path: Path) -> None:
    assert layer_violations(module_name(path), path.read_text()) == []


def _rule_of(module: str) -> str | None:
    """The layering rule that covers `module`, by name; None if no rule does."""
    if module == "cartesia_cli" or _within(module, TOP):
        return "top"
    if _within(module, ("cartesia_cli.mock",)):
        return "the fake server"
    if module in MAY_IMPORT_ONLY:
        return "may import only"
    return next((layer for layer in FORBIDDEN if _within(module, (layer,))), None)


def test_every_module_is_under_a_layering_rule() -> None:
    uncovered = [module_name(p) for p in SOURCES if _rule_of(module_name(p)) is None]
    assert uncovered == []


def _import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports, anywhere in its source (functions too).

    `from a import b` is an edge to `a.b` when that is a module, else to `a`.
    """
    modules = {module_name(path): path for path in SOURCES}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        by_statement: dict[int, list[str]] = {}
        for line, name in imported(ast.parse(path.read_text()), module):
            by_statement.setdefault(line, []).append(name)
        targets = set()
        for names in by_statement.values():
            precise = [n for n in names if not any(o.startswith(n + ".") for o in names)]
            for name in precise:
                while name and name not in modules:  # `a.b.c` where c is a name in a.b
                    name = name.rpartition(".")[0]
                if name and name not in (module, "cartesia_cli"):
                    targets.add(name)
        graph[module] = targets
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            if group:
                found.append(sorted([node, *group]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert _circles(_import_graph()) == []


def test_a_circle_is_seen() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_only_the_console_writes_to_stderr() -> None:
    writers = {
        module_name(path): stderr_writes(path.read_text())
        for path in SOURCES
        if stderr_writes(path.read_text())
    }
    # typer's hidden prompt for `config set api_key` owns the terminal while it hides input.
    assert writers.pop("cartesia_cli.commands.config") == [_prompt_line()]
    # process.py only puts a stream object back on a descriptor it reopened; it writes nothing.
    first, last = _function_lines(PACKAGE / "process.py", "_replace_missing_streams")
    assert all(first <= line <= last for line in writers.pop("cartesia_cli.process"))
    assert list(writers) == [STDERR_WRITER]


def _function_lines(path: Path, name: str) -> tuple[int, int]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node.lineno, node.end_lineno or node.lineno
    raise AssertionError(f"no function {name} in {path}")


def _prompt_line() -> int:
    source = (PACKAGE / "commands" / "config.py").read_text().splitlines()
    return next(i for i, line in enumerate(source, 1) if "typer.prompt(" in line)


@pytest.mark.parametrize(
    ("module", "path", "line"),
    [
        ("cartesia_cli.commands.tts", "commands/tts.py", "    import httpx\n"),
        ("cartesia_cli.api.client", "api/client.py", "    import typer\n"),
        ("cartesia_cli.run.pipeline", "run/pipeline.py", "    from rich.console import Console\n"),
        (
            "cartesia_cli.api.protocol",
            "api/protocol.py",
            "    from cartesia_cli.ui import console\n",
        ),
        ("cartesia_cli.mock.server", "mock/server.py", "    from cartesia_cli import errors\n"),
        ("cartesia_cli.mock.server", "mock/server.py", "    import websockets\n"),
        ("cartesia_cli.mock.ws_session", "mock/ws_session.py", "    import socket\n"),
        ("cartesia_cli.run.pipeline", "run/pipeline.py", "    import signal\n"),
        ("cartesia_cli.commands.tts", "commands/tts.py", "    import signal\n"),
        ("cartesia_cli.api.protocol", "api/protocol.py", "    import socket\n"),
        ("cartesia_cli.api.events", "api/events.py", "    from httpx import Response\n"),
        ("cartesia_cli.api.retry", "api/retry.py", "    import os\n"),
        (
            "cartesia_cli.input.transcript",
            "input/transcript.py",
            "    from cartesia_cli.ui import console\n",
        ),
        (
            "cartesia_cli.input.pieces",
            "input/pieces.py",
            "    from cartesia_cli.api import ws_client\n",
        ),
        ("cartesia_cli.formats", "formats.py", "    from cartesia_cli import cli\n"),
        ("cartesia_cli.errors", "errors.py", "    from cartesia_cli.settings import spec\n"),
        ("cartesia_cli.output.sinks", "output/sinks.py", "    import logging\n"),
        ("cartesia_cli.jobs.plan", "jobs/plan.py", "    import typer\n"),
        ("cartesia_cli.jobs.plan", "jobs/plan.py", "    from cartesia_cli import options\n"),
        ("cartesia_cli.jobs.speak", "jobs/speak.py", "    from cartesia_cli.commands import tts\n"),
        ("cartesia_cli.endpoints", "endpoints.py", "    from cartesia_cli import formats\n"),
        ("cartesia_cli.api.client", "api/client.py", "    from cartesia_cli.jobs import plan\n"),
    ],
)
def test_a_banned_import_inside_a_function_fails(module: str, path: str, line: str) -> None:
    source = (PACKAGE / path).read_text() + f"\n\ndef _sneaky() -> None:\n{line}"
    assert layer_violations(module, (PACKAGE / path).read_text()) == []
    assert layer_violations(module, source) != []


@pytest.mark.parametrize(
    "snippet",
    [
        "import sys\nsys.stderr.write('x')\n",
        "import os\nos.write(2, b'x')\n",
        "from rich.console import Console\nConsole(stderr=True)\n",
        "import sys\nprint('x', file=sys.stderr)\n",
        "from sys import stderr\n",
        "import traceback\ntraceback.print_exc()\n",
    ],
)
def test_every_way_to_write_to_stderr_is_seen(snippet: str) -> None:
    assert stderr_writes(snippet) != []
