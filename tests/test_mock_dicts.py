"""The mock's pronunciation dictionaries: made, listed by cursor, read, replaced, deleted."""

from __future__ import annotations

import re
import threading
from typing import Any

import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cartesia_cli.mock import FakeCartesia
from cartesia_cli.mock.pronounce import Rule, pronounced

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


# --- a dictionary in a TTS request ---------------------------------------------------------

RAW = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 8000}
WAV = {"container": "wav", "encoding": "pcm_s16le", "sample_rate": 8000}


def speak(
    fake: FakeCartesia, text: str, dictionary: str | None = None, *, route: str = "sse",
    model: str = "sonic-3.5",
) -> httpx.Response:  # fmt: skip
    body: dict[str, Any] = {
        "model_id": model,
        "transcript": text,
        "voice": "a0e99841-438c-4a64-b679-ae501e7d6091",
        "output_format": RAW if route == "sse" else WAV,
    }
    if dictionary is not None:
        body["pronunciation_dict_id"] = dictionary
    return call(fake, "POST", f"/tts/{route}", body)


def heard(fake: FakeCartesia, text: str, dictionary: str | None = None, **more: Any) -> bytes:
    response = speak(fake, text, dictionary, **more)
    assert response.status_code == 200, response.text
    return bytes(fake.transmissions[-1].audio)


@pytest.mark.parametrize("route", ["sse", "bytes"])
def test_a_dictionary_changes_the_audio_only_where_a_word_is_replaced(
    fake: FakeCartesia, route: str
) -> None:
    items = [{"text": "Tchoupitoulas", "pronunciation": "chop uh too liss"}]
    made = make(fake, items=items)["id"]
    replaced = "Walk down Tchoupitoulas street."
    assert heard(fake, replaced, made, route=route) != heard(fake, replaced, route=route)
    # What the dictionary says is what is heard: the same audio as the replacement typed.
    typed = heard(fake, "Walk down chop uh too liss street.", route=route)
    assert heard(fake, replaced, made, route=route) == typed
    untouched = "Walk down Canal street."
    assert heard(fake, untouched, made, route=route) == heard(fake, untouched, route=route)


@pytest.mark.parametrize("route", ["sse", "bytes"])
def test_an_unknown_dictionary_is_a_404_before_any_audio(fake: FakeCartesia, route: str) -> None:
    refused = speak(fake, "Hello there.", "00000000-0000-4000-8000-000000000000", route=route)
    assert refused.status_code == 404
    assert refused.json()["error_code"] == "pronunciation_dict_not_found"
    made = make(fake)["id"]
    call(fake, "DELETE", f"/pronunciation-dicts/{made}")
    assert speak(fake, "Hello there.", made, route=route).status_code == 404


def test_a_change_to_the_dictionary_is_heard_on_the_next_request(fake: FakeCartesia) -> None:
    made = make(fake, items=[{"text": "tomato", "alias": "tomahto"}])["id"]
    first = heard(fake, "A tomato.", made)
    call(fake, "PATCH", f"/pronunciation-dicts/{made}", {"items": []})
    assert heard(fake, "A tomato.", made) == heard(fake, "A tomato.") != first


def test_the_websocket_applies_it_and_refuses_an_unknown_one(fake: FakeCartesia) -> None:
    from .test_mock_ws import audio_of, events, open_ws, piece

    made = make(fake, items=[{"text": "GIF", "pronunciation": "jif"}])["id"]
    with open_ws(fake) as ws:
        ws.send(piece("A GIF file.", more=False, context_id="plain"))
        plain = audio_of(events(ws))
        ws.send(piece("A GIF file.", more=False, context_id="d", pronunciation_dict_id=made))
        with_dictionary = audio_of(events(ws))
        ws.send(piece("A jif file.", more=False, context_id="typed"))
        assert with_dictionary == audio_of(events(ws)) != plain
        ws.send(piece("Hi.", more=False, context_id="x", pronunciation_dict_id="nope"))
        error = events(ws)[-1]
    assert error["type"] == "error" and error["context_id"] == "x"
    assert error["status_code"] == 404


# --- the matching rules -------------------------------------------------------------------


def said(text: str, *rules: Rule, every_case: bool = False) -> str:
    return pronounced(text, rules, every_case)


def test_old_models_match_as_written_and_lowercase_at_a_sentence_start() -> None:
    cat = Rule("cat", "kat")
    assert said("cat Cat CAT. Cat! cat", cat) == "kat Cat CAT. kat! kat"
    assert said("Cat sat.", cat) == "kat sat."
    assert said("GIF and gif", Rule("GIF", "jif")) == "jif and gif"  # not lower case: exact
    assert said("category concat cat's", cat) == "category concat kat's"  # whole words only


def test_sonic_3_6_matches_every_case_unless_told_not_to() -> None:
    assert said("cat Cat CAT", Rule("cat", "kat"), every_case=True) == "kat kat kat"
    strict = Rule("cat", "kat", case_sensitive=True)
    assert said("cat Cat CAT. Cat", strict, every_case=True) == "kat Cat CAT. kat"


def test_one_pass_longest_first_and_never_a_replacement_replaced() -> None:
    rules = (Rule("New", "nu"), Rule("New York", "noo york"), Rule("noo", "NO"))
    assert said("New York is New.", *rules) == "noo york is nu."


@pytest.mark.parametrize("model", ["sonic-3.6", "sonic-3.5"])
def test_the_model_decides_the_case_rule_end_to_end(fake: FakeCartesia, model: str) -> None:
    made = make(fake, items=[{"text": "gif", "alias": "jif"}])["id"]
    changed = heard(fake, "A GIF file.", made, model=model) != heard(
        fake, "A GIF file.", model=model
    )
    assert changed == (model == "sonic-3.6")


SMALL = "abAB .!?"


@given(st.text(SMALL, max_size=40), st.text(SMALL, min_size=1, max_size=6), st.booleans())
def test_a_transcript_without_the_text_in_any_case_is_left_alone(
    transcript: str, text: str, every_case: bool
) -> None:
    assume(text.strip() and text.lower() not in transcript.lower())
    assert said(transcript, Rule(text, "<<x>>"), every_case=every_case) == transcript
    assert said(transcript) == transcript


@given(st.text("ab", min_size=1, max_size=6), st.booleans(), st.booleans())
def test_a_lowercase_word_as_written_is_always_replaced(
    word: str, case_sensitive: bool, every_case: bool
) -> None:
    rule = Rule(word, "<<x>>", case_sensitive)
    assert said(f"Say {word} now.", rule, every_case=every_case) == "Say <<x>> now."
