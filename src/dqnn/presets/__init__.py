"""The paper's architectures (Theorem 1, Fig. 3a, Fig. 3b, Theorem 2) and their analytic results."""

from __future__ import annotations

from dqnn.presets.architectures import (
    fig3a as fig3a,
)
from dqnn.presets.architectures import (
    fig3b as fig3b,
)
from dqnn.presets.architectures import (
    fig3b_blocks as fig3b_blocks,
)
from dqnn.presets.architectures import (
    fig3b_brick_pairs as fig3b_brick_pairs,
)
from dqnn.presets.architectures import (
    fig3b_equivalent_state as fig3b_equivalent_state,
)
from dqnn.presets.architectures import (
    global_haar as global_haar,
)
from dqnn.presets.problems import (
    ARCHES as ARCHES,
)
from dqnn.presets.problems import (
    Arch as Arch,
)
from dqnn.presets.problems import (
    GradientProblem as GradientProblem,
)
from dqnn.presets.problems import (
    zero_pair as zero_pair,
)
from dqnn.presets.registry import (
    ANGLE_PRESETS as ANGLE_PRESETS,
)
from dqnn.presets.registry import (
    PRESETS as PRESETS,
)
from dqnn.presets.registry import (
    Parameter as Parameter,
)
from dqnn.presets.registry import (
    Preset as Preset,
)
from dqnn.presets.registry import (
    preset as preset,
)
