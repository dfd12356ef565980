"""Checksums, atomic writes, the folder lock, and fault injection on training checkpoints and metrics.csv."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest

from dqnn import _integrity
from dqnn._integrity import FolderLock, FolderLockedError, atomic_write_text, content_sha256, sha256_file
from dqnn.training import files, folders
from lockholder import hold_lock, holder_command


def test_checksums_match_hashlib(tmp_path: Path) -> None:
    p = tmp_path / "f.bin"
    data = os.urandom(3000)
    p.write_bytes(data)
    assert sha256_file(p) == hashlib.sha256(data).hexdigest()
    a = {"b": [1.0, float("nan")], "a": 1}
    assert content_sha256(a) == content_sha256(dict(reversed(a.items())))  # key order does not matter
    assert content_sha256(a) != content_sha256({**a, "a": 2})


def test_atomic_write_leaves_no_temporary_and_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    atomic_write_text(p, "old")

    with pytest.raises(TypeError):
        _integrity.atomic_write_bytes(p, "not bytes")  # type: ignore[arg-type]
    assert p.read_text() == "old" and sorted(os.listdir(tmp_path)) == ["x.json"]


def test_folder_lock_names_the_other_process_and_is_taken_over_when_it_dies(tmp_path: Path) -> None:
    proc = hold_lock(tmp_path)
    try:
        with pytest.raises(FolderLockedError, match=rf"in use by another run \(pid {proc.pid} on "):
            FolderLock(tmp_path).acquire()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    # the killed holder's lock file still names it, but the lock is free: taken over at once
    assert FolderLock(tmp_path).holder()["pid"] == proc.pid  # type: ignore[index]
    with FolderLock(tmp_path) as lock:
        assert lock.holder()["pid"] == os.getpid()  # type: ignore[index]
        with FolderLock(tmp_path):  # nested in the same process (a command running a study): a no-op
            pass
        # the inner exit released nothing: another process is still refused
        child = subprocess.run(holder_command(tmp_path), capture_output=True, text=True)
        assert child.returncode != 0 and f"pid {os.getpid()}" in child.stderr, child.stderr
    proc = hold_lock(tmp_path)  # released on exit: a child takes it
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def test_study_into_a_folder_in_use_is_refused_before_any_work(tmp_path: Path) -> None:
    from dqnn.trainability import preset_problem
    from dqnn.trainability.study import study

    proc = hold_lock(tmp_path)
    try:
        with pytest.raises(FolderLockedError, match=rf"pid {proc.pid}"):
            study(preset_problem("fig3a", "global", 1), [2], samples=4, exact=False, out=tmp_path)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert not (tmp_path / "points").exists() and not (tmp_path / "variance.json").exists()


# ------------------------------------------------------------------------------------ checkpoints


def _state() -> dict:
    return {"params": [np.linspace(0.0, 1.0, 6).reshape(2, 3)], "t": np.asarray(3, dtype=np.int32)}


CONFIG = {"steps": 5, "seed": 0, "checkpoint_every": 1}


def _save(path: Path, step: int = 3) -> list[dict[str, float]]:
    rows = [{"cost": 1.0 / (t + 1)} for t in range(step + 1)]
    folders.save_state(path, CONFIG, step, _state(), rows, 1.5)
    return rows


def _edit(path: Path, **changes: object) -> None:
    """Rewrite some arrays of a checkpoint, keeping its (now stale) checksum or recomputing it (``rehash``)."""
    rehash = bool(changes.pop("rehash", False))
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update({k: np.asarray(v) for k, v in changes.items()})
    if rehash:
        arrays["sha256"] = np.asarray(files.arrays_sha256(arrays))
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


DAMAGES = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "garbled": lambda p: p.write_bytes(p.read_bytes()[:100] + b"\x00" * 64 + p.read_bytes()[164:]),
    "empty": lambda p: p.write_bytes(b""),
    "nan-params": lambda p: _edit(p, state0000=np.full((2, 3), np.nan)),
    "scaled-params": lambda p: _edit(p, state0000=3 * np.linspace(0.0, 1.0, 6).reshape(2, 3)),
    "step-negative": lambda p: _edit(p, step=-5),
    "step-beyond": lambda p: _edit(p, step=50),
    "rows-truncated": lambda p: _edit(p, metrics=np.ones((2, 1))),
    "no-checksum": lambda p: _edit(p, sha256="0" * 64),
    "nan-params-rehashed": lambda p: _edit(p, state0000=np.full((2, 3), np.nan), rehash=True),
    "step-negative-rehashed": lambda p: _edit(p, step=-5, rehash=True),
    "rows-truncated-rehashed": lambda p: _edit(p, metrics=np.ones((2, 1)), rehash=True),
    "wrong-shape-rehashed": lambda p: _edit(p, state0000=np.zeros(4), rehash=True),
}


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    p = tmp_path / "checkpoint.npz"
    rows = _save(p)
    step, state, got, secs, stopped = folders.load_state(p, CONFIG, _state())
    assert step == 3 and got == rows and secs == 1.5 and stopped is None
    assert np.array_equal(state["params"][0], _state()["params"][0])
    assert folders.saved_config(tmp_path) == CONFIG


@pytest.mark.parametrize("kind", list(DAMAGES))
def test_damaged_checkpoint_is_never_resumed_from(tmp_path: Path, kind: str) -> None:
    p = tmp_path / "checkpoint.npz"
    _save(p)
    DAMAGES[kind](p)
    template = {"params": [np.zeros((2, 3))], "t": np.asarray(0, dtype=np.int32)}
    with pytest.warns(folders.ResumeWarning, match=r"checkpoint\.npz.*starting the run again") as rec:
        step, state, rows, secs, stopped = folders.load_state(p, CONFIG, template)
    mine = [w for w in rec if issubclass(w.category, folders.ResumeWarning)]
    assert len(mine) == 1 and "\n" not in str(mine[0].message), [str(w.message) for w in rec]
    assert (step, rows, secs, stopped) == (0, [], 0.0, None) and state is template
    if kind != "wrong-shape-rehashed":
        with pytest.raises(files.CheckpointError, match="checkpoint.npz"):
            files.read_checkpoint(p, steps=5)
    folders.check_folder(tmp_path, CONFIG, resume=True)  # never a crash


def test_checkpoint_beyond_the_steps_asked_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "checkpoint.npz"
    _save(p, step=5)
    with pytest.raises(ValueError, match="step 5, beyond steps=4"):
        folders.load_state(p, {**CONFIG, "steps": 4}, _state())


def test_metrics_csv_checked(tmp_path: Path) -> None:
    p = tmp_path / "metrics.csv"
    rows = [{"cost": 0.5, "acc": float(t)} for t in range(4)]
    files.write_metrics(p, rows)
    assert files.read_metrics(p, steps=3) == rows
    with pytest.raises(files.CheckpointError, match="4 rows for step 5"):
        files.read_metrics(p, steps=5)
    text = p.read_text()
    for bad in (text[: len(text) - 5], text.replace("0.5", "x", 1), text.replace("\n2,", "\n7,"), "cost\n1\n"):
        p.write_text(bad)
        with pytest.raises(files.CheckpointError, match="metrics.csv"):
            files.read_metrics(p, steps=3)


def test_summary_json_damage_does_not_crash_the_folder_check(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text('{"config": ')
    folders.check_folder(tmp_path, CONFIG, resume=False)
    (tmp_path / "summary.json").write_text(json.dumps({"config": {**CONFIG, "seed": 1}}))
    with pytest.raises(ValueError, match="another configuration"):
        folders.check_folder(tmp_path, CONFIG, resume=False)
