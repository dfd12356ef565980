"""``dqnn --help`` and every ``dqnn COMMAND --help`` answer without importing JAX; ``python -m dqnn`` is ``dqnn``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")
COMMANDS = ["estimate", "shots", "simulate", "demo", "train", "variance", "reproduce"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env


# Renders the help of argv[1:] through the typer app in-process, then reports whether JAX got imported.
PROBE = """
import sys
from dqnn.cli import app
try:
    app(sys.argv[1:], prog_name="dqnn")
except SystemExit as e:
    assert e.code in (0, None), e.code
print("JAX-IMPORTED" if "jax" in sys.modules else "NO-JAX")
"""


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_does_not_import_jax(command):
    argv = ["--help"] if command is None else [command, "--help"]
    res = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=_env(), check=False)
    assert res.returncode == 0, res.stderr
    assert "Usage" in res.stdout
    assert res.stdout.strip().endswith("NO-JAX"), res.stdout[-2000:]
    if command is not None:
        assert command in res.stdout


def test_python_m_dqnn_is_the_command():
    res = subprocess.run(
        [sys.executable, "-m", "dqnn", "--help"], capture_output=True, text=True, env=_env(), check=False
    )
    assert res.returncode == 0, res.stderr
    assert "Usage: dqnn" in res.stdout
    for command in COMMANDS:
        assert command in res.stdout
    assert "--no-cache" in res.stdout
    res = subprocess.run(
        [sys.executable, "-m", "dqnn", "shots", "--variance", "1e-4", "--json"],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert '"shots_per_circuit": 4802' in res.stdout


def test_help_choices_match_the_library():
    from dqnn.cli import _choices
    from dqnn.estimators import base, shots
    from dqnn.presets import problems
    from dqnn.trainability import sampling
    from dqnn.training import loop

    assert problems.ARCHES == _choices.ANGLE_ARCHES
    assert sampling.ARCHS == _choices.STUDY_ARCHES
    assert base.METHODS == _choices.ESTIMATORS
    assert shots.WORST_SHOT_VARIANCE == _choices.WORST_SHOT_VARIANCE
    assert loop.METHODS == _choices.TRAIN_METHODS
    assert loop.TASKS == _choices.TASKS
