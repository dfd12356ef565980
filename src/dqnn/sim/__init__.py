"""Exact simulation of Eq. (1): the layer schedule, the gate kernel, the factored simulator, light cones (their
geometry, the product-state cone engine, cone gradients), sub-networks, independent components, packed mode."""

from __future__ import annotations

from dqnn.sim.kernel import (
    SLICED_MAX_QUBITS as SLICED_MAX_QUBITS,
)
from dqnn.sim.kernel import (
    apply_gate as apply_gate,
)
from dqnn.sim.kernel import (
    is_diagonal as is_diagonal,
)
from dqnn.sim.schedule import (
    layer_schedule as layer_schedule,
)
from dqnn.sim.simulate import (
    DIAGONAL_MAX_QUBITS as DIAGONAL_MAX_QUBITS,
)
from dqnn.sim.simulate import (
    FUSE_DIAGONALS as FUSE_DIAGONALS,
)
from dqnn.sim.simulate import (
    SCAN_MAX_PERIOD as SCAN_MAX_PERIOD,
)
from dqnn.sim.simulate import (
    SCAN_MIN_REPEATS as SCAN_MIN_REPEATS,
)
from dqnn.sim.simulate import (
    SCAN_UNROLL_TRIES as SCAN_UNROLL_TRIES,
)
from dqnn.sim.simulate import (
    Factors as Factors,
)
from dqnn.sim.simulate import (
    Label as Label,
)
from dqnn.sim.simulate import (
    output_factors as output_factors,
)
from dqnn.sim.simulate import (
    output_state as output_state,
)
from dqnn.sim.simulate import (
    peak_stored_qubits as peak_stored_qubits,
)
from dqnn.sim.simulate import (
    real_arithmetic as real_arithmetic,
)
