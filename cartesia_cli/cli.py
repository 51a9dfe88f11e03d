"""The root `cartesia-cli` app and the one error boundary every command runs inside.

The boundary words what the lower layers leave to it: the hint that names a
flag, and the note about the audio a failed run kept.
"""

# No `from __future__ import annotations` here: typer would have to eval every
# string annotation when it builds the commands (~8 ms of a ~150 ms run).

import os
import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from cartesia_cli import __version__, endpoints, errors, process, redact
from cartesia_cli.errors import CliError, ExitCode, StopRequested, UsageError
from cartesia_cli.ui.console import PROG, console

COMPLETE_VAR = "_CARTESIA_CLI_COMPLETE"


def _add_tts(root: typer.Typer) -> None:
    from cartesia_cli.commands import tts

    root.add_typer(tts.app, name="tts")


def _add_say(root: typer.Typer) -> None:
    from cartesia_cli.commands import say, tts

    root.command("say", epilog=tts.EXIT_CODES_HELP)(say.say)


def _add_narrate(root: typer.Typer) -> None:
    from cartesia_cli.commands import narrate, tts

    root.command("narrate", epilog=tts.EXIT_CODES_HELP)(narrate.narrate)


def _add_voices(root: typer.Typer) -> None:
    from cartesia_cli.commands import voices

    root.add_typer(voices.app, name="voices")


def _add_dicts(root: typer.Typer) -> None:
    from cartesia_cli.commands import dicts

    root.add_typer(dicts.app, name="dicts")


def _add_config(root: typer.Typer) -> None:
    from cartesia_cli.commands import config

    root.add_typer(config.app, name="config")


def _add_cache(root: typer.Typer) -> None:
    from cartesia_cli.commands import cache

    root.add_typer(cache.app, name="cache")


def _add_mock(root: typer.Typer) -> None:
    from cartesia_cli.commands import mock

    # Everything after the first argument is COMMAND's: `mock ./smoke.sh --verbose` works too.
    root.command("mock", context_settings={"allow_interspersed_args": False})(mock.mock)


COMMANDS = {
    "tts": _add_tts,
    "say": _add_say,
    "narrate": _add_narrate,
    "voices": _add_voices,
    "dicts": _add_dicts,
    "config": _add_config,
    "cache": _add_cache,
    "mock": _add_mock,
}


def app(argv: Sequence[str] = ()) -> typer.Typer:
    """The root app: every command, or only the one `argv` runs.

    Only one: typer builds every command it holds on each run, option by option,
    and a stream should not pay for the voices, config and mock commands it does
    not run (~5 ms of typer and imports). Help, completion, --version and unknown
    commands get them all, so what they list and suggest is complete.
    """
    root = typer.Typer(
        name=PROG,
        help="Cartesia text-to-speech from the shell.",
        no_args_is_help=True,
        # Plain help: rich costs ~40 ms of imports on --help, more than the
        # whole request of a plain httpx script.
        rich_markup_mode=None,
        # Our own boundary prints errors; typer's pretty tracebacks could show locals (the key).
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    root.callback()(_root)
    asked = argv[0] if argv and not os.environ.get(COMPLETE_VAR) else None
    for name, add in COMMANDS.items():
        if asked not in COMMANDS or asked == name:
            add(root)
    return root


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"{PROG} {__version__}\n")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Cartesia text-to-speech from the shell."""


def run(argv: Sequence[str]) -> int:
    """Run the CLI on `argv` and return the exit code; never raises for user errors."""
    if os.environ.get(COMPLETE_VAR):
        _plain_completion_help()
    debug = "--debug" in argv
    console.configure(quiet=False, debug=debug)
    redact.forget_all()
    _names_after(None)
    redact.remember(os.environ.get("CARTESIA_API_KEY"))
    redact.remember_from_argv(argv)
    try:
        command = typer.main.get_command(app(argv))
        if os.environ.get(COMPLETE_VAR):
            _names_complete(command)
        # The arguments as given ride along as the context's `obj`: click drops a final
        # `--`, and `mock --` with nothing after it must not be taken for plain `mock`.
        result = command.main(
            args=list(argv), prog_name=PROG, standalone_mode=False, obj=tuple(argv)
        )
        sys.stdout.flush()  # now, while a closed pipe can still be told from a bug
    except BrokenPipeError:
        return _reader_gone()
    except SystemExit as exc:
        # typer answers EPIPE while printing (help, config get) with a bare exit 1.
        if exc.code == 1 and process.stdout_reader_gone():
            return _reader_gone()
        raise
    except CliError as exc:
        from cartesia_cli.ui.error_line import error_line  # only when something failed

        _names_after(exc)

        if debug:
            console.traceback(exc)  # the console masks the key and escapes the messages
        code = _fail(error_line(exc), exc.exit_code)
        if exc.result_json is not None:
            _emit_last(*exc.result_json)
        return code
    except typer.TyperException as exc:
        code = _usage_failure(exc)
        if "--json" in argv:
            _usage_json(exc, argv, code)
        return code
    except (KeyboardInterrupt, typer.Abort):
        process.stop_taken()
        return _fail("interrupted", ExitCode.INTERRUPTED)
    except StopRequested as exc:
        process.stop_taken()
        return _fail(errors.stop_word(exc.exit_code), exc.exit_code)
    except Exception as exc:  # a bug: say so, traceback only on request
        return internal_failure(exc, argv)
    if result == ExitCode.INTERRUPTED:
        # typer turns Ctrl-C outside our own handling (reading stdin, say) into a bare 130.
        return _fail("interrupted", ExitCode.INTERRUPTED)
    return result if isinstance(result, int) else 0


def _names_after(failure: CliError | None) -> None:
    """A 404 for a name taken from the name cache forgets it (jobs/names.py); a new run
    (None) starts with none taken. Nothing to do when no name was looked up."""
    taken = sys.modules.get("cartesia_cli.jobs.names")  # not imported: no name resolved
    if taken is None:
        return
    if failure is None:
        taken.forget_taken()
    else:
        taken.after_failure(failure)


def internal_failure(exc: Exception, argv: Sequence[str]) -> int:
    """A bug that reached the boundary: one line (a traceback with --debug), and for a
    job with --json its object all the same, `kind: internal`; exit 1."""
    if "--debug" in argv:
        console.traceback(exc)  # the console masks the key and escapes the messages
    failure = errors.internal_error(exc)
    code = _fail(failure.message, ExitCode.INTERNAL)
    if "--json" in argv:
        _job_json(_job_command(None, argv), "internal", failure.message, code, argv)
    return code


def _reader_gone() -> int:
    """stdout's reader left (`cartesia-cli --help | head -1`): exit 141, as by SIGPIPE.

    Quietly, like any Unix filter whose reader stopped reading; the audio
    commands handle this themselves and say how much was written.
    """
    process.silence_stdout()
    return ExitCode.BROKEN_PIPE


def _plain_completion_help() -> None:
    """Keep rich out of shell completion: every Tab press pays for what it imports.

    typer strips rich markup from zsh/fish help texts by importing all of rich
    (~40 ms); our help texts carry no markup (rich_markup_mode=None), so the
    text is already plain. Private typer API, pinned by the <0.29 bound and
    checked by tests/test_imports.py.
    """
    from typer import _completion_classes

    _completion_classes._sanitize_help_text = _unchanged
    _completion_classes.ZshComplete.source_template = ZSH_SCRIPT
    _completion_classes.BashComplete.source_template = BASH_SCRIPT


# typer's zsh script, plus its last lines: installed in $fpath, the file is autoloaded as the
# body of `_cartesia-cli` on the first TAB, where typer's version only defines the function
# and beeps (completion starts on the second TAB). Called that way, it completes at once.
ZSH_SCRIPT = (
    "\n#compdef %(prog_name)s\n\n"
    "%(complete_func)s() {\n"
    '  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" '
    "%(autocomplete_var)s=complete_zsh %(prog_name)s)\n"
    "}\n\n"
    'if [[ "$funcstack[1]" == "_%(prog_name)s" ]]; then\n'
    '  %(complete_func)s "$@"\n'
    "else\n"
    "  compdef %(complete_func)s %(prog_name)s\n"
    "fi\n"
)


# typer's bash script, telling the program which kind of TAB it was (COMP_TYPE): on the one
# that only lists (`?`, the second TAB), a voice's id is shown beside its name; bash shows
# no descriptions, and on a TAB that inserts, the text shown would go in.
BASH_SCRIPT = (
    "\n%(complete_func)s() {\n"
    "    local IFS=$'\\n'\n"
    '    COMPREPLY=( $( env COMP_WORDS="${COMP_WORDS[*]}" \\\n'
    "                   COMP_CWORD=$COMP_CWORD COMP_TYPE=$COMP_TYPE \\\n"
    "                   %(autocomplete_var)s=complete_bash $1 ) )\n"
    "    return 0\n"
    "}\n\n"
    "complete -o default -F %(complete_func)s %(prog_name)s\n"
)
LISTS_ONLY = "63"  # COMP_TYPE of a TAB that lists the candidates and inserts nothing ('?')


def _unchanged(text: str) -> str:
    return text


# What completes from the name cache: options by their setting's name, arguments by their
# metavar (options.py's VoiceArgument: "VOICE", "VOICE...").
NAMED_OPTIONS = {
    "voice": "voices",
    "base_voice": "voices",
    "pronunciation_dict": "dicts",
    "dictionary": "dicts",
}
NAMED_ARGUMENTS = {"VOICE": "voices", "DICT": "dicts"}


def _names_complete(command: object) -> None:
    """Let `--voice Kat<Tab>` offer Katie, and `--voice Nar<Tab>` the ids of two Narrators.

    typer keeps only values that start as typed (with case): these get the cache's
    offers unfiltered, matched by name with case and accents ignored. Private typer
    API, pinned by the <0.29 bound; checked by tests/test_voice_names.py.
    """
    for sub in getattr(command, "commands", {}).values():
        _names_complete(sub)
    for param in getattr(command, "params", []):
        metavar = (getattr(param, "metavar", None) or "").rstrip(".")
        kind = NAMED_OPTIONS.get(param.name) if param.param_type_name == "option" else None
        kind = kind or (
            NAMED_ARGUMENTS.get(metavar) if param.param_type_name == "argument" else None
        )
        if kind is not None:
            param._custom_shell_complete = _name_completer(kind)
        elif param.param_type_name == "argument" and metavar == CONFIG_VALUE:
            param._custom_shell_complete = _config_value_completer()


# `config set KEY [VALUE]`: the value completes as the key's flag does (names for a voice).
CONFIG_VALUE = "[VALUE]"
NAMED_KEYS = {"voice": "voices", "pronunciation_dict": "dicts"}


def _config_value_completer() -> object:
    from typer._click.shell_completion import CompletionItem

    from cartesia_cli.settings import spec

    def complete(ctx: typer.Context, param: object, incomplete: str) -> list[CompletionItem]:
        key = ctx.params.get("key")
        if key in NAMED_KEYS:
            names = _name_completer(NAMED_KEYS[key])
            return names(ctx, param, incomplete)  # type: ignore[operator, no-any-return]
        try:
            setting = spec.by_config_key(str(key))
        except UsageError:  # an unknown key: nothing to offer
            return []
        offered = setting.candidates(incomplete)
        return [CompletionItem(item) for item in offered if isinstance(item, str)]

    return complete


def _name_completer(kind: str) -> object:
    from typer._click.shell_completion import CompletionItem

    from cartesia_cli.settings import name_cache, spec

    def complete(ctx: typer.Context, param: object, incomplete: str) -> list[CompletionItem]:
        flag = ctx.params.get(spec.BASE_URL.name)
        base_url = name_cache.completion_base_url(flag, os.environ, spec.BASE_URL.default)
        offers = name_cache.offers(incomplete, name_cache.names(kind, base_url))
        # The cache hands out names already made plain for every shell (name_cache.shown_name:
        # no controls, bidi or backslashes): an escape here would put a backslash back.
        return [CompletionItem(value, help=shown) for value, shown in _for_the_shell(offers)]

    return complete


def _for_the_shell(offers: Sequence[tuple[str, str]]) -> Sequence[tuple[str, str]]:
    """bash puts a value in as it is: a name with spaces goes in escaped (`Default\\ Narrator`);
    on a TAB that only lists, each is shown with its id (or name). zsh and fish quote what
    they insert themselves, and show the id as a description.
    """
    if os.environ.get(COMPLETE_VAR) != "complete_bash":
        return offers
    if os.environ.get("COMP_TYPE") == LISTS_ONLY and len(offers) > 1:
        return [(f"{value} ({shown})", shown) for value, shown in offers]  # shown, not typed
    import re

    return [(re.sub(r"([^\w.,:@%+=/-])", r"\\\1", value), shown) for value, shown in offers]


def _usage_failure(exc: typer.TyperException) -> int:
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":
        # A bare group (`cartesia-cli`, `cartesia-cli tts`): its help, as a usage error.
        for line in exc.format_message().rstrip("\n").split("\n"):
            console.note(line)  # line by line: the console escapes a line break inside a line
        return ExitCode.USAGE
    where = ctx.command_path if ctx is not None else PROG
    return _fail(f"{exc.format_message()} (see '{where} --help')", exc.exit_code)


def _usage_json(exc: typer.TyperException, argv: Sequence[str], code: int) -> None:
    """A job's --json object when typer refused its arguments (an unknown flag, say)."""
    command = _job_command(getattr(exc, "ctx", None), argv)
    _job_json(command, "usage", exc.format_message(), code, argv)


def _job_command(ctx: object, argv: Sequence[str]) -> str:
    """The job command (`tts sse`, `say`, …) from typer's context, else from the words."""
    path = getattr(ctx, "command_path", None)
    command = path.removeprefix(PROG).strip() if isinstance(path, str) else ""
    if not command:  # typer gave no context ("requires an argument"): read the words
        tts = endpoints.in_argv(argv)
        command = tts.command if tts is not None else ""
    return command


def _job_json(command: str, kind: str, message: str, code: int, argv: Sequence[str]) -> None:
    """The --json object of a job that failed before it could write its own."""
    if endpoints.named(command) is None:  # not a job: no --json object
        return
    from cartesia_cli.output import result_json

    error = result_json.error_object(kind=kind, message=message)
    doc = result_json.document(error, command=command, exit_code=code)
    _emit_last(result_json.encode(doc), not _audio_to_stdout(argv))


def _audio_to_stdout(argv: Sequence[str]) -> bool:
    """Whether the arguments ask for audio on stdout (-o -, -qo /dev/stdout), read without typer."""
    output = _output_argument(argv)
    if output is None:
        return False
    from cartesia_cli.output.sinks import is_stdout

    return is_stdout(output)


def _output_argument(argv: Sequence[str]) -> str | None:
    """-o's value as typed (--output X, --output=X, -o X, -qoX), read without typer."""
    for flag, value in zip(argv, [*argv[1:], ""], strict=True):
        if flag == "--":
            return None
        if flag == "--output":
            return value
        if flag.startswith("--output="):
            return flag.removeprefix("--output=")
        if flag.startswith("-") and not flag.startswith("--") and "o" in flag[1:]:
            return flag[flag.index("o", 1) + 1 :] or value  # short flags run together: -qo-
    return None


def _emit_last(text: str, to_stdout: bool) -> None:
    from cartesia_cli.jobs.facts import emit_result

    try:
        emit_result(text, to_stdout)
    except BrokenPipeError:
        process.silence_stdout()
    except CliError:  # stdout cannot take it (a closed terminal): the failure said stands
        process.silence_stdout()


def _fail(message: str, code: int) -> int:
    process.stop_taken()  # the run is over: a signal now must not cut the last line short
    console.error(message)  # redacted there: no error line may carry the API key
    return int(code)
