"""What one fake server remembers while it runs: its voices and pronunciation dictionaries.

One `Store` per FakeCartesia (so per `cartesia-cli mock` process), shared by its
handler threads: every read and change holds the store's lock, and what leaves
it is a copy. It starts with the voice catalogue (voices.py); voices made by
clone or localize join it, deleted ones leave it and stay gone (404) for TTS too.
Bounded: at most MAX_VOICES voices made and DICTIONARY_BUDGET characters of
dictionaries, so a server left running cannot be grown without limit.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from cartesia_cli.mock.pronounce import Rule
from cartesia_cli.mock.validation import Problem, TtsJob
from cartesia_cli.mock.voices import CATALOGUE, Voice, voice_not_found

Dictionary = dict[str, Any]
MAX_VOICES = 10_000  # voices made in one server
DICTIONARY_BUDGET = 64 * 1024 * 1024  # characters over all dictionaries' names and items
OWNER_ID = "user_mock"  # the account the mock's key stands for


def dictionary_not_found(dictionary_id: str) -> Problem:
    return Problem(
        404,
        "Pronunciation dictionary not found",
        f"No pronunciation dictionary with id {dictionary_id!r}.",
        "pronunciation_dict_not_found",
    )


def not_yours(voice_id: str) -> Problem:
    """A library voice: the caller may use it but not change or delete it (404, not 403:
    a 403 reads as a refused key)."""
    return Problem(
        404,
        "Voice not owned",
        f"Voice {voice_id!r} is a library voice: only voices you own can be changed or deleted.",
        "voice_not_owned",
    )


class Store:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._voices: dict[str, Voice] = {v["id"]: copy.deepcopy(v) for v in CATALOGUE}
        self._made = 0
        self._deleted: set[str] = set()
        self._dictionaries: dict[str, Dictionary] = {}
        self._dictionary_size = 0

    # --- voices --------------------------------------------------------------------------

    def voices(self) -> list[Voice]:
        with self._lock:
            return copy.deepcopy(list(self._voices.values()))

    def voice(self, voice_id: str) -> Voice | None:
        with self._lock:
            return copy.deepcopy(self._voices.get(voice_id))

    def add_voice(self, voice: Voice) -> Problem | None:
        with self._lock:
            if self._made >= MAX_VOICES:
                return Problem(
                    400, "Too many voices", f"The mock keeps at most {MAX_VOICES} voices made."
                )
            self._made += 1
            self._voices[voice["id"]] = copy.deepcopy(voice)
        return None

    def change_voice(
        self, voice_id: str, change: Callable[[Voice], Voice | Problem]
    ) -> Voice | Problem:
        """A voice of the caller's, changed by `change` (given a copy) unless it says no."""
        with self._lock:
            voice = self._owned(voice_id)
            if isinstance(voice, Problem):
                return voice
            changed = change(copy.deepcopy(voice))
            if isinstance(changed, Problem):
                return changed
            self._voices[voice_id] = copy.deepcopy(changed)
            return changed

    def delete_voice(self, voice_id: str) -> Problem | None:
        with self._lock:
            voice = self._owned(voice_id)
            if isinstance(voice, Problem):
                return voice
            del self._voices[voice_id]
            self._deleted.add(voice_id)
        return None

    def _owned(self, voice_id: str) -> Voice | Problem:
        """The caller's own voice `voice_id` (the lock held), or why it may not be changed."""
        voice = self._voices.get(voice_id)
        if voice is None:
            return voice_not_found(voice_id)
        return voice if voice["is_owner"] else not_yours(voice_id)

    # --- pronunciation dictionaries ------------------------------------------------------

    def dictionaries(self) -> list[Dictionary]:
        with self._lock:
            return copy.deepcopy(list(self._dictionaries.values()))

    def dictionary(self, dictionary_id: str) -> Dictionary | None:
        with self._lock:
            return copy.deepcopy(self._dictionaries.get(dictionary_id))

    def add_dictionary(self, dictionary: Dictionary) -> Problem | None:
        with self._lock:
            problem = self._fits(_size(dictionary))
            if problem is None:
                self._dictionaries[dictionary["id"]] = copy.deepcopy(dictionary)
                self._dictionary_size += _size(dictionary)
            return problem

    def change_dictionary(
        self, dictionary_id: str, changes: dict[str, Any]
    ) -> Dictionary | Problem:
        """The dictionary with `changes` (its fields, replaced whole) made."""
        with self._lock:
            old = self._dictionaries.get(dictionary_id)
            if old is None:
                return dictionary_not_found(dictionary_id)
            new = {**old, **copy.deepcopy(changes)}
            problem = self._fits(_size(new) - _size(old))
            if problem is not None:
                return problem
            self._dictionaries[dictionary_id] = new
            self._dictionary_size += _size(new) - _size(old)
            return copy.deepcopy(new)

    def delete_dictionary(self, dictionary_id: str) -> Problem | None:
        with self._lock:
            old = self._dictionaries.pop(dictionary_id, None)
            if old is None:
                return dictionary_not_found(dictionary_id)
            self._dictionary_size -= _size(old)
        return None

    def _fits(self, more: int) -> Problem | None:
        if self._dictionary_size + more <= DICTIONARY_BUDGET:
            return None
        return Problem(
            400,
            "Too many pronunciations",
            f"The mock keeps at most {DICTIONARY_BUDGET} characters of dictionaries;"
            " delete some first.",
        )

    # --- speech --------------------------------------------------------------------------

    def prepare(self, job: TtsJob) -> TtsJob | Problem:
        """A TTS job as this server can speak it: its voice not deleted here, its
        dictionary (if it names one) known and its rules taken in."""
        with self._lock:
            if job.voice_id in self._deleted:
                return voice_not_found(job.voice_id)
            if job.pronunciation_dict_id is None:
                return job
            dictionary = self._dictionaries.get(job.pronunciation_dict_id)
            if dictionary is None:
                return dictionary_not_found(job.pronunciation_dict_id)
            rules = tuple(
                Rule(item["text"], item["pronunciation"], item.get("case_sensitive"))
                for item in dictionary["items"]
            )
        return replace(job, pronunciations=rules)


def _size(dictionary: Dictionary) -> int:
    return len(dictionary["name"]) + len(json.dumps(dictionary["items"]))
