"""https:// end to end: a fake with a self-signed certificate, trusted through SSL_CERT_FILE.

This path also exercises the TLS context and the connection that launch.py
starts before the heavy imports (tls.py, api/preconnect.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cartesia_cli.mock import FakeCartesia

from .conftest import RunCli, assert_one_error_line

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
