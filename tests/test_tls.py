"""https:// end to end: a fake with a self-signed certificate, trusted through SSL_CERT_FILE.

This path also exercises the TLS context and the connection that launch.py
starts before the heavy imports (tls.py, api/preconnect.py).
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from cartesia_cli.api import tls
from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY, RunCli, assert_one_error_line, clean_env

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


@pytest.mark.parametrize("command", ["sse", "bytes"])
def test_https_streams_byte_exact_audio(
    cli_process: RunCli,
    tls_fake: FakeCartesia,
    certificate: tuple[str, str],
    tmp_path: Path,
    command: str,
) -> None:
    # A real process, so the TLS prefetch that launch.py starts is the context used.
    assert tls_fake.url.startswith("https://127.0.0.1:")
    env = {"CARTESIA_BASE_URL": tls_fake.url, "SSL_CERT_FILE": certificate[0]}
    result = cli_process("tts", command, "Hello, world!", "-o", "out.pcm", env=env)
    assert result.code == 0, result.stderr
    assert (tmp_path / "out.pcm").read_bytes() == bytes(tls_fake.transmissions[-1].audio)


def test_untrusted_certificate_fails_once_with_a_clear_line(
    cli: RunCli, tls_fake: FakeCartesia, tmp_path: Path
) -> None:
    result = cli("tts", "sse", "Hello", "-o", "out.pcm", env={"CARTESIA_BASE_URL": tls_fake.url})
    assert result.code == 6
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr
    assert "attempts" not in result.stderr  # not retried: it would fail the same way
    assert_one_error_line(result.stderr)
    assert not (tmp_path / "out.pcm").exists()


def test_an_uppercase_scheme_is_still_verified(cli: RunCli, tls_fake: FakeCartesia) -> None:
    """`HTTPS://` once turned certificate checks off: it is https like any other."""
    url = tls_fake.url.replace("https://", "HTTPS://")
    result = cli("tts", "sse", "Hello", "-o", "out.pcm", env={"CARTESIA_BASE_URL": url})
    assert result.code == 6
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr
    assert not tls_fake.requests


def test_broken_trust_settings_are_reported(cli: RunCli, tls_fake: FakeCartesia) -> None:
    env = {"CARTESIA_BASE_URL": tls_fake.url, "SSL_CERT_FILE": "/nonexistent/ca.pem"}
    result = cli("tts", "sse", "Hello", "-o", "-", env=env)
    assert result.code == 6
    assert result.stderr.startswith("cartesia-cli: error: cannot set up TLS: ")
    assert result.stderr.endswith("; check SSL_CERT_FILE / SSL_CERT_DIR\n")
    assert_one_error_line(result.stderr)


# --- the start-up threads never race the main thread's imports -----------------------------

ORDER_SCRIPT = Path(__file__).with_name("startup_order.py")


def _run_in_order(
    order: str, tmp_path: Path, env: dict[str, str], *args: str
) -> tuple[int, str, list[str]]:
    """The entry point's run with the start-up threads forced to `order` (startup_order.py)."""
    report = tmp_path / "off-main.txt"
    proc = subprocess.run(
        [sys.executable, str(ORDER_SCRIPT), order, str(report), *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        env=clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_CLI_CONFIG_DIR=str(tmp_path), **env),
        cwd=tmp_path,
        timeout=60,
    )
    return proc.returncode, proc.stderr.decode(), report.read_text().splitlines()


ORDERS = ["threads-during-imports", "threads-after-imports"]


@pytest.mark.parametrize("order", ORDERS)
def test_start_up_threads_import_nothing_and_the_default_trust_store_is_used(
    tls_fake: FakeCartesia, tmp_path: Path, order: str
) -> None:
    """certifi's bundle (no SSL_CERT_FILE), the path every run against the real API takes.

    Its start-up thread once imported ssl and certifi beside the main thread's imports;
    about one run in a hundred then stopped with "internal error: NameError". Now the
    threads import nothing, in either order; the fake's certificate is not in certifi's
    bundle, so the run ends as an untrusted certificate does, never as a bug.
    """
    env = {"CARTESIA_BASE_URL": tls_fake.url}
    code, stderr, off_main = _run_in_order(order, tmp_path, env, "tts", "sse", "Hi", "-o", "-")
    assert off_main == []
    assert code == 6, stderr
    assert "CERTIFICATE_VERIFY_FAILED" in stderr
    assert_one_error_line(stderr)


@pytest.mark.parametrize("order", ORDERS)
def test_either_order_streams_byte_exact_audio_over_the_start_up_connection(
    tls_fake: FakeCartesia, certificate: tuple[str, str], tmp_path: Path, order: str
) -> None:
    env = {"CARTESIA_BASE_URL": tls_fake.url, "SSL_CERT_FILE": certificate[0]}
    args = ("tts", "bytes", "Hello, world!", "-o", "out.wav", "--debug")
    code, stderr, off_main = _run_in_order(order, tmp_path, env, *args)
    assert off_main == []
    assert code == 0, stderr
    assert "start-up connection: used" in stderr  # the context loaded on the thread
    assert (tmp_path / "out.wav").read_bytes() == bytes(tls_fake.transmissions[-1].audio)


def test_a_context_the_thread_failed_to_build_is_built_again_where_it_is_asked_for(
    certificate: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the thread met (here, the NameError once seen) never reaches the run."""
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
    monkeypatch.setattr(tls, "_prefetch", None)
    monkeypatch.setattr(tls, "_built", None)
    real = ssl.create_default_context
    threads: list[str] = []

    def failing_on_a_thread(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        threads.append(threading.current_thread().name)
        if threading.current_thread() is not threading.main_thread():
            raise NameError("name 'sys' is not defined")
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", failing_on_a_thread)
    tls.prefetch()
    assert tls.prefetched(5) is None  # the thread failed, quietly
    context = tls.context()
    assert isinstance(context, ssl.SSLContext)
    assert threads == ["tls-prefetch", "MainThread"]
    assert tls.context() is context  # built once


def test_the_prefetched_context_is_the_one_the_run_gets(
    certificate: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
    monkeypatch.setattr(tls, "_prefetch", None)
    tls.prefetch()
    loaded = tls.prefetched(5)
    assert loaded is not None and tls.context() is loaded
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0] + ".missing")  # settings changed
    assert tls.prefetched(5) is None
    with pytest.raises(OSError):
        tls.context()


# --- trust settings that are not files: refused, never waited on ----------------------------


NO_CA_FILE = {"SSL_CERT_FILE": ""}  # empty is unset, as for httpx: SSL_CERT_DIR is the one used


def _subject_hash(certificate: str) -> str:
    """The name OpenSSL looks the issuer up by in a CA directory (`hash.0`)."""
    result = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", certificate],
                            check=True, capture_output=True, text=True)  # fmt: skip
    return result.stdout.strip()


def _fifo(path: Path) -> Path:
    os.mkfifo(path)  # nobody ever writes to it: an open for reading would wait for ever
    return path


@pytest.mark.parametrize("command", ["sse", "ws"])
def test_a_named_pipe_as_the_ca_file_is_refused_at_once(
    cli_process: RunCli, tls_fake: FakeCartesia, tmp_path: Path, command: str
) -> None:
    # A real process: the start-up prefetch thread must not block on it either.
    env = {"CARTESIA_BASE_URL": tls_fake.url, "SSL_CERT_FILE": str(_fifo(tmp_path / "ca"))}
    result = cli_process("tts", command, "Hello", "-o", "out.pcm", env=env, timeout=15)
    assert result.code == 6, result.stderr
    assert result.stderr.startswith("cartesia-cli: error: cannot set up TLS: SSL_CERT_FILE ")
    assert "is not a regular file" in result.stderr
    assert_one_error_line(result.stderr)
    assert not tls_fake.requests


def test_a_named_pipe_in_the_ca_directory_is_refused_at_once(
    cli_process: RunCli, tls_fake: FakeCartesia, certificate: tuple[str, str], tmp_path: Path
) -> None:
    # The very name OpenSSL would open, mid-handshake, to find the fake's issuer.
    folder = tmp_path / "certs"
    folder.mkdir()
    _fifo(folder / f"{_subject_hash(certificate[0])}.0")
    env = {"CARTESIA_BASE_URL": tls_fake.url, "SSL_CERT_DIR": str(folder), **NO_CA_FILE}
    result = cli_process("tts", "sse", "Hello", "-o", "out.pcm", env=env, timeout=15)
    assert result.code == 6, result.stderr
    assert "cannot set up TLS: SSL_CERT_DIR " in result.stderr
    assert_one_error_line(result.stderr)


@pytest.mark.parametrize("kind", ["fifo", "file", "missing"])
def test_a_ca_directory_that_is_not_one_is_refused(
    cli: RunCli, tls_fake: FakeCartesia, certificate: tuple[str, str], tmp_path: Path, kind: str
) -> None:
    folder = tmp_path / "certs"
    if kind == "fifo":
        _fifo(folder)
    elif kind == "file":
        shutil.copy(certificate[0], folder)
    result = cli("tts", "sse", "Hello", "-o", "out.pcm",
                 env={"CARTESIA_BASE_URL": tls_fake.url, "SSL_CERT_DIR": str(folder),
                      **NO_CA_FILE})  # fmt: skip
    assert result.code == 6, result.stderr
    assert "cannot set up TLS: " in result.stderr and "SSL_CERT_DIR" in result.stderr
    assert_one_error_line(result.stderr)
    assert not tls_fake.requests


def test_a_ca_directory_of_hashed_links_is_trusted(
    cli: RunCli, tls_fake: FakeCartesia, certificate: tuple[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / f"{_subject_hash(certificate[0])}.0").symlink_to(certificate[0])
    (folder / "00000000.0").symlink_to(tmp_path / "gone.pem")  # dangling: OpenSSL skips it
    (folder / "README").write_text("not a certificate")
    result = cli("tts", "sse", "Hello, world!", "-o", "out.pcm",
                 env={"CARTESIA_BASE_URL": tls_fake.url, "SSL_CERT_DIR": str(folder),
                      **NO_CA_FILE})  # fmt: skip
    assert result.code == 0, result.stderr
    assert (tmp_path / "out.pcm").read_bytes() == bytes(tls_fake.transmissions[-1].audio)
