"""``dqnn train`` and the run loop: outputs on disk, checkpoints and bit-identical resume, errors."""

from __future__ import annotations

import dataclasses
import json

import jax
import numpy as np
import pytest
from typer.testing import CliRunner

from dqnn.cli import app
from dqnn.training.loop import TrainConfig, load_params, read_metrics, train
from dqnn.training.objectives import objective

runner = CliRunner()


def _same_params(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(widths=(2, 2), method="pmm", pairs=4, test_pairs=4, steps=9, checkpoint_every=2, batch=3),
        TrainConfig(widths=(1, 1), method="adam", depth=2, pairs=3, test_pairs=3, steps=9, checkpoint_every=4),
    ],
    ids=["pmm-minibatch", "adam"],
)
def test_resume_is_bit_identical(tmp_path, config):
    full = train(config, tmp_path / "full", plot=False)
    part = dataclasses.replace(config, steps=5)  # an "interrupted" run: stopped after 5 steps
    train(part, tmp_path / "cut", plot=False)
    resumed = train(config, tmp_path / "cut", resume=True, plot=False)
    assert resumed.metrics == full.metrics  # exact float equality, every step
    _same_params(resumed.params, full.params)
    assert read_metrics(tmp_path / "cut" / "metrics.csv") == full.metrics
    assert resumed.summary["steps"] == config.steps


def test_resume_refuses_another_configuration(tmp_path):
    config = TrainConfig(widths=(1, 1), pairs=2, test_pairs=2, steps=3)
    train(config, tmp_path, plot=False)
    with pytest.raises(ValueError, match="seed"):
        train(dataclasses.replace(config, seed=1, steps=4), tmp_path, resume=True, plot=False)


def test_cli_train_writes_everything(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--task", "unitary", "--widths", "1,2,1", "--method", "pmm", "--pairs", "3"]
    result = runner.invoke(app, [*args, "--test-pairs", "4", "--steps", "6", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("metrics.csv", "params.npz", "summary.json", "training.png", "checkpoint.npz"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    for key in ("train_fidelity", "test_fidelity", "steps", "seconds", "seed", "config", "dqnn_version"):
        assert key in summary
    assert summary["steps"] == 6 and summary["seed"] == 3 and summary["config"]["widths"] == [1, 2, 1]
    rows = read_metrics(out / "metrics.csv")
    assert len(rows) == 7 and rows[-1]["test_fidelity"] == summary["test_fidelity"]
    with np.load(out / "params.npz", allow_pickle=False) as z:
        assert "layer0.perceptron0.u" in z.files
    config = TrainConfig(widths=(1, 2, 1), pairs=3, test_pairs=4, steps=6, seed=3)
    res = train(config)
    params = load_params(out / "params.npz", res.params)
    _same_params(params, res.params)
    fid = 1 - float(objective(res.net, params, "global", *_train_data(config)))
    assert abs(fid - summary["train_fidelity"]) < 1e-12


def _train_data(config):
    from dqnn.training.loop import prepare

    d = prepare(config).data
    return d.train_inputs, d.train_targets


def test_cli_resume_continues_to_the_same_result(tmp_path):
    base = ["train", "--widths", "1,1", "--pairs", "2", "--test-pairs", "2", "--checkpoint-every", "2"]
    assert runner.invoke(app, [*base, "--steps", "4", "--out", str(tmp_path / "a")]).exit_code == 0
    r = runner.invoke(app, [*base, "--steps", "8", "--resume", "--out", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    assert runner.invoke(app, [*base, "--steps", "8", "--out", str(tmp_path / "b")]).exit_code == 0
    assert (tmp_path / "a" / "metrics.csv").read_text() == (tmp_path / "b" / "metrics.csv").read_text()


def test_cli_generalisation_curve_and_ising(tmp_path):
    args = ["train", "--widths", "1,1", "--pairs", "1,2", "--pairs", "3", "--test-pairs", "2", "--steps", "3"]
    r = runner.invoke(app, [*args, "--out", str(tmp_path / "g")])
    assert r.exit_code == 0, r.output
    summary = json.loads((tmp_path / "g" / "summary.json").read_text())
    assert summary["pairs"] == [1, 2, 3] and len(summary["test_fidelity"]) == 3
    assert (tmp_path / "g" / "generalisation.png").is_file()
    assert (tmp_path / "g" / "pairs-2" / "metrics.csv").is_file()
    r = runner.invoke(
        app,
        ["train", "--task", "ising", "--widths", "3,1", "--pairs", "6", "--test-pairs", "6", "--steps", "3"]
        + ["--out", str(tmp_path / "i")],
    )
    assert r.exit_code == 0, r.output
    summary = json.loads((tmp_path / "i" / "summary.json").read_text())
    assert 0.0 <= summary["test_accuracy"] <= 1.0 and "train_accuracy" in summary


@pytest.mark.parametrize(
    ("extra", "culprit"),
    [
        (["--widths", "2,x"], "--widths"),
        (["--method", "newton"], "method"),
        (["--task", "mnist"], "task"),
        (["--pairs", "0"], "pairs"),
        (["--widths", "2,3"], "widths"),
        (["--noise", "0.5"], "noise"),
        (["--task", "noisy-unitary", "--noise", "2"], "noise"),
        (["--lr", "-1"], "lr"),
    ],
)
def test_cli_bad_input_names_the_culprit(tmp_path, extra, culprit):
    r = runner.invoke(app, ["train", "--steps", "1", "--out", str(tmp_path / "x"), *extra])
    assert r.exit_code == 2
    assert culprit in r.output
    assert "Traceback" not in r.output


# --------------------------------------------------------------------------- dqnn train --network SPEC --data FILE


def _user_files(tmp_path):  # type: ignore[no-untyped-def]
    from dqnn import datasets
    from dqnn.training import TrainData, save_data

    spec = tmp_path / "net.json"
    layers = [[{"inputs": [0], "outputs": [0]}, {"inputs": [0], "outputs": [1]}], [{"inputs": [0, 1], "outputs": [0]}]]
    spec.write_text(json.dumps({"widths": [1, 2, 1], "layers": layers}))
    _, s = datasets.unitary_data(jax.random.key(0), 1, 5, 3)
    data = save_data(tmp_path / "d.npz", TrainData(*(np.asarray(a) for a in s)))
    return ["train", "--network", str(spec), "--data", str(data)]


def test_cli_network_and_data_resume_and_refusals(tmp_path, monkeypatch):
    base = _user_files(tmp_path) + [
        "--method",
        "pmm",
        "--convention",
        "code",
        "--lambda",
        "2",
        "--checkpoint-every",
        "2",
    ]
    r = runner.invoke(app, [*base, "--steps", "6", "--out", str(tmp_path / "full")])
    assert r.exit_code == 0, r.output
    for name in ("metrics.csv", "params.npz", "summary.json", "training.png", "checkpoint.npz"):
        assert (tmp_path / "full" / name).is_file(), name
    summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert summary["steps"] == 6 and summary["config"]["pmm"]["convention"] == "code"
    assert summary["config"]["pmm"]["eta"] == 0.5 and "val_cost" in summary
    rows = read_metrics(tmp_path / "full" / "metrics.csv")
    assert len(rows) == 7 and rows[-1]["cost"] < rows[0]["cost"]
    # stop after 3 steps, then resume to 6: the same file, byte for byte
    assert runner.invoke(app, [*base, "--steps", "3", "--out", str(tmp_path / "cut")]).exit_code == 0
    r = runner.invoke(app, [*base, "--steps", "6", "--resume", "--out", str(tmp_path / "cut")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "cut" / "metrics.csv").read_text() == (tmp_path / "full" / "metrics.csv").read_text()
    with np.load(tmp_path / "cut" / "params.npz") as a, np.load(tmp_path / "full" / "params.npz") as b:
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k])

    # refusals happen before anything is compiled (the program builder is never reached)
    import dqnn.training.trainer as fit_mod

    def no_compiling(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("compiled before refusing")

    monkeypatch.setattr(fit_mod, "_programs", no_compiling)
    r = runner.invoke(app, [*base, "--steps", "6", "--seed", "1", "--out", str(tmp_path / "full")])
    assert r.exit_code == 2 and "another configuration" in r.output and "seed" in r.output
    assert len(r.output.strip().splitlines()) == 1  # one line
    r = runner.invoke(app, [*base, "--steps", "9", "--out", str(tmp_path / "full")])
    assert r.exit_code == 2 and "--resume" in r.output
    for extra, culprit in (
        (["--cost", "hinge"], "cost"),
        (["--pairs", "3"], "--pairs"),
        (["--pmm-optimizer", "adam"], "momentum"),
        (["--eta", "1"], "--eta"),
    ):
        r = runner.invoke(app, [*base, *extra, "--steps", "2", "--out", str(tmp_path / "x")])
        assert r.exit_code == 2 and culprit in r.output, (extra, r.output)
    r = runner.invoke(app, ["train", "--data", str(tmp_path / "d.npz"), "--out", str(tmp_path / "y")])
    assert r.exit_code == 2 and "--network" in r.output


def test_cli_task_folder_is_not_overwritten(tmp_path, monkeypatch):
    base = ["train", "--widths", "1,1", "--pairs", "2", "--test-pairs", "2"]
    assert runner.invoke(app, [*base, "--steps", "2", "--out", str(tmp_path)]).exit_code == 0
    import dqnn.training.loop as loop_mod

    def no_compiling(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("prepared before refusing")

    monkeypatch.setattr(loop_mod, "prepare", no_compiling)
    r = runner.invoke(app, [*base, "--steps", "5", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "--resume" in r.output
    r = runner.invoke(app, [*base, "--steps", "2", "--seed", "4", "--resume", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "another configuration" in r.output


def test_cli_experiment_writes_result_and_figure(tmp_path):
    out = tmp_path / "g"
    r = runner.invoke(
        app, ["train", "--experiment", "noisy", "--widths", "1,1", "--pairs", "2", "--steps", "3"] + ["--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    result = json.loads((out / "result.json").read_text())
    assert result["noisy"] == [0, 1] and len(result["fidelity"]) == 2
    assert (out / "noisy.png").is_file()
    r = runner.invoke(app, ["train", "--experiment", "gan", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "--experiment" in r.output


def test_train_on_aer_writes_shot_and_exact_costs(tmp_path):
    import csv

    from typer.testing import CliRunner

    from dqnn.cli import app

    args = ["train", "--backend", "aer", "--widths", "1,1", "--depth", "1", "--pairs", "2", "--steps", "2"]
    res = CliRunner().invoke(app, [*args, "--shots", "512", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert len(rows) == 3 and all(0 <= float(r["exact_cost"]) <= 1 for r in rows)
    assert all(abs(float(r["cost"]) - float(r["exact_cost"])) < 5 * float(r["stderr"]) + 1e-9 for r in rows)
    again = CliRunner().invoke(app, [*args, "--shots", "256", "--out", str(tmp_path)])
    assert again.exit_code == 2 and "another run" in again.output
