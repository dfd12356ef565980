"""Fault injection on the point store: every kind of damage to a stored point is detected, reported in one line
and recomputed to the same numbers as an undamaged run; concurrent writers never collide or give a wrong read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dqnn._integrity import content_sha256, sha256_file
from dqnn.trainability.sampling import PointSpec
from dqnn.trainability.store import PointStore, StoreError
from dqnn.trainability.sweep import SweepConfig, as_point, point_key, run_sweep

SPEC = as_point(PointSpec("fig3a", "global", 2, 1))  # one ProblemPoint: its sampler is compiled once
CFG = SweepConfig(samples=24, seed=3)
STORE_FILE = str(Path(__file__).resolve().parents[1] / "src" / "dqnn" / "trainability" / "store.py")
STABLE = ("n", "param", "samples", "mean", "mean_stderr", "variance", "stderr", "kurtosis", "trusted", "warnings")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("ref")
    (d,) = run_sweep([SPEC], CFG, PointStore(root))
    return root, d


def _key() -> str:
    return point_key(SPEC, CFG)


def _forge(path: Path, **changes: object) -> None:
    """Edit fields of a stored point and recompute its content checksum (a consistent-looking forgery)."""
    data = json.loads(path.read_text())
    rec = data.pop("stored")
    for k, v in changes.items():
        if k.startswith("stored."):
            rec[k[7:]] = v
        else:
            data[k] = v
    rec.pop("sha256")
    rec["sha256"] = content_sha256({"point": data, "stored": rec})
    path.write_text(json.dumps({**data, "stored": rec}))


def _damage(kind: str, js: Path, npy: Path) -> None:
    rng = np.random.default_rng(abs(hash(kind)) % 2**32)
    if kind == "json-truncated":
        js.write_bytes(js.read_bytes()[: len(js.read_bytes()) // 2])
    elif kind == "json-garbled":
        b = bytearray(js.read_bytes())
        i = int(rng.integers(len(b) // 4, len(b) - 1))
        b[i] = (b[i] + 1) % 256
        js.write_bytes(bytes(b))
    elif kind == "json-empty":
        js.write_bytes(b"")
    elif kind == "json-variance-edited":  # the case: "variance": 1.0, checksum left alone
        data = json.loads(js.read_text())
        data["variance"] = 1.0
        js.write_text(json.dumps(data))
    elif kind == "json-n-forged":  # n = 99 with a recomputed checksum
        _forge(js, n=99)
    elif kind == "json-variance-forged":  # a consistent checksum, a summary its samples do not give
        _forge(js, variance=1.0)
    elif kind == "json-other-config":  # computed with another seed, checksum recomputed
        _forge(js, **{"stored.config": {**CFG.to_dict(), "seed": 99}})
    elif kind == "json-other-key":
        _forge(js, **{"stored.key": "fig3a-global-n3-L1-S24-seed3-autodiff"})
    elif kind == "json-legacy":  # no stored record (an older dqnn's file)
        data = json.loads(js.read_text())
        data.pop("stored")
        js.write_text(json.dumps(data))
    elif kind == "npy-deleted":
        npy.unlink()
    elif kind == "npy-truncated":
        npy.write_bytes(npy.read_bytes()[:-16])
    elif kind == "npy-garbled":
        b = bytearray(npy.read_bytes())
        b[-3] ^= 0x5A
        npy.write_bytes(bytes(b))
    elif kind == "npy-replaced":  # other valid samples, their checksum put into the JSON
        np.save(npy, rng.normal(size=24), allow_pickle=False)
        _forge(js, **{"stored.samples_sha256": sha256_file(npy)})
    elif kind == "npy-header":
        npy.write_bytes(b"\x93NUMPY garbage" + npy.read_bytes()[14:])
    else:  # pragma: no cover
        raise AssertionError(kind)


KINDS = [
    "json-truncated",
    "json-garbled",
    "json-empty",
    "json-variance-edited",
    "json-n-forged",
    "json-variance-forged",
    "json-other-config",
    "json-other-key",
    "json-legacy",
    "npy-deleted",
    "npy-truncated",
    "npy-garbled",
    "npy-replaced",
    "npy-header",
]


def test_undamaged_store_round_trips(reference: tuple[Path, dict]) -> None:
    root, d = reference
    store = PointStore(root, report=lambda s: pytest.fail(s))
    got = store.check(_key(), config=CFG.to_dict())
    assert {k: got[k] for k in STABLE} == {k: d[k] for k in STABLE}
    rec = json.loads(store.path(_key()).read_text())["stored"]
    assert rec["key"] == _key() and rec["samples"] == CFG.samples and rec["config"]["seed"] == CFG.seed
    assert rec["samples_sha256"] == sha256_file(store.samples_path(_key())) and rec["version"]
    # resumed, not recomputed: the sweep reports it as found on disk
    seen = []
    run_sweep([SPEC], CFG, store, on_point=lambda s, p, resumed: seen.append(resumed))
    assert seen == [True]


def test_every_damage_is_detected(reference: tuple[Path, dict], tmp_path: Path) -> None:
    """All 14 kinds of damage: refused by check (naming the file), reported once in one line by get, never used."""
    root, d = reference
    detected = 0
    for kind in KINDS:
        work = tmp_path / kind
        shutil.copytree(root, work)
        lines: list[str] = []
        store = PointStore(work, report=lines.append)
        _damage(kind, store.path(_key()), store.samples_path(_key()))
        with pytest.raises(StoreError, match=r"points/"):
            store.check(_key(), {"n": 2, "param": d["param"]}, CFG.to_dict())
        assert store.get(_key(), {"n": 2}, CFG.to_dict()) is None  # what run_sweep asks
        assert len(lines) == 1 and _key() in lines[0] and "computing it again" in lines[0], (kind, lines)
        assert "\n" not in lines[0]
        detected += 1
    assert detected == len(KINDS)


@pytest.mark.parametrize("kind", ["json-variance-edited", "json-n-forged", "npy-garbled"])
def test_damaged_point_is_recomputed_to_the_same_numbers(
    reference: tuple[Path, dict], tmp_path: Path, kind: str
) -> None:
    root, d = reference
    shutil.copytree(root, tmp_path / "w")
    lines: list[str] = []
    store = PointStore(tmp_path / "w", report=lines.append)
    _damage(kind, store.path(_key()), store.samples_path(_key()))
    seen: list[bool] = []
    (again,) = run_sweep([SPEC], CFG, store, on_point=lambda s, p, resumed: seen.append(resumed))
    assert seen == [False] and len(lines) == 1  # recomputed, said once
    assert {k: again[k] for k in STABLE} == {k: d[k] for k in STABLE}
    assert PointStore(tmp_path / "w").check(_key(), config=CFG.to_dict())["variance"] == d["variance"]  # healed


def test_store_of_another_sweep_config_is_not_reused(reference: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = reference
    shutil.copytree(root, tmp_path / "w")
    store = PointStore(tmp_path / "w", report=lambda s: None)
    with pytest.raises(StoreError, match="seed"):
        store.check(_key(), config={**CFG.to_dict(), "seed": 4})


# A writer process: saves and reads back key ``same`` (both writers: the same numbers) and key ``diff`` (each its
# own numbers); prints its tally as JSON. It loads store.py by path (not the dqnn.trainability package: no JAX).
WRITER = """
import importlib.util, json, sys
import numpy as np
spec = importlib.util.spec_from_file_location("_store_under_test", sys.argv[1])
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
root, which, rounds = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
store = mod.PointStore(root, report=lambda s: None)
def draws(w):
    rng = np.random.default_rng(w)
    return [rng.normal(size=16) for _ in range(2)]
def point(g):  # no "variance": the summary is not re-derived (that needs scipy)
    return {"method": "autodiff", "mean": float(g.mean()), "first": float(g[0])}
mine = {"same": draws(0)[:1] * 2, "diff": draws(which)}
valid = {"same": [point(draws(0)[0])], "diff": [point(g) for w in (1, 2) for g in draws(w)]}
tally = {k: [0, 0, 0, 0] for k in mine}  # errors, wrong reads, detected inconsistencies, valid reads
for i in range(rounds):
    for key, gs in mine.items():
        g, t = gs[i % 2], tally[key]
        try:
            store.save(key, point(g), g)
            t[1 if store.check(key) not in valid[key] else 3] += 1
        except mod.StoreError:
            t[2] += 1  # one writer's JSON beside the other's samples, seen between the two renames
        except Exception as e:
            t[0] += 1
            print(repr(e), file=sys.stderr)
print(json.dumps(tally))
"""


def test_concurrent_writers_never_collide(tmp_path: Path) -> None:
    """2 processes x 200 saves + reads of each of two keys: zero errors, zero wrong reads; where both write the
    same numbers (two runs of the same point) every read is valid."""
    env = {**os.environ, "PYTHONPATH": str(Path(STORE_FILE).parents[2])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, STORE_FILE, str(tmp_path), str(w), "200"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in (1, 2)
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    res = [json.loads(o.strip().splitlines()[-1]) for o, _ in outs]
    for key in ("same", "diff"):
        errors, wrong, detected, valid = (sum(r[key][i] for r in res) for i in range(4))
        assert errors == 0 and wrong == 0, (key, res, outs)
        assert errors + wrong + detected + valid == 400
    assert sum(r["same"][3] for r in res) == 400, res
    assert not list(tmp_path.glob("points/.*")), "temporary files left behind"
