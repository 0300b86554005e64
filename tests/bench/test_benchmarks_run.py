"""The benchmarks walk the bot as residents do: when a flow changes, their transcripts must
change with it, or the figures they print mean nothing. Each runs here briefly and must file
reports without an error."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

pytestmark = pytest.mark.sqlite_only


def _bench(name: str) -> ModuleType:
    # The inbound benchmark starts its app in a spawned process, which imports the module
    # again by name: its folder goes on the path the child inherits.
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = sys.modules.get(name)
    if module is None:
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


async def test_the_engine_benchmark_files_a_report_per_resident_and_round() -> None:
    engine = _bench("engine")
    result = await engine.run(residents=2, rounds=1, url=None)
    # 2 residents x 1 measured round x the transcript's steps (plus "file mine anyway" when
    # the bot shows similar reports); run() stops with SystemExit when a report has no ticket.
    assert result["events"] >= 2 * len(engine.TRANSCRIPT)
    assert result["cpu_ms_per_event"] > 0


async def test_the_inbound_benchmark_files_reports_through_the_webhook_without_errors() -> None:
    inbound = _bench("inbound")
    options = argparse.Namespace(
        residents=4, rate=20.0, seconds=2.0, warmup=0.5, pg_url=inbound.PG_URL, py_spy=None,
        stalls=None, group_flood=5.0, slow_photo=False, compare=0)
    result = await inbound.run_one("sqlite", options)
    assert result["errors"] == 0, result["error_kinds"]
    assert result["updates"] > 0 and result["reply_p99_ms"] > 0
