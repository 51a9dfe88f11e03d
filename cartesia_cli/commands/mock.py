"""`cartesia-cli mock`: the fake Cartesia API as a command, for trials and offline CI.

The server is `cartesia_cli/mock/` (standard library only), imported only when
this command runs. Every line for people goes through the console; stdout
carries the base URL and nothing else, and with `-- COMMAND` not even that
(the command's own stdout may be audio).
"""

# No `from __future__ import annotations` here: typer evaluates the annotations.

import os
import subprocess
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Annotated, Optional

import typer

from cartesia_cli.errors import UsageError
from cartesia_cli.ui.console import console

MOCK_KEY = "sk-mock-offline-0000"  # what `-- COMMAND` gets when no key is set anywhere
# The mock's own default (cartesia_cli.mock.server.READ_TIMEOUT_SECONDS), repeated here so
# that --help does not import the server.
READ_TIMEOUT_SECONDS = 10.0
SCENARIO_HELP = (
    "What every request gets unless it asks for its own (URL prefix /scenario/NAME, or the "
    "Cartesia-Mock-Scenario header): ok, a stream fault (error-mid-stream, "
    "error-mid-stream-legacy, error-before-audio, done-without-audio, truncated, cut, reset, "
    "malformed-json, bad-base64, stall, wrong-content-type, drop), a WebSocket-only fault "
    "(close-1011, error-no-context), or http-NNN / http-NNN-text (on the WebSocket: the "
    "upgrade refused); a comma-separated list is one item per request, the last repeating."
)


# The options, one alias each (as options.py declares the shared ones): the signature below
# then reads as the list of what the command takes.
CommandArgument = Annotated[
    Optional[list[str]],
    typer.Argument(
        metavar="[-- COMMAND [ARGS]...]",
        help="Run COMMAND against the mock (CARTESIA_BASE_URL and CARTESIA_API_KEY set), "
        "then stop it and exit with COMMAND's status.",
        show_default=False,
    ),
]
HostOption = Annotated[str, typer.Option("--host", metavar="HOST", help="Address to listen on.")]
PortOption = Annotated[
    int, typer.Option("--port", metavar="PORT", min=0, max=65535, help="0 picks a free one.")
]
KeyOption = Annotated[
    Optional[str],
    typer.Option("--api-key", metavar="KEY", help="Accept only this key.", show_default="any key"),
]
ScenarioOption = Annotated[
    str, typer.Option("--scenario", metavar="NAME[,NAME...]", help=SCENARIO_HELP)
]
PaceOption = Annotated[
    float,
    typer.Option(
        "--pace",
        metavar="X",
        min=0.0,
        help=(
            "Seconds of wall time per second of audio: 1 real time, 0.5 twice as fast, "
            "4 four times slower, 0 all at once."
        ),
    ),
]
LatencyOption = Annotated[
    float,
    typer.Option("--latency-ms", metavar="MS", min=0.0, help="Wait before each response starts."),
]
LIMIT_HELP = "Refuse a TTS request beyond N in flight with HTTP 429, as a plan's limit does."
LimitOption = Annotated[
    Optional[int],
    typer.Option("--concurrency-limit", metavar="N", min=1, help=LIMIT_HELP, show_default="none"),
]
CERT_HELP = "Serve https with this certificate."
CertOption = Annotated[Optional[str], typer.Option("--tls-cert", metavar="FILE", help=CERT_HELP)]
CERT_KEY_HELP = "The certificate's private key (PEM)."
CertKeyOption = Annotated[
    Optional[str], typer.Option("--tls-key", metavar="FILE", help=CERT_KEY_HELP)
]
READ_HELP = "Drop a connection that has not sent its whole request within this time."
ReadTimeoutOption = Annotated[
    float, typer.Option("--read-timeout", metavar="SECONDS", min=0.001, help=READ_HELP)
]


def mock(
    ctx: typer.Context,
    command: CommandArgument = None,
    host: HostOption = "127.0.0.1",
    port: PortOption = 0,
    api_key: KeyOption = None,
    scenario: ScenarioOption = "ok",
    pace: PaceOption = 0.0,
    latency_ms: LatencyOption = 0.0,
    concurrency_limit: LimitOption = None,
    tls_cert: CertOption = None,
    tls_key: CertKeyOption = None,
    read_timeout: ReadTimeoutOption = READ_TIMEOUT_SECONDS,
) -> None:
    """Serve a fake Cartesia API on this machine: no key, no network.

    Prints its base URL on stdout, logs each request on stderr, and
    stops on Ctrl-C. With -- COMMAND it runs COMMAND against itself
    instead and exits with COMMAND's status.

    Examples:

    \b
        cartesia-cli mock -- cartesia-cli tts sse "Hello, world!"
        cartesia-cli mock --scenario http-429,http-429,ok -- ./smoke.sh
        cartesia-cli mock --port 8787 --pace 1
    """
    from cartesia_cli.mock import FakeCartesia, Scenario  # here: --help stays fast

    given = ctx.find_root().obj
    if not command and isinstance(given, tuple) and given[-1:] == ("--",):
        # Serving forever here would hang a CI job whose COMMAND came out empty.
        raise UsageError("nothing to run after --: give a COMMAND, or leave -- out to serve")
    if (tls_cert is None) != (tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    try:
        for name in scenario.split(","):
            Scenario.parse(name.strip())  # every name checked before serving
        fake = FakeCartesia(
            api_key=api_key,
            host=host,
            port=port,
            pace=pace,
            tls=(tls_cert, tls_key) if tls_cert and tls_key else None,
            poll_seconds=0.1,  # idle for hours in a user's CI: wake rarely
            latency_ms=latency_ms,
            log=lambda line: console.note(f"mock: {line}"),
            concurrency_limit=concurrency_limit,
            record=False,  # left running for hours: no request or stream is kept
            read_timeout=read_timeout,
        )
    except ValueError as exc:
        raise UsageError(f"--scenario: {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot serve on {host}:{port}: {exc.strerror}") from None
    fake.default_sequence = scenario
    with fake:
        if command:
            status = _run(command, fake.url, api_key)
            # As COMMAND's own status, not as ours: exit 130 here is COMMAND's, not a Ctrl-C
            # of ours, and the boundary must not add a line for it.
            raise SystemExit(status)
        typer.echo(fake.url)  # the first line on stdout, for scripts
        console.note(f"serving a fake Cartesia API on {fake.url}; Ctrl-C stops it")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:  # the way a server is meant to be stopped: not a failure
            console.note("stopped")


NOT_RUN = 127  # what a shell exits with when it cannot find or run the command


def _run(command: list[str], url: str, api_key: Optional[str]) -> int:
    """COMMAND with the mock's URL and a key it accepts; its exit status.

    A Ctrl-C at the terminal reaches COMMAND too (one process group): the mock
    waits for it and passes its status on, so COMMAND alone says what happened.
    """
    env = dict(os.environ, CARTESIA_BASE_URL=url)
    env.update(bypass_proxy(env, urllib.parse.urlsplit(url).hostname or ""))
    if api_key is not None:
        env["CARTESIA_API_KEY"] = api_key
    else:
        env.setdefault("CARTESIA_API_KEY", MOCK_KEY)  # any key is accepted: keep the user's
    try:
        child = subprocess.Popen(command, env=env)
    except OSError as exc:
        console.error(f"cannot run {command[0]!r}: {exc.strerror}")
        return NOT_RUN
    with child:
        code = _wait(child)
    return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell says


def bypass_proxy(env: Mapping[str, str], host: str) -> dict[str, str]:
    """NO_PROXY and no_proxy for COMMAND: what either held, plus the mock's own host.

    A proxy set for the user's network (HTTPS_PROXY, http_proxy, ALL_PROXY) cannot
    reach a server on this machine's loopback. Both spellings get the same list,
    as tools differ in which one they read first.
    """
    entries: list[str] = []
    for name in ("NO_PROXY", "no_proxy"):
        for entry in env.get(name, "").split(","):
            if entry.strip() and entry.strip() not in entries:
                entries.append(entry.strip())
    if host and host not in entries:
        entries.append(host)
    joined = ",".join(entries)
    return {"NO_PROXY": joined, "no_proxy": joined}


def _wait(child: "subprocess.Popen[bytes]") -> int:
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue  # COMMAND got the Ctrl-C too; its status will say what it did
        except BaseException:  # SIGTERM or SIGHUP to the mock alone: COMMAND goes with it
            child.terminate()
            child.wait()
            raise
