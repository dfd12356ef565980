"""Costs and gradients as a quantum computer estimates them: shots, inverse unitary, classical shadows."""

from __future__ import annotations

from dqnn.estimators.base import (
    METHODS as METHODS,
)
from dqnn.estimators.base import (
    Estimate as Estimate,
)
from dqnn.estimators.base import (
    EstimatorMethod as EstimatorMethod,
)
from dqnn.estimators.base import (
    Method as Method,
)
from dqnn.estimators.base import (
    PairEstimator as PairEstimator,
)
from dqnn.estimators.base import (
    Seed as Seed,
)
from dqnn.estimators.base import (
    as_numpy as as_numpy,
)
from dqnn.estimators.base import (
    born_probabilities as born_probabilities,
)
from dqnn.estimators.base import (
    check_target as check_target,
)
from dqnn.estimators.base import (
    combine_mean as combine_mean,
)
from dqnn.estimators.base import (
    completing_unitary as completing_unitary,
)
from dqnn.estimators.base import (
    estimate_from_counts as estimate_from_counts,
)
from dqnn.estimators.base import (
    num_qubits as num_qubits,
)
from dqnn.estimators.base import (
    outcome_values as outcome_values,
)
from dqnn.estimators.base import (
    product_unitaries as product_unitaries,
)
from dqnn.estimators.base import (
    rng_from as rng_from,
)
from dqnn.estimators.base import (
    sample_counts as sample_counts,
)
from dqnn.estimators.shadows import (
    DEFAULT_GROUPS as DEFAULT_GROUPS,
)
from dqnn.estimators.shadows import (
    PAULI_ROTATIONS as PAULI_ROTATIONS,
)
from dqnn.estimators.shadows import (
    CliffordShadow as CliffordShadow,
)
from dqnn.estimators.shadows import (
    PauliShadow as PauliShadow,
)
from dqnn.estimators.shadows import (
    clifford_matrix as clifford_matrix,
)
from dqnn.estimators.shadows import (
    clifford_shadow as clifford_shadow,
)
from dqnn.estimators.shadows import (
    clifford_unitary as clifford_unitary,
)
from dqnn.estimators.shadows import (
    hkp_error_bound as hkp_error_bound,
)
from dqnn.estimators.shadows import (
    median_of_means as median_of_means,
)
from dqnn.estimators.shadows import (
    pauli_shadow as pauli_shadow,
)
from dqnn.estimators.shadows import (
    shadow_estimate as shadow_estimate,
)
from dqnn.estimators.shots import (
    WORST_SHOT_VARIANCE as WORST_SHOT_VARIANCE,
)
from dqnn.estimators.shots import (
    direct_estimate as direct_estimate,
)
from dqnn.estimators.shots import (
    estimate_cost as estimate_cost,
)
from dqnn.estimators.shots import (
    estimate_gradient as estimate_gradient,
)
from dqnn.estimators.shots import (
    estimate_problem as estimate_problem,
)
from dqnn.estimators.shots import (
    inverse_estimate as inverse_estimate,
)
from dqnn.estimators.shots import (
    output_states as output_states,
)
from dqnn.estimators.shots import (
    pair_estimator as pair_estimator,
)
from dqnn.estimators.shots import (
    shift_gradient as shift_gradient,
)
from dqnn.estimators.shots import (
    shots_to_resolve as shots_to_resolve,
)
