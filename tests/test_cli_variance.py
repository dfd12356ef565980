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


SPECS = __import__("pathlib").Path(__file__).resolve().parents[1] / "docs" / "examples" / "specs"


def test_variance_of_a_users_network_every_parameter_with_map(tmp_path):
    args = ["variance", "--network", str(SPECS / "local_circuits.json"), "--cost", "local", "--param", "all"]
    res = runner.invoke(app, [*args, "--samples", "60", "--exact", "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout.strip().splitlines()[-1])
    params = {p["param"] for p in data["points"]}
    assert len(params) == 4 + 2 and {p["method"] for p in data["points"]} == {"autodiff", "exact"}
    assert (tmp_path / "variance_map.png").stat().st_size > 0
    assert set(data["fits_by_param"]) == params


def test_variance_of_an_n_dependent_spec_matches_the_preset(tmp_path):
    """The fig3a spec rebuilt by n (docs/examples/specs/by_n) on stream 0 gives the preset's numbers."""
    common = ["--cost", "global", "--n", "2,3", "--samples", "50", "--seed", "4", "--json"]
    mine = runner.invoke(
        app, ["variance", "--network", str(SPECS / "by_n" / "fig3a.json"), *common, "--out", str(tmp_path / "a")]
    )
    ref = runner.invoke(app, ["variance", "--arch", "fig3a", "--layers", "2", *common, "--out", str(tmp_path / "b")])
    assert mine.exit_code == 0 and ref.exit_code == 0, mine.output + ref.output
    a = [p["variance"] for p in json.loads(mine.stdout.strip().splitlines()[-1])["points"]]
    b = [p["variance"] for p in json.loads(ref.stdout.strip().splitlines()[-1])["points"]]
    assert a == b


def test_variance_network_errors_are_one_line_with_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"widths": [2, 1], "layers": [[{"inputs": [0, 1], "outputs": [0], "famly": "haar"}]]}')
    fixed = str(SPECS / "local_circuits.json")
    cases = [
        (["--network", str(bad)], "famly"),
        (["--network", fixed, "--arch", "fig3a"], "not both"),
        (["--param", "all"], "--param needs --network"),
        (["--network", fixed, "--n", "2:4"], "one fixed network"),
        (["--network", str(SPECS / "by_n" / "fig3a.json")], "depends on n"),
        (["--network", fixed, "--param", "layer:9"], "no circuit angle"),
        (["--network", fixed, "--cost", "label"], "needs --data"),
        (["--network", fixed, "--data", str(tmp_path / "none.npz")], "does not exist"),
        (["--cost", "nope"], "--cost 'nope'"),
    ]
    for extra, words in cases:
        res = runner.invoke(app, ["variance", *extra, "--samples", "10", "--out", str(tmp_path / "o")])
        assert res.exit_code == 2, (extra, res.output)
        assert words in res.output and "Traceback" not in res.output, (extra, res.output)
