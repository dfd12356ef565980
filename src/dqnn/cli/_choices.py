"""The names the commands' ``--help`` lists, kept here so that ``dqnn --help`` imports no JAX.

Each tuple mirrors a library constant (named beside it); ``tests/test_cli_help.py`` checks that they agree.
"""

from __future__ import annotations

#: :data:`dqnn.presets.problems.ARCHES` (presets with a circuit angle).
ANGLE_ARCHES: tuple[str, ...] = ("fig3a", "fig3b", "global")
#: :data:`dqnn.trainability.sampling.ARCHS` (every preset; ``pmm`` is Theorem 2).
STUDY_ARCHES: tuple[str, ...] = ("fig3a", "fig3b", "global", "pmm")
#: :data:`dqnn.estimators.base.METHODS`.
ESTIMATORS: tuple[str, ...] = ("shots", "inverse", "shadows")
#: :data:`dqnn.estimators.shots.WORST_SHOT_VARIANCE`.
WORST_SHOT_VARIANCE = 0.125
#: :data:`dqnn.training.loop.METHODS`.
TRAIN_METHODS: tuple[str, ...] = ("pmm", "adam", "sgd")
#: :data:`dqnn.training.loop.TASKS`.
TASKS: tuple[str, ...] = ("unitary", "noisy-unitary", "ising")
#: :data:`dqnn.trainability.problem.PROBLEM_COSTS`.
PROBLEM_COSTS: tuple[str, ...] = ("global", "local", "observable", "label")
#: :data:`dqnn.hardware.layout.LAYOUTS`.
LAYOUTS: tuple[str, ...] = ("reuse", "fresh")
#: Formats of `dqnn export` (OpenQASM 3 text, or a QPY file of the Qiskit circuit).
EXPORT_FORMATS: tuple[str, ...] = ("qasm3", "qiskit")
