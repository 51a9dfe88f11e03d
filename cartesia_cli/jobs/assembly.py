"""The sink a job writes its audio into: a file or stdout, framed, encoded or played.

`open_sinks` claims the output (and starts the player beside it, with --play);
`made_here` turns a sink into the one that writes a container made here;
`finish_playing` waits, bounded, for the player to play what it was given.
"""

from __future__ import annotations

from cartesia_cli import process
from cartesia_cli.errors import AUDIO_TO_TERMINAL, UsageError
from cartesia_cli.formats import PLAYER, Container, OutputFormat, RequestedFormat, player_args
from cartesia_cli.jobs.job import TtsJob
from cartesia_cli.jobs.plan import Plan
from cartesia_cli.output import wav
from cartesia_cli.output.player import Player, PlayingSink, stall_message
from cartesia_cli.output.sinks import NewFileName, Sink, is_stdout, open_sink
from cartesia_cli.run import pipeline
from cartesia_cli.ui import report
from cartesia_cli.ui.console import console, isatty

PLAYBACK_SLACK = 30.0  # seconds a player may take beyond the audio's own length


def open_sinks(job: TtsJob, plan: Plan) -> Sink:
    """The output file (or stdout) and, with --play, the player beside it."""
    if plan.player is None:
        return open_output(job, plan)
    kept = None if job.options.output is None else open_output(job, plan)
    heard = played(plan.audio)
    try:
        playing = PlayingSink(Player(plan.player, player_args(heard, None)), kept)
    except OSError as exc:
        if kept is not None:
            kept.close(keep=False)
        raise UsageError(f"cannot start {PLAYER}: {exc.strerror}") from None
    made_here(playing.player.sink, heard, None)
    return playing


def open_output(job: TtsJob, plan: Plan) -> Sink:
    """The file (or stdout) the audio is kept in: `-o`'s, or a new name of the command's."""
    if is_stdout(job.options.output) and 1 in process.closed_at_start():
        raise UsageError("stdout was closed when the command started; write a file with -o FILE")
    audio = plan.audio
    new_name = NewFileName(prefix=job.endpoint.file_prefix, extension=audio.extension)
    try:
        sink = open_sink(
            job.options.output,
            force=job.options.force,
            stdout_is_tty=isatty(1),
            new_name=new_name,
            reader_wait=plan.reader_wait,  # a named pipe's reader: as long as for the server
        )
    except UsageError as exc:
        if exc.kind == AUDIO_TO_TERMINAL:
            player = report.play_command(audio, None)
            pipe = f"cartesia-cli {job.command} ... -o - | {player}"
            exc.hint = f"pipe it ({pipe}) or write a file with -o FILE"
        raise
    return made_here(sink, audio, plan.encoder)


def made_here(sink: Sink, audio: OutputFormat, encoder: str | None) -> Sink:
    """The sink that writes `audio`'s container: as received, framed as a WAV, or encoded."""
    if audio.framed_here and audio.encoding is not None:
        sink.frame_as_wav(wav.Layout(audio.encoding, audio.sample_rate))
    elif audio.encoded_here:
        from cartesia_cli.output.encoder import EncoderSink

        assert encoder is not None, "the plan found the encoder"
        return EncoderSink(encoder, audio, sink)
    elif audio.received.container is Container.MP3:  # the server's: its bit rate may differ
        sink.time_as_mp3()
    return sink


def played(audio: OutputFormat) -> OutputFormat:
    """What the player is fed: what is written, but PCM in place of a container encoded here."""
    return OutputFormat(Container.RAW, audio.received) if audio.encoded_here else audio


def audio_file(sink: Sink) -> str | None:
    """The file the audio is kept in (with --play, the one beside the player), if any."""
    return sink.label if sink.keeps_audio and not sink.is_stdout else None


def finish_playing(sink: PlayingSink, audio: RequestedFormat) -> bool:
    """Wait for the player to play what it was given, bounded; say if it quit early.

    True when it played to the end. A player given up for not reading (stopped
    already) is one warning: the file has every byte, so the run is not failed for it.
    """
    if sink.player_stalled:
        console.warning(stall_message(sink.player.sink.stall_after))
        return False
    seconds = pipeline.audio_seconds(sink.player.sink, audio)
    code = sink.player.finish(timeout=seconds + PLAYBACK_SLACK)
    if code is None:
        console.warning(
            f"{PLAYER} had not finished after {seconds + PLAYBACK_SLACK:.0f} s; stopped it"
        )
        return False
    if sink.player_quit or code != 0:
        said = f": {sink.player.last_line}" if sink.player.last_line else ""
        how = f"killed by signal {-code}" if code < 0 else f"exit {code}"
        console.warning(f"{PLAYER} quit before the end of the audio ({how}){said}")
        return False
    return True
