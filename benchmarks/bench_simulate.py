"""Simulator and variance-engine benchmark (prints tables; never run by the tests).

1. ``net.output`` and ``jax.grad`` of the global cost for a [n, n] network of global Haar perceptrons and for
   Fig. 3b (2 brick layers), n = 2..10: warm time per call, compile time, and the largest tensor the simulator
   holds (``peak_stored_qubits``: 2**peak complex128 amplitudes per factor).
2. Gradient samples per second of the variance engine (the engine ``auto`` picks) for Fig. 3a and Fig. 3b
   (log depth), n = 8, 12, 16.

Usage: ``python benchmarks/bench_simulate.py [--max-n 10] [--samples 1000]``.
"""

from __future__ import annotations

import argparse
import resource
import time

import jax
import jax.numpy as jnp

import dqnn
from dqnn.model import states
from dqnn.presets import architectures
from dqnn.sim.simulate import output_state, peak_stored_qubits
from dqnn.trainability.sampling import PointSpec, pick_engine, sampler


def _time(fn, *args, repeat: int = 3) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(repeat):
        jax.block_until_ready(fn(*args))
    return compile_s, (time.perf_counter() - t0) / repeat


def bench_simulator(max_n: int) -> None:
    print(
        f"{'network':<22}{'n':>3}{'peak log2':>10}{'compile s':>11}{'output ms':>11}{'grad ms':>10}{'maxrss MiB':>12}"
    )
    for name in ("global [n, n]", "fig3b (2 bricks)"):
        for n in range(2, max_n + 1):
            if name.startswith("global") and n > 8:
                break
            net = (
                architectures.global_haar([n, n], differentiate=(0, 0))
                if name.startswith("global")
                else architectures.fig3b(n, 4)
            )
            p = net.init(jax.random.key(0))
            psi = states.zero_state(n)
            x, t = psi[None], psi[None]
            out = jax.jit(lambda q, net=net, psi=psi: output_state(net, q, psi))
            grad = jax.jit(jax.grad(lambda q, net=net, x=x, t=t: dqnn.cost(net, q, x, t, "global")))
            c1, t1 = _time(out, p)
            c2, t2 = _time(grad, p)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{name:<22}{n:>3}{peak_stored_qubits(net):>10}{c1 + c2:>11.2f}{t1 * 1e3:>11.2f}{t2 * 1e3:>10.2f}{rss:>12.0f}"
            )


def bench_samples(samples: int) -> None:
    print(f"\n{'point':<28}{'engine':>11}{'compile s':>10}{'samples/s':>12}")
    for arch, layers_of in (("fig3a", lambda n: 1), ("fig3b", lambda n: 2 * max(1, (n - 1).bit_length()))):
        for cost in ("global", "local"):
            for n in (8, 12, 16):
                spec = PointSpec(arch, cost, n, layers_of(n))
                fn, chunk = sampler(spec.gradient(), samples)
                keys = jax.random.split(jax.random.key(0), chunk)
                c, t = _time(fn, keys, repeat=2)
                rate = keys.shape[0] / t
                engine = pick_engine(spec.gradient(), "autodiff")
                print(f"{spec.label():<28}{engine:>11}{c:>10.2f}{rate:>12.0f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-n", type=int, default=10)
    ap.add_argument("--samples", type=int, default=256)
    a = ap.parse_args()
    print(f"jax {jax.__version__}, devices {jax.devices()}, x64 {jnp.zeros(1).dtype}")
    bench_simulator(a.max_n)
    bench_samples(a.samples)
