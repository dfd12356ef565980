"""Time to first answer of the ``dqnn`` command line: wall seconds and XLA compilations per command.

Each command runs in a fresh ``python`` process (what a user typing ``dqnn ...`` waits for, start-up included):

- ``--help`` of the app and of every subcommand (must not import JAX);
- small jobs (``estimate``, ``variance``, ``simulate``) three ways: ``no cache`` (``DQNN_NO_CACHE=1``), ``cold``
  (JAX's persistent compilation cache on, in an empty temporary folder) and ``warm`` (run again on that folder).

Every cell is the median of ``--repeat`` runs (3 by default; each cold run gets its own empty folder). The
compile count is the number of XLA backend compilations the process did (persistent-cache hits excluded; they are
counted separately), read through ``jax.monitoring`` from a hook that registers its listeners the moment JAX is
imported, so processes that never import JAX pay nothing for it.

    python benchmarks/bench_latency.py                      # table on stdout (markdown)
    python benchmarks/bench_latency.py --src OTHER/src      # measure another checkout (e.g. before a change)
    python benchmarks/bench_latency.py --names estimate -v  # also list what each run compiled

The numbers depend on the machine and its load: compare runs made on the same machine, one after the other.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Runs ``dqnn`` (``dqnn.cli.main``) with sys.argv[1:], counting compilations once JAX is imported; writes
#: ``{"requests", "hits", "compile_s", "jax", "names"}`` to $DQNN_BENCH_COUNTS at exit.
PRELUDE = r"""
import atexit, importlib.abc, importlib.machinery, json, os, sys
_c = {"requests": 0, "hits": 0, "compile_s": 0.0, "names": []}

class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "jax":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            from jax import monitoring

            def on_duration(event, duration_secs, **kw):
                if event == "/jax/core/compile/backend_compile_duration":
                    _c["requests"] += 1
                    _c["compile_s"] += duration_secs
                    _c["names"].append(str(kw.get("fun_name", "?")))

            def on_event(event, **kw):
                if event == "/jax/compilation_cache/cache_hits":
                    _c["hits"] += 1

            monitoring.register_event_duration_secs_listener(on_duration)
            monitoring.register_event_listener(on_event)

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, _Hook())

def _dump():
    _c["jax"] = "jax" in sys.modules
    with open(os.environ["DQNN_BENCH_COUNTS"], "w") as f:
        json.dump(_c, f)

atexit.register(_dump)
sys.argv[0] = "dqnn"
from dqnn.cli import main
main()
"""

SPEC = {"architecture": "fig3b", "n": 3, "layers": 2, "seed": 0}  # 3 + 3 qubits alive at a time


def help_commands() -> list[tuple[str, list[str]]]:
    subs = ["estimate", "shots", "simulate", "demo", "train", "variance", "reproduce"]
    return [("dqnn --help", ["--help"])] + [(f"dqnn {s} --help", [s, "--help"]) for s in subs]


def job_commands(work: Path) -> list[tuple[str, list[str]]]:
    spec = work / "spec.json"
    spec.write_text(json.dumps(SPEC))
    return [
        ("dqnn estimate --arch fig3b --n 4 --layers 2", ["estimate", "--arch", "fig3b", "--n", "4", "--layers", "2"]),
        (
            "dqnn variance --arch fig3a --n 2:4 --samples 50",
            ["variance", "--arch", "fig3a", "--n", "2:4", "--samples", "50", "--out", "{tmp}/variance"],
        ),
        ("dqnn simulate SPEC (fig3b n=3, 2 layers)", ["simulate", str(spec), "--out", "{tmp}/rho.npy"]),
    ]


def run_once(src: Path, argv: list[str], env_extra: dict[str, str]) -> dict[str, object]:
    """One fresh process: wall seconds, exit code, compile counts."""
    with tempfile.TemporaryDirectory(prefix="dqnn-bench-") as tmp:
        counts = Path(tmp) / "counts.json"
        env = {k: v for k, v in os.environ.items() if k not in ("DQNN_CACHE_DIR", "DQNN_NO_CACHE")}
        env.update(env_extra)
        env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "") if env.get("PYTHONPATH") else str(src)
        env["DQNN_BENCH_COUNTS"] = str(counts)
        args = [a.replace("{tmp}", tmp) for a in argv]
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", PRELUDE, *args], env=env, capture_output=True, text=True, cwd=tmp, check=False
        )
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        if proc.returncode != 0:
            raise RuntimeError(f"dqnn {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        c = json.loads(counts.read_text()) if counts.exists() else {"requests": 0, "hits": 0, "jax": None, "names": []}
        return {
            "wall": wall,
            "cpu": cpu,
            "compiles": int(c["requests"]) - int(c["hits"]),
            "hits": int(c["hits"]),
            "compile_s": float(c.get("compile_s", 0.0)),
            "jax": c["jax"],
            "names": c["names"],
        }


def median_of(runs: list[dict[str, object]]) -> dict[str, object]:
    out = dict(runs[0])
    for key in ("wall", "cpu", "compiles", "hits", "compile_s"):
        out[key] = statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]
    out["walls"] = [float(r["wall"]) for r in runs]  # type: ignore[arg-type]
    return out


def cell(r: dict[str, object], counts: bool = True) -> str:
    text = f"{r['wall']:.2f} s ({r['cpu']:.2f})"
    if counts:
        text += f" / {r['compiles']:g}"
        if r["hits"]:
            text += f" [{r['hits']:g} hits]"
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="the src/ folder whose dqnn to run")
    ap.add_argument("--repeat", type=int, default=3, help="runs per cell (the median is shown)")
    ap.add_argument("--names", nargs="*", default=None, help="only commands containing one of these words")
    ap.add_argument("--no-cache-only", action="store_true", help="jobs without the cache only (old checkouts)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list the compiled functions of each job")
    args = ap.parse_args()

    def wanted(label: str) -> bool:
        return args.names is None or any(w in label for w in args.names)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# dqnn time to first answer ({os.cpu_count()} cores, load average {load:.1f} at the start)\n")
    print(f"Median of {args.repeat} fresh processes per cell. `W s (C) / N [H hits]`: wall seconds (CPU seconds,")
    print("user + system, of the process) / XLA compilations [programs loaded from the persistent cache].\n")
    print("| command | jax imported | wall (cpu) |")
    print("| --- | --- | --- |")
    for label, argv in help_commands():
        if not wanted(label):
            continue
        r = median_of([run_once(args.src, argv, {"DQNN_NO_CACHE": "1"}) for _ in range(args.repeat)])
        print(f"| `{label}` | {'yes' if r['jax'] else 'no'} | {r['wall']:.2f} s ({r['cpu']:.2f}) |", flush=True)
    print()
    if args.no_cache_only:
        print("| command | no cache |")
        print("| --- | --- |")
    else:
        print("| command | no cache | cold cache | warm cache |")
        print("| --- | --- | --- | --- |")
    details: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dqnn-bench-spec-") as work:
        for label, argv in job_commands(Path(work)):
            if not wanted(label):
                continue
            plain = [run_once(args.src, argv, {"DQNN_NO_CACHE": "1"}) for _ in range(args.repeat)]
            row = [cell(median_of(plain))]
            if not args.no_cache_only:
                cold, warm = [], []
                for _ in range(args.repeat):
                    with tempfile.TemporaryDirectory(prefix="dqnn-bench-cache-") as cache:
                        cold.append(run_once(args.src, argv, {"DQNN_CACHE_DIR": cache}))
                        warm.append(run_once(args.src, argv, {"DQNN_CACHE_DIR": cache}))
                row += [cell(median_of(cold)), cell(median_of(warm))]
            print(f"| `{label}` | " + " | ".join(row) + " |", flush=True)
            if args.verbose:
                names = plain[0]["names"]
                details.append(f"{label}: {len(names)} compilations: " + ", ".join(names))  # type: ignore[arg-type]
    for d in details:
        print("\n" + d)


if __name__ == "__main__":
    main()
