"""The layer rules of ARCHITECTURE.md hold, and a wrong import breaks `make lint`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "web", "reports", "broadcasts", "faq", "storage", "content")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"),
                           "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's packages and contracts, for imports the project must refuse."""
    tree = tmp_path_factory.mktemp("house")
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tree / name,
                        ignore=shutil.ignore_patterns("__pycache__", "locale", "*.md", "*.yaml"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def _with_import(house: Path, module: str, line: str) -> Path:
    path = house / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = house / module.replace(".", "/") / "__init__.py"
    original = path.read_text()
    path.write_text(original + "\n" + line + "\n")
    return path


def test_the_contracts_hold_for_the_project() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("storage.db", "import reports.lifecycle", "Dependencies point down"),
    ("reports.workdays", "import broadcasts.limiter", "The domains do not import each other"),
    ("bot.flows.menu", "import telegram", "Only the channel adapters talk to the chat SDKs"),
    ("faq.text", "import bot.engine", "Dependencies point down"),
])
def test_a_wrong_import_breaks_the_lint(house: Path, module: str, line: str,
                                        contract: str) -> None:
    path = _with_import(house, module, line)
    original = path.read_text().removesuffix("\n" + line + "\n")
    try:
        result = _lint(house)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if "BROKEN" in row]
    assert any(row.startswith(contract) for row in broken), result.stdout
