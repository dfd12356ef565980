"""Trainability studies: sampled and exact Var[dC] against n, statistics, fits, sweeps, plots."""

from __future__ import annotations

from dqnn.trainability.fits import (
    LineFit as LineFit,
)
from dqnn.trainability.fits import (
    ModelComparison as ModelComparison,
)
from dqnn.trainability.fits import (
    compare_models as compare_models,
)
from dqnn.trainability.fits import (
    fit_exponential as fit_exponential,
)
from dqnn.trainability.fits import (
    fit_power as fit_power,
)
from dqnn.trainability.points import (
    ProblemPoint as ProblemPoint,
)
from dqnn.trainability.problem import (
    TrainabilityProblem as TrainabilityProblem,
)
from dqnn.trainability.problem import (
    load_data as load_data,
)
from dqnn.trainability.problem import (
    preset_problem as preset_problem,
)
from dqnn.trainability.problem import (
    select as select,
)
from dqnn.trainability.sampling import (
    ARCHS as ARCHS,
)
from dqnn.trainability.sampling import (
    DEFAULT_MEMORY_BUDGET as DEFAULT_MEMORY_BUDGET,
)
from dqnn.trainability.sampling import (
    MAX_CHUNK as MAX_CHUNK,
)
from dqnn.trainability.sampling import (
    Engine as Engine,
)
from dqnn.trainability.sampling import (
    Gradient as Gradient,
)
from dqnn.trainability.sampling import (
    GradientMethod as GradientMethod,
)
from dqnn.trainability.sampling import (
    PointSpec as PointSpec,
)
from dqnn.trainability.sampling import (
    VariancePoint as VariancePoint,
)
from dqnn.trainability.sampling import (
    chunk_size as chunk_size,
)
from dqnn.trainability.sampling import (
    gradient_sampler as gradient_sampler,
)
from dqnn.trainability.sampling import (
    pick_engine as pick_engine,
)
from dqnn.trainability.sampling import (
    random_generator as random_generator,
)
from dqnn.trainability.sampling import (
    sample_gradients as sample_gradients,
)
from dqnn.trainability.sampling import (
    sampler as sampler,
)
from dqnn.trainability.sampling import (
    variance_point as variance_point,
)
from dqnn.trainability.statistics import (
    KURTOSIS_CEILING_FRACTION as KURTOSIS_CEILING_FRACTION,
)
from dqnn.trainability.statistics import (
    MAX_RELATIVE_ERROR as MAX_RELATIVE_ERROR,
)
from dqnn.trainability.statistics import (
    MAX_SINGLE_SHARE as MAX_SINGLE_SHARE,
)
from dqnn.trainability.statistics import (
    MIN_SAMPLES as MIN_SAMPLES,
)
from dqnn.trainability.statistics import (
    GradientStats as GradientStats,
)
from dqnn.trainability.statistics import (
    summarise as summarise,
)
from dqnn.trainability.study import (
    CSV_FIELDS as CSV_FIELDS,
)
from dqnn.trainability.study import (
    StudyConfig as StudyConfig,
)
from dqnn.trainability.study import (
    StudyResult as StudyResult,
)
from dqnn.trainability.study import (
    exact_point as exact_point,
)
from dqnn.trainability.study import (
    fit_points as fit_points,
)
from dqnn.trainability.study import (
    layers_for as layers_for,
)
from dqnn.trainability.study import (
    run_study as run_study,
)
from dqnn.trainability.study import (
    write_csv as write_csv,
)
from dqnn.trainability.sweep import (
    PointStore as PointStore,
)
from dqnn.trainability.sweep import (
    SweepConfig as SweepConfig,
)
from dqnn.trainability.sweep import (
    exact_variance as exact_variance,
)
from dqnn.trainability.sweep import (
    measure as measure,
)
from dqnn.trainability.sweep import (
    parse_range as parse_range,
)
from dqnn.trainability.sweep import (
    point_key as point_key,
)
from dqnn.trainability.sweep import (
    run_sweep as run_sweep,
)
