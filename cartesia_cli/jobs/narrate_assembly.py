"""`narrate`'s files: each complete chapter's audio, the whole book, and their captions.

Always rebuilt whole from the parts (cheap beside speech), by
output/audiobook.py: chapter files as each chapter is complete, the book and
its captions once every chapter is.
"""

from __future__ import annotations

from collections.abc import Mapping

from cartesia_cli.jobs.narration import NarratePlan


def assemble(planned: NarratePlan, sizes: Mapping[str, int]) -> tuple[dict[int, str], str | None]:
    """The chapter files (by chapter index) and the book file written, by their names in DIR."""
    return {}, None
