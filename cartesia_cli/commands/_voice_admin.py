"""The glue of `voices clone|localize|update|delete`: checks, requests, what is said.

Every local check (the clip, the language, the flags a Cartesia-Version needs)
comes before any request. A request that creates a voice is never sent twice
once it went out (api/contract.py); when its answer is lost, the error line
says the voice may exist all the same and how to look. Deleting checks every
voice first, so that an unknown one deletes nothing.

stdout carries the answer: the new voice's id (or, with --json, the API's
object); lines for people go through the console.
"""

from __future__ import annotations

import contextlib
import json
import shlex
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

from cartesia_cli.api import voice_admin, voices
from cartesia_cli.api.voice_admin import Localize
from cartesia_cli.commands import _changes, _voices
from cartesia_cli.errors import CliError, UsageError
from cartesia_cli.formats import LANGUAGES
from cartesia_cli.input import clip as clips
from cartesia_cli.jobs import names
from cartesia_cli.jobs.context import api_config
from cartesia_cli.output.sinks import write_stdout
from cartesia_cli.settings import spec
from cartesia_cli.settings.resolve import Settings
from cartesia_cli.settings.spec import Given
from cartesia_cli.ui import confirm
from cartesia_cli.ui.console import console, isatty

if TYPE_CHECKING:
    from cartesia_cli.api.client import CartesiaClient


class CloneRequest(NamedTuple):
    clip: str
    name: str
    language: str
    description: str | None
    base_voice: str | None
    accent: str | None


# --- clone ------------------------------------------------------------------------------


def clone(
    given: Given, request: CloneRequest, *, as_json: bool, debug: bool, quiet: bool = False
) -> None:
    from cartesia_cli.api.contract import FilePart

    _check_name(request.name)
    if request.language not in LANGUAGES:
        raise UsageError(
            f"--language {request.language!r} is not a language code the API knows; one of: "
            + " ".join(LANGUAGES)
        )
    clip = clips.load(request.clip)
    settings = _settings(given, debug, quiet)
    version = settings[spec.API_VERSION]
    if request.accent is not None and not voice_admin.accents_since(version):
        raise UsageError(f"--accent needs Cartesia-Version {voice_admin.ACCENTS_SINCE} or later")
    _say_about(clip, request.clip)
    with _client(settings) as client:
        base = (
            names.look_up(names.VOICE, request.base_voice, client.config).id
            if request.base_voice
            else None
        )
        fields = voice_admin.clone_fields(
            name=request.name,
            language=request.language,
            description=request.description,
            base_voice=base,
            accent=request.accent,
        )
        file = FilePart(clip.name, clip.data, clip.media_type)
        with _creating("voice", request.name):
            made = voices.check_voice(
                client.post_multipart(voice_admin.CLONE_PATH, fields, "clip", file)
            )
    _created("Cloned", made, settings, as_json=as_json)


def _say_about(clip: clips.Clip, shown: str) -> None:
    if clip.converted:
        console.info(f"converted {shown!r} ({clip.kind.name}) to WAV for the upload")
    if clip.seconds is not None and clip.seconds < clips.SHORT_SECONDS:
        console.warning(
            f"{shown!r} is {clip.seconds:.1f} s long; a clone is closer from about 10 s of speech"
        )


# --- localize ---------------------------------------------------------------------------


def localize(
    given: Given, wanted: Localize, *, as_json: bool, debug: bool, quiet: bool = False
) -> None:
    _check_name(wanted.name)
    settings = _settings(given, debug, quiet)
    version = settings[spec.API_VERSION]
    voice_admin.checked_localize(wanted, version)
    with _client(settings) as client:
        source = names.look_up(names.VOICE, wanted.voice_id, client.config)
        accent = wanted.accent
        if voice_admin.accents_since(version) and accent is None:
            accent = _default_accent(client, wanted)
        body = voice_admin.localize_body(wanted._replace(voice_id=source.id), accent)
        with _creating("voice", wanted.name):
            made = voices.check_voice(client.post_json(voice_admin.LOCALIZE_PATH, body))
    _created("Localized", made, settings, as_json=as_json)


def _default_accent(client: CartesiaClient, wanted: Localize) -> str:
    """The language's usual localizable accent, from the catalogue (one GET), said aloud."""
    catalogue = voice_admin.accents_of(client.get_json(voice_admin.ACCENTS_PATH))
    accent = voice_admin.default_accent(catalogue, wanted.language, wanted.dialect)
    if accent is None:
        some = " ".join(voice_admin.localizable_languages(catalogue)) or "none"
        raise UsageError(
            f"the server has no accent to localize to in {wanted.language!r}"
            f" (languages it has: {some}); name one with --accent"
        )
    shown = ", ".join(str(accent[k]) for k in ("name", "locale") if isinstance(accent.get(k), str))
    console.info(
        f"localizing to accent {accent['id']}" + (f" ({shown})" if shown else "")
        + "; choose another with --accent"
    )  # fmt: skip
    return str(accent["id"])


# --- update -----------------------------------------------------------------------------


class Changes(NamedTuple):
    name: str | None
    description: str | None
    gender: str | None
    accent: str | None


def update(
    given: Given,
    wanted: str,
    changes: Changes,
    *,
    as_json: bool,
    debug: bool,
    quiet: bool = False,
) -> None:
    settings = _settings(given, debug, quiet)
    body = voice_admin.update_body(**changes._asdict(), api_version=settings[spec.API_VERSION])
    with _client(settings) as client:
        voice = names.look_up(names.VOICE, wanted, client.config)
        answer = voices.check_voice(client.patch_json(_path(voice.id), body))
    names.remember(names.VOICE, settings[spec.BASE_URL], [answer], complete=False)
    if as_json:
        write_stdout(_json(answer))
    changed = ", ".join(body)
    console.info(f"Updated voice {_shown(answer)}: {changed}")
    if changes.name is not None:
        _name_shared(answer, settings)


# --- delete -----------------------------------------------------------------------------


def delete(
    given: Given,
    wanted: list[str],
    *,
    yes: bool,
    as_json: bool,
    debug: bool,
    quiet: bool = False,
) -> None:
    if not yes and not (isatty(0) and console.is_terminal()):
        # Nobody to ask: may_delete refuses at once, and so before any request is made.
        confirm.may_delete(wanted, yes=False)
    settings = _settings(given, debug, quiet)
    with _client(settings) as client:
        found = _every_voice_there(client, wanted)
        if not confirm.may_delete([_shown(v) for v in found], yes=yes):
            console.note("Nothing was deleted.")
            if as_json:
                write_stdout(_json({"deleted": []}))
            return

        def delete_one(voice: voices.Voice) -> None:
            client.delete(_path(voice["id"]))
            names.forget(names.VOICE, client.config.base_url, [voice["id"]])
            console.info(f"Deleted voice {_shown(voice)}")

        def report(deleted: list[voices.Voice]) -> None:
            write_stdout(_json({"deleted": [_brief(v) for v in deleted]}))

        _changes.delete_each(
            found,
            delete_one,
            shown=_shown,
            look=lambda voice: f"cartesia-cli voices get {voice['id']}",
            report=report if as_json else None,
        )


def _every_voice_there(client: CartesiaClient, wanted: list[str]) -> list[voices.Voice]:
    """Each voice named, looked up (once each), before any is deleted."""
    found: dict[str, voices.Voice] = {}
    for one in wanted:
        try:
            named = names.look_up(names.VOICE, one, client.config)
            if named.id in found:
                continue
            # Every one is asked for, a name from the cache too (the cache may be older
            # than a deletion elsewhere): an unknown one must stop the run before any deletion.
            voice = voices.check_voice(client.get_json(_path(named.id)))
        except CliError as exc:
            exc.hint = _changes.with_notes(exc, "nothing was deleted")
            raise
        found[named.id] = voice
    return list(found.values())


# --- shared -----------------------------------------------------------------------------


def _settings(given: Given, debug: bool, quiet: bool) -> Settings:
    settings = _voices._settings(given, debug)
    console.configure(quiet=quiet, debug=debug)  # -q: no summary line; errors still print
    return settings


@contextlib.contextmanager
def _client(settings: Settings) -> Iterator[CartesiaClient]:
    from cartesia_cli.api.client import CartesiaClient

    with CartesiaClient(api_config(settings), debug=console.debug_log()) as client:
        yield client


def _creating(noun: str, name: str) -> contextlib.AbstractContextManager[None]:
    """A creating request whose answer was lost may have created: the line says how to look."""
    return _changes.creating(noun, f"cartesia-cli voices list --query {shlex.quote(name)}")


def _created(verb: str, made: voices.Voice, settings: Settings, *, as_json: bool) -> None:
    """The new voice: its id (or the API's object) on stdout, and how to use it for people."""
    write_stdout(_json(made) if as_json else made["id"])
    names.remember(names.VOICE, settings[spec.BASE_URL], [made], complete=False)
    name = voices.field(made, "name")
    alone = _name_shared(made, settings) if name else False
    use = shlex.quote(name) if alone else made["id"]
    console.info(f"{verb} voice {_shown(made)}; speak with it: --voice {use}")


def _name_shared(voice: voices.Voice, settings: Settings) -> bool:
    """Whether the voice's name names it alone: one search listing (so the name cache then
    holds every voice of that name, and finds the name ambiguous as the API would). Another
    voice of that name is a warning naming its id; a listing that failed is no answer (False)."""
    name = voices.field(voice, "name")
    others = names.others_named(names.VOICE, name, api_config(settings), voice["id"])
    if others:
        listed = ", ".join(str(other.get("id")) for other in others)
        console.warning(
            f"{name!r} already names {'another voice' if len(others) == 1 else 'other voices'}"
            f" ({listed}): the name is ambiguous now, give the id to use this one"
        )
    return others == []


def _check_name(name: str) -> None:
    if not name.strip():
        raise UsageError("--name cannot be empty")


def _shown(voice: voices.Voice) -> str:
    """`"Name" (id)`, or the id alone when the name is not known."""
    name = voices.field(voice, "name")
    return f"{json.dumps(name, ensure_ascii=False)} ({voice['id']})" if name else str(voice["id"])


def _brief(voice: voices.Voice) -> dict[str, object]:
    return {"id": voice["id"], "name": voice.get("name")}


def _path(voice_id: str) -> str:
    return voices.path(voice_id)


def _json(doc: object) -> str:
    return json.dumps(doc, ensure_ascii=True, allow_nan=False)
