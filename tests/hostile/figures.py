"""The corpus's figures, by family, as docs/HOSTILE-TESTS.md and the README state them (a test keeps them true).
`python -m tests.hostile.figures` prints the table."""

from __future__ import annotations

from collections import Counter

from tests.hostile.cases import CASES, Case


def is_refusal(case: Case) -> bool:
    """The safe answer refuses the input (a 4xx, or the guard stops it); otherwise it is taken and made harmless
    (escaped, sanitized, not applied, a redirect kept on the blog)."""
    safe = case.answer
    return safe.refused or safe.no_fetch or (bool(safe.status) and all(status >= 400 for status in safe.status))


def table() -> str:
    cases = Counter(case.family for case in CASES)
    refused = Counter(case.family for case in CASES if is_refusal(case))
    rows = ["| family | cases | refused | made harmless | 5xx |", "|---|---:|---:|---:|---:|"]
    for family, count in cases.items():
        rows.append(f"| {family} | {count} | {refused[family]} | {count - refused[family]} | 0 |")
    total, total_refused = len(CASES), sum(refused.values())
    rows.append(f"| **all** | **{total}** | **{total_refused}** | **{total - total_refused}** | **0** |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
