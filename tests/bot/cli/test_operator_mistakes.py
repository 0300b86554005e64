"""An operator's mistake costs one clear line and an exit code, never a traceback or a stray
file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.settings import Settings
from cli_kit import cli

pytestmark = pytest.mark.sqlite_only


def _run(tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"EMAS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/data/emas.db",
           "EMAS_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize("args", [
    ("report", "list"), ("report", "show", "BJI-2026-000001"), ("seed",), ("staff", "list"),
    ("chat",), ("subscribers", "stats"),
])
def test_a_command_where_there_is_no_database_says_how_to_create_it(
    tmp_path: Path, args: tuple[str, ...],
) -> None:
    code, output = _run(tmp_path, *args)
    assert code == 1
    lines = output.strip().splitlines()
    assert lines == [f"Error: no database at {tmp_path}/data/emas.db: create it with "
                     "`emas db upgrade && emas seed` (or set EMAS_DATABASE_URL)"]
    assert not (tmp_path / "data" / "emas.db").exists()


def test_a_database_without_tables_asks_for_the_migration(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "emas.db").touch()
    code, output = _run(tmp_path, "report", "list")
    assert code == 1
    assert "Traceback" not in output
    assert output.strip().splitlines()[-1].startswith("Error: the database is not set up")
    assert "emas db upgrade" in output


def test_db_upgrade_then_seed_creates_the_database(tmp_path: Path) -> None:
    assert _run(tmp_path, "db", "upgrade") == (0, "database is up to date\n")
    code, output = _run(tmp_path, "seed")
    assert code == 0 and "kelurahan: 37" in output
    assert _run(tmp_path, "report", "list") == (0, "no reports\n")


@pytest.mark.parametrize(("args", "line"), [
    (("report", "show", "BJI-2026-999999"), "Error: no report BJI-2026-999999"),
    (("report", "set-status", "NOPE", "verified"), "Error: no report NOPE"),
    (("evaluate", "--from", "kemarin", "--to", "2026-12-01"), "does not match the format"),
    (("subscribers", "import", "/no/such/file.csv"), "does not exist"),
])
def test_a_wrong_argument_is_one_line(container: object, settings: Settings,
                                      args: tuple[str, ...], line: str) -> None:
    code, output = cli(settings, *args)
    assert code in (1, 2)
    assert "Traceback" not in output
    assert line in output.strip().splitlines()[-1]


def test_invalid_configuration_is_one_line(tmp_path: Path) -> None:
    env = {"EMAS_ENV": "production", "EMAS_SECRET_KEY": "changeme"}
    result = CliRunner().invoke(main, ["report", "list"], env=env, catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output.startswith("Error: invalid configuration")
    assert len(result.output.strip().splitlines()) == 1


def test_a_logged_failure_is_one_line_for_the_operator() -> None:
    import logging

    from bot.cli import OneLineFormatter

    record = logging.LogRecord("bot.outbox", logging.ERROR, __file__, 1, "sending %s failed",
                               ("a notice",), None)
    try:
        raise ConnectionError("Bot API unreachable\nsecond line")
    except ConnectionError:
        import sys

        record.exc_info = sys.exc_info()
    line = OneLineFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert line == ("ERROR bot.outbox: sending a notice failed "
                    "[ConnectionError: Bot API unreachable]")


def test_every_command_loads_and_explains_itself() -> None:
    from bot.cli import COMMANDS

    runner = CliRunner()
    listing = runner.invoke(main, ["--help"]).output
    for name in COMMANDS:
        assert f"  {name} " in listing
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert f" {name} [OPTIONS]" in result.output
    unknown = runner.invoke(main, ["repot", "list"])
    assert unknown.exit_code == 2 and "No such command 'repot'" in unknown.output


def test_a_reader_that_goes_away_ends_the_chat_quietly(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    emas = Path(sys.executable).with_name("emas")
    env = {**os.environ, "EMAS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/data/emas.db",
           "EMAS_DATA_DIR": str(tmp_path / "data")}
    for step in (["db", "upgrade"], ["seed"]):
        subprocess.run([str(emas), *step], env=env, cwd=tmp_path, check=True,
                       capture_output=True, timeout=120)
    chat = subprocess.Popen([str(emas), "chat"], env=env, cwd=tmp_path, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert chat.stdout is not None and chat.stdin is not None
    chat.stdout.readline()  # the banner, then the reader goes away, as `| head -1` does
    chat.stdout.close()
    _out, err = chat.communicate(b"/start\nmenu\n", timeout=120)
    assert err.decode() == ""
