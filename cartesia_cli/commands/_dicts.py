"""The dictionary commands' glue: the file read first, one client, names to ids, what was done.

Every local check (the file, the flags, the name) comes before the first
request. The answer (a listing, a file, --json) goes to stdout; every line for
people through the console.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from cartesia_cli.api import dicts
from cartesia_cli.api.dicts import Dictionary, Diff
from cartesia_cli.api.protocol import DICTIONARIES_PATH
from cartesia_cli.commands import _changes
from cartesia_cli.errors import OutputError, UsageError
from cartesia_cli.input import dict_file
from cartesia_cli.input.dict_file import DictFile, Entry
from cartesia_cli.jobs import names
from cartesia_cli.jobs.context import api_config, config_file, load_config
from cartesia_cli.output.claims import ClaimedFile
from cartesia_cli.output.sinks import write_stdout
from cartesia_cli.settings import spec
from cartesia_cli.settings.resolve import insecure_url_warning, resolve
from cartesia_cli.settings.spec import Given
from cartesia_cli.ui import dicts_view
from cartesia_cli.ui.console import console, isatty

if TYPE_CHECKING:
    from cartesia_cli.api.client import CartesiaClient


class Account:
    """The account's dictionaries, through one client: listed at most once per command."""

    def __init__(self, client: CartesiaClient) -> None:
        self.client = client
        self._listing: list[Dictionary] | None = None

    def dictionaries(self) -> list[Dictionary]:
        if self._listing is None:
            pages = dicts.every_dictionary(self._page, warn=console.warning)
            self._listing = list(pages)
            self.remember(self._listing, complete=True)
        return self._listing

    def remember(self, found: Sequence[Dictionary], *, complete: bool = False) -> None:
        """Keep their names for Tab and for names given later (--pronunciation-dict NAME)."""
        names.remember(names.DICTIONARY, self.client.config.base_url, found, complete=complete)

    def _page(self, query: Mapping[str, str]) -> object:
        return self.client.get_json(DICTIONARIES_PATH, query)

    def named(self, wanted: str) -> names.Named:
        """The dictionary `wanted` names, by id or by name: the one place a name becomes an id."""
        return names.look_up(names.DICTIONARY, wanted, self.client.config)

    def fetch(self, dictionary_id: str) -> Dictionary:
        return dicts.check_dictionary(self.client.get_json(dicts.path(dictionary_id)))


@contextmanager
def account(given: Given, debug: bool, quiet: bool = False) -> Iterator[Account]:
    from cartesia_cli.api.client import CartesiaClient

    console.configure(quiet=quiet, debug=debug)
    settings = resolve(given, os.environ, load_config(config_file()))
    warning = insecure_url_warning(settings[spec.BASE_URL])
    if warning:
        console.warning(warning)
    with CartesiaClient(api_config(settings), debug=console.debug_log()) as client:
        yield Account(client)


# --- list, get ------------------------------------------------------------------------------


def list_dicts(given: Given, *, as_json: bool, debug: bool) -> None:
    with account(given, debug) as acc:
        found = acc.dictionaries()
    if as_json:
        _json(found)
        return
    rows = [[d["id"], dicts.name_of(d), str(_count(d)), _text(d.get("created_at"))] for d in found]
    dicts_view.show(dicts_view.LIST_COLUMNS, rows, terminal=isatty(1))


def get_dict(
    given: Given,
    wanted: str,
    *,
    output: str | None,
    fmt: str | None,
    force: bool,
    as_json: bool,
    debug: bool,
) -> None:
    if output == "-":
        if fmt is None:
            raise UsageError("-o - names no format: write to stdout with --format toml|csv")
        output = None  # -o - --format csv: stdout, as --format alone
    fmt = _output_format(output, fmt, as_json)
    claim = ClaimedFile(Path(output), force=force) if output else None  # before the request
    try:
        with account(given, debug) as acc:
            found = acc.fetch(acc.named(wanted).id)
        if as_json:
            _json(found)  # as the server sent it, items and all
            if fmt is None:
                return
        entries = dicts.entries_of(found)
        if claim is not None and fmt is not None:
            _write_file(claim, _as_file(found, entries), fmt)
            _say_written(claim.path, found, len(entries))
        elif fmt is not None:
            write_stdout(dict_file.dump(_as_file(found, entries), fmt, "stdout"), end="")
        else:
            rows = [[e.text, e.pronunciation, "true" if e.case_sensitive else ""] for e in entries]
            dicts_view.show(dicts_view.WORD_COLUMNS, rows, terminal=isatty(1))
    finally:
        if claim is not None:
            claim.release()


def _output_format(output: str | None, fmt: str | None, as_json: bool) -> str | None:
    if output is not None and fmt is not None:
        raise UsageError("give -o FILE (its suffix is the format) or --format, not both")
    if fmt is not None and as_json:
        raise UsageError("--format and --json both write to stdout; give one")
    if output is not None:
        return dict_file.format_of(output)
    if fmt is not None and fmt not in dict_file.FORMATS:
        raise UsageError(f"--format must be toml or csv, got {fmt!r}")
    return fmt


def _as_file(found: Dictionary, entries: Sequence[Entry]) -> DictFile:
    name: str | None = dicts.name_of(found)
    if not name or dict_file.name_problem(name):
        name = None
    return DictFile(name, tuple(entries))


def _write_file(claim: ClaimedFile, dictionary: DictFile, fmt: str) -> None:
    text = dict_file.dump(dictionary, fmt, str(claim.path))
    try:
        claim.write(text)
    except OSError as exc:
        raise OutputError(f"cannot write {claim.path}: {exc.strerror}") from None


def _say_written(path: Path, found: Dictionary, count: int) -> None:
    console.note(f"Wrote {_words(count)} of {_quoted(dicts.name_of(found))} to {path}.")


# --- create, update -------------------------------------------------------------------------


def create_dict(
    given: Given, name: str, file: str | None, *, as_json: bool, debug: bool, quiet: bool = False
) -> None:
    trouble = dict_file.name_problem(name)
    if trouble:
        raise UsageError(trouble)
    read = dict_file.read(file) if file is not None else None
    entries = read.entries if read is not None else None
    with account(given, debug, quiet) as acc:
        _refuse_taken(acc, name)
        body = dicts.create_body(name, entries or ())
        if entries is None:
            del body["items"]  # no file: the dictionary starts empty, as the API makes it
        with _changes.creating("dictionary", _look(name)):
            created = dicts.check_dictionary(acc.client.post_json(DICTIONARIES_PATH, body))
        acc.remember([created])
    console.info(f"Created {_described(created)} with {_words(len(entries or ()))}.")
    if file is not None and read is not None:
        _warn_if_push_differs(file, read, name)
    if as_json:
        _json(created)


def _warn_if_push_differs(file: str, read: DictFile, name: str) -> None:
    """`dicts push FILE` finds its dictionary by the file's name: say so when it is another."""
    pushes_to = push_name(file, read)
    if pushes_to.strip().casefold() != name.strip().casefold():
        fix = (
            f"give the file a first line `{dict_file.csv_name_line(name)}`"
            if dict_file.format_of(file) == dict_file.CSV
            else f"give the file name = {_quoted(name)}"
        )
        console.warning(
            f"`cartesia-cli dicts push {file}` would push to a dictionary named "
            f"{_quoted(pushes_to)}, not to this one ({fix})"
        )


def push_name(file: str, read: DictFile) -> str:
    """The name of the dictionary a file is pushed to: its `name`, else the file's stem."""
    return read.name or Path(file).stem


def _refuse_taken(acc: Account, name: str) -> None:
    """Two dictionaries with one name could no longer be told apart by name: refused."""
    taken = _by_name(acc, name)
    if taken:
        raise UsageError(
            f"a pronunciation dictionary named {_quoted(name)} exists already "
            f"({taken[0]['id']}): change it with `cartesia-cli dicts update` or `dicts push`"
        )


def update_dict(
    given: Given, wanted: str, file: str, *, as_json: bool, debug: bool, quiet: bool = False
) -> None:
    entries = dict_file.read(file).entries
    with account(given, debug, quiet) as acc:
        target = acc.named(wanted)
        with _changing(target.id):
            answer = acc.client.patch_json(dicts.path(target.id), dicts.update_body(entries))
        updated = dicts.check_dictionary(answer)
        acc.remember([updated])
    console.info(f"Updated {_described(updated)}: now {_words(len(entries))}, from {file}.")
    if as_json:
        _json(updated)


# --- delete ---------------------------------------------------------------------------------


def delete_dicts(
    given: Given,
    wanted: Sequence[str],
    *,
    yes: bool,
    as_json: bool,
    debug: bool,
    quiet: bool = False,
) -> None:
    from cartesia_cli.ui import confirm

    console.configure(quiet=quiet, debug=debug)
    if not yes and not (isatty(0) and console.is_terminal()):
        confirm.may_delete([], yes=False)  # refused here (exit 2), before any request
    with account(given, debug, quiet) as acc:
        doomed = _each_found(acc, wanted)  # all of them first: an unknown one deletes none
        lines = [f"{_described(d)}, {_words(_count(d))}" for d in doomed]
        if not confirm.may_delete(lines, yes=yes):
            console.note("Nothing was deleted.")
            doomed = []

        def delete_one(found: Dictionary) -> None:
            acc.client.delete(dicts.path(found["id"]))
            names.forget(names.DICTIONARY, acc.client.config.base_url, [found["id"]])
            console.info(f"Deleted {_described(found)}.")

        _changes.delete_each(
            doomed,
            delete_one,
            shown=_described,
            look=lambda found: f"cartesia-cli dicts get {found['id']}",
            report=_report_deleted if as_json else None,
        )


def _report_deleted(deleted: list[Dictionary]) -> None:
    """--json: the ones deleted, also when one failed (the ones before it are gone)."""
    _json([{"id": d["id"], "name": dicts.name_of(d), "deleted": True} for d in deleted])


def _each_found(acc: Account, wanted: Sequence[str]) -> list[Dictionary]:
    """Each dictionary named, once, as the server has it now (an unknown id: exit 4)."""
    found: dict[str, Dictionary] = {}
    for one in wanted:
        dictionary_id = acc.named(one).id
        if dictionary_id not in found:
            found[dictionary_id] = acc.fetch(dictionary_id)
    return list(found.values())


# --- push -----------------------------------------------------------------------------------


def push_file(
    given: Given, file: str, *, dry_run: bool, as_json: bool, debug: bool, quiet: bool = False
) -> None:
    wanted = dict_file.read(file)
    name = push_name(file, wanted)
    trouble = dict_file.name_problem(name)
    if trouble:
        raise UsageError(f'{file}: {trouble}; give the dictionary a name = "…"')
    with account(given, debug, quiet) as acc:
        matches = _by_name(acc, name)
        if len(matches) > 1:
            raise UsageError(names.ambiguous(names.DICTIONARY, name, matches))
        current = acc.fetch(matches[0]["id"]) if matches else None
        change = dicts.diff(dicts.entries_of(current) if current else (), wanted.entries)
        result = current
        if dry_run:
            pass
        elif current is None:
            body = dicts.create_body(name, wanted.entries)
            with _changes.creating("dictionary", _look(name)):
                result = dicts.check_dictionary(acc.client.post_json(DICTIONARIES_PATH, body))
        elif not change.empty:
            body = dicts.update_body(wanted.entries)
            with _changing(current["id"]):
                answer = acc.client.patch_json(dicts.path(current["id"]), body)
            result = dicts.check_dictionary(answer)
        if result is not None:
            acc.remember([result])
    _show_diff(change)  # only now: what was done (or, with --dry-run, what would be)
    _say_pushed(file, name, current, result, change, dry_run=dry_run)
    if as_json:
        _json(_push_json(name, current, result, change, dry_run=dry_run))


def _by_name(acc: Account, name: str) -> list[Dictionary]:
    wanted = name.strip().casefold()
    return [d for d in acc.dictionaries() if dicts.name_of(d).strip().casefold() == wanted]


def _show_diff(change: Diff) -> None:
    for entry in change.added:
        console.info(f"  added    {_quoted(entry.text)} = {_pronounced(entry)}")
    for before, after in change.changed:
        was, now = _pronounced(before), _pronounced(after)
        console.info(f"  changed  {_quoted(after.text)} = {was} → {now}")
    for entry in change.removed:
        console.info(f"  removed  {_quoted(entry.text)}")


def _say_pushed(
    file: str,
    name: str,
    current: Dictionary | None,
    result: Dictionary | None,
    change: Diff,
    *,
    dry_run: bool,
) -> None:
    counts = _counts(change)
    if current is not None and change.empty:
        console.info(f"{_described(current)} already matches {file}: nothing to send.")
    elif dry_run and current is None:
        console.info(f"Would create {_quoted(name)} from {file}: {counts} (dry run: nothing sent).")
    elif dry_run and current is not None:
        target = _described(current)
        console.info(f"Would push {file} to {target}: {counts} (dry run: nothing sent).")
    elif current is None and result is not None:
        console.info(f"Created {_described(result)} from {file}: {counts}.")
    elif result is not None:
        console.info(f"Pushed {file} to {_described(result)}: {counts}.")


def _push_json(
    name: str, current: Dictionary | None, result: Dictionary | None, change: Diff, *, dry_run: bool
) -> dict[str, object]:
    target = result or current
    return {
        "id": target["id"] if target else None,
        "name": dicts.name_of(target) if target else name,
        "created": current is None and not dry_run,
        "sent": not dry_run and (current is None or not change.empty),
        "dry_run": dry_run,
        "added": [dicts.wire_item(e) for e in change.added],
        "changed": [
            {"before": dicts.wire_item(c.before), "after": dicts.wire_item(c.after)}
            for c in change.changed
        ],
        "removed": [dicts.wire_item(e) for e in change.removed],
    }


def _look(name: str) -> str:
    """The command that shows whether a dictionary named `name` is there."""
    return f"cartesia-cli dicts get {shlex.quote(name)}"


def _changing(dictionary_id: str) -> AbstractContextManager[None]:
    """A PATCH whose answer was lost may have replaced the words all the same."""
    look = f"cartesia-cli dicts get {dictionary_id}"
    return _changes.may_have_happened("the words may have been replaced", look)


# --- words ----------------------------------------------------------------------------------


def _counts(change: Diff) -> str:
    return (
        f"{len(change.added)} added, {len(change.changed)} changed, {len(change.removed)} removed"
    )


def _count(found: Dictionary) -> int:
    items = found.get("items")
    return len(items) if isinstance(items, list) else 0


def _words(count: int) -> str:
    return f"{count} word" if count == 1 else f"{count} words"


def _described(found: Dictionary) -> str:
    return f"{_quoted(dicts.name_of(found))} ({found['id']})"


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _pronounced(entry: Entry) -> str:
    said = _quoted(entry.pronunciation)
    return f"{said} (case-sensitive)" if entry.case_sensitive else said


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _json(doc: object) -> None:
    write_stdout(json.dumps(doc, ensure_ascii=True, allow_nan=False))
