"""The TLS context for https:// requests, built on a second thread while the CLI starts.

Loading the CA bundle takes 20-40 ms, and OpenSSL does it without holding the
GIL, so started before typer and httpx are imported it costs no wall time.
Trust settings follow httpx's defaults: $SSL_CERT_FILE, then $SSL_CERT_DIR,
then certifi's bundle.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from cartesia_cli import process

if TYPE_CHECKING:
    import ssl

_lock = threading.Lock()
_thread: threading.Thread | None = None
# (the trust settings it was built for, the context or the error building it)
_result: list[tuple[tuple[str, str], ssl.SSLContext | BaseException]] = []


def prefetch() -> None:
    """Start building the context in the background (once)."""
    global _thread
    with _lock:
        if _thread is None and not _result:
            _thread = threading.Thread(target=_build, name="tls-prefetch", daemon=True)
            process.start_thread(_thread)  # stop signals go to the main thread only


def context() -> ssl.SSLContext:
    """The verifying client context: the prefetched one, else built now.

    Built again if the trust settings changed since (runs in one process, as in tests).
    """
    if _thread is not None:
        _thread.join()
    if not _result or _result[-1][0] != _trust_settings():
        _build()
    outcome = _result[-1][1]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _trust_settings() -> tuple[str, str]:
    return os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", "")


def _build() -> None:
    settings = _trust_settings()
    try:
        outcome: ssl.SSLContext | BaseException = _create()
    except Exception as exc:  # reported by context(), on the main thread
        outcome = exc
    _result.append((settings, outcome))
    del _result[:-1]


def _create() -> ssl.SSLContext:
    import ssl

    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
