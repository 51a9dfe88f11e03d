"""`python -m cartesia_cli.mock`: serve the fake Cartesia API until Ctrl-C.

A stop-gap for demos and manual trials until the `cartesia-cli mock` command.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading

from cartesia_cli.mock import FakeCartesia, Scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cartesia_cli.mock", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    parser.add_argument("--scenario", default="ok", help="what every request gets, e.g. http-429")
    parser.add_argument("--pace", type=float, default=0.0, help="1.0 streams in real time")
    parser.add_argument("--tls-cert", help="serve https with this certificate (PEM)")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")
    args = parser.parse_args(argv)
    tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
    fake = FakeCartesia(
        api_key=args.api_key,
        host=args.host,
        port=args.port,
        pace=args.pace,
        tls=tls,
        poll_seconds=0.1,  # idle for hours in a user's CI: wake rarely; Ctrl-C waits <= 0.1 s
    )
    fake.default_scenario = Scenario.parse(args.scenario)
    fake.keep_audio = False  # a long-running server must not accumulate audio
    with fake:
        print(fake.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
