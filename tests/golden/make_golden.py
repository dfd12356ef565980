"""Write ``golden.json`` and ``golden.npz``: today's numbers of every case of ``test_golden.py``.

Usage (from anywhere; PYTHONPATH must make ``import dqnn`` find the code to record)::

    python tests/golden/make_golden.py                       # all cases, runs `dqnn reproduce --quick` once
    python tests/golden/make_golden.py --reproduce-dir DIR   # read an existing `reproduce --quick` folder
    python tests/golden/make_golden.py --check               # recompute everything, compare with the fixture

The cases (their code, which is what is recorded as each case's call) and the one block of dqnn imports live
in ``test_golden.py``; this script only runs them and writes the files. XLA's CPU backend is set to LLVM -O0,
as ``tests/conftest.py`` does for the test suite (``test_golden.py`` sets the same before JAX starts).
"""

from __future__ import annotations

import argparse
import datetime
import inspect
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import test_golden as G  # noqa: E402  (sets XLA_FLAGS before importing JAX and dqnn)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(Path(G.dqnn.__file__).parent), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(Path(G.dqnn.__file__).parent), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reproduce-dir", type=Path, help="use this finished `dqnn reproduce --quick` folder")
    ap.add_argument("--only", nargs="*", help="compute only these cases (print, write nothing)")
    ap.add_argument("--check", action="store_true", help="recompute every case and compare with the fixture")
    ap.add_argument("--no-cache", action="store_true", help="without the temporary XLA compilation cache")
    args = ap.parse_args()

    names = args.only if args.only else list(G.CASES)
    results = {}
    t_all, c_all = time.perf_counter(), time.process_time()
    with G.compilation_cache(not args.no_cache):
        for name in names:
            t0, c0 = time.perf_counter(), time.process_time()
            results[name] = G.run_case(name)
            print(f"{time.perf_counter() - t0:7.2f} s wall {time.process_time() - c0:7.2f} s cpu  {name}", flush=True)
    print(f"{time.perf_counter() - t_all:7.2f} s wall {time.process_time() - c_all:7.2f} s cpu  all cases", flush=True)
    if args.only:
        for name in names:
            print(name, results[name])
        return
    if args.check:
        bad = []
        for name in names:
            try:
                G.compare(G.fixture()["cases"][name]["result"], results[name], name)
            except AssertionError as err:
                bad.append(name)
                print(f"DIFFERS: {err}")
        print("all cases match the fixture" if not bad else f"{len(bad)} case(s) differ: {bad}")
        sys.exit(1 if bad else 0)

    t0 = time.perf_counter()
    if args.reproduce_dir is not None:
        repro = G.plain(G.reproduce_numbers(args.reproduce_dir))
        repro_note = f"read from {args.reproduce_dir}"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "reproduce"
            G.run_reproduce(out)
            repro = G.plain(G.reproduce_numbers(out))
        repro_note = "run by make_golden.py into a temporary folder"
    print(f"{time.perf_counter() - t0:7.2f} s  reproduce ({repro_note})", flush=True)

    import jax
    import jaxlib
    import numpy as np
    import opt_einsum
    import optax
    import qiskit
    import scipy

    arrays: dict[str, np.ndarray] = {}
    doc = {
        "about": (
            "Golden numbers of dqnn (tests/golden/test_golden.py). Each case: 'call' is the Python code that made "
            "'result' (run in the namespace of test_golden.py: its dqnn import block and the helpers listed under "
            "'helpers'); arrays are in golden.npz under the key given by '__npz__'. Timings are left out."
        ),
        "meta": {
            "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "dqnn_commit": _git_commit(),
            "dqnn_file": G.dqnn.__file__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "jax": jax.__version__,
            "jaxlib": jaxlib.__version__,
            "jax_backend": jax.default_backend(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "optax": optax.__version__,
            "opt_einsum": opt_einsum.__version__,
            "qiskit": qiskit.__version__,
            "xla_flags": G.os.environ.get("XLA_FLAGS", ""),
            "xla_compilation_cache": not args.no_cache,
            "rtol": G.RTOL,
            "atol": G.ATOL,
        },
        "helpers": {f.__name__: inspect.getsource(f) for f in G.HELPERS},
        "cases": {name: {"call": G.CASES[name], "result": G.to_storage(results[name], name, arrays)} for name in names},
        "reproduce": {
            "call": G.REPRODUCE_CALL,
            "how": inspect.getsource(G.run_reproduce) + "\n" + inspect.getsource(G.reproduce_numbers),
            "note": repro_note,
            "result": G.to_storage(repro, "reproduce", arrays),
        },
    }
    G.JSON_PATH.write_text(json.dumps(doc, indent=1) + "\n")
    with open(G.NPZ_PATH, "wb") as fh:
        np.savez(fh, **arrays)
    print(f"wrote {G.JSON_PATH} and {G.NPZ_PATH} ({len(arrays)} arrays)")


if __name__ == "__main__":
    main()
