"""The sink a job writes its audio into: a file or stdout, framed, encoded or played.

`open_sinks` claims the output (and starts the player beside it, with --play);
`made_here` turns a sink into the one that writes a container made here;
`finish_playing` waits, bounded, for the player to play what it was given.
"""

from __future__ import annotations

from cartesia_cli import process
from cartesia_cli.errors import AUDIO_TO_TERMINAL, OutputError, UsageError
from cartesia_cli.formats import Container, OutputFormat, RequestedFormat
from cartesia_cli.jobs.job import TtsJob
from cartesia_cli.jobs.plan import Plan, played
from cartesia_cli.output import players, wav
from cartesia_cli.output.pcm_feed import PcmFeed
from cartesia_cli.output.player import Player
from cartesia_cli.output.playing_sink import AudioPlayer, PlayingSink, Tally
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
    try:
        player = start_player(plan.player, played(plan.audio))
    except BaseException:
        if kept is not None:
            kept.close(keep=False)
        raise
    tally = Tally(player.name)
    if plan.audio.received.container is Container.MP3:
        tally.time_as_mp3()
    return PlayingSink(player, kept, tally)


def start_player(choice: players.Choice, audio: OutputFormat) -> AudioPlayer:
    """The player `choice` names, started for `audio` (fed as a pipe carries it)."""
    wav_header = audio.received.container is Container.WAV  # the server's: dropped for the pipe
    encoding = audio.encoding
    if choice.kind is None:
        from cartesia_cli.output.player_inprocess import InProcessPlayer

        assert encoding is not None, "the in-process player plays PCM only"
        return InProcessPlayer(encoding, audio.sample_rate, wav_header=wav_header)
    assert choice.path is not None
    kind = choice.kind
    feed = PcmFeed(
        wav_header=wav_header,
        encoding=encoding,
        fed=kind.fed(encoding) if encoding is not None else None,
    )
    try:
        return Player(choice.path, kind.argv(audio, None), feed)
    except OSError as exc:
        raise UsageError(f"cannot start {kind.name}: {exc.strerror}") from None


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
            player = report.play_command(audio, None, plan.player_name)
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


def audio_file(sink: Sink) -> str | None:
    """The file the audio is kept in (with --play, the one beside the player), if any."""
    return sink.label if sink.keeps_audio and not sink.is_stdout else None


def finish_playing(sink: PlayingSink, audio: RequestedFormat) -> bool:
    """Wait for the player to play what it was given, bounded; True when it played it all.

    With a file (or stdout) the audio is kept: a player's failure is a warning
    (and False). With nothing else keeping it, the run failed (exit 7, the
    player's reason).
    """
    failure = sink.failure
    if failure is None:
        seconds = pipeline.audio_seconds(sink.played, audio)
        failure = sink.player.finish(timeout=seconds + PLAYBACK_SLACK, seconds=seconds)
    if failure is None:
        return True
    if not sink.keeps_audio:
        raise OutputError(failure)
    console.warning(failure)
    return False
