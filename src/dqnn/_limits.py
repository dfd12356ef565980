"""Size classes of a request, estimated before anything is allocated, and the refusal of what cannot fit.

A command states the memory its request needs at least (the largest register the chosen engine stores for one
sample, the arrays of all samples, the number of points) and :func:`check_memory` refuses it, before any work,
when that is over the limit (by default three quarters of this machine's memory; ``--memory`` raises or lowers
it), with the size needed and the limit in the message. The estimates are lower bounds: what is refused cannot
run; what passes may still be slow.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from typing import Any

#: Most points (widths) one request may hold.
MAX_POINTS = 10_000
#: Most samples per point (``--samples``).
MAX_SAMPLES = 100_000_000
#: Bytes one sample costs in the arrays every engine keeps (PRNG keys, gradients, their copies).
BYTES_PER_SAMPLE = 64

_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


class TooLargeError(ValueError):
    """A request needs more memory than the limit (the message gives both and the option that raises it)."""


def machine_memory() -> int:
    """Bytes of physical memory of this machine (8 GiB where it cannot be read)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 8 * 2**30


def default_limit() -> int:
    """The default memory limit: three quarters of :func:`machine_memory`."""
    return machine_memory() * 3 // 4


def parse_memory(text: str | int | None, option: str = "--memory") -> int:
    """``"8G"``, ``"512M"``, ``"2.5GiB"``, ``"1e9"`` or an int -> bytes; None -> :func:`default_limit`.
    ValueError naming ``option`` for anything else."""
    if text is None:
        return default_limit()
    if isinstance(text, bool):
        raise ValueError(f"{option} {text!r}: give a size such as 8G or 512M")
    if isinstance(text, int):
        value: float = text
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][0-9]+)?)\s*([KMGT]?)(?:I?B)?\s*", text.upper())
        if m is None:
            raise ValueError(f"{option} {text!r}: give a size such as 8G, 512M or a number of bytes")
        value = float(m.group(1)) * _UNITS[m.group(2)]
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{option} {text!r}: the size must be positive")
    return int(value)


def human(nbytes: float) -> str:
    """``nbytes`` as ``"16 GiB"``, ``"3.1 TiB"``, ``"512 MiB"`` (binary units, 2 significant digits)."""
    for unit, size in (("EiB", 2**60), ("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= size:
            return f"{nbytes / size:.3g} {unit}"
    return f"{int(nbytes)} B"


def check_memory(needed: float, limit: int, what: str) -> None:
    """TooLargeError when ``needed`` bytes (for ``what``) exceed ``limit``; says how much and how to allow it."""
    if needed > limit:
        raise TooLargeError(
            f"{what} needs at least {human(needed)}, over the memory limit of {human(limit)}: make it smaller, or "
            f"give --memory {_round_up(needed)} if this machine has that much"
        )


def _round_up(nbytes: float) -> str:
    for unit, size in (("T", 2**40), ("G", 2**30), ("M", 2**20)):
        if nbytes >= size:
            return f"{math.ceil(nbytes / size)}{unit}"
    return f"{math.ceil(nbytes / 2**20)}M"


def check_count(count: int, option: str, most: int) -> None:
    """ValueError naming ``option`` when ``count`` is over ``most``."""
    if count > most:
        raise TooLargeError(f"{option}: {count:,} is more than the {most:,} allowed in one request")


def register_qubits(net: Any, engine: str = "full") -> int:
    """log2 of the amplitudes ``engine`` stores per sample for ``net`` (0 for the engines that split the network,
    whose chunks adapt: ``lightcone``, ``components``). The full simulator's peak (stored qubits + rank bits,
    as :func:`dqnn.sim.simulate.peak_stored_qubits`) is traced on abstract shapes, the input state included:
    nothing of that size is allocated."""
    if engine != "full":
        return 0
    import jax
    import jax.numpy as jnp

    from dqnn.sim import simulate as sim

    seen: dict[str, int] = {}

    def run(params: Any, x: Any) -> Any:
        reg = sim._initial_register(net, x)
        sim._run_network(reg, net, params)
        seen["peak"] = reg.peak
        return reg.a

    x = jax.ShapeDtypeStruct((2**net.num_inputs,), jnp.complex128)
    jax.eval_shape(run, jax.eval_shape(net.init, jax.random.key(0)), x)
    return int(max(seen["peak"], net.num_inputs))


def simulation_bytes(net: Any) -> float:
    """Least bytes one simulation of ``net`` by the full simulator needs: its peak register (complex128) with
    the gate's input and output copies and a temporary (4 copies)."""
    return 16.0 * 4 * 2.0 ** register_qubits(net)


def point_bytes(point: Any, samples: int, method: str = "autodiff") -> float:
    """Least bytes one sampled point (a :class:`~dqnn.trainability.points.ProblemPoint`) needs: one sample's
    largest stored register in its engine (at a chunk of 1) plus the arrays of all ``samples``."""
    from dqnn.sim.chunks import BYTES_PER_AMPLITUDE
    from dqnn.trainability.sampling import pick_engine

    par = point.parameters
    g = point.gradient(par[0])
    q = register_qubits(point.network, pick_engine(g, method))  # type: ignore[arg-type]
    return BYTES_PER_AMPLITUDE * 2.0**q + BYTES_PER_SAMPLE * samples * max(1, len(par))


def check_study(points: Sequence[Any], samples: int, limit: int, method: str = "autodiff") -> None:
    """Refuse (TooLargeError, before any work) a study whose largest point cannot fit in ``limit`` bytes."""
    check_count(len(points), "--n", MAX_POINTS)
    check_count(samples, "--samples", MAX_SAMPLES)
    for pt in points:
        if samples > 0:
            check_memory(point_bytes(pt, samples, method), limit, f"the point n={pt.width} with {samples} samples")


__all__ = [
    "BYTES_PER_SAMPLE",
    "MAX_POINTS",
    "MAX_SAMPLES",
    "TooLargeError",
    "check_count",
    "check_memory",
    "check_study",
    "default_limit",
    "human",
    "machine_memory",
    "parse_memory",
    "point_bytes",
    "register_qubits",
    "simulation_bytes",
]
