"""GPU vs CPU speed-up of the variance engine (run where ``jax[cuda]`` is installed: ``pip install -e .[cuda]``).

The same jitted samplers (:func:`dqnn.trainability.sampling.sampler`) run under ``jax.default_device(cpu)`` and
``jax.default_device(gpu)``; the table gives warm samples/s on each and their ratio. Without a GPU the CPU
column is still measured and the GPU column says ``no GPU``. Never run by the tests or CI.

Points: workload A of ``benchmarks/peers`` (Fig. 3a, global), B's kind (Fig. 3b, the layered brick circuit as a
DQNN) and D (Theorem 1, the ``global`` preset at the widths of ``benchmarks/peers/results.md``), plus PMM. A
second table gives, per architecture, the largest ``n`` whose simulator state fits in each device's memory:
``2**peak_stored_qubits`` amplitudes x 16 B x ``OVERHEAD`` (tangent and temporaries) for one sample, from
:func:`dqnn.sim.simulate.peak_stored_qubits` (shapes only, nothing run).

Usage: ``python benchmarks/bench_gpu.py [--samples 1024] [--out benchmarks/results_gpu.md]``; one short
script (a few minutes) on a machine with a GPU.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time

import jax

from dqnn.sim.simulate import peak_stored_qubits
from dqnn.trainability import sampling as trainability
from dqnn.trainability.sampling import PointSpec

POINTS = [
    PointSpec("fig3a", "global", 16, 1),
    PointSpec("fig3b", "global", 12, 8),
    PointSpec("fig3b", "global", 16, 8),
    PointSpec("fig3b", "local", 64, 12),
    PointSpec("global", "global", 6, 2),
    PointSpec("global", "global", 4, 2),
    PointSpec("global", "global", 5, 3),
    PointSpec("global", "global", 4, 4),
    PointSpec("global", "global", 3, 6),
    PointSpec("pmm", "global", 5, 2),
]
#: Bytes held per stored amplitude of one sample beyond the state itself (tangent, gate temporaries).
OVERHEAD = 4
#: (preset, depth, largest n searched) for the largest fitting width (the global preset stores ~3n qubits).
FIT = [("fig3b", 8, 40), ("global", 2, 16), ("global", 4, 16)]


def device_bytes(device: jax.Device) -> int:
    """Memory of ``device``: the allocator's limit on a GPU, physical memory on the CPU."""
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"])
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def largest_n(arch: str, layers: int, nbytes: int, max_n: int) -> int:
    """The largest ``n <= max_n`` whose one-sample state (module doc) fits in ``nbytes`` (0 if none)."""

    def fits(n: int) -> bool:
        return 2 ** peak_stored_qubits(PointSpec(arch, "global", n, layers).network()) * 16 * OVERHEAD <= nbytes

    lo, hi = 1, max_n + 1  # bisection (the peak grows with n): fits(lo) or lo = 1, not fits(hi)
    if fits(max_n):
        return max_n
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo if lo > 1 else 0


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
    ap.add_argument("--points", type=int, default=len(POINTS), help="time only the first this many points")
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
    for spec in POINTS[: a.points]:
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
    lines += [
        "",
        f"Largest n that fits (one sample, {OVERHEAD} x 16 B per stored amplitude; CPU {device_bytes(cpu) / 2**30:.0f} GiB"
        + (f", GPU {device_bytes(gpu) / 2**30:.0f} GiB" if gpu is not None else "")
        + "):",
        "",
        "| architecture | CPU largest n | GPU largest n |",
        "|---|---:|---:|",
    ]
    for arch, layers, max_n in FIT:
        on_cpu = largest_n(arch, layers, device_bytes(cpu), max_n)
        on_gpu = "no GPU" if gpu is None else str(largest_n(arch, layers, device_bytes(gpu), max_n))
        lines.append(f"| {arch} L={layers} | {on_cpu} | {on_gpu} |")
        print(lines[-1], flush=True)
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
