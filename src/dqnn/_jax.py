"""JAX set-up shared by the package: 64-bit mode and the array type alias.

dqnn computes in complex128 by default. JAX decides the width of every array it traces from the
``jax_enable_x64`` flag in force *when the trace happens*, and users trace dqnn functions themselves
(``jax.grad``, ``jax.vmap``, ``jax.jit`` over a cost), so a context manager inside dqnn cannot give
them complex128. Importing dqnn therefore switches the flag on, once, and says so in the README.
Set the environment variable ``DQNN_KEEP_X64_FLAG=1`` before importing to leave the flag alone
(then arrays are complex64 unless you enable x64 yourself).

``pyproject.toml`` excludes jax/jaxlib 0.10.0-0.10.2 and 0.11.0 (``>=0.6,!=0.10.*,!=0.11.0``): on CPU those jaxlib
releases can deadlock, in dqnn on the batched QRs of a vmapped Haar initialisation. The bug is jaxlib's
batch-parallel LAPACK (jax-ml/jax commit bfd9e1fbd3, first released in 0.10.0), not dqnn's programs nor its per-jit
compiler options. A batched LAPACK kernel (``lapack_zgeqrf_ffi``, ``lapack_zungqr_ffi``) splits its batch into
chunks, queues them on the XLA CPU thread pool it is itself running on (``jax::ParallelBatchMap``) and waits for
them (``absl::BlockingCounter::Wait``); once every worker is such a waiting kernel, nothing runs the chunks and the
main thread waits forever in ``BlockUntilReady`` (a native stack on jaxlib 0.10.2 shows exactly this; hence neither
``--xla_cpu_multi_thread_eigen=false`` nor disabling the YNN fusion helped). Commit 859992407d (2026-07-21, citing
jax-ml/jax#36927, a CPU slowdown of batched linear algebra in 0.10.0) took that path out of open-source builds. A
reproducer without dqnn (qiskit-community/ffsim PR #684) hangs on 0.10.2 and 0.11.0 and passes on 0.9.2 and
0.12.0.1; dqnn's tests pass on 0.12.0.1 as fast as on 0.9.2. jaxlib has no Python 3.11 wheels after 0.10.2, so
Python 3.11 gets jax 0.9.2 and Python >= 3.12 the newest release.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import jax

if os.environ.get("DQNN_KEEP_X64_FLAG", "") != "1":
    jax.config.update("jax_enable_x64", True)

#: Any JAX or NumPy array (shapes are given in each docstring).
Array = Any


def rng_compiler_options() -> dict[str, Any] | None:
    """XLA options for programs that only draw random numbers (e.g. a vmapped ``Network.init``).

    On CPU, LLVM optimisation level 2 instead of the default 3: vmapped threefry kernels (one per random call
    site) compile several times faster with the same numbers; simulation programs keep level 3, which runs
    them faster (measurements: ``benchmarks/results_simulate.md``). Other backends keep their defaults (None).
    """
    return {"xla_backend_optimization_level": 2} if jax.default_backend() == "cpu" else None


def jit_rng(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``jax.jit(fn)`` compiled with :func:`rng_compiler_options` (for functions that draw random numbers)."""
    return jax.jit(fn, compiler_options=rng_compiler_options())
