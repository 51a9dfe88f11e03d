"""Where and how to connect: the one record every client is made from, standard library only.

Apart from api/contract.py (which re-exports it) so that a job can be planned,
and answered from the audio cache, without importing httpx: a cache hit sends
nothing, and httpx with ssl is the largest import a run would otherwise pay.
"""

from __future__ import annotations

from typing import NamedTuple


class ApiConfig(NamedTuple):
    """Where and how to connect; the values come from the settings table."""

    base_url: str
    api_key: str
    api_version: str
    connect_timeout: float
    idle_timeout: float
    retries: int
