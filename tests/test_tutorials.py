"""The documentation's executable examples: every tutorial script and the home page's five lines run and pass.

Each script asserts what its page claims (seeded), so a change that breaks a tutorial fails here. They run in a
fresh interpreter each (as a reader would run them), with this test session's environment (XLA_FLAGS of
conftest.py); a dqnn DeprecationWarning raised from a script is an error, so the docs never teach an old API.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
SCRIPTS = sorted((DOCS / "tutorials").glob("*.py")) + [DOCS / "examples" / "five_lines.py"]


def test_scripts_are_found():
    names = {p.name for p in SCRIPTS}
    assert {"simulate_network.py", "barren_plateau.py", "train_pmm.py", "five_lines.py"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_tutorial_runs(script: Path, tmp_path: Path):
    res = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning:__main__", str(script)],
        cwd=tmp_path,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert res.returncode == 0, f"{script.name} failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_tutorial_is_on_a_page(script: Path):
    """Every script is included (pymdownx.snippets) by some page, so what is tested is what is shown."""
    rel = script.relative_to(DOCS).as_posix()
    pages = [p for p in DOCS.rglob("*.md") if rel in p.read_text()]
    assert pages, f"no page of docs/ includes {rel}"
