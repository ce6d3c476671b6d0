"""The benchmark suite at its smoke size, so it never rots: every benchmark runs end to end against the real
server and its ceilings, and its correctness checks hold. Never any timing assertion: only what was delivered,
stored and answered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = (
    "Read path",
    "Stampede",
    "Inbox",
    "Fan-out",
    "Memory and start",
    "PostgreSQL: inbox",
    "PostgreSQL: fan-out",
    "PostgreSQL: read path",
)

pytestmark = [pytest.mark.bench, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """`python -m bench --smoke` once for the module; its results JSON by benchmark name."""
    out = tmp_path_factory.mktemp("bench-results")
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=540,
    )
    files = list(out.glob("*.json"))
    assert files, f"no results written:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    document = json.loads(files[0].read_text(encoding="utf-8"))
    return {result["benchmark"]: result for result in document["results"]}


def checks_of(result: dict[str, Any], words: str) -> list[dict[str, Any]]:
    found = [check for check in result["checks"] if words in check["name"]]
    assert found, f"{result['benchmark']}: no check about {words!r}"
    return found


@pytest.mark.parametrize("name", BENCHMARKS)
def test_bench_smoke__every_benchmark_runs_and_its_checks_hold(
    smoke_results: dict[str, dict[str, Any]], name: str
) -> None:
    result = smoke_results[name]
    assert result["error"] is None
    assert result["rows"], "a benchmark reports measured rows"
    failed = [f"{c['name']}: expected {c['expected']}, got {c['actual']}" for c in result["checks"] if not c["ok"]]
    assert failed == []


@pytest.mark.parametrize("name", ["Fan-out", "PostgreSQL: fan-out"])
def test_bench_smoke__fanout_every_delivery_verified(smoke_results: dict[str, dict[str, Any]], name: str) -> None:
    fanout = smoke_results[name]
    for check in checks_of(fanout, "verified deliveries"):
        assert check["expected"] > 0
        assert check["actual"] == check["expected"], check["name"]
    for check in checks_of(fanout, "rejected signatures"):
        assert check["actual"] == 0, check["name"]


@pytest.mark.parametrize("name", ["Inbox", "PostgreSQL: inbox"])
def test_bench_smoke__inbox_every_reply_stored(smoke_results: dict[str, dict[str, Any]], name: str) -> None:
    inbox = smoke_results[name]
    for stored in checks_of(inbox, "replies stored as comments"):
        assert stored["expected"] > 0
        assert stored["actual"] == stored["expected"], stored["name"]
    for check in checks_of(inbox, "answered 202"):
        assert check["actual"] == check["expected"], check["name"]


def test_bench_smoke__reads_every_request_answered_200(smoke_results: dict[str, dict[str, Any]]) -> None:
    for name in ("Read path", "Stampede", "PostgreSQL: read path"):
        for check in checks_of(smoke_results[name], "answers 200"):
            assert check["actual"] == 200, check["name"]
    for name in ("Read path", "PostgreSQL: read path"):
        for check in checks_of(smoke_results[name], "answers other than 200"):
            assert check["actual"] == 0, check["name"]
    for check in checks_of(smoke_results["Stampede"], "failed requests"):
        assert check["actual"] == 0, check["name"]
