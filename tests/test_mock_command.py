"""`cartesia-cli mock`: the fake as a command, scenarios per request, many clients at once."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cartesia_cli.mock
from cartesia_cli.commands.mock import bypass_proxy
from cartesia_cli.mock import (
    STREAM_FAULTS,
    WEBSOCKET_FAULTS,
    WEBSOCKET_ONLY_FAULTS,
    FakeCartesia,
)

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env, run_in_process
from .test_mock import GOOD_BODY, HEADERS, post

CLI = str(ENTRY_POINT)


def run_mock(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [CLI, "mock", *args], capture_output=True, cwd=cwd, timeout=60,
        env=env or clean_env(), stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_mock_runs_a_command_against_itself_and_leaves_its_audio(tmp_path: Path) -> None:
    proc = run_mock("--", CLI, "tts", "sse", "Hello, world!", "-o", "hello.pcm", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "hello.pcm").stat().st_size > 0
    assert proc.stdout == b""  # no URL on stdout: COMMAND's stdout may be audio
    assert b"mock: POST /tts/sse -> 200" in proc.stderr


def test_mock_passes_on_the_commands_exit_status_and_environment(tmp_path: Path) -> None:
    script = 'test -n "$CARTESIA_API_KEY" && curl -sf "$CARTESIA_BASE_URL/" >/dev/null; exit 3'
    proc = run_mock("--", "sh", "-c", script, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr


def test_an_existing_key_is_left_as_it_is(tmp_path: Path) -> None:
    env = clean_env(CARTESIA_API_KEY="sk-mine-123456")
    proc = run_mock("--", "sh", "-c", 'printf %s "$CARTESIA_API_KEY"', cwd=tmp_path, env=env)
    assert proc.stdout == b"sk-mine-123456"


def test_retry_then_recover_from_the_command_line(tmp_path: Path) -> None:
    args = ("--scenario", "http-429,http-429,ok", "--", CLI, "tts", "sse", "Hi", "-o", "x.pcm")
    proc = run_mock(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count(b"-> 429") == 2 and proc.stderr.count(b"-> 200") == 1


def test_serving_prints_the_url_first_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    with subprocess.Popen(
        [CLI, "mock"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env()
    ) as proc:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/", timeout=10).json()["ok"] is True
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out == b""  # the URL was the only line
    assert err.decode().endswith("stopped\n")


def test_python_dash_m_is_the_same_command(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cartesia_cli.mock", "--", "true"], capture_output=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    help_text = subprocess.run(
        [sys.executable, "-m", "cartesia_cli.mock", "--help"], capture_output=True, timeout=60
    ).stdout.decode()
    assert "Serve a fake Cartesia API" in help_text


def test_help_lists_every_scenario(cli: RunCli) -> None:
    # typer wraps lines after a hyphen: join those back before looking.
    text = re.sub(r"-\s+", "-", " ".join(cli("mock", "--help").stdout.decode().split()))
    listed = (*STREAM_FAULTS, *WEBSOCKET_FAULTS, *WEBSOCKET_ONLY_FAULTS)
    for name in (*listed, "http-NNN", "Cartesia-Mock-Scenario", "/scenario/NAME"):
        assert name in text


def test_an_unknown_scenario_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_mock("--scenario", "http-429,nope", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (
        2,
        b"cartesia-cli: error: --scenario: unknown scenario 'nope'\n",
    )


# --- scenarios chosen by the request -------------------------------------------------------


def test_a_url_prefix_picks_the_scenario_for_that_client(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli(
        "tts",
        "sse",
        "Hi",
        "--retries",
        "0",
        env={"CARTESIA_BASE_URL": f"{fake.url}/scenario/http-503"},
    )
    assert result.code == 5
    assert fake.requests[-1].path == "/scenario/http-503/tts/sse"
    assert cli("tts", "sse", "Hi").code == 0  # another client, no prefix: ok


def test_a_sequence_is_counted_per_list_and_its_last_item_repeats(fake: FakeCartesia) -> None:
    url = f"{fake.url}/scenario/http-429,ok/tts/sse"
    with httpx.Client(timeout=10) as client:
        codes = [client.post(url, json=GOOD_BODY, headers=HEADERS).status_code for _ in range(3)]
    assert codes == [429, 200, 200]


def test_a_header_picks_the_scenario_too(fake: FakeCartesia) -> None:
    response = post(fake, GOOD_BODY, {**HEADERS, "Cartesia-Mock-Scenario": "http-402"})
    assert response.status_code == 402


@pytest.mark.parametrize(
    ("version", "shape"), [("2026-08-14", {"title", "message"}), ("2025-11-04", {"error"})]
)
def test_error_events_take_the_shape_of_the_clients_version(
    fake: FakeCartesia, version: str, shape: set[str]
) -> None:
    headers = {**HEADERS, "Cartesia-Version": version, "Cartesia-Mock-Scenario": "error-mid-stream"}
    response = post(fake, GOOD_BODY, headers)
    events = [
        json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")
    ]
    error = next(event for event in events if event["type"] == "error")
    assert shape <= error.keys() and not ({"title", "error"} - shape) & error.keys()


def test_128_clients_at_once_all_get_their_stream() -> None:
    with FakeCartesia(api_key=API_KEY) as fake:

        def one(_: int) -> int:
            with httpx.Client(timeout=30) as client:
                response = client.post(f"{fake.url}/tts/sse", json=GOOD_BODY, headers=HEADERS)
                return response.status_code if "event: done" in response.text else -1

        with ThreadPoolExecutor(max_workers=128) as pool:
            codes = list(pool.map(one, range(128)))
    assert codes == [200] * 128


@pytest.mark.parametrize(
    ("args", "code", "stderr"),
    [
        (("--", "sh", "-c", "exit 130"), 130, b""),  # COMMAND's status, not our Ctrl-C
        (("--", "sh", "-c", "kill -TERM $$"), 143, b""),
        (("--", "no-such-command"),
         127, b"cartesia-cli: error: cannot run 'no-such-command': No such file or directory\n"),
        (("--port", "99999"), 2, None),
        (("--pace", "-1"), 2, None),
        (("--",), 2, b"cartesia-cli: error: nothing to run after --: give a COMMAND, "
                      b"or leave -- out to serve\n"),
    ],
)  # fmt: skip
def test_exit_codes_of_the_mock_itself(
    tmp_path: Path, args: tuple[str, ...], code: int, stderr: bytes | None
) -> None:
    proc = run_mock(*args, cwd=tmp_path)
    assert proc.returncode == code, proc.stderr
    if stderr is not None:
        assert proc.stderr == stderr
    else:
        assert proc.stderr.count(b"\n") == 1 and b"internal error" not in proc.stderr


def test_a_websocket_client_is_logged_and_served(tmp_path: Path) -> None:
    """The mock command serves the WebSocket too: a subprocess client speaks one context."""
    client = (
        "import json, os, sys\n"
        "from websockets.sync.client import connect\n"
        "url = os.environ['CARTESIA_BASE_URL'].replace('http', 'ws', 1) + '/tts/websocket'\n"
        "headers = {'Authorization': 'Bearer ' + os.environ['CARTESIA_API_KEY'],\n"
        "           'Cartesia-Version': '2026-03-01'}\n"
        "with connect(url, additional_headers=headers) as ws:\n"
        "    ws.send(json.dumps({'context_id': 'c', 'model_id': 'sonic-3', 'transcript': 'Hi.',\n"
        "        'voice': {'mode': 'id', 'id': 'a0e99841-438c-4a64-b679-ae501e7d6091'},\n"
        "        'output_format': {'container': 'raw', 'encoding': 'pcm_s16le',\n"
        "                          'sample_rate': 16000}, 'continue': False}))\n"
        "    while json.loads(ws.recv(timeout=10))['type'] != 'done': pass\n"
    )
    proc = run_mock("--", sys.executable, "-c", client, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert b"mock: GET /tts/websocket -> 101" in proc.stderr
    assert API_KEY.encode() not in proc.stderr


def test_a_key_in_the_query_is_not_logged() -> None:
    lines: list[str] = []
    with FakeCartesia(api_key=API_KEY, log=lines.append) as fake:
        httpx.get(f"{fake.url}/tts/websocket?cartesia_version=2026-03-01&api_key={API_KEY}&x=1")
        httpx.get(f"{fake.url}/tts/websocket?access_token=tok-secret-123")
    assert lines == [
        "GET /tts/websocket?cartesia_version=2026-03-01&api_key=[redacted]&x=1 -> 426",
        "GET /tts/websocket?access_token=[redacted] -> 401",
    ]


# --- a proxy in the user's environment --------------------------------------------------


@pytest.fixture
def dead_proxy() -> Iterator[str]:
    """A proxy URL on a loopback port that refuses connections (bound, never listening)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}"


def test_a_command_reaches_the_mock_past_a_proxy_set_for_the_network(
    tmp_path: Path, dead_proxy: str
) -> None:
    proxies = {"HTTPS_PROXY": dead_proxy, "http_proxy": dead_proxy, "ALL_PROXY": dead_proxy}
    env = clean_env(**proxies, NO_PROXY="example.com")
    proc = run_mock("--", CLI, "tts", "sse", "Hi", "-o", "hi.pcm", "--retries", "0",
                    cwd=tmp_path, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "hi.pcm").stat().st_size > 0


def test_the_users_no_proxy_entries_are_kept(tmp_path: Path) -> None:
    env = clean_env(NO_PROXY="example.com,.corp", no_proxy="intranet")
    proc = run_mock(
        "--", "sh", "-c", 'printf "%s|%s" "$NO_PROXY" "$no_proxy"', cwd=tmp_path, env=env
    )
    both = "example.com,.corp,intranet,127.0.0.1"
    assert proc.stdout.decode() == f"{both}|{both}"


@given(
    st.dictionaries(
        st.sampled_from(["NO_PROXY", "no_proxy"]),
        st.lists(st.from_regex(r"[a-z0-9.*-]{0,12}", fullmatch=True)).map(",".join),
    ),
    st.sampled_from(["127.0.0.1", "0.0.0.0", "localhost"]),
)
def test_bypassing_the_proxy_keeps_every_entry_and_adds_the_host(
    env: dict[str, str], host: str
) -> None:
    result = bypass_proxy(env, host)
    assert result["NO_PROXY"] == result["no_proxy"]
    entries = result["NO_PROXY"].split(",")
    assert host in entries and "" not in entries and len(entries) == len(set(entries))
    for value in env.values():
        assert {e for e in value.split(",") if e} <= set(entries)


# --- left running in CI -------------------------------------------------------------------


def test_the_commands_server_keeps_no_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests and streams served, SSE and WebSocket alike, and nothing of them kept."""
    made: list[FakeCartesia] = []
    lines: list[str] = []

    class Watched(FakeCartesia):
        def __init__(self, **options: Any) -> None:
            super().__init__(**{**options, "log": lines.append})
            made.append(self)

    monkeypatch.setattr(cartesia_cli.mock, "FakeCartesia", Watched)
    script = f"{CLI} tts sse Hi -o a.pcm && echo Hello. | {CLI} tts ws -o b.pcm"
    with pytest.raises(SystemExit) as exited:  # COMMAND's status, passed on as it is
        run_in_process(("mock", "--", "sh", "-c", script), env=clean_env(), cwd=tmp_path)
    assert exited.value.code == 0
    assert lines == ["POST /tts/sse -> 200", "GET /tts/websocket -> 101"]
    (server,) = made
    assert server.requests == [] and server.transmissions == []


def test_malformed_and_stalled_clients_get_one_line_each_and_no_traceback(
    tmp_path: Path,
) -> None:
    with subprocess.Popen(
        [CLI, "mock", "--read-timeout", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(),
    ) as proc:  # fmt: skip
        assert proc.stdout is not None
        host, port = proc.stdout.readline().decode().strip().removeprefix("http://").split(":")
        for data in (b"\x16\x03\x01garbage\r\n\r\n", b"GET /\r\n\r\n",
                     b"POST /tts/sse HTTP/1.1\r\nContent-Length: -5\r\n\r\n", b""):  # fmt: skip
            with socket.create_connection((host, int(port)), timeout=5) as sock:
                sock.sendall(data)
                while sock.recv(65536):  # until the server closes: an answer, or the deadline
                    pass
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    # The "serving …" line and the first request's line come from two threads: either may be first.
    lines = [line for line in err.decode().splitlines() if not line.startswith("serving ")]
    assert "Traceback" not in err.decode()
    assert lines[1:] == [
        "mock: GET / -> 400 (Request line without an HTTP version)",
        "mock: POST /tts/sse -> 400 (Content-Length must be a whole number of bytes.)",
        "mock: connection dropped: no complete request within 0.2 s",
        "stopped",
    ]
    assert lines[0].startswith("mock: malformed request -> 400")
