"""The store of finished variance points: one checked JSON file (+ its ``.npy`` samples) per point.

Every ``DIR/points/<key>.json`` is the point's dict plus a ``stored`` record of what it was computed from and
how to check it: the format, its ``key`` (the point, the parameter and the settings of its numbers), the sweep
``config`` where given, the package ``version``, the sample count, the SHA-256 of the ``.npy`` file's bytes and
the SHA-256 of the point's own content (:func:`dqnn._integrity.content_sha256`). Both files are written
atomically with unique temporary names (the samples first, so a JSON file always names samples that exist).

Reading a point back (:meth:`PointStore.get`) checks all of it and re-derives the summary (mean, variance,
standard errors, kurtosis, trust verdict) from the samples with :func:`dqnn.trainability.statistics.summarise`,
the function that made it. A point that fails any check (unreadable or edited JSON, no ``stored`` record,
another key or configuration, missing, truncated or garbled samples, a summary that its samples do not give) is
reported in one line (``report``, by default a :class:`ResumeWarning`) and treated as not there, so the sweep
computes it again: a damaged file is never used and never a crash. The package version is recorded but a point
of another version is still used (the numbers of a point depend on its key, not on the release).
"""

from __future__ import annotations

import io
import json
import math
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dqnn._integrity import ResumeWarning, atomic_write_bytes, atomic_write_text, content_sha256, sha256_bytes

#: Version of the ``stored`` record.
STORE_FORMAT = 1
#: Fields of a sampled point re-derived from its samples on every read.
DERIVED = ("samples", "mean", "mean_stderr", "variance", "stderr", "kurtosis", "relative_error", "trusted", "warnings")
#: Sweep settings that a stored point must share with the run that reads it (the memory budget changes no number).
CONFIG_KEYS = ("samples", "seed", "method", "exact")


class StoreError(ValueError):
    """A stored point failed its checks (the message names the file and why)."""


def derived_summary(samples: np.ndarray) -> dict[str, Any]:
    """The fields of :data:`DERIVED` as :func:`dqnn.trainability.points.sampled_dict` makes them from samples (S,)."""
    from dqnn.trainability.statistics import summarise

    s = summarise(samples)
    return {
        "samples": s.samples,
        "mean": s.mean,
        "mean_stderr": s.mean_stderr,
        "variance": s.variance,
        "stderr": s.stderr,
        "kurtosis": s.kurtosis,
        "relative_error": s.relative_error,
        "trusted": s.trusted,
        "warnings": list(s.warnings),
    }


def _same(a: Any, b: Any) -> bool:
    """Equal after a JSON round trip, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(json.loads(json.dumps(a)) == json.loads(json.dumps(b)))


def _warn(message: str) -> None:
    warnings.warn(message, ResumeWarning, stacklevel=4)


class PointStore:
    """Finished points of sweeps, one checked ``points/<key>.json`` (+ ``.npy`` samples) each, written atomically.

    ``report(line)`` is told, once per key, about every stored point that fails its checks (default: a
    :class:`ResumeWarning`).
    """

    def __init__(self, root: str | Path, report: Callable[[str], None] | None = None):
        self.root = Path(root)
        self.dir = self.root / "points"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.report = report or _warn
        self._reported: set[str] = set()

    def path(self, key: str) -> Path:
        """JSON path of a point."""
        return self.dir / f"{key}.json"

    def samples_path(self, key: str) -> Path:
        """``.npy`` path of a point's samples."""
        return self.dir / f"{key}.npy"

    def save(
        self,
        key: str,
        point: dict[str, Any],
        samples: np.ndarray | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        """Store a finished point: its samples (S,) as ``.npy``, then the JSON with its ``stored`` record; both
        atomically (unique temporary names, ``os.replace``). ``config``: the settings it was computed with."""
        from dqnn import __version__

        body = {k: v for k, v in point.items() if k != "stored"}
        record: dict[str, Any] = {
            "format": STORE_FORMAT,
            "key": key,
            "config": None if config is None else dict(config),
            "version": __version__,
            "samples": 0,
            "samples_sha256": None,
        }
        if samples is not None:
            buf = io.BytesIO()
            arr = np.ascontiguousarray(np.asarray(samples))
            np.save(buf, arr, allow_pickle=False)
            data = buf.getvalue()
            atomic_write_bytes(self.samples_path(key), data)
            record["samples"] = int(arr.shape[0]) if arr.ndim else 1
            record["samples_sha256"] = sha256_bytes(data)
        record["sha256"] = content_sha256({"point": body, "stored": record})
        atomic_write_text(self.path(key), json.dumps({**body, "stored": record}, indent=1))

    def check(
        self, key: str, expect: Mapping[str, Any] | None = None, config: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The verified point dict (without its ``stored`` record); :class:`StoreError` naming the file and the
        reason when it fails a check, FileNotFoundError when it is not there. ``expect``: fields the point must
        have (``n``, ``param``, ...); ``config``: settings it must have been computed with (:data:`CONFIG_KEYS`)."""
        path = self.path(key)
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise
        except (OSError, UnicodeDecodeError) as err:
            raise StoreError(f"{path}: unreadable ({type(err).__name__})") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise StoreError(f"{path}: not valid JSON (truncated or garbled)") from None
        if not isinstance(data, dict) or not isinstance(data.get("stored"), dict):
            raise StoreError(f"{path}: no 'stored' record (an older dqnn's file, or edited)")
        record = dict(data.pop("stored"))
        claimed = record.pop("sha256", None)
        if claimed != content_sha256({"point": data, "stored": record}):
            raise StoreError(f"{path}: its content does not match its checksum (edited or damaged)")
        if record.get("format") != STORE_FORMAT:
            raise StoreError(f"{path}: store format {record.get('format')!r}, this dqnn reads {STORE_FORMAT}")
        if record.get("key") != key:
            raise StoreError(f"{path}: stored for another point ({record.get('key')!r})")
        for k, v in (expect or {}).items():
            if not _same(data.get(k), v):
                raise StoreError(f"{path}: computed for {k}={data.get(k)!r}, this run needs {k}={v!r}")
        if config is not None:
            saved = record.get("config") or {}
            for k in CONFIG_KEYS:
                if k in config and not _same(saved.get(k), config[k]):
                    raise StoreError(f"{path}: computed with {k}={saved.get(k)!r}, this run has {k}={config[k]!r}")
        if record.get("samples_sha256") is not None:
            self._check_samples(key, data, record)
        return data

    def _check_samples(self, key: str, point: dict[str, Any], record: dict[str, Any]) -> None:
        npy = self.samples_path(key)
        try:
            raw = npy.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"{npy}: the samples of {self.path(key).name} are missing") from None
        if sha256_bytes(raw) != record["samples_sha256"]:
            raise StoreError(f"{npy}: the samples do not match their checksum (truncated, garbled or replaced)")
        try:
            g = np.load(io.BytesIO(raw), allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise StoreError(f"{npy}: unreadable samples ({err})") from None
        if g.ndim != 1 or g.shape[0] != record.get("samples"):
            raise StoreError(f"{npy}: {g.shape} samples, the point says {record.get('samples')}")
        if "variance" in point and point.get("method") != "exact":
            try:
                again = derived_summary(g)
            except ValueError as err:
                raise StoreError(f"{npy}: {err}") from None
            for k, v in again.items():
                if not _same(point.get(k), v):
                    raise StoreError(
                        f"{self.path(key)}: {k} = {point.get(k)!r} but its samples give {v!r} (edited or damaged)"
                    )

    def get(
        self, key: str, expect: Mapping[str, Any] | None = None, config: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """The verified point (:meth:`check`), or None when it is not there or fails a check (then ``report`` is
        told once, in one line, that it will be computed again)."""
        try:
            return self.check(key, expect, config)
        except FileNotFoundError:
            return None
        except StoreError as err:
            if key not in self._reported:
                self._reported.add(key)
                self.report(f"{err}; computing it again")
            return None

    def has(self, key: str) -> bool:
        """Whether the point is finished and passes its checks (:meth:`get`)."""
        return self.get(key) is not None

    def load(self, key: str) -> dict[str, Any]:
        """The verified point dict; :class:`StoreError` (a ValueError naming the file) when it fails a check."""
        return self.check(key)


__all__ = ["CONFIG_KEYS", "DERIVED", "STORE_FORMAT", "PointStore", "ResumeWarning", "StoreError", "derived_summary"]
