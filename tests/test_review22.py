"""Review of issue 22 (review22): failing tests that prove defects. Each test states the
guarantee it checks; none of them is expected to pass on cb392f3."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY, RunCli
from .test_dicts import seed

KATIE = "f786b574-daa5-4673-aa0c-cbe3e8534c02"  # the fake's library Katie


# 3. dicts delete: a failure mid-list says what went and what did not, and --json still
#    tells a script what was deleted (voices delete does both).
def test_dicts_delete_failing_mid_list_reports_what_was_deleted(
    cli: RunCli, fake: FakeCartesia
) -> None:
    first, second, third = (seed(fake, name) for name in ("A", "B", "C"))
    scenario = f"{fake.url}/scenario/ok,ok,ok,ok,http-500,ok"
    result = cli(
        "dicts", "delete", first, second, third, "--yes", "--json",
        env={"CARTESIA_BASE_URL": scenario},
    )  # fmt: skip
    assert result.code == 5
    assert fake.store.dictionary(first) is None  # the first one did go
    assert result.stdout.strip(), "no --json at all, though a dictionary was deleted"
    assert first in result.stdout.decode()
    assert third in result.stderr  # "not deleted: C"


# 4. A creating POST of a dictionary that failed after it was sent says it may exist
#    (as voices clone does), rather than only "HTTP 500".
def test_dicts_create_failing_after_send_says_it_may_have_been_made(
    cli: RunCli, fake: FakeCartesia
) -> None:
    result = cli(
        "dicts", "create", "Brand", env={"CARTESIA_BASE_URL": f"{fake.url}/scenario/ok,http-500"}
    )
    assert result.code == 5
    assert "may have been made" in result.stderr, result.stderr


# 6. The mock refuses a nested form before parsing; a folded header gets past the check
#    and the parser's recursion drops the connection with no answer at all.
def test_the_mock_answers_a_nested_form_with_a_folded_header(fake: FakeCartesia) -> None:
    body = b"leaf"
    for level in reversed(range(3000)):  # built inside out, with no recursion here
        bd = f"b{level}".encode()
        body = (
            b"--" + bd + b'\r\nContent-Disposition: form-data; name="clip"\r\n'
            b"Content-Type:\r\n multipart/mixed; boundary=b" + str(level + 1).encode()
            + b"\r\n\r\n" + body + b"\r\n--" + bd + b"--\r\n"
        )  # fmt: skip
    url = urlsplit(fake.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request(
        "POST", "/voices/clone", body=body,
        headers={"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": "2026-08-14",
                 "Content-Type": "multipart/form-data; boundary=b0"},
    )  # fmt: skip
    response = conn.getresponse()  # today: RemoteDisconnected (the mock's RecursionError)
    assert response.status == 400
    assert "title" in json.loads(response.read())


# 7. A clip the CLI takes as a WAV and sends as it is (RF64) is refused by the mock as
#    "not audio": the local check and the server disagree.
def test_an_rf64_clip_the_cli_sends_is_taken(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg makes the RF64 file")
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=d=6", "-rf64", "always",
         str(tmp_path / "rf64.wav")], check=True, timeout=60,
    )  # fmt: skip
    result = cli("voices", "clone", "rf64.wav", "--name", "R", "--language", "en")
    assert result.code in (0, 2), result.stderr  # made, or refused locally: not a 400
