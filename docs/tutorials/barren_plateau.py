"""Tutorial: a small barren-plateau study, Var[dC] against n for the Fig. 3a DQNN, global and local cost.

Run it with ``python docs/tutorials/barren_plateau.py``; it is seeded and asserts what it shows.
"""

# --8<-- [start:closed-forms]
from dqnn.moments import exact_moments
from dqnn.presets import GradientProblem, analytic
from dqnn.trainability import PointSpec, compare_models, pick_engine, variance_point

NS = (2, 4, 6)
SAMPLES = 2000
SEED = 0

# The paper's closed forms (text after Eq. 10), for input and target |0...0>:
#   global cost (Eq. 3): Var[dC] = (1/8) (3/8)^(n-1)      local cost (Eq. 4): Var[dC] = 1 / (8 n^2)
closed = {"global": analytic.fig3a_global, "local": analytic.fig3a_local}
assert closed["global"](3) == 0.125 * 0.375**2 and closed["local"](3) == 1 / 72
# --8<-- [end:closed-forms]

# --8<-- [start:sample]
results = {}
for cost in ("global", "local"):
    rows = []
    for n in NS:
        spec = PointSpec("fig3a", cost, n, layers=1)  # the first angle of the first perceptron
        point, grads = variance_point(spec, SAMPLES, seed=SEED)
        exact = exact_moments(GradientProblem("fig3a", n, 1, cost))  # no sampling (dqnn.moments)
        rows.append((n, point, exact))
        s = point.stats
        print(
            f"{cost:6s} n={n}: sampled {s.variance:.4e} +- {s.stderr:.1e}  exact {exact.variance:.4e}  "
            f"closed form {closed[cost](n):.4e}  engine={pick_engine(spec.gradient())}  trusted={s.trusted}"
        )
    results[cost] = rows
# --8<-- [end:sample]

# --8<-- [start:check]
for cost, rows in results.items():
    for n, point, exact in rows:
        want = closed[cost](n)
        s = point.stats
        # the exact engine reproduces the closed form to rounding ...
        assert abs(exact.variance - want) <= 1e-10 * want, (cost, n, exact.variance, want)
        # ... and the sampled variance agrees within 4 of its standard errors, with a trusted verdict
        assert abs(s.variance - want) <= 4 * s.stderr, (cost, n, s.variance, s.stderr, want)
        assert s.trusted, (cost, n, s.warnings)
        # the mean gradient is zero (the perceptrons are 1-designs): within 4 standard errors
        assert abs(s.mean) <= 4 * s.mean_stderr, (cost, n, s.mean, s.mean_stderr)
# --8<-- [end:check]

# --8<-- [start:fits]
# Which law fits better: exponential Var = a b^n or polynomial Var = a n^p (weighted, in log space)?
for cost, rows in results.items():
    ns = [n for n, _, _ in rows]
    fit = compare_models(ns, [p.stats.variance for _, p, _ in rows], [p.stats.stderr for _, p, _ in rows])
    b, p = fit.exponential.base, fit.polynomial.slope
    print(f"{cost}: better model {fit.better}; base b = {b:.3f}, power p = {p:.2f}")
    if cost == "global":
        # a barren plateau: exponential decay with base 3/8 per qubit
        assert fit.better == "exponential" and abs(fit.exponential.base - 0.375) < 0.05
    else:
        # no barren plateau: Var ~ n^-2
        assert fit.better == "polynomial" and abs(fit.polynomial.slope + 2) < 0.3
# --8<-- [end:fits]

# --8<-- [start:heavy-tail]
# Wider, the global-cost gradient is heavy-tailed: its kurtosis is 1.5 (35/18)^(n-1), about 2e3 at n = 12,
# far above what 300 samples can resolve. The sample variance then looks precise but is not to be trusted,
# and the verdict says so.
spec = PointSpec("fig3a", "global", 12, layers=1)
point, _ = variance_point(spec, 300, seed=SEED)
print(
    f"global n=12, S=300: sampled {point.stats.variance:.3e} +- {point.stats.stderr:.1e}, "
    f"closed form {closed['global'](12):.3e}, kurtosis {point.stats.kurtosis:.3g} "
    f"(true {analytic.fig3a_global_kurtosis(12):.3g}), trusted={point.stats.trusted}"
)
for w in point.stats.warnings:
    print("  warning:", w)
assert not point.stats.trusted and point.stats.warnings
# --8<-- [end:heavy-tail]
