"""Request checks the fake applies, modelled on the real API."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from cartesia_cli.mock.pronounce import Rule

# Kept apart from the client's lists in cartesia_cli.formats on purpose: the fake
# stands for the server, so a client that drifts from the API is caught here.
ENCODINGS = ("pcm_f32le", "pcm_s16le", "pcm_mulaw", "pcm_alaw")
SAMPLE_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
MP3_BIT_RATES = (32000, 64000, 96000, 128000, 192000)
SSE_CONTAINERS = ("raw",)
BYTES_CONTAINERS = ("raw", "wav", "mp3")
# generation_config number fields and their inclusive ranges.
GENERATION_RANGES = {"speed": (0.6, 1.5), "volume": (0.5, 2.0)}
# The models the server serves, newest families first, dated snapshots before aliases.
MODELS = (
    "sonic-3.6-2026-08-27",
    "sonic-3.6",
    "sonic-preview",
    "sonic-3.5-2026-05-04",
    "sonic-3.5",
    "sonic-3-2026-01-12",
    "sonic-3-2025-10-27",
    "sonic-3",
    "sonic-3-latest",
    "sonic-latest",
    "sonic-2-2025-06-11",
    "sonic-2-2025-05-08",
    "sonic-2-2025-04-16",
    "sonic-turbo-2025-06-04",
)
SUNSET_MODELS = (
    "sonic",
    "sonic-english",
    "sonic-multilingual",
    "sonic-2-2025-03-07",
    "sonic-turbo-2025-03-07",
)
# Models that take region codes in `locale` and `normalization`, and the languages new in 3.6.
LOCALE_MODELS = ("sonic-3.6-2026-08-27", "sonic-3.6", "sonic-preview")
LANGUAGES_SINCE_3_6 = ("or", "ur")
OLDEST_VERSION = "2025-11-04"
BARE_VOICE_SINCE = "2026-08-14"  # the voice as its id alone; before, {"mode": "id", "id": …}
STRUCTURED_ERRORS_SINCE = "2026-03-01"
_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PUNCTUATION_ONLY = re.compile(r"[\W_]*")
_DIGITS = re.compile(r"[0-9]+")
# The largest request body read: a TTS request is a few kilobytes of JSON.
MAX_BODY = 1024 * 1024
# How deep request JSON may nest; a real request nests three levels.
MAX_JSON_DEPTH = 32


@dataclass(frozen=True)
class Problem:
    """A rejected request. `as_event` problems come as a 200 stream with an error event."""

    status: int
    title: str
    message: str
    error_code: str | None = None
    as_event: bool = False


@dataclass(frozen=True)
class TtsJob:
    """A valid request. For mp3, `encoding` is pcm_s16le: the PCM fed to the encoder."""

    transcript: str
    model_id: str
    encoding: str
    sample_rate: int
    add_timestamps: bool
    add_phoneme_timestamps: bool
    context_id: str | None
    container: str = "raw"
    bit_rate: int | None = None  # mp3 only
    voice_id: str = ""
    pronunciation_dict_id: str | None = None
    # The dictionary's rules, filled in by the server that knows it (store.Store.prepare).
    pronunciations: tuple[Rule, ...] = ()


def check_auth(authorization: str | None, api_key: str | None) -> Problem | None:
    scheme, _, key = (authorization or "").partition(" ")
    if scheme != "Bearer" or not key or (api_key is not None and key != api_key):
        return Problem(401, "Unauthorized", "Invalid API key.")
    return None


def check_version(version: str | None) -> Problem | None:
    if not version:
        return Problem(400, "Missing version", "The Cartesia-Version header is required.")
    if not _VERSION.fullmatch(version) or version < OLDEST_VERSION:
        return Problem(400, "Invalid version", f"Unsupported Cartesia-Version {version!r}.")
    return None


def structured_errors(version: str | None) -> bool:
    return bool(version) and str(version) >= STRUCTURED_ERRORS_SINCE


def content_length(values: list[str] | None, limit: int = MAX_BODY) -> int | Problem:
    """A request's body length from its Content-Length header(s), or why it is refused.

    Digits only (no sign, no spaces inside, no `1_000` that int() would take);
    repeated headers must agree; more than `limit` bytes is a 413, said before
    the body is read. No header: no body.
    """
    given = {value.strip() for value in values or []}
    if not given:
        return 0
    if len(given) > 1:
        return invalid("The request has conflicting Content-Length headers.")
    (value,) = given
    if not _DIGITS.fullmatch(value):
        return invalid("Content-Length must be a whole number of bytes.")
    # Compared as text first: a hundred-digit number is refused without making it an int.
    if len(value.lstrip("0")) > len(str(limit)) or int(value) > limit:
        return Problem(413, "Request too large", f"The body may be at most {limit} bytes.")
    return int(value)


def load_json(raw: bytes | str, what: str) -> Any | Problem:
    """`raw` parsed, or a 400 naming `what` ("The request body", "The message").

    Nesting past MAX_JSON_DEPTH is refused before parsing: the parser recurses once
    per level, and in a process whose recursion limit was raised (test runners
    raise it) a megabyte of `[` would overflow the C stack instead of raising.
    """
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        return invalid(f"{what} is not valid JSON.")
    depth = _nesting(text, MAX_JSON_DEPTH)
    if depth is None:
        return invalid(f"{what} is not valid JSON.")
    if depth > MAX_JSON_DEPTH:
        return invalid(f"{what} nests deeper than {MAX_JSON_DEPTH} levels.")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return invalid(f"{what} is not valid JSON.")


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_INNERMOST = re.compile(r"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")
_OPENERS = re.compile(r"[\[{]")


def _nesting(text: str, limit: int) -> int | None:
    """How deep `text`'s brackets nest (limit + 1 meaning deeper); None if unbalanced.

    Strings are blanked first (brackets in them are text); then each round takes
    away the innermost containers, in C, so a megabyte costs at most `limit`
    linear passes, not a Python loop per character.
    """
    if text.count("[") + text.count("{") <= limit:
        return 0  # cannot nest deeper than it has brackets
    rest = _JSON_STRING.sub('""', text)
    for depth in range(limit + 1):  # `depth` levels taken away so far
        if not _OPENERS.search(rest):
            return depth
        if depth == limit:
            return limit + 1
        rest, removed = _INNERMOST.subn("0", rest)
        if not removed:
            return None  # an opener never closed (or closed by the other kind)
    return None  # not reached: the loop returns by depth == limit


def parse_tts_body(
    raw: bytes, containers: tuple[str, ...] = SSE_CONTAINERS, *, version: str | None = None
) -> TtsJob | Problem:
    """The job a `/tts/sse` (or, given BYTES_CONTAINERS, `/tts/bytes`) body asks for.

    With the client's `version`, the voice must have that version's shape.
    """
    body = load_json(raw, "The request body")
    if isinstance(body, Problem):
        return body
    if not isinstance(body, dict):
        return invalid("The request body must be a JSON object.")
    for key in ("model_id", "transcript", "voice", "output_format"):
        if key not in body:
            return invalid(f"{key} is required.")
    return _check_voice_shape(body["voice"], version) or job_from_fields(body, containers)


def job_from_fields(
    body: dict[str, Any],
    containers: tuple[str, ...],
    *,
    endpoint: str = "SSE",
    pieces: bool = False,
) -> TtsJob | Problem:
    """The job a request object with every required key asks for, or what is wrong with it.

    With `pieces` (a WebSocket context fed in parts) any string is a transcript,
    the empty one included.
    """
    transcript, model = body["transcript"], body["model_id"]
    if not isinstance(transcript, str):
        return invalid("transcript must be a string.")
    if not pieces and _PUNCTUATION_ONLY.fullmatch(transcript):
        return invalid("transcript empty or contains only punctuation.")
    if not isinstance(model, str) or not model:
        return invalid("model_id must be a non-empty string.")
    fmt = body["output_format"]
    problem = (
        _check_controls(body)
        or _check_voice(body["voice"])
        or _check_model(model)
        or _check_locales(body, model)
        or _check_output_format(fmt, containers, endpoint)
    )
    if problem:
        return problem
    mp3 = fmt["container"] == "mp3"
    return TtsJob(
        transcript=transcript,
        model_id=model,
        encoding="pcm_s16le" if mp3 else fmt["encoding"],
        sample_rate=int(fmt["sample_rate"]),
        add_timestamps=body.get("add_timestamps") is True,
        add_phoneme_timestamps=body.get("add_phoneme_timestamps") is True,
        context_id=body.get("context_id"),
        container=fmt["container"],
        bit_rate=int(fmt["bit_rate"]) if mp3 else None,
        voice_id=_voice_id(body["voice"]),
        pronunciation_dict_id=body.get("pronunciation_dict_id"),
    )


def _voice_id(voice: object) -> str:
    """The id of a voice _check_voice accepted: `"<id>"` or `{"id": …}`."""
    return str(voice.get("id") if isinstance(voice, dict) else voice)


def _check_controls(body: dict[str, Any]) -> Problem | None:
    """The optional generation controls: language, generation_config, and ids."""
    if "language" in body and "locale" in body:
        return invalid("language and locale cannot be combined.")
    for key in ("language", "locale", "normalization", "pronunciation_dict_id"):
        if key in body and not _is_text(body[key]):
            return invalid(f"{key} must be a non-empty string.")
    if "context_id" in body and not isinstance(body["context_id"], str):
        return invalid("context_id must be a string.")
    if "generation_config" in body:
        return _check_generation_config(body["generation_config"])
    return None


def _check_generation_config(config: object) -> Problem | None:
    if not isinstance(config, dict):
        return invalid("generation_config must be an object.")
    for key, (low, high) in GENERATION_RANGES.items():
        if key in config and not (_is_number(config[key]) and low <= config[key] <= high):
            return invalid(f"generation_config.{key} must be a number from {low} to {high}.")
    if "emotion" in config and not _is_text(config["emotion"]):
        return invalid("generation_config.emotion must be a non-empty string.")
    return None  # unknown keys are allowed, as the real API allows them


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_voice(voice: object) -> Problem | None:
    voice_id = voice.get("id") if isinstance(voice, dict) else voice
    if isinstance(voice, dict) and voice.get("mode", "id") != "id":
        return invalid("voice.mode must be 'id'.")
    if not isinstance(voice_id, str) or not voice_id:
        return invalid('voice must be a voice id or {"id": ...}.')
    if not _UUID.fullmatch(voice_id):
        return Problem(404, "Voice not found", f"No voice with id {voice_id!r}.", "voice_not_found")
    return None


def _check_voice_shape(voice: object, version: str | None) -> Problem | None:
    """2026-08-14 takes `"<id>"` or `{"id": …}`; earlier versions only `{"mode": "id", "id": …}`."""
    if version is None or version >= BARE_VOICE_SINCE:
        return None
    if not (isinstance(voice, dict) and "mode" in voice and "id" in voice):
        shape = '{"mode": "id", "id": ...}'
        return invalid(f"voice must be {shape} with Cartesia-Version {version}.")
    return None


def _check_locales(body: dict[str, Any], model: str) -> Problem | None:
    """Region codes, and the languages new in 3.6, only on the models that have them."""
    if model in LOCALE_MODELS:
        return None
    for key in ("locale", "normalization"):
        code = body.get(key)
        if isinstance(code, str) and ("-" in code or "_" in code):
            return invalid(f"Locale codes are not supported by {model}. Use sonic-3.6.")
    for key in ("language", "locale"):
        if body.get(key) in LANGUAGES_SINCE_3_6:
            return invalid(f"Language {body[key]!r} is not supported by {model}. Use sonic-3.6.")
    return None


def _check_model(model: str) -> Problem | None:
    if model in SUNSET_MODELS:
        return Problem(
            400,
            "Model sunsetted",
            "The requested model has been sunsetted and is no longer available.",
            "model_sunsetted",
        )
    if model not in MODELS:
        return Problem(
            400,
            "Invalid model",
            "The model is not valid, make sure it is a valid model ID.",
            "model_not_found",
            as_event=True,
        )
    return None


def _check_output_format(fmt: object, containers: tuple[str, ...], endpoint: str) -> Problem | None:
    if not isinstance(fmt, dict):
        return invalid("output_format must be an object.")
    container = fmt.get("container")
    if container not in containers:
        if containers == SSE_CONTAINERS:
            return invalid(f"output_format.container must be 'raw' for {endpoint}.")
        return invalid(f"output_format.container must be one of {', '.join(containers)}.")
    if container == "mp3":  # an mp3 has no PCM encoding: an `encoding` key is ignored
        problem = _check_choice(fmt, "bit_rate", MP3_BIT_RATES)
    else:
        problem = _check_choice(fmt, "encoding", ENCODINGS)
    return problem or _check_choice(fmt, "sample_rate", SAMPLE_RATES)


def _check_choice(
    fmt: dict[str, Any], key: str, allowed: tuple[str, ...] | tuple[int, ...]
) -> Problem | None:
    value = fmt.get(key)
    # `True in (1, ...)` would pass: a bool is never a valid choice.
    if isinstance(value, bool) or value not in allowed:
        return invalid(f"output_format.{key} must be one of {', '.join(map(str, allowed))}.")
    return None


def invalid(message: str) -> Problem:
    """A 400 "Invalid request" with this message."""
    return Problem(400, "Invalid request", message)
