"""dqnn: dissipative perceptron-based quantum neural networks (Sharma, Cerezo, Cincio, Coles, PRL 128, 180505).

Conventions (stated once here; every docstring refers to them):

- Qubits are 0-based. Layer 0 is the input layer; ``widths[l]`` qubits in layer ``l``.
- Within any register the first qubit is the most significant: the order of ``numpy.kron``, so basis
  index ``b_0 b_1 ... b_{n-1}`` (binary) is ``|b_0> x |b_1> x ...``.
- A perceptron's matrix acts on its ``inputs`` in the order given, then on its ``outputs`` in the order
  given (its local wires ``0 .. m + k - 1``).
- Output qubits of every layer start in |0>; a layer's perceptrons act in the order listed; the inputs
  of a layer are traced out once the layer is done (Eq. 1).
- Circuits (Eq. 5) list their elements in time order: the first element acts first.
- Rotations are ``R(theta) = exp(-i theta Gamma / 2)``.
- Arrays are complex128 (importing dqnn enables JAX's x64 mode; see :mod:`dqnn._jax`).
- Stacked data carry a leading batch axis: ``(N, 2**n)`` vectors, ``(N, 2**n, 2**n)`` matrices.
"""

from dqnn import (
    _jax,  # noqa: F401  (enables x64 before anything else is traced)
    architectures,
    families,
    gates,
    states,
)
from dqnn.cost import cost, global_term, local_term, observable_term, per_pair
from dqnn.families import Circuit, Fixed, Gate, HaarUnitary, RandomUnitary, Rot
from dqnn.network import Network, Perceptron
from dqnn.simulate import Factors, output_factors, output_state

__version__ = "0.1.0"

__all__ = [
    "Circuit",
    "Factors",
    "Fixed",
    "Gate",
    "HaarUnitary",
    "Network",
    "Perceptron",
    "RandomUnitary",
    "Rot",
    "__version__",
    "architectures",
    "cost",
    "families",
    "gates",
    "global_term",
    "local_term",
    "observable_term",
    "output_factors",
    "output_state",
    "per_pair",
    "states",
]
