"""`narrate`'s files: each complete chapter's audio, the whole book, and their captions.

Made by output/audiobook.py from the parts, whole, never patched: a chapter
file once the chapter is complete, the book and its captions once every
chapter is. Each file's recipe (its parts' keys, the pauses, the format, the
titles) is fingerprinted in the manifest: a file already made from the same
recipe is left as it is, so re-running a finished book rewrites nothing, and
an edited paragraph rebuilds its chapter and the book.

A file is made only from parts that are the audio received: each part's bytes
are checked against the digest recorded when it was written, as they stream
into the file (output/pcm_concat.py). A part that fails raises `DamagedPart`
and the file is not made; `damaged` then finds every such part for the run
to say again (jobs/narrate.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from cartesia_cli.input.book import Book
from cartesia_cli.jobs.narration import NarratePlan, Part
from cartesia_cli.output import audiobook, pcm_concat
from cartesia_cli.output.audiobook import BookFormat, ChapterAudio, ChapterInput
from cartesia_cli.output.book_names import BOOK_FORMATS
from cartesia_cli.output.book_parts import PartsFolder
from cartesia_cli.output.pcm_concat import DamagedPart
from cartesia_cli.ui.console import console

CAPTIONS = (".srt", ".vtt")


class Built(NamedTuple):
    """The files the folder holds now, by their names in it, and the recipes they were made from."""

    chapters: dict[int, str]  # chapter index -> its audio file
    book: str | None
    recipes: dict[str, str]  # file name -> fingerprint
    made: frozenset[str] = frozenset()  # the names written by this run (the rest were there)


def assemble(planned: NarratePlan, sizes: Mapping[str, int]) -> Built:
    """Every file that the parts now allow, made unless made already from the same recipe."""
    fmt: BookFormat = planned.format  # type: ignore[assignment]  # checked by check_format
    wanted, stale = _wanted(planned, sizes)
    if not stale:
        return wanted
    complete = sorted(wanted.chapters)
    book = wanted.book
    made: dict[int, ChapterAudio] = {}
    for i in complete:
        if wanted.chapters[i] in stale or book in stale:  # the book needs every chapter's audio
            chapter = _chapter_input(planned, i, words=True)  # one chapter's words at a time
            made[i] = _write_chapter(planned, chapter, wanted.chapters[i], fmt)
    if book is not None and book in stale:
        chapters = [made[i] for i in complete]
        inputs = [_chapter_input(planned, i, words=False) for i in complete]
        _write_book(planned, chapters, inputs, book, fmt)
    return wanted._replace(made=frozenset(stale))


def made_before(planned: NarratePlan, sizes: Mapping[str, int]) -> Built:
    """The files already in the folder that are right for the parts there now (nothing made)."""
    wanted, stale = _wanted(planned, sizes)
    chapters = {i: name for i, name in wanted.chapters.items() if name not in stale}
    book = wanted.book if wanted.book not in stale else None
    kept = {*chapters.values(), *([book] if book else [])}
    return Built(chapters, book, {n: r for n, r in wanted.recipes.items() if n in kept})


def _wanted(planned: NarratePlan, sizes: Mapping[str, int]) -> tuple[Built, set[str]]:
    """The files the parts allow (with their recipes), and those not made from them yet."""
    fmt: BookFormat = planned.format  # type: ignore[assignment]
    before = planned.old.built if planned.old is not None else {}
    titles = [chapter.title for chapter in planned.book.chapters]
    complete = [i for i, parts in enumerate(planned.chapters) if _complete(parts, sizes)]
    names = {i: audiobook.chapter_file_name(i + 1, titles[i], fmt) for i in complete}
    recipes = {names[i]: _recipe(planned, planned.chapters[i], names[i]) for i in complete}
    book = None
    if len(complete) == len(planned.chapters):
        book = audiobook.book_file_name(planned.book.title, fmt)
        recipes[book] = _book_recipe(planned, [recipes[names[i]] for i in complete])
    stale = {
        name
        for name, recipe in recipes.items()
        if before.get(name) != recipe or not _all_there(planned.folder, name)
    }
    return Built(names, book, recipes), stale


def _complete(parts: Sequence[Part], sizes: Mapping[str, int]) -> bool:
    return all(part.key in sizes for part in parts)


def _all_there(folder: Path, name: str) -> bool:
    stem = Path(name).stem
    return (folder / name).is_file() and all((folder / f"{stem}{s}").is_file() for s in CAPTIONS)


def _chapter_input(planned: NarratePlan, index: int, *, words: bool) -> ChapterInput:
    """A chapter's parts for audiobook.py; their word times only when captions are made from
    them (the book is made from the chapters' captions: its parts need only their audio)."""
    store = PartsFolder(planned.folder)
    parts = []
    for part in planned.chapters[index]:
        assert part.key is not None
        record = store.record(part.key)
        if record.digest is None:
            raise DamagedPart(store.audio(part.key), "has no record of the audio received")
        paragraph = part.paragraph
        kept = [audiobook.Word(*word) for word in record.words] if words else []
        audio = store.audio(part.key)
        parts.append(audiobook.Part(audio, paragraph.speaker, paragraph.text, kept, record.digest))
    return ChapterInput(planned.book.chapters[index].title, parts)


def damaged(planned: NarratePlan, keys: Iterable[str]) -> list[str]:
    """The parts among `keys` that are not the audio received (each read once, whole)."""
    store = PartsFolder(planned.folder)
    found = []
    for key in dict.fromkeys(keys):
        digest = store.record(key).digest
        try:
            if digest is None:
                raise DamagedPart(store.audio(key), "has no record of the audio received")
            for _ in pcm_concat.stream([pcm_concat.part(store.audio(key), digest)]):
                pass
        except DamagedPart:
            found.append(key)
    return found


def own_names(planned: NarratePlan) -> set[str]:
    """Every chapter, book and caption file name narrate may make in the folder for this book,
    in any format, and those its manifest says it made: with the manifest's, the names whose
    temporary files a new run may remove."""
    names: set[str] = set()
    titles = [chapter.title for chapter in planned.book.chapters]
    for fmt in BOOK_FORMATS:
        audio = [audiobook.chapter_file_name(i + 1, t, fmt) for i, t in enumerate(titles)]
        audio.append(audiobook.book_file_name(planned.book.title, fmt))
        for name in audio:
            names.add(name)
            names.update(f"{Path(name).stem}{suffix}" for suffix in CAPTIONS)
    if planned.old is not None:
        names.update(planned.old.built)
    return names


def remove_other_format(planned: NarratePlan, built: Built) -> list[str]:
    """The audio files the manifest says narrate made in another format than this run's,
    removed (only those: the names it recorded); their names."""
    if planned.old is None:
        return []
    fmt: BookFormat = planned.format  # type: ignore[assignment]
    kept = {audiobook.chapter_suffix(fmt), f".{fmt}"}
    removed = []
    for name in planned.old.built:
        path = planned.folder / name
        if path.suffix.lower() in kept or name == built.book or name in built.chapters.values():
            continue
        if path.is_file() and not path.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                removed.append(name)
    return removed


def _write_chapter(
    planned: NarratePlan, chapter: ChapterInput, name: str, fmt: BookFormat
) -> ChapterAudio:
    out = planned.folder / name
    audio = audiobook.write_chapter(
        chapter,
        sample_rate=planned.sample_rate,
        paragraph_pause=planned.options.paragraph_pause,
        out=out,
        fmt=fmt,
        ffmpeg=planned.ffmpeg,
    )
    audiobook.write_caption_files(audio.captions, _captions_of(out))
    console.debug_line(f"wrote {out}")
    return audio._replace(captions=())  # the book's are made again a chapter at a time


def _write_book(
    planned: NarratePlan,
    chapters: Sequence[ChapterAudio],
    inputs: Sequence[ChapterInput],
    name: str,
    fmt: BookFormat,
) -> None:
    out = planned.folder / name
    audiobook.write_book(
        chapters,
        sample_rate=planned.sample_rate,
        chapter_pause=planned.options.chapter_pause,
        meta=_meta(planned.book),
        out=out,
        fmt=fmt,
        ffmpeg=planned.ffmpeg,
        parts_of=inputs,
    )
    cues = audiobook.book_cues(  # the book has every chapter: the i-th is chapter i
        chapters,
        sample_rate=planned.sample_rate,
        chapter_pause=planned.options.chapter_pause,
        cues_of=lambda i: _chapter_cues(planned, i),
    )
    audiobook.write_caption_files(cues, _captions_of(out))


def _chapter_cues(planned: NarratePlan, index: int) -> list[audiobook.Cue]:
    """Chapter `index`'s captions again from its parts and their words (read for it alone)."""
    chapter = _chapter_input(planned, index, words=True)
    return audiobook.chapter_cues(
        chapter, sample_rate=planned.sample_rate, paragraph_pause=planned.options.paragraph_pause
    )


def _captions_of(out: Path) -> list[Path]:
    return [out.with_suffix(suffix) for suffix in CAPTIONS]


def _meta(book: Book) -> audiobook.BookMeta:
    cover = book.cover
    return audiobook.BookMeta(
        book.title,
        book.author,
        book.language,
        cover.data if cover is not None else None,
        cover.media_type if cover is not None else None,
    )


def _recipe(planned: NarratePlan, parts: Sequence[Part], name: str) -> str:
    return _digest(
        {
            "name": name,
            "parts": [part.key for part in parts],
            "speakers": [part.paragraph.speaker for part in parts],
            "pause": planned.options.paragraph_pause,
            "rate": planned.sample_rate,
        }
    )


def _book_recipe(planned: NarratePlan, chapters: Sequence[str]) -> str:
    book = planned.book
    cover = hashlib.sha256(book.cover.data).hexdigest() if book.cover is not None else None
    return _digest(
        {
            "chapters": list(chapters),
            "pause": planned.options.chapter_pause,
            "meta": [book.title, book.author, book.language, cover],
        }
    )


def _digest(material: object) -> str:
    encoded = json.dumps(material, sort_keys=True, ensure_ascii=True).encode()
    return hashlib.sha256(encoded).hexdigest()
