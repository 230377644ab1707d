"""Init schemes (theory.init), their derivations, the shared NetworkConfig and the mean-field prediction."""
import numpy as np
import pytest
import sympy as sp

from theory import derivation as D
from theory.activations import get_activation
from theory.config import NetworkConfig
from theory.errors import SpecError
from theory.init import (NAMES, truncation_std_factor, get_init, layer_gain, lecture_uniform_bounds, n_in,
                         n_out)

from conftest import Z  # noqa: E402 - the suite's shared z (tests/conftest.py)

EXPECTED_VAR = {
    "lecun_normal": 1 / n_in, "lecun_uniform": 1 / n_in, "glorot_normal": 2 / (n_in + n_out),
    "glorot_uniform": 2 / (n_in + n_out), "he_normal": 2 / n_in, "he_uniform": 2 / n_in,
    "orthogonal": 1 / sp.Max(n_in, n_out), "zeros": sp.Integer(0), "keras_uniform": sp.Rational(1, 1200),
    "torch_default": 1 / (3 * n_in),
}


@pytest.mark.parametrize("name", NAMES)
def test_weight_variance_of_every_named_scheme(name):
    assert sp.simplify(get_init(name).weight_var - EXPECTED_VAR[name]) == 0


@pytest.mark.parametrize("alias, name", [("xavier_uniform", "glorot_uniform"), ("kaiming_normal", "he_normal"),
                                         ("xavier_normal:plain", "glorot_normal:plain")])
def test_aliases(alias, name):
    assert get_init(alias) == get_init(name)


def test_uniform_bound_gives_its_variance_exactly():
    for name in ("lecun_uniform", "glorot_uniform", "he_uniform", "keras_uniform", "torch_default"):
        s = get_init(name)
        assert sp.simplify(s.bound**2 / 3 - s.weight_var) == 0
    assert sp.simplify(get_init("torch_default").bound - 1 / sp.sqrt(n_in)) == 0
    assert sp.simplify(get_init("glorot_uniform").bound - sp.sqrt(6) / sp.sqrt(n_in + n_out)) == 0


def test_keras_truncation_constant():
    assert abs(float(truncation_std_factor()) - 0.87962566103423978) < 1e-15


def _truncated_normal(rng, std, size):
    out = rng.normal(0.0, std, size)
    bad = np.abs(out) > 2 * std
    while bad.any():  # Keras/TF redraw values beyond two standard deviations
        out[bad] = rng.normal(0.0, std, bad.sum())
        bad = np.abs(out) > 2 * std
    return out


def test_truncated_normal_has_the_target_variance_monte_carlo():
    """Sample Keras' he_normal exactly as drawn; the variance is 2/n_in within z SE over independent batches."""
    rng = np.random.default_rng(20261126)
    s = get_init("he_normal")
    fan = 50
    std, target = s.value(s.std, fan, fan), s.variance(fan, fan)
    batches = np.array([np.mean(_truncated_normal(rng, std, 20_000) ** 2) for _ in range(40)])
    mean, se = batches.mean(), batches.std(ddof=1) / np.sqrt(len(batches))
    assert abs(mean - target) <= Z * se
    # negative control: without Keras' 1/0.8796 correction the variance is 0.774 x target
    plain = np.array([np.mean(_truncated_normal(rng, np.sqrt(target), 20_000) ** 2) for _ in range(40)])
    assert abs(plain.mean() - target) > Z * plain.std(ddof=1) / np.sqrt(len(plain))


def test_orthogonal_entry_variance_is_exact():
    """Rows orthonormal (n_out <= n_in): the mean squared entry is exactly 1/n_in; columns otherwise."""
    rng = np.random.default_rng(1)
    s = get_init("orthogonal")
    for fi, fo in ((8, 5), (5, 8), (6, 6)):
        q, r = np.linalg.qr(rng.normal(size=(max(fi, fo), min(fi, fo))))
        w = q.T if fo <= fi else q  # shape (fo, fi)
        assert w.shape == (fo, fi)
        assert abs(np.mean(w**2) - s.variance(fi, fo)) < 1e-15


@pytest.mark.parametrize("spec, var", [("uniform:1/sqrt(n_in)", 1 / (3 * n_in)), ("normal:sqrt(2/n_in)", 2 / n_in),
                                       ("uniform:sqrt(6/(n_in+n_out))", 2 / (n_in + n_out))])
def test_free_forms(spec, var):
    assert sp.simplify(get_init(spec).weight_var - var) == 0


@pytest.mark.parametrize("spec, needle", [
    ("he_norml", "did you mean"), ("uniform:", "give an expression"), ("uniform:1/sqrt(y)", "unknown name 'y'"),
    ("normal:-1", "non-negative"), ("uniform:log(n_in - 2)", "non-negative real"), ("he_uniform:plain", "only *_normal"),
    ("he_normal:truncated", "only option"), ("zeros:1", "takes no parameter"), ("", "empty"),
    ("uniform:__import__('os')", "unknown function"), ("normal:n_in.real", "attribute"),
])
def test_bad_init_specs(spec, needle):
    with pytest.raises(SpecError) as info:
        get_init(spec)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_layer_gains():
    relu, tanh = get_activation("relu"), get_activation("tanh")
    g = layer_gain(get_init("he_normal"), relu, 100, 300)
    assert g["forward"] == pytest.approx(1.0, rel=1e-14) and g["backward"] == pytest.approx(3.0, rel=1e-14)
    g = layer_gain(get_init("glorot_uniform"), relu, 100, 100)
    assert g["forward"] == pytest.approx(0.5, rel=1e-14)  # Xavier on ReLU halves the variance
    g = layer_gain(get_init("lecun_normal"), tanh, 100, 100)
    assert g["forward"] < 1  # tanh contracts: E[tanh(z)^2] < 1


# ---------------------------------------------------------------------------------------- derivations
@pytest.mark.parametrize("name", ["lecture-uniform-inits", "xavier", "he", "zero-init-symmetry"])
def test_init_derivations_verify(name):
    d = D._REGISTRY[name][1]()
    assert d.ok, d.render("text")


def test_slide_bounds_are_computed_not_assumed():
    rows = lecture_uniform_bounds()
    assert [r["agrees"] for r in rows] == [True, False, None]
    assert rows[1]["ratio_to_slide"] == 2 and sp.simplify(rows[1]["layer_gain"] - 2) == 0
    assert sp.simplify(rows[0]["layer_gain"] - sp.Rational(1, 3)) == 0


def test_slide_check_flips_with_the_claim(monkeypatch):
    """Negative control: if the slide had written 2/n_in, the check would agree; if 1/(2 n_in), disagree."""
    import theory.init as I
    bounds = list(I.SLIDE_UNIFORM_BOUNDS)
    bounds[1] = (bounds[1][0], bounds[1][1], 2 / n_in)
    bounds[0] = (bounds[0][0], bounds[0][1], 1 / (2 * n_in))
    monkeypatch.setattr(I, "SLIDE_UNIFORM_BOUNDS", tuple(bounds))
    assert [r["agrees"] for r in I.lecture_uniform_bounds()] == [False, True, None]


def test_zero_init_symmetry_negative_control():
    """With a different first weight in unit 2 the gradients differ: the symmetry steps must fail."""
    build = D._REGISTRY["zero-init-symmetry"][1]
    assert build().ok
    broken = build(break_symmetry=True)
    assert not broken.ok and broken.first_failure().index == 1


# ------------------------------------------------------------------------------ config and predictions
def test_config_validation():
    for kwargs, needle in (({"depth": 0}, "depth"), ({"width": 0}, "widths"), ({"bias_var": -1.0}, "bias_var"),
                           ({"activation": "rellu"}, "did you mean"), ({"init": "he_nrmal"}, "did you mean"),
                           ({"width": (3, 4), "depth": 3}, "widths given")):
        with pytest.raises(SpecError) as info:
            NetworkConfig(**kwargs)
        assert needle in str(info.value)
    cfg = NetworkConfig(activation="relu", init="he_normal", width=(4, 5, 6), depth=3, input_dim=3)
    assert cfg.widths == (3, 4, 5, 6)
    assert cfg.weight_vars() == pytest.approx([2 / 3, 2 / 4, 2 / 5])
