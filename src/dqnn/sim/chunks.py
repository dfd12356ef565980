"""How many samples to vmap at once: one chunk-sizing rule for every engine, from bytes per sample.

A vmapped chunk of ``c`` samples holds ``c`` copies of the engine's largest stored state; each engine states
how many amplitudes that is (:func:`dqnn.sim.simulate.peak_stored_qubits` for the factored simulator, the
largest components of light cones or independent components), and :func:`chunk_size` turns it into ``c``.
The chunk size never changes the samples (each sample has its own key), only memory and speed.
"""

from __future__ import annotations

#: Default memory budget for one chunk of vmapped samples (bytes).
DEFAULT_MEMORY_BUDGET = 2 * 2**30
#: Largest vmapped chunk (keeps compiled shapes and per-call latency bounded).
MAX_CHUNK = 256
#: Bytes per sample per stored amplitude: complex128 x (A, B factors) x (primal, tangent) x temporaries.
BYTES_PER_AMPLITUDE = 16 * 2 * 2 * 4


def chunk_size(
    amplitudes: int,
    samples: int,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    *,
    max_chunk: int = MAX_CHUNK,
    cache_bytes: int | None = None,
    even: bool = False,
) -> int:
    """Samples per vmapped chunk for an engine that stores ``amplitudes`` amplitudes per sample.

    At least 1 and at most ``min(samples, max_chunk)``; within ``memory_budget`` at
    :data:`BYTES_PER_AMPLITUDE` per amplitude; with ``cache_bytes``, also small enough that one chunk's
    states (primal and tangent, in and out of a gate: a quarter of the budgeted bytes) stay in that many
    bytes of cache. ``even=True`` splits the samples evenly over the chunks (the last one is not padding).
    """
    per = BYTES_PER_AMPLITUDE * max(amplitudes, 1)
    limits = [samples, memory_budget // per, max_chunk]
    if cache_bytes is not None:
        limits.append(cache_bytes // (per // 4))
    c = int(max(1, min(limits)))
    return -(-samples // -(-samples // c)) if even else c
