"""Names of new output files: `tts_sse_YYYYMMDD_HHMMSS_mmm.pcm` and its kin."""

from __future__ import annotations

from datetime import datetime


def timestamped_name(
    now: datetime, *, prefix: str, extension: str, suffix: int = 1, item: int | None = None
) -> str:
    """`{prefix}_YYYYMMDD_HHMMSS_mmm.{extension}` (local time), `-N` before the extension.

    A batch item's files carry its line number: `…_mmm_0007.pcm`.
    """
    stem = now.strftime(f"{prefix}_%Y%m%d_%H%M%S_") + f"{now.microsecond // 1000:03d}"
    if item is not None:
        stem += f"_{item:04d}"
    return f"{stem}.{extension}" if suffix == 1 else f"{stem}-{suffix}.{extension}"
