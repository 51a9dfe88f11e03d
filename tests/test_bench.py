"""The benchmark harness measures what it claims (its peers other than the SDK run here)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from cartesia_cli.mock import AudioPlan, FakeCartesia

ROOT = Path(__file__).resolve().parent.parent


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
