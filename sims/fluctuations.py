"""Monte Carlo of finite-width fluctuations: per layer, the mean pre-activation variance and the excess kurtosis of a
pre-activation, with standard errors across independent networks (the theory: :mod:`theory.fluctuations`).

Each network draws its weights N(0, C_W / n_(l-1)) and biases N(0, C_b) and runs ``batch`` inputs: Gaussian
N(0, q_x I) (``input="gaussian"``) or of equal norm |x|^2 / n_0 = q_x in random directions (``"fixed"``; Gaussian
weights are rotation invariant, so the direction does not matter). Per network and layer it keeps m2 = mean h^2 and
m4 = mean h^4 over units and inputs. Across the S networks (independent: one SeedSequence child each): E[h^2] is the
mean of m2 with standard error sd / sqrt(S); the excess kurtosis mean(m4) / mean(m2)^2 - 3 gets a jackknife standard
error over networks (leave one network out).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from theory.errors import SpecError


def _phi(activation) -> Callable[[np.ndarray], np.ndarray]:
    from theory.meanfield import phi_numeric

    return phi_numeric(activation)


def _draw(rng: np.random.Generator, law: str, shape) -> np.ndarray:
    """iid weights of variance 1 drawn as ``law``."""
    if law == "uniform":
        return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), shape)
    if law == "truncated_normal":  # the engine's sampler (values beyond 2 sd redrawn), scaled to variance 1
        from scipy.stats import truncnorm

        from sims.init import standard_normal

        return standard_normal(rng, shape, np.float64, truncate=2.0) / np.sqrt(truncnorm(-2.0, 2.0).var())
    return rng.standard_normal(shape)


def run(activation, widths: Sequence[int], weight_var: float, bias_var: float = 0.0, *, input_var: float = 1.0,
        input: str = "gaussian", batch: int = 16, seeds: int = 200, seed: int = 0, weights: str = "normal") -> list[dict]:
    """Per layer: ``preact_var`` {mean, se} and ``preact_excess_kurtosis`` {mean, se} over ``seeds`` networks.
    ``weights``: the weights' law with variance C_W / n_(l-1): normal, uniform or truncated_normal (at +-2 sd)."""
    from theory.fluctuations import weight_kurtosis

    weight_kurtosis(weights)  # a law the theory covers: iid weights
    widths = [int(w) for w in widths]
    if len(widths) < 2 or min(widths) < 1 or batch < 1 or seeds < 3:
        raise SpecError("widths [n_0, ..., n_L] >= 1 with L >= 1, batch >= 1 and seeds >= 3")
    if input not in ("gaussian", "fixed"):
        raise SpecError(f"input must be gaussian or fixed (got {input!r})")
    phi = _phi(activation)
    depth = len(widths) - 1
    m2 = np.empty((seeds, depth))
    m4 = np.empty((seeds, depth))
    for s, child in enumerate(np.random.SeedSequence(seed).spawn(seeds)):
        rng = np.random.default_rng(child)
        x = rng.standard_normal((batch, widths[0])) * np.sqrt(input_var)
        if input == "fixed":
            x *= np.sqrt(widths[0] * input_var) / np.linalg.norm(x, axis=1, keepdims=True)
        a = x
        for layer in range(depth):
            w = _draw(rng, weights, (widths[layer], widths[layer + 1])) * np.sqrt(weight_var / widths[layer])
            h = a @ w + rng.standard_normal(widths[layer + 1]) * np.sqrt(bias_var)
            h2 = h * h
            m2[s, layer], m4[s, layer] = h2.mean(), (h2 * h2).mean()
            a = phi(h)
    if not (np.all(np.isfinite(m2)) and np.all(np.isfinite(m4))):
        raise SpecError("the network overflowed: lower the depth or the weight variance")
    mean2, mean4 = m2.mean(axis=0), m4.mean(axis=0)
    kurt = mean4 / mean2 ** 2 - 3
    loo2 = (m2.sum(axis=0) - m2) / (seeds - 1)  # leave-one-network-out means
    loo4 = (m4.sum(axis=0) - m4) / (seeds - 1)
    jack = loo4 / loo2 ** 2 - 3
    kurt_se = np.sqrt((seeds - 1) / seeds * ((jack - jack.mean(axis=0)) ** 2).sum(axis=0))
    var_se = m2.std(axis=0, ddof=1) / np.sqrt(seeds)
    return [{"layer": l + 1, "preact_var": {"mean": float(mean2[l]), "se": float(var_se[l])},
             "preact_excess_kurtosis": {"mean": float(kurt[l]), "se": float(kurt_se[l])}} for l in range(depth)]
