"""`dqnn variance`: JSON points, files, resume, --exact; `dqnn reproduce --help`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dqnn.cli import app
from dqnn.presets import analytic
from dqnn.trainability.sweep import parse_range

runner = CliRunner()


def test_variance_json_files_and_resume(tmp_path):
    args = [
        "variance",
        "--arch",
        "fig3a",
        "--cost",
        "local",
        "--n",
        "2:4",
        "--layers",
        "1",
        "--samples",
        "400",
        "--seed",
        "2",
        "--out",
        str(tmp_path),
        "--json",
        "--exact",
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout.strip().splitlines()[-1])
    pts = data["points"]
    sampled = [p for p in pts if p["method"] == "autodiff"]
    exact = [p for p in pts if p["method"] == "exact"]
    assert [p["n"] for p in sampled] == [2, 3, 4] and len(exact) == 3
    for p in sampled:
        assert set(["n", "layers", "samples", "mean", "variance", "stderr", "analytic"]) <= set(p)
        assert p["analytic"] == analytic.fig3a_local(p["n"])
    for p in exact:
        assert p["stderr"] == 0 and abs(p["variance"] - analytic.fig3a_local(p["n"])) < 1e-12
    for f in ("variance.json", "variance.csv", "variance.png"):
        assert (tmp_path / f).exists()
    stored = json.loads((tmp_path / "variance.json").read_text())
    assert stored["config"]["samples"] == 400 and "version" in stored
    # resume: rerun gives identical numbers without recomputing
    before = sorted(p.name for p in (tmp_path / "points").glob("*.json"))
    res2 = runner.invoke(app, args)
    assert json.loads(res2.stdout.strip().splitlines()[-1])["points"] == pts
    assert sorted(p.name for p in (tmp_path / "points").glob("*.json")) == before


def test_interrupted_sweep_resumes_to_same_numbers(tmp_path):
    base = [
        "variance",
        "--arch",
        "fig3b",
        "--cost",
        "global",
        "--layers",
        "2",
        "--samples",
        "60",
        "--seed",
        "1",
        "--json",
    ]
    full = runner.invoke(app, [*base, "--n", "2,3", "--out", str(tmp_path / "a")])
    part = runner.invoke(app, [*base, "--n", "2", "--out", str(tmp_path / "b")])  # as if killed after n = 2
    assert part.exit_code == 0
    rest = runner.invoke(app, [*base, "--n", "2,3", "--out", str(tmp_path / "b")])
    a = json.loads(full.stdout.strip().splitlines()[-1])["points"]
    b = json.loads(rest.stdout.strip().splitlines()[-1])["points"]
    assert [(p["n"], p["variance"]) for p in a] == [(p["n"], p["variance"]) for p in b]


def test_variance_bad_input_is_named(tmp_path):
    res = runner.invoke(app, ["variance", "--arch", "fig9", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "fig9" in res.output
    res = runner.invoke(app, ["variance", "--n", "a:b", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "START:STOP" in res.output
    res = runner.invoke(app, ["variance", "--samples", "0", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "--exact" in res.output


def test_parse_range_and_help():
    assert parse_range("2:12:2") == [2, 4, 6, 8, 10, 12]
    assert parse_range("4,8") == [4, 8]
    for cmd in ("variance", "reproduce"):
        assert runner.invoke(app, [cmd, "--help"]).exit_code == 0
