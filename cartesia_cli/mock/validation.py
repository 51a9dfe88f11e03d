"""Request checks the fake applies, modelled on the real API (cartesia-api §2, §4.4)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# Kept apart from the client's lists in cartesia_cli.formats on purpose: the fake
# stands for the server, so a client that drifts from the API is caught here.
ENCODINGS = ("pcm_f32le", "pcm_s16le", "pcm_mulaw", "pcm_alaw")
SAMPLE_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
MODELS = (
    "sonic-3.5",
    "sonic-3",
    "sonic-latest",
    "sonic-3-latest",
    "sonic-3.5-2026-05-04",
    "sonic-3-2026-01-12",
    "sonic-3-2025-10-27",
    "sonic-2-2025-04-16",
    "sonic-2-2025-05-08",
    "sonic-2-2025-06-11",
    "sonic-turbo-2025-06-04",
)
SUNSET_MODELS = (
    "sonic",
    "sonic-english",
    "sonic-multilingual",
    "sonic-2-2025-03-07",
    "sonic-turbo-2025-03-07",
)
OLDEST_VERSION = "2025-11-04"
STRUCTURED_ERRORS_SINCE = "2026-03-01"
_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PUNCTUATION_ONLY = re.compile(r"[\W_]*")


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
    transcript: str
    model_id: str
    encoding: str
    sample_rate: int
    add_timestamps: bool
    add_phoneme_timestamps: bool
    context_id: str | None


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


def parse_tts_body(raw: bytes) -> TtsJob | Problem:
    try:
        body = json.loads(raw)
    except ValueError:
        return _invalid("The request body is not valid JSON.")
    if not isinstance(body, dict):
        return _invalid("The request body must be a JSON object.")
    for key in ("model_id", "transcript", "voice", "output_format"):
        if key not in body:
            return _invalid(f"{key} is required.")
    return _check_fields(body)


def _check_fields(body: dict[str, Any]) -> TtsJob | Problem:
    transcript, model = body["transcript"], body["model_id"]
    if not isinstance(transcript, str) or _PUNCTUATION_ONLY.fullmatch(transcript):
        return _invalid("transcript empty or contains only punctuation.")
    if not isinstance(model, str) or not model:
        return _invalid("model_id must be a non-empty string.")
    if "language" in body and "locale" in body:
        return _invalid("language and locale cannot be combined.")
    problem = _check_voice(body["voice"]) or _check_model(model)
    fmt = body["output_format"]
    problem = problem or _check_output_format(fmt)
    if problem:
        return problem
    return TtsJob(
        transcript=transcript,
        model_id=model,
        encoding=fmt["encoding"],
        sample_rate=fmt["sample_rate"],
        add_timestamps=body.get("add_timestamps") is True,
        add_phoneme_timestamps=body.get("add_phoneme_timestamps") is True,
        context_id=body.get("context_id") if isinstance(body.get("context_id"), str) else None,
    )


def _check_voice(voice: object) -> Problem | None:
    voice_id = voice.get("id") if isinstance(voice, dict) else voice
    if isinstance(voice, dict) and voice.get("mode", "id") != "id":
        return _invalid("voice.mode must be 'id'.")
    if not isinstance(voice_id, str) or not voice_id:
        return _invalid('voice must be a voice id or {"id": ...}.')
    if not _UUID.fullmatch(voice_id):
        return Problem(404, "Voice not found", f"No voice with id {voice_id!r}.", "voice_not_found")
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


def _check_output_format(fmt: object) -> Problem | None:
    if not isinstance(fmt, dict):
        return _invalid("output_format must be an object.")
    if fmt.get("container") != "raw":
        return _invalid("output_format.container must be 'raw' for SSE.")
    if fmt.get("encoding") not in ENCODINGS:
        return _invalid(f"output_format.encoding must be one of {', '.join(ENCODINGS)}.")
    if fmt.get("sample_rate") not in SAMPLE_RATES:
        rates = ", ".join(map(str, SAMPLE_RATES))
        return _invalid(f"output_format.sample_rate must be one of {rates}.")
    return None


def _invalid(message: str) -> Problem:
    return Problem(400, "Invalid request", message)
