"""Table modules load on first use, each with the tables its foreign keys point to."""

from __future__ import annotations

import subprocess
import sys

import pytest

from storage.models import MODULES

CHECK = """
import importlib, sys
from sqlmodel import SQLModel
importlib.import_module("storage.models." + sys.argv[1])
for table in list(SQLModel.metadata.tables.values()):
    for fk in table.foreign_keys:
        fk.column  # raises NoReferencedTableError when the target table was never loaded
print(len(SQLModel.metadata.tables))
"""


@pytest.mark.parametrize("module", MODULES)
def test_each_table_module_alone_resolves_its_foreign_keys(module: str) -> None:
    result = subprocess.run([sys.executable, "-c", CHECK, module], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 1


def test_a_command_loads_only_the_tables_it_uses() -> None:
    probe = ("import sys, storage.repo; "
             "print(sorted(m for m in sys.modules if m.startswith('storage.models.')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "['storage.models.report']", result.stderr


def test_metadata_holds_every_table() -> None:
    from storage.models import metadata

    assert {"report", "staff_member", "campaign", "delivery", "faq_question",
            "outbound_message"} <= set(metadata.tables)
