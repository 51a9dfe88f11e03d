"""Stress the start-up threads: hundreds of https runs with busy processes beside them.

Each run streams from the fake server over https with the default trust store
(certifi's bundle, no SSL_CERT_FILE), the path every run against the real API
takes: its TLS context loads on a thread and its connection opens on another
while the CLI is imported. The fake's certificate is self-signed, so every run
must end with exit 6 and CERTIFICATE_VERIFY_FAILED; with --trusted, the
certificate is trusted through SSL_CERT_FILE and every run must exit 0 with the
server's audio byte for byte. Any other ending (exit 1 above all: an error from
a start-up thread reaching the run) is counted and shown.

    python benchmarks/startup_race.py                 # 300 runs, 4 at a time, 2 busy loops
    python benchmarks/startup_race.py --runs 1000 --trusted
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import certificate  # benchmarks/bench.py, next to this file

from cartesia_cli.mock import FakeCartesia

KEY = "sk-startup-race"
ENTRY_POINT = Path(sys.executable).with_name("cartesia-cli")
BUSY = "while True: pass"


def one_run(fake: FakeCartesia, folder: Path, trusted: str | None, index: int) -> str:
    """How one run ended: "ok", or what went wrong, in a few words."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARTESIA", "SSL_CERT"))}
    env.update(CARTESIA_API_KEY=KEY, CARTESIA_CLI_CONFIG_DIR=str(folder / "config"))
    if trusted:
        env["SSL_CERT_FILE"] = trusted
    out = folder / f"out-{index}.pcm"
    args = [str(ENTRY_POINT), "tts", "sse", "Hello, world!", "-o", str(out), "--retries", "0"]
    proc = subprocess.run(
        [*args, "--base-url", fake.url], capture_output=True, env=env, timeout=120
    )
    stderr = proc.stderr.decode(errors="replace")
    sent = {bytes(t.audio) for t in fake.transmissions} if trusted else set()
    if trusted and proc.returncode == 0 and out.read_bytes() in sent:
        return "ok"
    if not trusted and proc.returncode == 6 and "CERTIFICATE_VERIFY_FAILED" in stderr:
        return "ok"
    return f"exit {proc.returncode}: {stderr.strip().splitlines()[-1] if stderr.strip() else ''}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--busy", type=int, default=2, help="CPU-bound processes beside the runs")
    parser.add_argument("--trusted", action="store_true", help="trust the fake: expect exit 0")
    options = parser.parse_args()
    if shutil.which("openssl") is None:
        print("needs openssl", file=sys.stderr)
        return 2
    busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(options.busy)]
    try:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            cert = certificate(str(folder))
            with FakeCartesia(api_key=KEY, tls=cert) as fake:
                trusted = cert[0] if options.trusted else None
                with ThreadPoolExecutor(options.parallel) as pool:
                    endings = collections.Counter(
                        pool.map(lambda i: one_run(fake, folder, trusted, i), range(options.runs))
                    )
    finally:
        for process in busy:
            process.kill()
            process.wait()
    for ending, count in endings.most_common():
        print(f"{count:6d}  {ending}")
    return 0 if set(endings) == {"ok"} else 1


if __name__ == "__main__":
    sys.exit(main())
