"""The benchmark harness measures what it claims (its peers other than the SDK run here)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import random
import shutil
import socket
import socketserver
import struct
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import cast

import pytest

from cartesia_cli.mock import AudioPlan, FakeCartesia

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))  # bench.py imports link.py, its neighbour
from link import Link  # noqa: E402


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module
    spec.loader.exec_module(module)
    return module


bench = load_bench()


def test_added_latency_is_pipe_arrival_minus_server_flush() -> None:
    run = bench.Run(0, 0, 0, 0, "", 0, arrivals=[(10.0, 100), (10.5, 150), (12.0, 300)])
    flushes = [(100, 9.999), (200, 11.0), (300, 11.9)]
    assert bench.added_latencies_ms(run, flushes) == pytest.approx([1.0, 1000.0, 100.0])


@pytest.mark.parametrize("client", ["cartesia-cli", "plain httpx", "curl + parser"])
def test_each_peer_streams_byte_exact_audio(client: str) -> None:
    if client == "curl + parser" and shutil.which("curl") is None:
        pytest.skip("curl not installed")
    env = {**os.environ, "CARTESIA_API_KEY": bench.KEY}
    with FakeCartesia(api_key=None, plan=AudioPlan(audio_seconds=0.5), pace=1.0) as fake:
        run = bench.run_pipeline(bench.CLIENTS[client](fake.url), env)
        bench._check_bytes(client, run, fake, 0)
        sent = fake.transmissions[0]
        latencies = bench.added_latencies_ms(run, sent.flushes)
    assert run.output_length == len(sent.audio) == round(0.5 * 44100) * 4
    assert len(latencies) == len(sent.flushes) == 5
    assert all(0 < value < 100 for value in latencies), latencies  # ms: measured, not made up
    assert run.peak_rss_mb > 1
    assert run.cpu > 0


def test_a_wrong_byte_is_caught() -> None:
    with FakeCartesia(api_key=None) as fake:
        run = bench.run_pipeline(
            bench.CLIENTS["cartesia-cli"](fake.url), {**os.environ, "CARTESIA_API_KEY": bench.KEY}
        )
        run.output_sha256 = "0" * 64
        with pytest.raises(SystemExit, match="output differs"):
            bench._check_bytes("cartesia-cli", run, fake, 0)


def test_targets_table_reads_the_issue_limits() -> None:
    samples = {
        "wall": {"cartesia-cli": [100.0], "official SDK": [250.0], "plain httpx": [90.0]},
        "added latency": {"cartesia-cli": [0.4], "curl + parser": [0.3]},
        "long CPU": {"cartesia-cli": [2.5], "plain httpx": [2.4]},
        "long peak RSS": {"cartesia-cli": [30.0]},
        "1 s clip peak RSS": {"cartesia-cli": [29.8]},
        "start-up paths": {
            "plain httpx request": [100.0],
            "cartesia-cli --help": [80.0],
            "cartesia-cli tts sse --help": [80.0],
            "completion request": [70.0],
        },
        "batch wall": {"cartesia-cli": [20.0], "shell loop of single runs": [60.0]},
        "batch peak RSS": {"cartesia-cli": [45.0], "one single run": [29.0]},
        "batch peak RSS, 10,000 items": {"cartesia-cli": [39.0], "1,000 items": [38.0]},
        "ws first audio after the first sentence": {"cartesia-cli tts ws": [60.0]},
        "ws wall / producer": {"cartesia-cli tts ws": [1.2]},
    }
    met = {name: ok for name, _, _, ok in bench.targets(samples)}
    assert met["wall vs official SDK"] and met["wall vs plain httpx"]
    assert met["long-stream CPU vs plain httpx"]
    assert not met["completion vs httpx request"]  # 0.7 > 0.6
    assert met["batch wall vs shell loop"]  # 0.33
    assert not met["batch peak RSS vs one run"]  # 1.55 > 1.5
    assert met["batch peak RSS, 10,000 vs 1,000 items"]
    assert met["tts ws first audio after the first sentence (ms)"]
    assert not met["tts ws wall / producer's duration"]  # 1.2 > 1.1


def test_a_batch_whose_files_differ_is_caught(tmp_path: Path) -> None:
    with FakeCartesia(api_key=None) as fake:
        for _ in range(bench.BATCH_ITEMS):
            fake.new_transmission("ok").add(b"\0" * 8, keep=False)
        for n in range(bench.BATCH_ITEMS):
            (tmp_path / f"{n}.pcm").write_bytes(b"\0" * (8 if n else 7))
        with pytest.raises(SystemExit, match="the files differ"):
            bench._check_batch(str(tmp_path), fake)


def test_link_targets_need_only_the_link_phase() -> None:
    first, wall = "link first audio, 50 ms RTT", "link wall, 0 ms RTT"
    samples = {
        "wall": {},  # declared, its phase not run (--only link)
        first: {"cartesia-cli": [300.0], "official SDK": [600.0], "curl + parser": [200.0]},
        wall: {"cartesia-cli": [330.0], "plain httpx": [300.0]},
    }
    met = {name: ok for name, _, _, ok in bench.targets(samples)}
    assert met == {
        "link first audio vs curl, 50 ms RTT": False,  # 1.5 > 1.3
        "link first audio vs official SDK, 50 ms RTT": True,  # 0.5
        "link wall vs plain httpx, 0 ms RTT": True,  # 1.1
    }
    table = bench.report(samples)
    assert "link first audio, 50 ms RTT (ms, median (min-max))" in table
    assert "\nwall (" not in table
    assert "|        0.50x |" in table  # ours / SDK


# --- the delay line (benchmarks/link.py) ---------------------------------------------------


class EchoServer(socketserver.ThreadingTCPServer):
    """Sends back what it reads; after the client's EOF, b"bye", then closes."""

    daemon_threads = True
    block_on_close = False
    received: list[bytes]


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        got = bytearray()
        with contextlib.suppress(OSError):
            while data := sock.recv(1 << 16):
                got += data
                sock.sendall(data)
            # Still able to send after the client's EOF: the link passed on a half-close.
            sock.sendall(b"bye")
        cast(EchoServer, self.server).received.append(bytes(got))


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer(("127.0.0.1", 0), EchoHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(2)


def upstream(server: EchoServer) -> tuple[str, int]:
    host, port = server.server_address[:2]
    return str(host), int(port)


def read_to_eof(sock: socket.socket) -> bytes:
    got = bytearray()
    while data := sock.recv(1 << 16):
        got += data
    return bytes(got)


@pytest.mark.parametrize("delay", [0.0, 0.02])
def test_link_passes_bytes_intact_both_ways(echo: EchoServer, delay: float) -> None:
    payload = random.Random(7).randbytes(400_000)
    with (
        Link(upstream(echo), delay) as link,
        socket.create_connection(("127.0.0.1", link.port), timeout=5) as sock,
    ):

        def send() -> None:  # while the main thread reads: neither side's buffers fill up
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send)
        sender.start()
        back = read_to_eof(sock)
        sender.join()
    assert echo.received == [payload]  # client -> server, byte for byte
    assert back == payload + b"bye"  # server -> client, then the server's close


def test_link_passes_an_eof_on_after_the_delayed_bytes(echo: EchoServer) -> None:
    with (
        Link(upstream(echo), 0.05) as link,
        socket.create_connection(("127.0.0.1", link.port), timeout=5) as sock,
    ):
        sock.sendall(b"last words")
        sock.shutdown(socket.SHUT_WR)  # at once: the EOF is read right behind the bytes
        assert read_to_eof(sock) == b"last words" + b"bye"
    assert echo.received == [b"last words"]


def round_trip(sock: socket.socket) -> float:
    started = time.monotonic()
    sock.sendall(b"ping")
    got = b""
    while len(got) < 4:
        got += sock.recv(4 - len(got))
    assert got == b"ping"
    return time.monotonic() - started


def test_a_round_trip_through_the_link_costs_both_delays(echo: EchoServer) -> None:
    with (
        Link(upstream(echo), 0.1) as link,
        socket.create_connection(("127.0.0.1", link.port), timeout=5) as sock,
    ):
        assert round_trip(sock) >= 0.19  # 100 ms each way; lower bounds only
        assert round_trip(sock) >= 0.19


def test_a_first_flight_also_pays_for_the_tcp_handshake(echo: EchoServer) -> None:
    with (
        Link(upstream(echo), 0.05, connect_round_trip=True) as link,
        socket.create_connection(("127.0.0.1", link.port), timeout=5) as sock,
    ):
        assert round_trip(sock) >= 0.19  # SYN, SYN-ACK, then the bytes there and back
        assert round_trip(sock) >= 0.095  # after an answer: one round trip


def test_a_reset_closes_the_other_side(echo: EchoServer) -> None:
    with Link(upstream(echo), 0.0) as link:
        sock = socket.create_connection(("127.0.0.1", link.port), timeout=5)
        round_trip(sock)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # with linger 0: a reset
        deadline = time.monotonic() + 3  # a guard against hanging, not a timing check
        while not echo.received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert echo.received == [b"ping"]  # the upstream connection was closed


def test_exit_closes_open_connections_and_joins_its_threads(echo: EchoServer) -> None:
    with Link(upstream(echo), 0.5) as link:
        sock = socket.create_connection(("127.0.0.1", link.port), timeout=5)
        sock.sendall(b"still in the line")
    with sock:
        assert not [t for t in threading.enumerate() if t.name.startswith("link ")]
        with contextlib.suppress(ConnectionResetError):  # closed by the link: EOF or reset
            assert sock.recv(100) == b""
