"""Exact moments of gradients over the random initialisations (no sampling), each with a validated error estimate.

:mod:`~dqnn.moments.exact` (the API and the tensor-network engine), :mod:`~dqnn.moments.registers` (networks of
global 2-designs, in the orthogonal commutant basis), :mod:`~dqnn.moments.pmm` (Theorem 2: PMM along GUE
directions), :mod:`~dqnn.moments.validation` (error estimates and the verdict), :mod:`~dqnn.moments.scaled`
(numbers below the double range), :mod:`~dqnn.moments.mps` (the line engine: a boundary MPS for wide networks of
local 2-designs such as Fig. 3b), :mod:`~dqnn.moments.fourth` (exact fourth moments, kurtosis, samples needed),
:mod:`~dqnn.moments.line4` (exact fourth moments of line networks of Haar blocks).
"""

from __future__ import annotations

from dqnn.moments.exact import (
    EXTENDED as EXTENDED,
)
from dqnn.moments.exact import (
    MAX_DENSE_REGISTER as MAX_DENSE_REGISTER,
)
from dqnn.moments.exact import (
    MAX_DENSE_WIRES as MAX_DENSE_WIRES,
)
from dqnn.moments.exact import (
    Engine as Engine,
)
from dqnn.moments.exact import (
    ExactMoments as ExactMoments,
)
from dqnn.moments.exact import (
    Label as Label,
)
from dqnn.moments.exact import (
    ProductStates as ProductStates,
)
from dqnn.moments.exact import (
    exact_gradient_moments as exact_gradient_moments,
)
from dqnn.moments.exact import (
    exact_moments as exact_moments,
)
from dqnn.moments.exact import (
    fuse_copies as fuse_copies,
)
from dqnn.moments.exact import (
    gate_moment as gate_moment,
)
from dqnn.moments.exact import (
    permutation_vectors as permutation_vectors,
)
from dqnn.moments.exact import (
    problem_data as problem_data,
)
from dqnn.moments.exact import (
    rotation_moment as rotation_moment,
)
from dqnn.moments.exact import (
    rotation_moment_quadrature as rotation_moment_quadrature,
)
from dqnn.moments.exact import (
    scaled_weingarten as scaled_weingarten,
)
from dqnn.moments.exact import (
    single_copy_map as single_copy_map,
)
from dqnn.moments.exact import (
    weingarten_matrix as weingarten_matrix,
)
from dqnn.moments.fourth import (
    FourthMoment as FourthMoment,
)
from dqnn.moments.fourth import (
    exact_fourth_moment as exact_fourth_moment,
)
from dqnn.moments.line4 import (
    line_fourth_moment as line_fourth_moment,
)
from dqnn.moments.pmm import (
    exact_pmm_moments as exact_pmm_moments,
)
from dqnn.moments.registers import (
    register_structure as register_structure,
)
from dqnn.moments.scaled import (
    Scaled as Scaled,
)
from dqnn.moments.validation import (
    TOLERANCE as TOLERANCE,
)
from dqnn.moments.validation import (
    Validation as Validation,
)
