"""Result objects as pandas DataFrames (round trips through CSV and the saved files) and their notebook displays."""

from __future__ import annotations

import json

import pytest

pd = pytest.importorskip("pandas")

from dqnn.estimators.base import Estimate  # noqa: E402
from dqnn.presets import architectures  # noqa: E402
from dqnn.trainability.sampling import POINT_COLUMNS, PointSpec, variance_point  # noqa: E402
from dqnn.trainability.study import StudyConfig, StudyResult, run_study  # noqa: E402
from dqnn.training.loop import TrainConfig, TrainResult, train  # noqa: E402


def test_estimate_frame_round_trip(tmp_path):
    est = Estimate(0.1 + 0.2, 1 / 3, 1000)  # floats that print with 17 digits
    df = est.to_frame()
    assert list(df.columns) == ["value", "stderr", "shots"] and len(df) == 1
    df.to_csv(tmp_path / "e.csv", index=False)
    back = Estimate.read_csv(tmp_path / "e.csv")
    pd.testing.assert_frame_equal(back, df)
    assert Estimate.from_frame(back) == est
    html = est._repr_html_()
    assert "0.3" in html and "1000" in html


def test_network_repr_and_html():
    net = architectures.fig3b(3, 2)
    r = repr(net)
    assert "widths=[3, 3, 3]" in r and "6 perceptrons" in r and "Circuit" in r
    html = net._repr_html_()
    assert html.count("<tr>") == 1 + 6 and "Circuit" in html and "0 -&gt; 1" in html


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    cfg = StudyConfig(arch="fig3a", cost="global", ns=(2, 3, 4), samples=16, seed=1)
    return out, run_study(cfg, out)


def test_study_result_is_the_json_dict(study):
    out, res = study
    assert isinstance(res, dict) and isinstance(res, StudyResult)
    stored = json.loads((out / "variance.json").read_text())
    assert stored == {k: v for k, v in res.items() if k != "plot"}
    json.dumps(res)  # still plain JSON
    again = StudyResult.from_folder(out)
    assert again == res


def test_study_frame_round_trip(study, tmp_path):
    out, res = study
    df = res.to_frame()
    assert list(df.columns) == list(POINT_COLUMNS) and len(df) == 3
    assert list(df["n"]) == [2, 3, 4] and df["variance"].tolist() == [p["variance"] for p in res["points"]]
    pd.testing.assert_frame_equal(StudyResult.read_csv(out), df)  # the CSV run_study wrote
    df.to_csv(tmp_path / "v.csv", index=False)
    pd.testing.assert_frame_equal(StudyResult.read_csv(tmp_path / "v.csv"), df)
    pd.testing.assert_frame_equal(StudyResult.from_folder(out).to_frame(), df)


def test_study_repr_html_and_png(study):
    _, res = study
    r = repr(res)
    assert r.startswith("StudyResult(fig3a, global cost") and "3 points" in r and "n=2..4" in r
    html = res._repr_html_()
    p = res["points"][0]
    assert f"{p['variance']:.4e}" in html and html.count("<tr>") == 1 + 3
    png = res._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    fig = res.plot()
    assert fig.axes and fig.axes[0].get_yscale() == "log"


def test_variance_point_to_frame():
    point, _ = variance_point(PointSpec("fig3a", "global", 2), 8, seed=0)
    df = point.to_frame()
    d = point.to_dict()
    assert list(df.columns) == list(POINT_COLUMNS) and len(df) == 1
    assert df["variance"].iloc[0] == d["variance"] and df["samples"].iloc[0] == 8
    assert df["shots_to_resolve"].isna().all()


def test_train_result_frame_and_folder(tmp_path):
    cfg = TrainConfig(widths=(1, 1), pairs=2, test_pairs=2, steps=2, seed=0)
    res = train(cfg, tmp_path, plot=False)
    df = res.to_frame()
    assert list(df.columns) == ["step", "cost", "train_fidelity", "test_fidelity"] and list(df["step"]) == [0, 1, 2]
    assert df["cost"].tolist() == [r["cost"] for r in res.metrics]
    pd.testing.assert_frame_equal(TrainResult.read_csv(tmp_path), df)  # metrics.csv as written by train
    df.to_csv(tmp_path / "m.csv", index=False)
    pd.testing.assert_frame_equal(TrainResult.read_csv(tmp_path / "m.csv"), df)
    back = TrainResult.from_folder(tmp_path)
    assert back.metrics == res.metrics and back.summary["config"] == res.summary["config"]
    assert back.net.widths == res.net.widths
    import jax
    import numpy as np

    for a, b in zip(jax.tree.leaves(back.params), jax.tree.leaves(res.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    pd.testing.assert_frame_equal(back.to_frame(), df)
