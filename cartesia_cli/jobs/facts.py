"""A job's --json object: what the job came to know, filled in as it goes, and where it is written.

The object's fixed keys are `output/result_json.py`; this decides what goes in
them (a file left empty names no output) and whether stdout can take it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cartesia_cli.errors import CliError, ExitCode, Interrupted, OutputError, stop_word
from cartesia_cli.output import result_json
from cartesia_cli.output.sinks import STDOUT, Sink, is_stdout, write_stdout
from cartesia_cli.run import pipeline
from cartesia_cli.run.pipeline import StreamResult
from cartesia_cli.ui.console import console

if TYPE_CHECKING:
    from cartesia_cli.jobs.job import TtsJob
    from cartesia_cli.jobs.plan import Plan


class JobFacts:
    """What a job has come to know, for its --json object: filled in as it goes."""

    def __init__(self, job: TtsJob) -> None:
        self.job = job
        self.plan: Plan | None = None
        self.sink: Sink | None = None
        self.result: StreamResult | None = None
        self.characters: int | None = None  # tts ws: what was sent, known as it goes
        self.cached = False  # the audio came from the audio cache, with no request

    def success(self) -> tuple[str, bool]:
        return self._encoded(ExitCode.OK, None)

    def failure(self, exc: CliError) -> tuple[str, bool]:
        error = result_json.error_object(
            kind=ExitCode(exc.exit_code).name.lower(),
            title=exc.title,
            message=exc.message,
            status=exc.status,
            request_id=exc.request_id,
        )
        return self._encoded(exc.exit_code, error, request_id=exc.request_id)

    def _encoded(
        self, code: int, error: dict[str, object] | None, request_id: str | None = None
    ) -> tuple[str, bool]:
        doc = result_json.document(
            error,
            command=self.job.command,
            output=self._output(),
            exit_code=int(code),
            request_id=request_id,
            **self._format(),
            **self._figures(),
            **self._billing(code),
        )
        # With the audio on stdout (under any name), the object is the last line on stderr.
        return result_json.encode(doc), not is_stdout(self.job.options.output)

    def _output(self) -> str | None:
        sink = self.sink
        if sink is None:  # the output was never claimed: no file of ours is there
            return None
        if sink.is_stdout:
            return STDOUT
        # A file left empty is removed: there is nothing to point a script at.
        return sink.label if sink.keeps_audio and sink.bytes_written else None

    def _format(self) -> dict[str, object]:
        if self.plan is None:
            return {}
        audio, voice = self.plan.audio, self.plan.voice
        return {
            "container": audio.container.value,
            "encoding": audio.encoding.value if audio.encoding is not None else None,
            "sample_rate": audio.sample_rate,
            "characters": (
                self.characters
                if self.characters is not None
                else len(self.plan.request.transcript)
            ),
            "voice": None if voice is None else {"id": voice.id, "name": voice.name},
        }

    def _billing(self, code: int) -> dict[str, object]:
        """Characters billed: none from the cache, the text's once made; unknown on a failure."""
        characters = self._format().get("characters")
        if self.cached:
            billed: object = 0
        else:
            billed = characters if code == ExitCode.OK else None
        return {"cached": self.cached, "characters_billed": billed}

    def _figures(self) -> dict[str, object]:
        if self.sink is None or self.result is None or self.plan is None:
            return {}
        stats = self.result.stats
        first = stats.time_to_first_audio()
        return {
            "bytes": self.sink.bytes_written,
            "audio_seconds": round(pipeline.audio_seconds(self.sink, self.plan.audio.received), 3),
            "chunks": stats.chunks,
            "first_audio_ms": None if first is None else round(first * 1000, 1),
            "total_ms": round(stats.elapsed() * 1000, 1),
        }


def emit_result(text: str, to_stdout: bool) -> None:
    """A job's --json object: on stdout, or (audio there) as the last line on stderr.

    A reader that left raises BrokenPipeError (exit 141, by the caller). Any other
    failed write is a CliError: EIO is a terminal that went away (a hang-up, 129),
    the rest an output error (7); never a bug (1).
    """
    if not to_stdout:
        console.machine_line(text)
        return
    try:
        write_stdout(text)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise _stdout_failure(exc) from None


def _stdout_failure(exc: OSError) -> CliError:
    import errno

    if exc.errno == errno.EIO:
        return Interrupted(stop_word(ExitCode.HANGUP), ExitCode.HANGUP)
    return OutputError(f"could not write the --json object to stdout: {exc.strerror}")
