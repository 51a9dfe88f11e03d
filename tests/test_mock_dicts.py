"""The mock's pronunciation dictionaries: made, listed by cursor, read, replaced, deleted."""

from __future__ import annotations

import re
import threading
from typing import Any

import httpx
import pytest

from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY

NEW = "2026-08-14"
OLD = "2025-11-04"
DICTS = "/pronunciation-dicts/"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")
# One client for the module: plain http, so no TLS context (~20 ms) built per request.
CLIENT = httpx.Client(verify=False, timeout=10)


def call(
    fake: FakeCartesia,
    method: str,
    path: str,
    body: Any = None,
    *,
    version: str = NEW,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = {"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": version, **(headers or {})}
    return CLIENT.request(method, fake.url + path, json=body, headers=sent)


def make(fake: FakeCartesia, name: str = "names", items: Any = None) -> dict[str, Any]:
    body = {"name": name} if items is None else {"name": name, "items": items}
    response = call(fake, "POST", DICTS, body)
    assert response.status_code == 200, response.text
    made: dict[str, Any] = response.json()
    return made


@pytest.mark.parametrize("path", [DICTS, DICTS.rstrip("/")])
def test_a_new_dictionary_has_every_field(fake: FakeCartesia, path: str) -> None:
    response = call(fake, "POST", path, {"name": "Places", "items": []})
    assert response.status_code == 200  # not 201: the API answers 200
    made = response.json()
    assert set(made) == {"id", "name", "owner_id", "pinned", "items", "created_at"}
    assert UUID.fullmatch(made["id"]) and made["name"] == "Places" and made["items"] == []
    assert made["pinned"] is False and isinstance(made["owner_id"], str)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", made["created_at"])
    assert call(fake, "GET", f"/pronunciation-dicts/{made['id']}").json() == made
    assert make(fake)["items"] == []  # items may be left out


def test_items_answer_with_both_keys_and_keep_case_sensitive(fake: FakeCartesia) -> None:
    items = [
        {"text": "bayou", "pronunciation": "<<b|a|j|u>>"},
        {"text": "Tchoupitoulas", "alias": "chop-uh-TOO-liss", "case_sensitive": True},
        {"text": "GIF", "pronunciation": "jif", "alias": "jiff", "case_sensitive": False},
    ]
    assert make(fake, items=items)["items"] == [
        {"text": "bayou", "pronunciation": "<<b|a|j|u>>", "alias": "<<b|a|j|u>>"},
        {"text": "Tchoupitoulas", "pronunciation": "chop-uh-TOO-liss",
         "alias": "chop-uh-TOO-liss", "case_sensitive": True},
        {"text": "GIF", "pronunciation": "jif", "alias": "jiff", "case_sensitive": False},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"name": "x", "items": [{"text": "a"}]}, "needs a pronunciation"),
        ({"name": "x", "items": [{"text": "", "alias": "b"}]}, "text must be a non-empty"),
        ({"name": "x", "items": [{"text": " ", "alias": "b"}]}, "text must be a non-empty"),
        ({"name": "x", "items": [{"text": "a", "pronunciation": ""}]}, "pronunciation must be"),
        ({"name": "x", "items": [{"text": "a", "alias": 3}]}, "alias must be"),
        ({"name": "x", "items": [{"text": "a", "alias": "b", "case_sensitive": "yes"}]},
         "case_sensitive must be true or false"),
        ({"name": "x", "items": [{"text": "a", "alias": "b"}, {"text": "a", "alias": "c"}]},
         "'a' is already in the dictionary"),
        ({"name": "x", "items": {"text": "a"}}, "items must be a list"),
        ({"name": "x", "items": ["a"]}, "items[0] must be an object"),
        ({"items": []}, "name is required"),
        ({"name": "  "}, "name must be a non-empty string"),
        (["name"], "must be a JSON object"),
    ],
)  # fmt: skip
def test_bad_dictionaries_are_refused_with_a_reason(
    fake: FakeCartesia, body: Any, words: str
) -> None:
    response = call(fake, "POST", DICTS, body)
    assert response.status_code == 400
    assert words in response.json()["message"]
    assert call(fake, "GET", DICTS).json()["data"] == []  # nothing was made


def test_paging_by_cursor_visits_each_once_and_ends_with_an_empty_page(
    fake: FakeCartesia,
) -> None:
    made = [make(fake, f"d{i}")["id"] for i in range(5)]
    seen: list[str] = []
    query = "?limit=2"
    while True:
        page = call(fake, "GET", DICTS + query).json()
        if not page["data"]:
            assert page == {"data": [], "has_more": False, "next_page": None}
            break
        seen += [d["id"] for d in page["data"]]
        assert page["has_more"] == (len(seen) < 5)
        assert page["next_page"] == (seen[-1] if page["has_more"] else None)
        query = f"?limit=2&starting_after={seen[-1]}"
    assert seen == made
    before = call(fake, "GET", f"{DICTS}?limit=2&ending_before={made[3]}").json()["data"]
    assert [d["id"] for d in before] == made[1:3]
    assert len(call(fake, "GET", DICTS.rstrip("/")).json()["data"]) == 5  # default limit 10
    for limit in ("0", "101", "x"):
        assert call(fake, "GET", f"{DICTS}?limit={limit}").status_code == 400


def test_patch_replaces_what_it_gives_and_items_wholesale(fake: FakeCartesia) -> None:
    made = make(fake, items=[{"text": "a", "alias": "b"}, {"text": "c", "alias": "d"}])
    path = f"/pronunciation-dicts/{made['id']}"
    renamed = call(fake, "PATCH", path, {"name": "renamed"}).json()
    assert renamed == {**made, "name": "renamed"}
    replaced = call(fake, "PATCH", path, {"items": [{"text": "e", "pronunciation": "f"}]})
    assert replaced.status_code == 200
    assert replaced.json()["items"] == [{"text": "e", "pronunciation": "f", "alias": "f"}]
    assert call(fake, "PATCH", path, {"name": None, "items": None}).json() == replaced.json()
    refused = call(fake, "PATCH", path, {"items": [{"text": "e"}]})
    assert refused.status_code == 400
    assert call(fake, "GET", path).json() == replaced.json()  # unchanged by the refusal
    assert call(fake, "PATCH", path, {"items": []}).json()["items"] == []


def test_delete_is_204_then_404_everywhere(fake: FakeCartesia) -> None:
    made = make(fake)
    path = f"/pronunciation-dicts/{made['id']}"
    deleted = call(fake, "DELETE", path, headers={"Accept": "*/*"})
    assert deleted.status_code == 204 and deleted.content == b""
    assert "content-type" not in deleted.headers
    for method, body in (("DELETE", None), ("GET", None), ("PATCH", {"name": "x"})):
        response = call(fake, method, path, body)
        assert response.status_code == 404
        assert response.json()["error_code"] == "pronunciation_dict_not_found"
    assert call(fake, "GET", DICTS).json()["data"] == []


@pytest.mark.parametrize("version", [NEW, OLD])
def test_an_unknown_id_is_a_404_in_the_versions_shape(fake: FakeCartesia, version: str) -> None:
    response = call(fake, "GET", "/pronunciation-dicts/no-such-dict", version=version)
    assert response.status_code == 404
    if version == OLD:  # before 2026-03-01: the plain-text error
        assert response.text.startswith("Pronunciation dictionary not found: ")
    else:
        assert "no-such-dict" in response.json()["message"]


def test_names_may_repeat_across_dictionaries(fake: FakeCartesia) -> None:
    first, second = make(fake, "same"), make(fake, "same")
    assert first["id"] != second["id"]
    assert [d["name"] for d in call(fake, "GET", DICTS).json()["data"]] == ["same", "same"]


def test_wrong_method_no_key_and_the_old_version(fake: FakeCartesia) -> None:
    made = make(fake)
    assert call(fake, "POST", f"/pronunciation-dicts/{made['id']}", {}).status_code == 405
    assert call(fake, "DELETE", DICTS).status_code == 405
    no_key = CLIENT.get(fake.url + DICTS, headers={"Cartesia-Version": NEW})
    assert no_key.status_code == 401
    assert call(fake, "GET", DICTS, version="2024-06-10").status_code == 400
    assert call(fake, "GET", DICTS, version=OLD).json()["data"] == [made]  # same shape


def test_each_server_keeps_its_own(fake: FakeCartesia) -> None:
    make(fake)
    with FakeCartesia(api_key=API_KEY) as other:
        assert call(other, "GET", DICTS).json()["data"] == []
    assert len(call(fake, "GET", DICTS).json()["data"]) == 1


def test_concurrent_creates_all_land(fake: FakeCartesia) -> None:
    names = [f"d{i}" for i in range(24)]
    threads = [threading.Thread(target=make, args=(fake, name)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    listed = call(fake, "GET", f"{DICTS}?limit=100").json()["data"]
    assert sorted(d["name"] for d in listed) == sorted(names)
    assert len({d["id"] for d in listed}) == len(names)


@pytest.mark.parametrize("scenario", ["http-503", "http-429", "drop"])
def test_scenarios_apply_and_a_failed_create_makes_nothing(
    fake: FakeCartesia, scenario: str
) -> None:
    headers = {"Cartesia-Mock-Scenario": scenario}
    if scenario == "drop":
        with pytest.raises(httpx.RemoteProtocolError):
            call(fake, "POST", DICTS, {"name": "x"}, headers=headers)
    else:
        response = call(fake, "POST", DICTS, {"name": "x"}, headers=headers)
        assert response.status_code == int(scenario[5:])
    assert [r.method for r in fake.requests] == ["POST"]  # counted: one request
    assert call(fake, "GET", DICTS).json()["data"] == []
    fake.queue("wrong-content-type")
    assert call(fake, "GET", DICTS).headers["content-type"] == "text/html"


def test_a_body_past_the_cap_is_refused_unread(fake: FakeCartesia) -> None:
    items = [{"text": f"w{i}", "alias": "x" * 100} for i in range(12_000)]
    response = call(fake, "POST", DICTS, {"name": "big", "items": items})
    assert response.status_code == 413
