"""Whole computations compiled once, for the one-shot paths (the CLI's small jobs, estimators).

Run eagerly, a dqnn computation dispatches JAX operation by operation, and JAX compiles every distinct
operation (shape and dtype) as its own XLA program: a 4-qubit cost took ~180 compilations and ~10 s before the
first number. Jitting the whole computation compiles one program instead (and one persistent-cache entry,
:mod:`dqnn._cache`). The helpers here keep one jitted function per network (and name), so that calling
again with new parameters reuses the compiled program; the functions hold the network only weakly.

Data (inputs, targets) are closed over, not passed as arguments, where their values matter when tracing:
concrete states are validated, real states are simulated in real arithmetic and computational-basis
targets take the local cost's one-pass form, exactly as the eager call does. So the numbers are those of
the eager call.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from dqnn._jax import Array, jit_rng
from dqnn.model.network import Network, NetworkParams

_CACHE: weakref.WeakKeyDictionary[Network, dict[str, Callable[..., Any]]] = weakref.WeakKeyDictionary()


def per_network(net: Network, name: str, build: Callable[[weakref.ref[Network]], Callable[..., Any]]) -> Any:
    """The function ``build(weakref.ref(net))`` made once per network and ``name``, then reused.

    ``build`` gets a weak reference (call it to get the network) so that the cache does not keep the
    network alive.
    """
    fns = _CACHE.setdefault(net, {})
    if name not in fns:
        fns[name] = build(weakref.ref(net))
    return fns[name]


def _alive(ref: weakref.ref[Network]) -> Network:
    net = ref()
    if net is None:  # pragma: no cover - the function is only reachable through a live network
        raise RuntimeError("the network of this compiled function no longer exists")
    return net


def init(net: Network, key: Array) -> NetworkParams:
    """``net.init(key)`` as one program (:func:`dqnn._jax.jit_rng`): the same numbers as the eager call."""
    fn = per_network(net, "init", lambda ref: jit_rng(lambda k: _alive(ref).init(k)))
    return fn(key)  # type: ignore[no-any-return]


__all__ = ["init", "per_network"]
