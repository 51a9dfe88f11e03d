"""The mock's `GET /voices` and `GET /voices/{id}`, directly and through the official SDK."""

from __future__ import annotations

import httpx
import pytest

from cartesia_cli.mock import FakeCartesia
from cartesia_cli.mock.voices import CATALOGUE

from .conftest import API_KEY
from .test_mock import HEADERS


def get(fake: FakeCartesia, path: str, version: str = "2026-08-14") -> httpx.Response:
    headers = {**HEADERS, "Cartesia-Version": version}
    return httpx.get(f"{fake.url}{path}", headers=headers, timeout=10)


def test_paging_by_cursor_visits_every_voice_once_and_ends_empty(fake: FakeCartesia) -> None:
    seen: list[str] = []
    cursor = ""
    for _ in range(20):
        page = get(fake, f"/voices?limit=7{cursor}").json()
        if not page["data"]:
            break
        seen += [voice["id"] for voice in page["data"]]
        assert page["has_more"] == (len(seen) < len(CATALOGUE))
        assert page["next_page"] == (page["data"][-1]["id"] if page["has_more"] else None)
        cursor = f"&starting_after={page['data'][-1]['id']}"
    assert seen == [voice["id"] for voice in CATALOGUE]


def test_filters_and_the_accent_blind_search(fake: FakeCartesia) -> None:
    french = get(fake, "/voices?language=fr&limit=100", "2025-11-04").json()["data"]
    assert {v["name"] for v in french} == {"Théo", "Amélie"}
    canadian = get(fake, "/voices?language=fr_CA&limit=100", "2025-11-04").json()["data"]
    assert [v["name"] for v in canadian] == ["Théo"]
    # From 2026-08-14 the filter is not documented; the mock ignores it, as a server may.
    assert len(get(fake, "/voices?language=fr&limit=100").json()["data"]) == len(CATALOGUE)
    assert [v["name"] for v in get(fake, "/voices?q=theo").json()["data"]] == ["Théo"]
    feminine = get(fake, "/voices?gender=feminine&limit=100").json()["data"]
    assert feminine and all(v["gender"] == "feminine" for v in feminine)
    assert get(fake, "/voices?gender=robot").status_code == 400
    assert get(fake, "/voices?limit=0").status_code == 400


def test_one_voice_by_id_and_a_404_with_the_servers_message(fake: FakeCartesia) -> None:
    katie = get(fake, "/voices/f786b574-daa5-4673-aa0c-cbe3e8534c02").json()
    assert katie["name"] == "Katie" and katie["access"] == "public" and katie["tagline"] == ""
    missing = get(fake, "/voices/nope")
    assert missing.status_code == 404 and missing.json()["error_code"] == "voice_not_found"


def test_the_voice_shape_follows_the_version(fake: FakeCartesia) -> None:
    old = get(fake, "/voices/f786b574-daa5-4673-aa0c-cbe3e8534c02", version="2025-11-04").json()
    assert "is_public" in old and "access" not in old and "tagline" not in old


def test_voices_need_the_key(fake: FakeCartesia) -> None:
    response = httpx.get(f"{fake.url}/voices", headers={"Cartesia-Version": "2026-08-14"})
    assert response.status_code == 401


def test_the_official_sdk_pages_to_the_end_without_looping(fake: FakeCartesia) -> None:
    cartesia = pytest.importorskip("cartesia")
    client = cartesia.Cartesia(api_key=API_KEY, base_url=fake.url, max_retries=0)
    names = [voice.name for voice in client.voices.list(limit=4)]
    assert names == [voice["name"] for voice in CATALOGUE]
    assert client.voices.get("f786b574-daa5-4673-aa0c-cbe3e8534c02").name == "Katie"
