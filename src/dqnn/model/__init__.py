"""The model: gates, perceptron families, networks (widths, wiring, order), states and circuit angles."""

from __future__ import annotations

from dqnn.model.angles import (
    AngleIndex as AngleIndex,
)
from dqnn.model.angles import (
    angle_indices as angle_indices,
)
from dqnn.model.angles import (
    check_index as check_index,
)
from dqnn.model.angles import (
    get_angle as get_angle,
)
from dqnn.model.angles import (
    set_angle as set_angle,
)
from dqnn.model.angles import (
    shift_angle as shift_angle,
)
from dqnn.model.channels import (
    Channel as Channel,
)
from dqnn.model.channels import (
    channel as channel,
)
from dqnn.model.families import (
    Circuit as Circuit,
)
from dqnn.model.families import (
    Element as Element,
)
from dqnn.model.families import (
    Family as Family,
)
from dqnn.model.families import (
    Fixed as Fixed,
)
from dqnn.model.families import (
    Gate as Gate,
)
from dqnn.model.families import (
    GateOp as GateOp,
)
from dqnn.model.families import (
    HaarUnitary as HaarUnitary,
)
from dqnn.model.families import (
    Op as Op,
)
from dqnn.model.families import (
    Params as Params,
)
from dqnn.model.families import (
    RandomUnitary as RandomUnitary,
)
from dqnn.model.families import (
    Rot as Rot,
)
from dqnn.model.families import (
    SwapOp as SwapOp,
)
from dqnn.model.families import (
    embed as embed,
)
from dqnn.model.families import (
    family_key as family_key,
)
from dqnn.model.families import (
    fig3a_perceptron as fig3a_perceptron,
)
from dqnn.model.families import (
    fig3b_v1 as fig3b_v1,
)
from dqnn.model.families import (
    fig3b_v2 as fig3b_v2,
)
from dqnn.model.families import (
    fuse as fuse,
)
from dqnn.model.families import (
    ops_matrix as ops_matrix,
)
from dqnn.model.families import (
    two_qubit_w as two_qubit_w,
)
from dqnn.model.hamiltonian import HamiltonianRotation as HamiltonianRotation
from dqnn.model.network import (
    Network as Network,
)
from dqnn.model.network import (
    NetworkParams as NetworkParams,
)
from dqnn.model.network import (
    Perceptron as Perceptron,
)
from dqnn.model.network import (
    num_angles as num_angles,
)
from dqnn.model.noise import (
    Noisy as Noisy,
)
from dqnn.model.noise import (
    Placement as Placement,
)
from dqnn.model.noise import (
    with_noise as with_noise,
)
from dqnn.model.protocol import (
    ChannelOp as ChannelOp,
)
from dqnn.model.states import (
    STATE_ATOL as STATE_ATOL,
)
from dqnn.model.states import (
    ZERO_QUBIT as ZERO_QUBIT,
)
from dqnn.model.states import (
    as_input as as_input,
)
from dqnn.model.states import (
    basis_state as basis_state,
)
from dqnn.model.states import (
    checked_factor_pair as checked_factor_pair,
)
from dqnn.model.states import (
    density as density,
)
from dqnn.model.states import (
    factors_on as factors_on,
)
from dqnn.model.states import (
    fidelity_pure as fidelity_pure,
)
from dqnn.model.states import (
    haar_state as haar_state,
)
from dqnn.model.states import (
    is_real as is_real,
)
from dqnn.model.states import (
    pair_mean as pair_mean,
)
from dqnn.model.states import (
    product_state as product_state,
)
from dqnn.model.states import (
    product_vector as product_vector,
)
from dqnn.model.states import (
    random_density_matrix as random_density_matrix,
)
from dqnn.model.states import (
    random_product_state as random_product_state,
)
from dqnn.model.states import (
    real_or_complex as real_or_complex,
)
from dqnn.model.states import (
    split_product as split_product,
)
from dqnn.model.states import (
    stack_trees as stack_trees,
)
from dqnn.model.states import (
    zero_state as zero_state,
)
