"""Networks written in Python for ``--network networks.py:FUNCTION`` (each function takes n, returns a Network)."""

from dqnn import Circuit, Gate, Network, Perceptron, Rot


def rx_rz_cnot(n: int) -> Network:
    """[n, n]: perceptron j sees inputs j and j + 1 (open boundary) through RX, RZ and a CNOT, and output j."""
    circ = Circuit(3, [Rot("X", (0,)), Rot("Z", (1,)), Gate("CNOT", (0, 2)), Gate("CNOT", (1, 2))])
    layer = [Perceptron([j, j + 1], [j], circ) for j in range(n - 1)]
    layer.append(Perceptron([n - 1], [n - 1], Circuit(2, [Rot("X", (0,)), Gate("CNOT", (0, 1))])))
    return Network([n, n], [layer], strict=True)
