"""The training panel of ``dqnn reproduce`` resumes: a rerun reuses its finished runs, with the same numbers."""

from __future__ import annotations

import pytest

import dqnn.training.loop as loop_mod
from dqnn.training.panel import beer_panel


def test_panel_resumes_without_training_again(tmp_path, monkeypatch):
    first = beer_panel(tmp_path, steps=3, pairs=[1, 2])
    assert (tmp_path / "pairs-2" / "checkpoint.npz").is_file() and (tmp_path / "beer_panel.png").is_file()

    def no_training(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(loop_mod, "save_checkpoint", no_training)  # written after every training step block
    again = beer_panel(tmp_path, steps=3, pairs=[1, 2])
    for k in ("pairs", "train_fidelity", "test_fidelity", "steps"):
        assert again[k] == first[k]
    with pytest.raises(AssertionError, match="trained again"):
        beer_panel(tmp_path, steps=4, pairs=[1])  # one more step: continues (and checkpoints) the run
