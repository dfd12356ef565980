"""GPU vs CPU speed-up of the variance engine (run where ``jax[cuda]`` is installed: ``pip install -e .[cuda]``).

The same jitted samplers (:func:`dqnn.trainability.sampling.sampler`) run under ``jax.default_device(cpu)`` and
``jax.default_device(gpu)``; the table gives warm samples/s on each and their ratio. Without a GPU the CPU
column is still measured and the GPU column says ``no GPU``. Never run by the tests or CI.

Usage: ``python benchmarks/bench_gpu.py [--samples 1024] [--out benchmarks/results_gpu.md]``.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import time

import jax

from dqnn.trainability import sampling as trainability
from dqnn.trainability.sampling import PointSpec

POINTS = [
    PointSpec("fig3a", "global", 16, 1),
    PointSpec("fig3b", "global", 12, 8),
    PointSpec("fig3b", "global", 16, 8),
    PointSpec("fig3b", "local", 64, 12),
    PointSpec("global", "global", 6, 2),
    PointSpec("pmm", "global", 5, 2),
]


def rate(spec: PointSpec, samples: int, device: jax.Device) -> tuple[float, float]:
    """(compile s, warm samples/s) of ``spec``'s sampler on ``device``."""
    with jax.default_device(device):
        fn, c = trainability.sampler(spec.gradient(), samples)
        keys = jax.random.split(jax.random.key(0), c)
        t0 = time.perf_counter()
        jax.block_until_ready(fn(keys))
        compile_s = time.perf_counter() - t0
        reps = max(1, samples // c)
        t0 = time.perf_counter()
        for i in range(reps):
            jax.block_until_ready(fn(jax.random.split(jax.random.key(i + 1), c)))
        return compile_s, reps * c / (time.perf_counter() - t0)


def main() -> None:
    """Measure every point on the CPU and, where there is one, on the GPU; print and write the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=1024)
    ap.add_argument("--out", default="benchmarks/results_gpu.md")
    a = ap.parse_args()
    cpu = jax.devices("cpu")[0]
    try:
        gpu: jax.Device | None = jax.devices("gpu")[0]
    except RuntimeError:
        gpu = None
    lines = [
        "# GPU vs CPU (variance engine)",
        "",
        f"Date: {datetime.datetime.now().isoformat(timespec='minutes')}. Host: {platform.processor() or platform.machine()}, "
        f"jax {jax.__version__}; GPU: {gpu.device_kind if gpu is not None else 'none'}.",
        "Produced by `python benchmarks/bench_gpu.py`.",
        "",
        "| point | engine | CPU samples/s | CPU compile s | GPU samples/s | GPU compile s | GPU / CPU |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for spec in POINTS:
        engine = trainability.pick_engine(spec.gradient(), "autodiff")
        cc, cr = rate(spec, a.samples, cpu)
        if gpu is None:
            lines.append(f"| {spec.label()} | {engine} | {cr:,.0f} | {cc:.1f} | no GPU | | |")
        else:
            gc, gr = rate(spec, a.samples, gpu)
            lines.append(
                f"| {spec.label()} | {engine} | {cr:,.0f} | {cc:.1f} | {gr:,.0f} | {gc:.1f} | {gr / cr:.1f}x |"
            )
        print(lines[-1], flush=True)
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
