"""JAX's persistent compilation cache: compiled programs kept on disk, so a second run does not compile again.

Most of a small dqnn job's time on a cold process is XLA compiling its programs (about a second each for a
simulation). With the cache on, the compiled executables are written to a folder and later processes that
build the same programs load them instead.

- The ``dqnn`` command turns the cache on by default (:func:`cli_cache`), in :func:`default_cache_dir`;
  ``--no-cache`` or the environment variable ``DQNN_NO_CACHE=1`` turn it off.
- The library leaves JAX's settings alone unless asked: call :func:`enable_compilation_cache` (exported as
  ``dqnn.enable_compilation_cache``) before the first computation, e.g. at the top of a notebook.

The folder is, in order: ``DQNN_CACHE_DIR``; JAX's own ``JAX_COMPILATION_CACHE_DIR``; ``$XDG_CACHE_HOME/dqnn/jax``;
``~/.cache/dqnn/jax``. Every program is cached, however small and quick to compile (JAX's defaults keep only
those that took over a second; most of dqnn's are below that). JAX keys each entry by the program, the
compiler options, the JAX version and the device, so a stale entry is never used; delete the folder to reclaim
the space. The cache is trusted code: do not point it at a folder others can write to.

This module does not import JAX at import time (``dqnn --help`` stays fast).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Environment variables: the cache folder, and a switch that turns the cache off (``1``, ``true``, ``yes``).
ENV_DIR = "DQNN_CACHE_DIR"
ENV_OFF = "DQNN_NO_CACHE"

#: JAX settings that make every program cacheable (JAX's default minimum compile time is 1 s).
SETTINGS: dict[str, float | int] = {
    "jax_persistent_cache_min_compile_time_secs": 0.0,
    "jax_persistent_cache_min_entry_size_bytes": -1,  # no size threshold
}


def cache_disabled() -> bool:
    """Whether ``DQNN_NO_CACHE`` asks for no cache (``1``, ``true``, ``yes``, ``on``; case-insensitive)."""
    return os.environ.get(ENV_OFF, "").strip().lower() in ("1", "true", "yes", "on")


def default_cache_dir() -> Path:
    """The cache folder: ``DQNN_CACHE_DIR``, ``JAX_COMPILATION_CACHE_DIR``, ``$XDG_CACHE_HOME/dqnn/jax`` or
    ``~/.cache/dqnn/jax`` (the first that is set)."""
    for var in (ENV_DIR, "JAX_COMPILATION_CACHE_DIR"):
        value = os.environ.get(var, "").strip()
        if value:
            return Path(value).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "dqnn" / "jax"


def _make_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def enable_compilation_cache(path: str | os.PathLike[str] | None = None) -> Path | None:
    """Turn on JAX's persistent compilation cache for this process; returns its folder (None: left off).

    ``path=None`` takes :func:`default_cache_dir` and honours ``DQNN_NO_CACHE=1`` (returns None and changes
    nothing); an explicit ``path`` is always used. Every program is cached (:data:`SETTINGS`). Best called
    before the first computation; programs compiled earlier in the process are not written to the cache.
    """
    if path is None:
        if cache_disabled():
            return None
        path = default_cache_dir()
    folder = _make_dir(Path(path).expanduser())
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    for name, value in SETTINGS.items():
        jax.config.update(name, value)
    compilation_cache.reset_cache()  # JAX decides once per process whether to use the cache: ask again
    return folder


def cli_cache(no_cache: bool = False) -> Path | None:
    """The ``dqnn`` command's set-up: the cache on in :func:`default_cache_dir` unless ``no_cache`` or
    ``DQNN_NO_CACHE``. Returns the folder, or None when off (also when the folder cannot be created).

    Does not import JAX: when JAX is not imported yet, the settings go into the environment
    (``JAX_COMPILATION_CACHE_DIR`` and the thresholds of :data:`SETTINGS`, where not set already), which JAX
    reads when it is imported and child processes (Dask workers) inherit.
    """
    if no_cache or cache_disabled():
        return None
    try:
        folder = _make_dir(default_cache_dir())
    except OSError:
        return None  # an unwritable home never stops a command; it only runs without the cache
    if "jax" in sys.modules:
        return enable_compilation_cache(folder)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(folder)
    for name, value in SETTINGS.items():
        os.environ.setdefault(name.upper(), str(value))
    return folder


__all__ = [
    "ENV_DIR",
    "ENV_OFF",
    "SETTINGS",
    "cache_disabled",
    "cli_cache",
    "default_cache_dir",
    "enable_compilation_cache",
]
