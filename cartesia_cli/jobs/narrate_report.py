"""What `narrate` tells people and scripts: the estimate, the credit check, the summary, --json.

Characters are counted as the API bills them (jobs/estimate.py): a part said
this run is billed, a part found in DIR is reused. The --json object has
fixed keys, null when not known, on stdout (narrate writes no audio there).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from cartesia_cli.errors import CliError, ExitCode, UsageError
from cartesia_cli.jobs.estimate import Estimate, billed_characters, estimate
from cartesia_cli.jobs.facts import emit_result
from cartesia_cli.jobs.narrate_assembly import Built
from cartesia_cli.jobs.narrate_manifest import MANIFEST
from cartesia_cli.jobs.narration import NarrateOptions, NarratePlan, input_name
from cartesia_cli.output import result_json
from cartesia_cli.ui.console import console
from cartesia_cli.ui.narrate_display import clock

# The exit code of a run with failed chapters: the most severe, as a batch's.
SEVERITY = (ExitCode.INTERNAL, ExitCode.AUTH, ExitCode.OUTPUT, ExitCode.SERVER, ExitCode.STREAM,
            ExitCode.REJECTED, ExitCode.USAGE)  # fmt: skip


class RunView(Protocol):
    """What the report reads of a run."""

    failed: dict[int, CliError]
    said: dict[int, int]
    characters_billed: int
    built: Built | None

    def sizes_now(self) -> dict[str, int]: ...


KEYS = (
    "command", "input", "folder", "manifest", "format", "estimate", "chapters", "chapters_done",
    "chapters_failed", "paragraphs", "paragraphs_said", "paragraphs_reused", "paragraphs_missing",
    "characters_billed", "characters_reused", "characters_to_bill", "audio_seconds",
    "wall_seconds", "files", "missing", "exit_code", "error",
)  # fmt: skip


class Outcome:
    """The run as far as it got: its plan, its shared state, and whether it can be resumed."""

    def __init__(self, options: NarrateOptions) -> None:
        self.options = options
        self.plan: NarratePlan | None = None
        self.state: RunView | None = None
        self.resumable = False

    def resume_hint(self) -> str:
        if not _missing(self):
            return (
                "every paragraph is said: run the same command again to make the chapter and"
                " book files (nothing is sent)"
            )
        return f"run the same command again to finish: {_missing_text(self)}"


def to_say(planned: NarratePlan) -> Estimate:
    """The estimate of what a run would say (voices not known yet count as missing)."""
    texts = [[p.paragraph.text for p in parts] for parts in planned.missing()]
    options = planned.options
    return estimate(
        texts,
        concurrency=options.concurrency,
        paragraph_pause=options.paragraph_pause,
        chapter_pause=options.chapter_pause,
    )


def reused_characters(planned: NarratePlan) -> int:
    return sum(
        billed_characters(p.paragraph.text)
        for parts in planned.chapters
        for p in parts
        if p.key in planned.present
    )


def show_estimate(planned: NarratePlan) -> None:
    """--estimate: what a run would do; nothing is sent, nothing written."""
    found = to_say(planned)
    total = sum(len(parts) for parts in planned.chapters)
    reused = total - found.paragraphs
    if planned.options.json:
        emit_result(result_text(_estimate_object(planned, found)), True)
        return
    book = input_name(planned.options.input)
    console.note(
        f"{book}: {counted(len(planned.chapters), 'chapter')}, {counted(total, 'paragraph')}"
        + (f" ({reused} already in {planned.folder})" if reused else "")
    )
    console.note(
        f"to say: {counted(found.paragraphs, 'paragraph')} in"
        f" {counted(found.chapters, 'chapter')},"
        f" {found.characters:,} characters billed"
    )
    console.note(f"audio: about {clock(found.audio_seconds)}")
    console.note(
        f"wall time: about {clock(found.wall_seconds)} at --concurrency"
        f" {planned.options.concurrency}"
    )


def counted(count: int, noun: str) -> str:
    """`1 paragraph`, `2 paragraphs`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def check_credits(planned: NarratePlan) -> None:
    """--max-credits N: refuse, before any request, a job that needs more characters."""
    most = planned.options.max_credits
    if most is None:
        return
    needed = to_say(planned).characters
    if needed > most:
        failure = UsageError(
            f"this run needs about {needed:,} characters (credits), more than --max-credits"
            f" {most:,}; nothing was sent"
        )
        failure.hint = "see what it would say with --estimate, or raise --max-credits"
        raise failure


def finish(outcome: Outcome) -> None:
    """The summary and --json; a CliError when chapters are missing."""
    planned, state = outcome.plan, outcome.state
    assert planned is not None and state is not None
    failure = _incomplete(outcome)
    if failure is not None:
        raise failure
    if planned.options.json:
        emit_result(json_text(outcome, None), True)
    for line in _summary(outcome):
        console.info(line)


def _incomplete(outcome: Outcome) -> CliError | None:
    state = outcome.state
    assert state is not None
    if not state.failed and not _missing(outcome):
        return None
    failure = CliError(f"the book is incomplete: {_missing_text(outcome)}")
    failure.exit_code = worst(state.failed) if state.failed else ExitCode.STREAM
    failure.hint = "run the same command again to finish (only what is missing is sent)"
    return failure


def _missing(outcome: Outcome) -> list[tuple[int, str, int]]:
    """(chapter number, title, paragraphs missing) for every chapter not complete."""
    planned, state = outcome.plan, outcome.state
    if planned is None:
        return []
    sizes = state.sizes_now() if state is not None else planned.present
    found = []
    for index, parts in enumerate(planned.chapters):
        missing = sum(1 for p in parts if p.key not in sizes)
        if missing:
            found.append((index + 1, planned.book.chapters[index].title, missing))
    return found


def _missing_text(outcome: Outcome) -> str:
    missing = _missing(outcome)
    if not missing:
        return "nothing is missing"
    shown = ", ".join(
        f"{n} {title!r} ({counted(count, 'paragraph')})" for n, title, count in missing[:5]
    )
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    return f"{counted(len(missing), 'chapter')} with paragraphs missing: {shown}{more}"


def _summary(outcome: Outcome) -> list[str]:
    planned, state = outcome.plan, outcome.state
    assert planned is not None and state is not None
    total = sum(len(parts) for parts in planned.chapters)
    said = sum(state.said.values())
    seconds = _audio_seconds(outcome)
    lines = [
        f"narrated {input_name(planned.options.input)} into {planned.folder}:"
        f" {counted(len(planned.chapters), 'chapter')}, {counted(total, 'paragraph')}"
        f" ({said} said now,"
        f" {total - said} reused), {clock(seconds)} of audio",
        f"characters billed this run: {state.characters_billed:,}; reused:"
        f" {reused_characters(planned):,}",
    ]
    files = _files(outcome)
    made = _files(outcome, made_only=True)
    if made:
        lines.append(f"wrote {_some(made)}")
    elif files:  # every file was there, made from these very parts: nothing written
        lines.append(f"up to date, nothing written: {_some(files)}")
    return lines


def _some(files: Sequence[str]) -> str:
    return ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")


def _audio_seconds(outcome: Outcome) -> float:
    planned, state = outcome.plan, outcome.state
    if planned is None or state is None:
        return 0.0
    sizes = state.sizes_now()
    parts = {p.key for chapter in planned.chapters for p in chapter}
    return sum(sizes.get(key or "", 0) for key in parts) / planned.bytes_per_second


def _files(outcome: Outcome, *, made_only: bool = False) -> list[str]:
    """The book's audio files in the folder now (`made_only`: those this run wrote)."""
    planned, state = outcome.plan, outcome.state
    if planned is None or state is None:
        return []
    built = state.built
    if built is None:
        return []
    names = [built.book] if built.book else []
    names += [built.chapters[i] for i in sorted(built.chapters)]
    names = [name for name in names if not made_only or name in built.made]
    return [str(planned.folder / name) for name in names]


# -- --json ------------------------------------------------------------------------------


def worst(failures: Mapping[int, CliError]) -> ExitCode:
    codes = {failure.exit_code for failure in failures.values()}
    return next((code for code in SEVERITY if code in codes), ExitCode.STREAM)


def result_text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=True, allow_nan=False)


def _document(**known: Any) -> dict[str, Any]:
    return {key: known.get(key) for key in KEYS}


def _estimate_object(planned: NarratePlan, found: Estimate) -> dict[str, Any]:
    total = sum(len(parts) for parts in planned.chapters)
    return _document(
        command="narrate", input=input_name(planned.options.input), folder=str(planned.folder),
        format=planned.format, estimate=True, chapters=len(planned.chapters), paragraphs=total,
        paragraphs_reused=total - found.paragraphs, paragraphs_missing=found.paragraphs,
        characters_to_bill=found.characters, characters_reused=reused_characters(planned),
        characters_billed=0, audio_seconds=round(found.audio_seconds, 3),
        wall_seconds=round(found.wall_seconds, 3), exit_code=0,
    )  # fmt: skip


def json_text(outcome: Outcome, failure: CliError | None) -> str:
    planned, state = outcome.plan, outcome.state
    error = None
    if failure is not None:
        error = result_json.error_object(
            kind=failure.kind or ExitCode(failure.exit_code).name.lower(),
            title=failure.title, message=failure.message,
            status=failure.status, request_id=failure.request_id,
        )  # fmt: skip
    known: dict[str, Any] = {"command": "narrate", "input": input_name(outcome.options.input)}
    known["exit_code"] = int(failure.exit_code) if failure is not None else 0
    known["error"] = error
    known["estimate"] = False
    if planned is not None:
        total = sum(len(parts) for parts in planned.chapters)
        missing = _missing(outcome)
        known.update(
            folder=str(planned.folder), manifest=str(planned.folder / MANIFEST),
            format=planned.format, chapters=len(planned.chapters),
            chapters_done=len(planned.chapters) - len(missing), paragraphs=total,
            paragraphs_missing=sum(count for _, _, count in missing),
            characters_reused=reused_characters(planned),
            audio_seconds=round(_audio_seconds(outcome), 3), files=_files(outcome),
            missing=[{"chapter": n, "title": t, "paragraphs": c} for n, t, c in missing],
        )  # fmt: skip
    if state is not None:
        said = sum(state.said.values())
        known.update(
            chapters_failed=len(state.failed), paragraphs_said=said,
            paragraphs_reused=known["paragraphs"] - said - known["paragraphs_missing"],
            characters_billed=state.characters_billed,
        )  # fmt: skip
    return result_text(_document(**known))
