"""Roofline of the simulator: the least bytes of state a sample must move, against this machine's bandwidth.

For each workload (B global of ``benchmarks/peers``, D of Theorem 1 at the issue's widths):

- ``min MB/sample``: every gate pass (a gate of :func:`dqnn.sim.kernel.apply_gate` /
  :func:`~dqnn.sim.kernel.apply_gate_front`, or one combined diagonal product) must read and write the
  factor it acts on once: ``2 x stored amplitudes x bytes per amplitude`` (complex128 16 B, float64 8 B),
  twice where ``jax.jvp`` carries a tangent beside it. Counted by tracing one sample's gradient with those
  functions wrapped (``jax.make_jaxpr``, no arithmetic). Padding, folds and transposes are not counted: they
  are not required by the gate count.
- ``bandwidth``: a STREAM-like triad ``a = b + s c`` (float64, arrays well beyond the caches) in NumPy and in
  JAX, measured in the same run; the fraction is against the larger.
- the profile: warm seconds per sample of the random draws alone (``Network.init``, Haar QR included), of
  the forward simulation alone (cost, no derivative), and of the gradient from given parameters; the
  derivative's overhead is their difference; compile seconds of each program. (Gates and the cost's
  reduction are not timed apart: XLA fuses them into one program; the forward column is both.)

The states of these workloads fit in the caches (at most a few MB per sample), so the "memory" roofline is a
conservative limit: a fraction above 100% would mean cache bandwidth. Usage:
``python benchmarks/bench_roofline.py [--out benchmarks/results_roofline.md] [--reps 3]``.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dqnn._jax import jit_rng
from dqnn.costs import cost
from dqnn.gradients import grad_cost
from dqnn.model.angles import AngleIndex
from dqnn.presets.problems import zero_pair
from dqnn.sim import simulate
from dqnn.trainability.sampling import PointSpec

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
import engines

TRIAD_N = 2**23  # 64 MB per float64 array


def triad_numpy(reps: int) -> float:
    """Best GB/s of ``a = b + s c`` in NumPy (3 arrays of TRIAD_N float64: 2 read, 1 written)."""
    b, c = np.random.default_rng(0).random(TRIAD_N), np.random.default_rng(1).random(TRIAD_N)
    a = np.empty_like(b)
    best = np.inf
    for _ in range(reps + 1):
        t0 = time.perf_counter()
        np.multiply(c, 3.0, out=a)
        np.add(a, b, out=a)
        best = min(best, time.perf_counter() - t0)
    return 3 * 8 * TRIAD_N / best / 1e9


def triad_jax(reps: int) -> float:
    """Best GB/s of the same triad as one jitted (fused) XLA program."""
    b = jnp.asarray(np.random.default_rng(0).random(TRIAD_N))
    c = jnp.asarray(np.random.default_rng(1).random(TRIAD_N))
    f = jax.jit(lambda b, c: b + 3.0 * c)
    f(b, c).block_until_ready()
    best = np.inf
    for _ in range(reps + 1):
        t0 = time.perf_counter()
        f(b, c).block_until_ready()
        best = min(best, time.perf_counter() - t0)
    return 3 * 8 * TRIAD_N / best / 1e9


def _carries_tangent(t: Any) -> bool:
    from jax._src.ad_util import Zero
    from jax._src.interpreters.ad import JVPTracer

    return isinstance(t, JVPTracer) and not isinstance(t.tangent, Zero)


def min_bytes(fn: Callable[[Any], Any], params: Any) -> tuple[float, int]:
    """(bytes, gate passes) one call of ``fn(params)`` must move at least (module doc), by tracing it."""
    total = [0.0, 0]
    orig = (simulate.apply_gate, simulate.apply_gate_front, simulate._Register._apply_diagonals)

    def count(t: Any) -> None:
        total[0] += 2 * t.size * t.dtype.itemsize * (2 if _carries_tangent(t) else 1)
        total[1] += 1

    def gate(t, u, axes, *a, **k):  # type: ignore[no-untyped-def]
        count(t)
        return orig[0](t, u, axes, *a, **k)

    def front(t, u, axes):  # type: ignore[no-untyped-def]
        count(t)
        return orig[1](t, u, axes)

    def diagonals(self, group):  # type: ignore[no-untyped-def]
        if len(group) > 1:
            for t in [self.a] + ([] if self.b is None else [self.b]):
                count(t)
        return orig[2](self, group)

    scan = simulate.SCAN_MIN_REPEATS
    simulate.apply_gate, simulate.apply_gate_front = gate, front
    simulate._Register._apply_diagonals = diagonals  # type: ignore[method-assign]
    simulate.SCAN_MIN_REPEATS = 10**9  # unrolled, so that every repeat of a scanned block is counted
    try:
        jax.make_jaxpr(fn)(params)
    finally:
        simulate.apply_gate, simulate.apply_gate_front, simulate._Register._apply_diagonals = orig  # type: ignore[method-assign]
        simulate.SCAN_MIN_REPEATS = scan
    return total[0], int(total[1])


def warm(f: Callable[..., Any], *args: Any, reps: int) -> tuple[float, float]:
    """(compile + first call s, best warm s) of ``f(*args)``."""
    t0 = time.perf_counter()
    jax.block_until_ready(f(*args))
    first = time.perf_counter() - t0
    best = np.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(f(*args))
        best = min(best, time.perf_counter() - t0)
    return first, best


def workload(name: str) -> tuple[Any, Callable[[Any], Any], Callable[[Any], Any], Callable[[jax.Array], Any], int]:
    """(network, forward cost, gradient, draws from a key, chunk) of ``B`` or ``D:n:L``."""
    if name == "B":
        n, layers, c = 12, 12, 64
        net = engines.dqnn_hea(n, layers)
        x, t = zero_pair(n, "global")
        p_angles = n * layers

        def draws(key: jax.Array) -> Any:
            th = jax.random.uniform(key, (p_angles,), minval=0.0, maxval=2 * np.pi, dtype=jnp.float64)
            return engines.dqnn_params(net, "B", th)

        fwd = lambda p: cost(net, p, x, t, "global")  # noqa: E731
        grad = lambda p: grad_cost(net, p, x, t, "global", AngleIndex(0, 0, 0))  # noqa: E731
        return net, fwd, grad, draws, c
    _, n_s, l_s = name.split(":")
    spec = PointSpec("global", "global", int(n_s), int(l_s))
    g = spec.gradient()
    x, t = g.data()
    fwd = lambda p: cost(g.net, p, x, t, "global")  # noqa: E731
    grad = lambda p: grad_cost(g.net, p, x, t, "global", g.angle)  # noqa: E731
    c = 64 if int(n_s) <= 4 else 16
    return g.net, fwd, grad, g.net.init, c


WORKLOADS = ["B", "D:4:2", "D:5:3", "D:4:4", "D:3:6"]
LABELS = {
    "B": "B n=12 L=12 global",
    "D:4:2": "D [4]*3",
    "D:5:3": "D [5]*4",
    "D:4:4": "D [4]*5",
    "D:3:6": "D [3]*7",
}


def main() -> None:
    """Measure the triads and every workload; print and write the tables."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results_roofline.md")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workloads", nargs="+", default=WORKLOADS, choices=WORKLOADS)
    a = ap.parse_args()
    bw_np, bw_jax = triad_numpy(a.reps), triad_jax(a.reps)
    bw = max(bw_np, bw_jax)
    print(f"triad: NumPy {bw_np:.1f} GB/s, JAX {bw_jax:.1f} GB/s", flush=True)
    roof = [
        "| workload | gate passes | min MB/sample | limit samples/s | dqnn samples/s | GB/s reached | fraction of limit |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    prof = [
        "| workload | draws ms/sample | forward ms/sample | derivative overhead ms/sample | gradient ms/sample | "
        "draws share | compile s (draws / forward / gradient) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in a.workloads:
        net, fwd, grad, draws, c = workload(name)
        nbytes, passes = min_bytes(grad, draws(jax.random.key(0)))
        keys = jax.random.split(jax.random.key(1), c)
        draw_b = jit_rng(jax.vmap(draws))
        cd, td = warm(draw_b, keys, reps=a.reps)
        params = draw_b(keys)
        cf, tf = warm(jax.jit(jax.vmap(fwd)), params, reps=a.reps)
        cg, tg = warm(jax.jit(jax.vmap(grad)), params, reps=a.reps)
        rate = c / (td + tg)  # a sampler's rate: draws, then gradients
        limit = bw * 1e9 / nbytes
        reached = nbytes * c / tg / 1e9  # the gradient program's own rate against the bytes it must move
        lab = LABELS[name]
        roof.append(
            f"| {lab} | {passes} | {nbytes / 1e6:.2f} | {limit:,.0f} | {rate:,.0f} (gradient alone {c / tg:,.0f}) | "
            f"{reached:.1f} | {reached / bw:.0%} |"
        )
        prof.append(
            f"| {lab} | {td / c * 1e3:.3f} | {tf / c * 1e3:.3f} | {(tg - tf) / c * 1e3:.3f} | {tg / c * 1e3:.3f} | "
            f"{td / (td + tg):.0%} | {cd:.1f} / {cf:.1f} / {cg:.1f} |"
        )
        print(roof[-1], flush=True)
        print(prof[-1], flush=True)
    head = [
        "# Roofline and profile of the simulator",
        "",
        f"Date: {datetime.datetime.now().isoformat(timespec='minutes')}. Machine: {platform.processor() or platform.machine()}, "
        f"jax {jax.__version__} ({jax.devices()[0].platform}). Produced by `python benchmarks/bench_roofline.py` "
        "(definitions in its module doc).",
        "",
        f"Bandwidth (STREAM-like triad, float64, 3 x {TRIAD_N * 8 // 2**20} MB): NumPy {bw_np:.1f} GB/s, "
        f"JAX {bw_jax:.1f} GB/s; the limit uses {bw:.1f} GB/s.",
        "",
    ]
    text = "\n".join(head + roof + ["", "Profile (warm, per sample, chunks of 64 (n <= 4) or 16):", ""] + prof) + "\n"
    print(text)
    a.out.write_text(text)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
