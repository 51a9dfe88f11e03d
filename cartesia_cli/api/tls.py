"""The TLS context for https:// requests, its CA certificates loaded on a second thread.

Loading the CA bundle takes 20-40 ms, and OpenSSL does it without holding the
GIL, so started before typer and httpx are imported it costs no wall time.
Trust settings follow httpx's defaults: $SSL_CERT_FILE, then $SSL_CERT_DIR,
then certifi's bundle.

The thread imports nothing: `prefetch` imports ssl and asks certifi where its
bundle is on the calling (main) thread first. Python's import system is not
safe against a module imported on one thread while the main thread imports
others (a half-set-up importlib once raised "NameError: name 'sys' is not
defined" out of certifi on the thread). And the thread's outcome is a shortcut
only: if it failed, for any reason, `context` builds the context again on the
thread that asks, and it is that attempt's failure, if any, that is reported.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from cartesia_cli import process

if TYPE_CHECKING:
    import ssl

# The longest `context` waits for the thread before building the context itself: loading a
# bundle takes milliseconds, but a slow disk or a huge $SSL_CERT_FILE may take longer.
LOAD_SECONDS = 10.0


class Trust(NamedTuple):
    """The trust settings in force: $SSL_CERT_FILE and $SSL_CERT_DIR ("" when unset)."""

    cafile: str
    capath: str


class _Prefetch:
    def __init__(self, trust: Trust) -> None:
        self.trust = trust
        self.done = threading.Event()
        self.context: ssl.SSLContext | None = None


_lock = threading.Lock()
_prefetch: _Prefetch | None = None
_built: tuple[Trust, ssl.SSLContext] | None = None  # the last context built by `context` itself


def prefetch() -> None:
    """Start loading the CA certificates on a thread (once per trust settings).

    Call it on the main thread: the imports happen here, before the thread starts.
    Nothing here raises: whatever fails leaves `context` to build the context itself.
    """
    global _prefetch
    trust = trust_settings()
    with _lock:
        if _prefetch is not None and _prefetch.trust == trust:
            return
        job = _prefetch = _Prefetch(trust)
    try:
        create = _creator(trust)  # the imports, here
        thread = threading.Thread(
            target=_load, args=(job, create), name="tls-prefetch", daemon=True
        )
        process.start_thread(thread)  # stop signals go to the main thread only
    except Exception:  # no prefetch: `context` builds it, and reports what goes wrong
        job.done.set()


def prefetched(wait: float) -> ssl.SSLContext | None:
    """The context the thread loaded for the trust settings in force; None if none is ready.

    Waits at most `wait` s for the thread. Builds nothing and imports nothing, so
    another start-up thread may ask.
    """
    job = _prefetch
    if job is None or job.trust != trust_settings():
        return None
    job.done.wait(wait)
    return job.context


def context() -> ssl.SSLContext:
    """The verifying client context: the prefetched one, else built now on this thread.

    Built again if the trust settings changed since (runs in one process, as in
    tests). Raises OSError or ssl.SSLError if the trust settings cannot be used.
    """
    ready = prefetched(LOAD_SECONDS)
    if ready is not None:
        return ready
    global _built
    trust = trust_settings()
    if _built is None or _built[0] != trust:
        _built = trust, _creator(trust)()
    return _built[1]


def trust_settings() -> Trust:
    return Trust(os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""))


def _creator(trust: Trust) -> Callable[[], ssl.SSLContext]:
    """A call that builds the context for `trust`; everything it needs is imported here."""
    import ssl

    if trust.cafile:
        cafile, capath = trust.cafile, None
    elif trust.capath:
        cafile, capath = None, trust.capath
    else:
        import certifi

        cafile, capath = certifi.where(), None

    def create() -> ssl.SSLContext:
        _check_openable(trust)  # just before OpenSSL opens them: a blocking open, no timeout
        return ssl.create_default_context(cafile=cafile, capath=capath)

    return create


# The names OpenSSL opens in a CA directory as a handshake needs them: hash.N, hash.rN (CRLs).
_HASHED_NAME = re.compile(r"[0-9a-f]{8}\.r?[0-9]+")


def _check_openable(trust: Trust) -> None:
    """Raise OSError unless what OpenSSL will open is a regular file (or a directory of them).

    OpenSSL opens them blocking and unbounded: a named pipe nobody writes to would
    hold the run for ever, a device like /dev/zero feed it without end. Links are
    followed, as OpenSSL follows them. SSL_CERT_DIR is ignored when SSL_CERT_FILE is set.
    """
    if trust.cafile:
        if not stat.S_ISREG(os.stat(trust.cafile).st_mode):
            raise OSError(f"SSL_CERT_FILE {trust.cafile!r} is not a regular file")
    elif trust.capath:
        if not stat.S_ISDIR(os.stat(trust.capath).st_mode):
            raise OSError(f"SSL_CERT_DIR {trust.capath!r} is not a directory")
        with os.scandir(trust.capath) as entries:
            for entry in entries:
                if _HASHED_NAME.fullmatch(entry.name) and not _regular_or_gone(entry):
                    raise OSError(
                        f"SSL_CERT_DIR {trust.capath!r} holds {entry.name!r},"
                        " which is not a regular file"
                    )


def _regular_or_gone(entry: os.DirEntry[str]) -> bool:
    """A regular file, or a dangling link (OpenSSL fails to open it, quickly)."""
    try:
        return stat.S_ISREG(os.stat(entry.path).st_mode)
    except OSError:
        return True


def _load(job: _Prefetch, create: Callable[[], ssl.SSLContext]) -> None:
    try:
        job.context = create()
    except Exception:  # `context` builds it again, where its failure is reported
        pass
    finally:
        job.done.set()
