"""The project's own files keep their promises: the package metadata current (no deprecation warning on install)
and `make bench-smoke` running the smoke benchmark that the README announces."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject__license_is_an_spdx_expression() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    license_ = project["project"]["license"]
    # A table ({text = …}) is deprecated by setuptools (PEP 639): a plain SPDX string, and a setuptools that reads it.
    assert isinstance(license_, str) and re.fullmatch(r"[A-Za-z0-9.+-]+(?: (?:AND|OR|WITH) [A-Za-z0-9.+-]+)*", license_)
    assert not any(c.startswith("License ::") for c in project["project"].get("classifiers", []))
    backend = " ".join(project["build-system"]["requires"])
    assert (match := re.search(r"setuptools>=(\d+)", backend)) and int(match.group(1)) >= 77


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_makefile__bench_smoke_runs_the_smoke_benchmark() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "bench-smoke"], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True
    )
    commands = dry_run.stdout.splitlines()
    assert any(re.search(r"python -m bench --smoke\b", command) for command in commands), dry_run.stdout


def test_pyproject__httpsig_is_a_test_extra_used_by_the_cross_check_alone() -> None:
    """A second implementation of draft-cavage signatures, to check ours against: never a dependency of fedblog."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not any(re.match(r"httpsig\b", requirement) for requirement in project["dependencies"])
    assert any(re.match(r"httpsig\b", requirement) for requirement in project["optional-dependencies"]["test"])
    users = sorted(
        str(path.relative_to(ROOT))
        for folder in ("fedblog", "tests", "bench", "tools")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"^\s*(import httpsig|from httpsig\b)", path.read_text(encoding="utf-8"), re.M)
    )
    assert users == ["tests/unit/test_httpsig_crosscheck.py"]


def test_tests__no_test_module_imports_another_test_module() -> None:
    """What several tests share lives in tests/helpers.py, tests/fakes/ or a *_support.py module: a test module
    borrowed from runs its fixtures and tests again wherever it is imported."""
    borrowed = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module]
                if isinstance(node, ast.ImportFrom) and node.module
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            borrowed += [
                f"{path.relative_to(ROOT)} imports {name}"
                for name in names
                if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")
            ]
    assert borrowed == []
