"""`cartesia-cli config`: the 0600 store, masking, precedence, and a corrupt file."""

from __future__ import annotations

import os
import pty
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartesia_cli.mock import FakeCartesia
from cartesia_cli.settings.spec import CONFIGURABLE

from .conftest import API_KEY, ENTRY_POINT, VOICE, RunCli, clean_env

OTHER_VOICE = "f786b574-daa5-4673-aa0c-cbe3e8534c02"
DEFAULT_VOICE = "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "config.toml"


def test_set_get_unset_and_path(cli: RunCli, config_file: Path) -> None:
    assert cli("config", "path").stdout.decode() == f"{config_file}\n"
    saved = cli("config", "set", "voice", VOICE)
    assert saved.code == 0
    assert saved.stderr == f"saved voice = {VOICE} in {config_file}\n"
    assert cli("config", "set", "sample_rate", "16000").code == 0
    assert config_file.read_text() == f'voice = "{VOICE}"\nsample_rate = 16000\n'
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert cli("config", "get", "voice").stdout.decode() == f"{VOICE}\n"
    assert cli("config", "get").stdout.decode() == f"voice = {VOICE}\nsample_rate = 16000\n"
    assert cli("config", "unset", "voice").code == 0
    unset = cli("config", "get", "voice")
    assert (unset.code, unset.stdout, unset.stderr) == (0, b"", "voice is not set\n")


def test_api_key_from_piped_stdin_is_masked_when_shown(cli: RunCli, config_file: Path) -> None:
    result = cli("config", "set", "api_key", input=f"{API_KEY}\n".encode())
    assert result.code == 0
    assert result.stderr == f"saved api_key = ****{API_KEY[-4:]} in {config_file}\n"
    assert config_file.read_text() == f'api_key = "{API_KEY}"\n'
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert cli("config", "get", "api_key").stdout.decode() == f"****{API_KEY[-4:]}\n"


def test_api_key_prompt_does_not_echo(tmp_path: Path, config_file: Path) -> None:
    env = clean_env(CARTESIA_CLI_CONFIG_DIR=str(config_file.parent))
    pid, terminal = os.forkpty()
    if pid == 0:  # the child, on a pseudo-terminal as its controlling terminal
        os.execve(str(ENTRY_POINT), [str(ENTRY_POINT), "config", "set", "api_key"], env)
    screen = read_until(terminal, b"API key: ")
    os.write(terminal, f"{API_KEY}\n".encode())
    screen += read_until(terminal, b"in ")
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 0
    assert API_KEY.encode() not in screen
    assert config_file.read_text() == f'api_key = "{API_KEY}"\n'


def read_until(fd: int, marker: bytes, timeout: float = 10) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        assert time.monotonic() < deadline, seen
        try:
            seen += os.read(fd, 1024)
        except OSError:
            break
    return seen


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("config", "set", "colour", "red"),
            "unknown setting 'colour'; the keys are: model, voice, encoding",
        ),
        (("config", "set", "encoding", "mp3"), "encoding must be one of pcm_f32le"),
        (("config", "set", "sample_rate", "12345"), "sample_rate must be one of 8000"),
        (("config", "set", "base_url", "ftp://x"), "base_url must be an http:// or https://"),
        (("config", "set", "voice"), "give a value: cartesia-cli config set voice VALUE"),
    ],
)
def test_bad_config_input_changes_nothing(
    cli: RunCli, config_file: Path, args: tuple[str, ...], message: str
) -> None:
    assert cli("config", "set", "model", "sonic-3").code == 0
    before = config_file.read_bytes()
    result = cli(*args)
    assert result.code == 2
    assert message in result.stderr
    assert config_file.read_bytes() == before


def test_corrupt_config_is_reported_and_never_overwritten(
    cli: RunCli, fake: FakeCartesia, config_file: Path
) -> None:
    config_file.parent.mkdir()
    config_file.write_text('voice = "unterminated\n')
    for args in (("tts", "sse", "Hi", "-o", "-"), ("config", "set", "model", "sonic-3")):
        result = cli(*args)
        assert result.code == 2
        assert result.stderr.startswith(
            f"cartesia-cli: error: config file {config_file} is not valid TOML: "
        )
        assert result.stderr.count("\n") == 1
    assert config_file.read_text() == 'voice = "unterminated\n'
    assert fake.requests == []


def test_precedence_flag_over_env_over_config_over_default(
    cli: RunCli, fake: FakeCartesia, config_file: Path
) -> None:
    def sent_voice(*args: str, env: dict[str, str] | None = None) -> str:
        result = cli("tts", "sse", "Hi", "-o", "-", *args, env=env)
        assert result.code == 0, result.stderr
        voice: str = fake.requests[-1].json()["voice"]
        return voice

    assert sent_voice() == DEFAULT_VOICE
    cli("config", "set", "voice", VOICE)
    assert sent_voice() == VOICE
    env = {"CARTESIA_VOICE_ID": OTHER_VOICE}
    assert sent_voice(env=env) == OTHER_VOICE
    assert sent_voice("--voice", DEFAULT_VOICE, env=env) == DEFAULT_VOICE


def test_config_supplies_key_format_and_base_url(
    cli: RunCli, fake: FakeCartesia, config_file: Path
) -> None:
    cli("config", "set", "api_key", API_KEY)
    cli("config", "set", "base_url", fake.url)
    cli("config", "set", "encoding", "pcm_mulaw")
    cli("config", "set", "sample_rate", "8000")
    env = {"CARTESIA_API_KEY": "", "CARTESIA_BASE_URL": ""}
    result = cli("tts", "sse", "Hi", "-o", "-", env=env)
    assert result.code == 0, result.stderr
    assert fake.requests[-1].json()["output_format"]["encoding"] == "pcm_mulaw"
    assert "pcm_mulaw 8000 Hz" in result.stderr
    flags = cli("tts", "sse", "Hi", "-o", "-", "-e", "pcm_s16le", "-r", "16000", env=env)
    assert fake.requests[-1].json()["output_format"] == {
        "container": "raw",
        "encoding": "pcm_s16le",
        "sample_rate": 16000,
    }
    assert flags.code == 0
    wrong_env_key = cli("tts", "sse", "Hi", "-o", "-", env={"CARTESIA_API_KEY": "sk-env-wrong-1"})
    assert wrong_env_key.code == 3  # the environment beats the stored (right) key


def test_default_location_is_the_platform_app_dir(tmp_path: Path) -> None:
    from .conftest import run_entry_point

    env = clean_env(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    result = run_entry_point(("config", "path"), env=env, cwd=tmp_path)
    assert result.stdout.decode() == f"{tmp_path / 'xdg' / 'cartesia-cli' / 'config.toml'}\n"


# --- the config file's neighbours: links, umasks, other users -------------------------------


def test_a_linked_config_file_is_updated_where_it_points(
    cli: RunCli, config_file: Path, tmp_path: Path
) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "cartesia.toml").write_text(f'voice = "{VOICE}"\n')
    config_file.parent.mkdir()
    config_file.symlink_to(dotfiles / "cartesia.toml")
    assert cli("config", "set", "sample_rate", "16000").code == 0
    assert config_file.is_symlink()  # not replaced by a regular file
    assert (dotfiles / "cartesia.toml").read_text() == f'voice = "{VOICE}"\nsample_rate = 16000\n'
    assert stat.S_IMODE((dotfiles / "cartesia.toml").stat().st_mode) == 0o600


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o777])
def test_a_new_config_directory_is_0700_under_any_umask(
    cli: RunCli, config_file: Path, umask: int
) -> None:
    previous = os.umask(umask)
    try:
        result = cli("config", "set", "voice", VOICE)
    finally:
        os.umask(previous)
    assert result.code == 0, result.stderr
    assert stat.S_IMODE(config_file.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600


def test_a_config_directory_others_can_write_is_warned_about(
    cli: RunCli, config_file: Path
) -> None:
    config_file.parent.mkdir(mode=0o700)
    config_file.write_text(f'voice = "{VOICE}"\n')
    config_file.parent.chmod(0o777)
    warning = (
        f"cartesia-cli: warning: config directory {config_file.parent} is writable by other "
        f"users, who could change your settings; chmod 700 {config_file.parent}\n"
    )
    got = cli("config", "get", "voice")
    assert (got.code, got.stderr) == (0, warning)
    spoken = cli("tts", "sse", "Hello", "-o", "out.pcm", "-q")
    assert spoken.code == 0
    assert warning in spoken.stderr  # every command that reads it says so
    saved = cli("config", "set", "sample_rate", "16000")
    assert saved.stderr.endswith(warning)


def test_a_key_file_others_can_read_is_warned_about_until_it_is_rewritten(
    cli: RunCli, config_file: Path
) -> None:
    config_file.parent.mkdir(mode=0o700)
    config_file.write_text(f'api_key = "{API_KEY}"\n')
    config_file.chmod(0o644)
    got = cli("config", "get", "api_key")
    assert got.stderr == (
        f"cartesia-cli: warning: config file {config_file} holds the API key and is readable "
        f"by other users; chmod 600 {config_file}\n"
    )
    assert cli("config", "set", "voice", VOICE).stderr == (
        f"saved voice = {VOICE} in {config_file}\n"  # rewritten 0600: nothing to warn about
    )
    assert cli("config", "get", "api_key").stderr == ""


# --- only regular files: pipes, devices and directories are refused, never replaced ---------


def special(kind: str, where: Path) -> Path:
    """A named pipe, device node or directory at `where` (a device needs root: else skip)."""
    if kind == "fifo":
        os.mkfifo(where)
    elif kind == "directory":
        where.mkdir()
    else:
        try:  # a private twin of /dev/null: the real one must never be at stake
            os.mknod(where, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("making a device node needs root")
    return where


KINDS = {"fifo": "a named pipe", "device": "a device", "directory": "a directory"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("linked", [False, True], ids=["in-place", "linked"])
def test_a_config_file_that_is_no_regular_file_is_refused_unchanged(
    request: pytest.FixtureRequest, config_file: Path, tmp_path: Path, kind: str, linked: bool
) -> None:
    # A pipe gets a process of its own: a read that blocked would time out, not hang.
    cli: RunCli = request.getfixturevalue("cli_process" if kind == "fifo" else "cli")
    config_file.parent.mkdir()
    if linked:
        thing = special(kind, tmp_path / "elsewhere")
        config_file.symlink_to(thing)
    else:
        thing = special(kind, config_file)
    before = thing.lstat()
    for args in (("config", "set", "voice", VOICE), ("tts", "sse", "Hi", "-o", "out.pcm")):
        result = cli(*args, timeout=10)
        assert result.code == 2, result.stderr
        assert result.stderr == (
            f"cartesia-cli: error: cannot read config file {config_file}: "
            f"it is {KINDS[kind]}, not a regular file\n"
        )
    after = thing.lstat()
    assert (after.st_ino, after.st_mode, after.st_mtime_ns) == (
        before.st_ino, before.st_mode, before.st_mtime_ns,
    )  # fmt: skip
    assert config_file.is_symlink() == linked


@pytest.mark.parametrize("kind", KINDS)
def test_saving_through_a_link_replaces_only_a_regular_file(
    config_file: Path, tmp_path: Path, kind: str
) -> None:
    """The write's own check, for a pipe or device that appeared after the read."""
    from cartesia_cli.settings import store

    thing = special(kind, tmp_path / "elsewhere")
    config_file.parent.mkdir()
    config_file.symlink_to(thing)
    with pytest.raises(store.ConfigError) as refused:
        store.save(config_file, {"voice": VOICE})
    assert str(refused.value) == (
        f"cannot write config file {config_file}: it is {KINDS[kind]}, not a regular file"
    )
    assert not stat.S_ISREG(thing.lstat().st_mode)
    assert sorted(p.name for p in config_file.parent.iterdir()) == ["config.toml"]


def test_a_link_to_the_standard_output_is_not_a_config_file(
    cli_process: RunCli, config_file: Path
) -> None:
    """/dev/stdout leads through /proc to the pipe the test reads: refused, not replaced."""
    config_file.parent.mkdir()
    config_file.symlink_to("/dev/stdout")
    result = cli_process("config", "set", "voice", VOICE, timeout=10)
    assert result.code == 2
    assert result.stderr == (
        f"cartesia-cli: error: cannot read config file {config_file}: "
        "it is a named pipe, not a regular file\n"
    )
    assert result.stdout == b""


def test_a_link_to_a_file_not_made_yet_makes_it_where_it_points(
    cli: RunCli, config_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "dotfiles").mkdir()
    config_file.parent.mkdir()
    config_file.symlink_to(tmp_path / "dotfiles" / "cartesia.toml")
    assert cli("config", "set", "voice", VOICE).code == 0
    assert config_file.is_symlink()
    assert (tmp_path / "dotfiles" / "cartesia.toml").read_text() == f'voice = "{VOICE}"\n'


def test_a_link_to_a_closed_descriptor_is_a_write_error(cli: RunCli, config_file: Path) -> None:
    config_file.parent.mkdir()
    config_file.symlink_to("/proc/self/fd/987")  # dangling, and /proc makes no file
    result = cli("config", "set", "voice", VOICE)
    assert result.code == 2
    assert result.stderr.startswith(f"cartesia-cli: error: cannot write config file {config_file}")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("value", ["a\x7fb", "x\x1b[31my", "tab\there\x85C1", 'q"\\u0041'])
def test_a_value_with_control_characters_reads_back_equal(
    cli: RunCli, config_file: Path, value: str
) -> None:
    assert cli("config", "set", "model", value).code == 0  # any model id is stored as given
    got = cli("config", "get", "model")
    assert (got.code, got.stdout.decode()) == (0, f"{value}\n")


def test_a_value_that_is_not_utf8_is_refused_before_writing(cli: RunCli, config_file: Path) -> None:
    assert cli("config", "set", "model", "sonic-3").code == 0
    before = config_file.read_bytes()
    result = cli("config", "set", "voice", "caf\udce9")  # `café` in Latin-1, via argv
    assert result.code == 2
    assert result.stderr == (
        "cartesia-cli: error: voice must be text (UTF-8): the value has bytes that are not\n"
    )
    assert config_file.read_bytes() == before
    assert sorted(p.name for p in config_file.parent.iterdir()) == ["config.toml"]


@given(
    key=st.sampled_from([s.name for s in CONFIGURABLE]),
    raw=st.text(st.characters(exclude_categories=()), max_size=40),
)
@settings(max_examples=300, deadline=None)
def test_any_value_config_set_accepts_reads_back_equal(key: str, raw: str) -> None:
    from cartesia_cli.errors import CliError
    from cartesia_cli.settings import store
    from cartesia_cli.settings.resolve import parse_config_value

    try:
        value = parse_config_value(key, raw)
    except CliError:
        return  # refused as a flag would be
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        try:
            store.save(path, {key: value})
        except store.ConfigError:
            assert not list(Path(folder).iterdir())  # refused: nothing written
            return
        assert store.load(path) == {key: value}


def test_absurd_nesting_is_not_valid_toml(cli_process: RunCli, config_file: Path) -> None:
    config_file.parent.mkdir()
    config_file.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    # With no base URL in the environment the start-up reader reads the file too.
    for args in (("config", "get"), ("tts", "sse", "Hi", "-o", "out.pcm")):
        result = cli_process(*args, env={"CARTESIA_BASE_URL": ""})
        assert (result.code, result.stderr) == (
            2,
            f"cartesia-cli: error: config file {config_file} is not valid TOML: "
            "nested too deeply\n",
        )


def test_a_config_file_too_large_to_be_one_is_refused(cli: RunCli, config_file: Path) -> None:
    config_file.parent.mkdir()
    config_file.write_bytes(b"# " + b"x" * (1 << 20) + b"\n")
    result = cli("config", "get")
    assert (result.code, result.stderr) == (
        2,
        f"cartesia-cli: error: config file {config_file} is over 1024 KiB: not a config file\n",
    )


def test_a_value_with_controls_is_shown_escaped_on_a_terminal_only(
    cli: RunCli, tmp_path: Path, config_file: Path
) -> None:
    config_file.parent.mkdir(mode=0o700)
    config_file.write_text('model = "so\\u001b[2J\\u202eny"\n')
    config_file.chmod(0o600)
    assert cli("config", "get", "model").stdout.decode() == "so\x1b[2J\u202eny\n"  # a pipe
    main, child = pty.openpty()
    try:
        proc = subprocess.run(
            [str(ENTRY_POINT), "config", "get", "model"], stdin=subprocess.DEVNULL,
            stdout=child, stderr=subprocess.PIPE, cwd=tmp_path, timeout=30,
            env=clean_env(CARTESIA_CLI_CONFIG_DIR=str(config_file.parent)),
        )  # fmt: skip
        os.close(child)
        screen = os.read(main, 65536)
    finally:
        os.close(main)
    assert proc.returncode == 0, proc.stderr
    assert screen == b"so\\x1b[2J\\u202eny\r\n"
