"""The wheel is a complete install: built from the checkout, installed into a new virtual
environment and run from an empty folder, the bot answers in Indonesian."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.sqlite_only


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
         stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, input=stdin,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the project's wheel installed, and nothing else of the
    project: its dependencies come from this interpreter's site-packages through a .pth file,
    which does not carry the development install's own path hooks."""
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "--wheel-dir", dist, ROOT, cwd=work, timeout=300)
    wheel, = dist.glob("emas-*.whl")
    target = work / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(target),
                                                        "platbase": str(target)}))
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (purelib / "dependencies.pth").write_text("\n".join(deps) + "\n")
    _run(sys.executable, "-m", "pip", "--python", target / "bin" / "python", "install",
         "--no-deps", "--no-index", "--quiet", wheel, cwd=work, timeout=300)
    return target


def test_the_wheel_carries_the_catalogs_the_city_pack_and_the_migrations(
    installed: Path, tmp_path: Path,
) -> None:
    probe = ("import bot.i18n, content, storage.migrate, pathlib;"
             "print(bot.i18n.LOCALE_DIR); print(content.ROOT); print(storage.migrate.MIGRATIONS)")
    out = _run(installed / "bin" / "python", "-c", probe, cwd=tmp_path).stdout.split()
    locale, city, migrations = (Path(p) for p in out)
    assert str(installed) in str(locale), "the project must come from the wheel"
    assert (locale / "id" / "LC_MESSAGES" / "messages.mo").is_file()
    assert (city / "binjai" / "categories.yaml").is_file()
    assert any((migrations / "versions").glob("0001_*.py"))


def test_an_empty_folder_gets_a_database_and_an_indonesian_chat(
    installed: Path, tmp_path: Path,
) -> None:
    emas = installed / "bin" / "emas"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    missing = subprocess.run([str(emas), "report", "list"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1
    assert "emas db upgrade" in missing.stderr + missing.stdout
    assert not (tmp_path / "data" / "emas.db").exists()

    _run(emas, "db", "upgrade", cwd=tmp_path, env=env)
    assert "kelurahan: 37" in _run(emas, "seed", cwd=tmp_path, env=env).stdout
    chat = _run(emas, "chat", cwd=tmp_path, env=env, stdin="/start\n").stdout
    assert "Selamat datang" in chat
    assert "Buat laporan" in chat
    assert "Traceback" not in chat and " INFO " not in chat
