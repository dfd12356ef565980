"""The CLI's error paths, run as the real commands: one line naming the option or file, exit 2, no traceback;
oversize requests refused before any work; a locked folder refused; Ctrl-C (SIGINT) exits 130 and says how to
resume; a run killed with SIGKILL at a random moment resumes to the numbers of an uninterrupted run."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dqnn.cli import app
from lockholder import hold_lock

runner = CliRunner()
SRC = str(Path(__file__).resolve().parents[1] / "src")


def _text(res) -> str:
    return (res.stderr if res.stderr_bytes else "") + res.stdout


def _one_line_error(res, *needles: str) -> str:
    out = _text(res)
    assert res.exit_code == 2, out
    assert "Traceback" not in out and isinstance(res.exception, SystemExit), out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out
    for n in needles:
        assert n in lines[0], (n, out)
    return lines[0]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--n", "2:100000000", "--samples", "2"], ["--n", "99,999,999 values"]),
        (["--n", "2,,3"], ["--n", "2,,3"]),
        (["--n", "2", "--samples", "1000000000"], ["--samples", "1,000,000,000"]),
        (["--arch", "global", "--n", "30", "--samples", "10"], ["n=30", "needs at least", "--memory"]),
        (["--n", "4", "--samples", "100000", "--memory", "1M"], ["needs at least", "over the memory limit of 1 MiB"]),
        (["--n", "2", "--samples", "4", "--memory", "lots"], ["--memory", "lots"]),
    ],
)
def test_variance_refuses_bad_or_oversize_requests_before_any_work(tmp_path: Path, args, needles) -> None:
    t0 = time.perf_counter()
    res = runner.invoke(app, ["variance", "--arch", "fig3a", *args, "--out", str(tmp_path / "o")])  # last --arch wins
    _one_line_error(res, *needles)
    assert time.perf_counter() - t0 < 20
    assert not (tmp_path / "o" / "points").exists() or not list((tmp_path / "o" / "points").iterdir())


def test_estimate_refuses_a_network_that_cannot_fit() -> None:
    _one_line_error(runner.invoke(app, ["estimate", "--arch", "global", "--n", "30"]), "--n 30", "--memory")


def test_out_that_is_a_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    _one_line_error(runner.invoke(app, ["variance", "--n", "2", "--samples", "4", "--out", str(f)]), "is a file")
    res = runner.invoke(app, ["train", "--widths", "1,1", "--steps", "1", "--out", str(f)])
    assert res.exit_code == 2 and "is a file" in _text(res) and "Traceback" not in _text(res)


def test_folder_in_use_by_another_run_is_refused(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path)
    try:
        res = runner.invoke(app, ["variance", "--n", "2", "--samples", "4", "--out", str(tmp_path)])
        _one_line_error(res, "in use by another run", f"pid {holder.pid}")
        res = runner.invoke(app, ["train", "--widths", "1,1", "--steps", "1", "--out", str(tmp_path)])
        assert res.exit_code == 2 and "in use by another run" in _text(res)
    finally:
        holder.kill()
        holder.wait(10)


def test_bad_scheduler_address_fails_fast(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    res = runner.invoke(app, ["variance", "--n", "2", "--samples", "4", "--scheduler", "not-an-address", "--out",
                              str(tmp_path)])  # fmt: skip
    _one_line_error(res, "scheduler 'not-an-address'")
    assert time.perf_counter() - t0 < 15


def _dqnn(*args: str, **kw) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": SRC, "DQNN_NO_CACHE": "1"}
    return subprocess.Popen([sys.executable, "-m", "dqnn", *args], env=env, text=True, stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, **kw)  # fmt: skip


def test_flag_given_a_value_is_explained() -> None:
    p = _dqnn("variance", "--exact", "true")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 2 and err.strip().splitlines() == [
        "error: --exact is a flag and takes no value: write --exact to turn it on, or leave it out"
    ], err


def _wait_for(folder: Path, count: int, proc: subprocess.Popen[str], limit: float = 120) -> None:
    t0 = time.perf_counter()
    while len(list((folder / "points").glob("*.json"))) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.perf_counter() - t0 < limit
        time.sleep(0.05)


VARIANCE = ["variance", "--arch", "fig3a", "--n", "2:4", "--samples", "48", "--seed", "5", "--json", "--out"]


def test_killed_and_interrupted_runs_resume_to_the_uninterrupted_numbers(tmp_path: Path) -> None:
    """SIGKILL at a random moment after the first point, then SIGINT (Ctrl-C) during the resumed run, then a
    rerun: the final points equal an uninterrupted run's, bit for bit."""
    work = tmp_path / "killed"
    p = _dqnn(*VARIANCE, str(work))
    _wait_for(work, 1, p)
    time.sleep(random.Random(0).uniform(0, 0.5))
    p.send_signal(signal.SIGKILL)
    p.wait(30)
    done = len(list((work / "points").glob("*.json")))
    p = _dqnn(*VARIANCE, str(work))
    _wait_for(work, min(done + 1, 3), p)
    t0 = time.perf_counter()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    if p.returncode != 0:  # it had not finished: interrupted promptly, saying so, no traceback
        assert p.returncode == 130, err
        assert time.perf_counter() - t0 < 10
        assert "interrupted; rerun the same command to resume" in err and "Traceback" not in err, err
    res = runner.invoke(app, [*VARIANCE, str(work)])
    ref = runner.invoke(app, [*VARIANCE, str(tmp_path / "ref")])
    assert res.exit_code == 0 and ref.exit_code == 0, res.output + ref.output
    got, want = (json.loads(r.stdout.strip().splitlines()[-1])["points"] for r in (res, ref))
    keep = ("n", "param", "samples", "mean", "variance", "stderr", "kurtosis", "trusted")
    assert [{k: p[k] for k in keep} for p in got] == [{k: p[k] for k in keep} for p in want]


def test_ctrl_c_while_the_commands_import_exits_130_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command modules load inside main's handling: a KeyboardInterrupt there is an interruption (130)."""
    import dqnn.cli as cli

    def interrupted_import() -> None:
        raise KeyboardInterrupt

    def exit_now(code: int) -> None:
        raise SystemExit(code)

    monkeypatch.setattr(cli, "load_app", interrupted_import)
    monkeypatch.setattr(cli.os, "_exit", exit_now)
    monkeypatch.setattr(cli.sys, "argv", ["dqnn", "variance", "--help"])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 130
