"""Rows of the results table (value, ceiling, ratio, target, pass/fail), correctness checks, JSON and Markdown."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Row:
    measure: str
    value: float
    unit: str
    ceiling: float | None = None
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None  # None: shown for information, no target


def at_least(measure: str, value: float, ceiling: float, unit: str, minimum: float) -> Row:
    """A throughput that must reach `minimum` × the ceiling's."""
    ratio = value / ceiling if ceiling else 0.0
    return Row(measure, value, unit, ceiling, ratio, f"≥ {minimum:.0%} of ceiling", ratio >= minimum)


def at_most(measure: str, value: float, ceiling: float, unit: str, maximum: float) -> Row:
    """A latency or cost that must stay under `maximum` × the ceiling's."""
    ratio = value / ceiling if ceiling else float("inf")
    return Row(measure, value, unit, ceiling, ratio, f"≤ {maximum:g}× ceiling", ratio <= maximum)


def below(measure: str, value: float, unit: str, limit: float) -> Row:
    """An absolute limit (memory, start time): the limit stands where a ceiling would."""
    return Row(measure, value, unit, limit, value / limit, f"< {limit:g} {unit}", value < limit)


def info(measure: str, value: float, unit: str, ceiling: float | None = None) -> Row:
    ratio = value / ceiling if ceiling else None
    return Row(measure, value, unit, ceiling, ratio)


@dataclass(frozen=True)
class Check:
    """A correctness condition (every delivery verified, every comment stored, every request answered 200)."""

    name: str
    expected: int
    actual: int

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


@dataclass
class BenchResult:
    benchmark: str
    rows: list[Row] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def failed_checks(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for check in data["checks"]:
            check["ok"] = check["expected"] == check["actual"]
        return data


def format_number(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    if value == 0 or abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:,.1f}"
    else:
        text = f"{value:,.3g}"
    return f"{text} {unit}".strip()


def format_ratio(row: Row) -> str:
    """Throughputs as a share of the ceiling (70 %), latencies and costs, and throughputs whose target is a multiple
    (two processes against one), as a multiple (1.4×)."""
    if row.ratio is None:
        return ""
    if row.unit.endswith("/s") and "×" not in row.target:
        return f"{row.ratio:.0%}"
    return f"{row.ratio:.2g}×"


def verdict(row: Row) -> str:
    return "" if row.passed is None else ("pass" if row.passed else "**FAIL**")


def markdown_table(results: list[BenchResult]) -> str:
    lines = [
        "| Benchmark | Measure | fedblog | Ceiling | Ratio | Target | Result |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for result in results:
        if result.error:
            lines.append(f"| {result.benchmark} | error: {result.error.splitlines()[0][:120]} | | | | | **FAIL** |")
        for row in result.rows:
            ratio = format_ratio(row)
            lines.append(
                f"| {result.benchmark} | {row.measure} | {format_number(row.value, row.unit)} | "
                f"{format_number(row.ceiling, row.unit)} | {ratio} | {row.target} | {verdict(row)} |"
            )
    return "\n".join(lines)


def markdown_checks(results: list[BenchResult]) -> str:
    lines = ["| Benchmark | Check | Expected | Got | |", "|---|---|---:|---:|---|"]
    for result in results:
        for check in result.checks:
            mark = "ok" if check.ok else "**FAIL**"
            lines.append(f"| {result.benchmark} | {check.name} | {check.expected:,} | {check.actual:,} | {mark} |")
    return "\n".join(lines)


def write_results(directory: Path, stamp: str, report: dict[str, Any], results: list[BenchResult]) -> Path:
    """bench/results/<stamp>.json (everything) and <stamp>.md (the tables); returns the Markdown path."""
    directory.mkdir(parents=True, exist_ok=True)
    document = {**report, "results": [result.as_dict() for result in results]}
    (directory / f"{stamp}.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    machine = report["machine"]
    header = (
        f"# fedblog benchmarks, {report['date']}\n\n"
        f"Mode: {report['mode']}. Machine: {machine['cpu']}, {machine['cores']} cores "
        f"(server pinned to CPU {machine['pinning']['server_cpu']}, load to CPU {machine['pinning']['load_cpu']}), "
        f"Python {machine['python']}, aiohttp {machine['packages']['aiohttp']}. "
        f"Total time {report['elapsed_seconds']:.0f} s.\n\n"
        "Every ceiling was measured in the same run, on the same cores, with the same load generator.\n\n"
    )
    notes = "".join(f"- {note}\n" for note in report.get("notes", []))
    fixes = "".join(
        f"- {fix['date']}, {fix['benchmark']}: {fix['hot_spot']} Fix: {fix['fix']} "
        f"Before: {fix['before']}. After: {fix['after']}.\n"
        for fix in report.get("fixes", [])
    )
    text = (
        header
        + markdown_table(results)
        + "\n\n## Correctness\n\n"
        + markdown_checks(results)
        + ("\n\n## Notes\n\n" + notes if notes else "\n")
        + ("\n## Hot spots fixed (before and after)\n\n" + fixes if fixes else "")
    )
    path = directory / f"{stamp}.md"
    path.write_text(text, encoding="utf-8")
    return path


def compared(measure: str, value: float, reference: float, unit: str, limit: float, against: str) -> Row:
    """A figure against the same figure of another configuration measured in the same run (PostgreSQL against
    SQLite, two processes against one), shown where a ceiling would be: throughputs must reach `limit` × the
    reference's, costs stay within `limit` × it."""
    ratio = value / reference if reference else (0.0 if unit.endswith("/s") else float("inf"))
    if unit.endswith("/s"):
        return Row(measure, value, unit, reference, ratio, f"≥ {limit:g}× {against}", ratio >= limit)
    return Row(measure, value, unit, reference, ratio, f"≤ {limit:g}× {against}", ratio <= limit)
