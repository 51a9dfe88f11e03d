"""`cartesia-cli narrate INPUT [-o DIR]`: a book, a script or a long text, chapter by chapter.

Only the options live here; the job is `cartesia_cli/jobs/narrate.py`.
"""

# No `from __future__ import annotations` here: typer evaluates the annotations.

from typing import Annotated, Optional

import typer

from cartesia_cli import options
from cartesia_cli.settings import spec
from cartesia_cli.settings.spec import Given

# The voice, model and controls of a TTS command, its connection, and the sample rate:
# the encoding is fixed (pcm_s16le) and the contexts are narrate's own.
NARRATE_SETTINGS = (
    *spec.VOICE_AND_MODEL,
    spec.SAMPLE_RATE,
    *spec.CONNECTION,
    *(setting for setting in spec.CONTROLS if setting is not spec.CONTEXT_ID),
)
DEFAULT_CONCURRENCY = 3  # chapters at once: a Pro plan's limit (Free: use --concurrency 2)

InputArgument = Annotated[
    str,
    typer.Argument(
        metavar="INPUT",
        help="The book: a .txt, .md or .epub file, or '-' for text (or an EPUB) on stdin.",
        show_default=False,
    ),
]
OutputOption = Annotated[
    Optional[str],
    typer.Option(
        "--output",
        "-o",
        metavar="DIR",
        help="The book's folder: made if new; an earlier run's folder is resumed.",
        show_default="INPUT's name without its suffix, in the current directory",
    ),
]
CastOption = Annotated[
    Optional[str],
    typer.Option(
        "--cast",
        metavar="FILE",
        help="Who speaks with which voice (TOML); else a Markdown book's +++ front matter.",
        show_default=False,
    ),
]
PatternOption = Annotated[
    Optional[str],
    typer.Option(
        "--chapter-pattern",
        metavar="REGEX",
        help="Plain text: a line this finds starts a chapter (e.g. '^Chapter ').",
        show_default=False,
    ),
]
ParagraphPauseOption = Annotated[
    float,
    typer.Option(
        "--paragraph-pause",
        metavar="S",
        min=0,
        max=60,
        help="Seconds of silence between paragraphs.",
    ),
]
ChapterPauseOption = Annotated[
    float,
    typer.Option(
        "--chapter-pause", metavar="S", min=0, max=60, help="Seconds of silence between chapters."
    ),
]
EstimateOption = Annotated[
    bool,
    typer.Option(
        "--estimate",
        help="Print the characters to be billed, the audio length and the wall time; send "
        "nothing (no key needed).",
    ),
]
MaxCreditsOption = Annotated[
    Optional[int],
    typer.Option(
        "--max-credits",
        metavar="N",
        min=0,
        help="Refuse to start (exit 2) when the run would bill more than N characters.",
        show_default=False,
    ),
]
ConcurrencyOption = Annotated[
    int,
    typer.Option(
        "--concurrency",
        metavar="N",
        min=1,
        max=64,
        help="Chapters spoken at once (your plan's limit: Free 2, Pro 3, Startup 5, Scale 15).",
    ),
]
FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        metavar="m4b|mp3|wav",
        help="The book and chapter files: m4b (AAC, chapters), mp3 (ID3 chapters) or wav "
        "(cue points; needs no ffmpeg).",
        autocompletion=lambda incomplete: [
            f for f in ("m4b", "mp3", "wav") if f.startswith(incomplete)
        ],
    ),
]

JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="One JSON object on stdout when the run ends, success or failure (keys in "
        "docs/narrate.md).",
    ),
]


@options.settings_command(*NARRATE_SETTINGS)
def narrate(
    input: InputArgument,
    output: OutputOption = None,
    cast: CastOption = None,
    chapter_pattern: PatternOption = None,
    paragraph_pause: ParagraphPauseOption = 0.6,
    chapter_pause: ChapterPauseOption = 2.0,
    estimate: EstimateOption = False,
    max_credits: MaxCreditsOption = None,
    concurrency: ConcurrencyOption = DEFAULT_CONCURRENCY,
    format: FormatOption = "m4b",
    json: JsonOption = False,
    quiet: options.QuietOption = False,
    *,
    given: Given,
    debug: bool = False,
) -> None:
    """Narrate a book into a folder: a file per chapter, the whole book, captions.

    Chapters come from Markdown headings, the EPUB's table of contents, or
    --chapter-pattern; each is spoken over one WebSocket so the voice flows
    across sentences, and each paragraph's audio is kept as it completes.
    Running the same command again resumes: only paragraphs missing, or
    whose text or settings changed, are spoken (and paid for) again; a
    finished book sends nothing. --estimate says what it would cost first.

    Examples:

    \b
        cartesia-cli narrate book.md
        cartesia-cli narrate novel.epub -o novel --format m4b
        cartesia-cli narrate play.txt --cast cast.toml --format wav
        cartesia-cli narrate notes.txt --chapter-pattern '^Chapter [0-9]+'
        cartesia-cli narrate novel.epub --estimate
        cartesia-cli narrate novel.epub -o novel   # again: resumes where it stopped
    """
    from cartesia_cli.jobs.narrate import narrate as run
    from cartesia_cli.jobs.narration import NarrateOptions

    given_options = NarrateOptions(
        input=input, output=output, cast=cast, chapter_pattern=chapter_pattern,
        paragraph_pause=paragraph_pause, chapter_pause=chapter_pause, estimate=estimate,
        max_credits=max_credits, concurrency=concurrency, format=format, json=json,
        quiet=quiet, debug=debug, given=given,
    )  # fmt: skip
    run(given_options)
