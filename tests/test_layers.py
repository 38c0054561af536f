"""The architecture's rules, checked: import-linter contracts and module sizes."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports() -> str:
    exe = Path(sys.executable).with_name("lint-imports")
    found = str(exe) if exe.exists() else shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports is not installed (it is part of the dev extra)")
    return found


def test_import_contracts_are_kept() -> None:
    result = subprocess.run(
        [_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_a_layer_violation_is_caught(tmp_path: Path) -> None:
    """The contract is not vacuous: a copy of the tree with one upward import breaks it."""
    copy = tmp_path / "tree"
    shutil.copytree(ROOT / "qa", copy / "qa", ignore=shutil.ignore_patterns("reader_artifacts"))
    shutil.copytree(ROOT / "embeddings", copy / "embeddings")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    state = copy / "qa" / "index" / "state.py"
    state.write_text(state.read_text() + "\nfrom qa.answer import compose  # noqa\n")
    result = subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "qa.index.state -> qa.answer" in result.stdout


@pytest.mark.parametrize("package", ["qa", "embeddings"])
def test_no_module_is_over_400_lines(package: str) -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / package).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert not long, f"modules over 400 lines: {long}"
