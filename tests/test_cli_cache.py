"""JAX's persistent compilation cache: on for the CLI (DQNN_CACHE_DIR, XDG), off by DQNN_NO_CACHE or --no-cache;
opt-in for the library (dqnn.enable_compilation_cache). Cache tests run subprocesses (the suite itself has no cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dqnn import _cache

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DQNN_NO_CACHE", "DQNN_CACHE_DIR")}
    env = {
        k: v for k, v in env.items() if not k.startswith("JAX_COMPILATION_CACHE") and not k.startswith("JAX_PERSIST")
    }
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_default_dir_precedence(monkeypatch, tmp_path):
    for var in ("DQNN_CACHE_DIR", "JAX_COMPILATION_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _cache.default_cache_dir() == tmp_path / "home" / ".cache" / "dqnn" / "jax"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cache.default_cache_dir() == tmp_path / "xdg" / "dqnn" / "jax"
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "jaxdir"))
    assert _cache.default_cache_dir() == tmp_path / "jaxdir"
    monkeypatch.setenv("DQNN_CACHE_DIR", str(tmp_path / "mine"))
    assert _cache.default_cache_dir() == tmp_path / "mine"


@pytest.mark.parametrize(("value", "off"), [("1", True), ("true", True), ("YES", True), ("0", False), ("", False)])
def test_no_cache_switch(monkeypatch, tmp_path, value, off):
    monkeypatch.setenv("DQNN_NO_CACHE", value)
    monkeypatch.setenv("DQNN_CACHE_DIR", str(tmp_path / "c"))
    assert _cache.cache_disabled() is off
    if off:  # nothing is created, JAX is not touched
        assert _cache.cli_cache() is None and _cache.enable_compilation_cache() is None
        assert not (tmp_path / "c").exists()
    assert _cache.cli_cache(no_cache=True) is None


def test_cli_setup_goes_through_the_environment_before_jax(tmp_path):
    """Without JAX imported, the CLI's set-up creates the folder and tells JAX by environment variables."""
    code = (
        "import json, os, sys; from dqnn import _cache; folder = _cache.cli_cache(); "
        "print(json.dumps([str(folder), 'jax' in sys.modules, os.environ['JAX_COMPILATION_CACHE_DIR'], "
        "os.environ['JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS']]))"
    )
    cache = tmp_path / "cache"
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(DQNN_CACHE_DIR=str(cache)), check=False
    )
    assert res.returncode == 0, res.stderr
    folder, jax_imported, jax_dir, min_time = json.loads(res.stdout)
    assert folder == jax_dir == str(cache) and cache.is_dir()
    assert not jax_imported and float(min_time) == 0.0


def test_library_opt_in_writes_small_programs(tmp_path):
    cache = tmp_path / "lib-cache"
    code = (
        "import sys, dqnn; folder = dqnn.enable_compilation_cache(sys.argv[1]); import jax; "
        "jax.jit(lambda x: x * 2 + 1)(1.0).block_until_ready(); print(folder)"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(cache)], capture_output=True, text=True, env=_env(), check=False
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(cache)
    assert _files(cache), "a program compiled in well under a second is cached too"


def _simulate(tmp_path: Path, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    spec = tmp_path / "net.json"
    spec.write_text(json.dumps({"architecture": "fig3a", "n": 2, "layers": 1, "seed": 1}))
    return subprocess.run(
        [sys.executable, "-m", "dqnn", *extra, "simulate", str(spec), "--out", str(tmp_path / "rho.npy")],
        capture_output=True,
        text=True,
        env=_env(**env),
        check=False,
    )


def test_cli_writes_the_cache_where_told(tmp_path):
    cache = tmp_path / "cli-cache"
    res = _simulate(tmp_path, DQNN_CACHE_DIR=str(cache))
    assert res.returncode == 0, res.stderr
    assert _files(cache)


def test_cli_no_cache_option_writes_nothing(tmp_path):
    cache = tmp_path / "cli-cache"
    res = _simulate(tmp_path, "--no-cache", DQNN_CACHE_DIR=str(cache))
    assert res.returncode == 0, res.stderr
    assert not _files(cache)
