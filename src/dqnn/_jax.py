"""JAX set-up shared by the package: 64-bit mode and the array type alias.

dqnn computes in complex128 by default. JAX decides the width of every array it traces from the
``jax_enable_x64`` flag in force *when the trace happens*, and users trace dqnn functions themselves
(``jax.grad``, ``jax.vmap``, ``jax.jit`` over a cost), so a context manager inside dqnn cannot give
them complex128. Importing dqnn therefore switches the flag on, once, and says so in the README.
Set the environment variable ``DQNN_KEEP_X64_FLAG=1`` before importing to leave the flag alone
(then arrays are complex64 unless you enable x64 yourself).
"""

from __future__ import annotations

import os
from typing import Any

import jax

if os.environ.get("DQNN_KEEP_X64_FLAG", "") != "1":
    jax.config.update("jax_enable_x64", True)

#: Any JAX or NumPy array (shapes are given in each docstring).
Array = Any
