"""The figures the docs state are the corpus's own."""

from __future__ import annotations

from pathlib import Path

from tests.hostile.cases import CASES
from tests.hostile.figures import is_refusal, table

ROOT = Path(__file__).resolve().parents[2]


def test_figures__docs_state_the_corpus_table() -> None:
    text = (ROOT / "docs" / "HOSTILE-TESTS.md").read_text(encoding="utf-8")
    stated = text.split("<!-- figures -->\n", 1)[1].split("\n<!-- /figures -->", 1)[0]
    assert stated == table(), "run `python -m tests.hostile.figures` and paste its table into docs/HOSTILE-TESTS.md"


def test_figures__readme_states_the_case_count() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    refused = sum(is_refusal(case) for case in CASES)
    assert f"{len(CASES)} hostile inputs" in readme
    assert f"{refused} refused, {len(CASES) - refused} made harmless, none accepted, no 5xx" in readme
    assert len(CASES) >= 80 and len({case.id for case in CASES}) == len(CASES)
