"""Built-in defaults (PRODUCT.md), importable without the validation code.

The CLI layer shows them in --help; keeping them here keeps settings.py and its
imports off the --help and completion paths.
"""

from __future__ import annotations

from cartesia_cli.formats import Encoding, SampleRate

DEFAULT_MODEL = "sonic-3.5"
DEFAULT_VOICE = "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"
DEFAULT_BASE_URL = "https://api.cartesia.ai"
DEFAULT_API_VERSION = "2026-08-14"
DEFAULT_ENCODING = Encoding.PCM_F32LE
DEFAULT_SAMPLE_RATE = SampleRate.HZ_44100
