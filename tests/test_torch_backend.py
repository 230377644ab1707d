"""The optional torch backend gives the NumPy backend's statistics within Monte Carlo error (skipped without torch)."""
import math

import numpy as np
import pytest
from optional import torch_or_skip

from sims.engine import simulate
from theory.config import NetworkConfig
from theory.errors import SpecError

pytestmark = pytest.mark.crosscheck
torch = torch_or_skip()
from conftest import Z  # noqa: E402 - the suite's shared z (tests/conftest.py)
STATS = ("preact_var", "grad_var", "post_second", "correlation")


def _z(a, b, key):
    (ma, sa), (mb, sb) = a["summary"][key], b["summary"][key]
    return np.abs(ma - mb) / np.sqrt(sa**2 + sb**2)


DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("act, init", [("tanh", "glorot_normal"), ("relu", "he_normal"), ("sigmoid", "lecun_uniform"),
                                       ("gelu", "orthogonal")])
def test_torch_matches_numpy_within_clt(act, init, device):
    cfg = NetworkConfig(activation=act, init=init, width=96, depth=5, bias_var=0.05)
    a = simulate(cfg, 48, 24, dtype="float64", seed=1)
    b = simulate(cfg, 48, 24, dtype="float64", seed=2, backend="torch", device=device)
    for key in STATS:
        assert (_z(a, b, key) <= Z).all(), (key, _z(a, b, key))


@pytest.mark.parametrize("device", DEVICES)
def test_negative_control_other_init_is_caught(device):
    """The same comparison notices a different weight variance (glorot vs he on relu: factor 2 per layer)."""
    a = simulate(NetworkConfig(activation="relu", init="he_normal", width=96, depth=5), 48, 24, dtype="float64")
    b = simulate(NetworkConfig(activation="relu", init="glorot_normal", width=96, depth=5), 48, 24, dtype="float64",
                 backend="torch", device=device)
    assert (_z(a, b, "preact_var")[1:] > Z).all()


def test_torch_backend_bad_input():
    cfg = NetworkConfig(activation="tanh", init="glorot_normal", width=8, depth=2)
    with pytest.raises(SpecError):
        simulate(cfg, 4, 2, backend="torch", samples_per_layer=3)
    if not torch.cuda.is_available():
        with pytest.raises(SpecError, match="no CUDA"):
            simulate(cfg, 4, 2, backend="torch", device="cuda")
    with pytest.raises(SpecError, match="needs --backend torch"):
        simulate(cfg, 4, 2, device="cuda")


def test_torch_divergence_is_reported():
    cfg = NetworkConfig(activation="relu", init="normal:100/sqrt(n_in)", width=16, depth=60)
    r = simulate(cfg, 8, 2, backend="torch")
    assert r["diverged_at"] is not None and np.isnan(r["summary"]["preact_var"][0][-1])


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "relu", "linear", "gelu"])
def test_fused_backward_is_the_autograd_derivative(name):
    """delta * phi'(h) from the stored output (one fused kernel) equals autograd's, to float64 rounding."""
    from sims.torch_backend import _backward, _phi
    from theory.activations import get_activation

    act = get_activation(name)
    phi = _phi(torch, act)
    g = torch.Generator().manual_seed(0)
    h = torch.randn(64, 33, generator=g, dtype=torch.float64) * 3
    d = torch.randn(64, 33, generator=g, dtype=torch.float64)
    hh = h.clone().requires_grad_(True)
    dphi, = torch.autograd.grad(phi(hh).sum(), hh)
    got = _backward(torch, act, phi)(d, phi(h), h)
    torch.testing.assert_close(got, d * dphi, rtol=1e-14, atol=1e-15)
    # negative control: the derivative taken at the output instead of the input is another function
    if name in ("tanh", "sigmoid", "gelu"):
        with torch.enable_grad():
            pp = phi(h).requires_grad_(True)
            wrong, = torch.autograd.grad(phi(pp).sum(), pp)
        assert not torch.allclose(got, d * wrong, rtol=1e-6)


def test_torch_backward_overflow_is_reported():
    """Chaotic tanh: the forward pass stays finite, the float32 gradient overflows going down (as in the NumPy
    engine's test); the backend must report it, with nan below, never inf."""
    cfg = NetworkConfig(activation="tanh", init="normal:10/sqrt(n_in)", width=32, depth=300)
    r = simulate(cfg, 4, 3, dtype="float32", backend="torch")
    mean = r["summary"]["grad_var"][0]
    assert r["diverged_at"] is not None and np.isnan(mean[:r["diverged_at"]]).all()
    assert not np.isinf(mean).any() and np.isfinite(r["summary"]["preact_var"][0]).all()


def test_torch_forward_statistics_do_not_depend_on_the_chunk():
    """The torch backend draws the inputs and weights before chunking, so the forward statistics are the same
    numbers for any chunk, to float64 rounding; a chunk counted with the wrong number of rows would not be."""
    cfg = NetworkConfig(activation="relu", init="he_normal", width=24, depth=4, bias_var=0.1)
    a = simulate(cfg, 12, 2, dtype="float64", backend="torch", seed=4)
    b = simulate(cfg, 12, 2, dtype="float64", backend="torch", seed=4, chunk=5)  # chunks of 5, 5 and 2 rows
    assert b["chunk"] == 5
    for key in ("preact_mean", "preact_var", "post_mean", "post_second", "dead_fraction", "correlation"):
        np.testing.assert_allclose(a["summary"][key][0], b["summary"][key][0], rtol=1e-12, atol=1e-15, err_msg=key)


def test_truncated_normal_by_inverse_cdf_has_the_truncated_moments():
    """Mean 0 and the variance of N(0, 1) cut at +-2 (theory.init's exact factor: weight variance / std^2 of a
    Keras truncated normal), within z = 4.5 standard errors estimated from the sample; |z| <= 2 exactly. Negative
    control: the untruncated variance 1 is rejected at the same z."""
    import sympy as sp

    from sims.torch_backend import truncated_normal
    from theory.init import get_init

    g = torch.Generator().manual_seed(11)
    z = truncated_normal(torch, (400_000,), g, torch.float64, torch.device("cpu")).numpy()
    scheme = get_init("he_normal")
    exact = float(sp.simplify(scheme.weight_var / scheme.std**2))
    assert abs(exact - (1 - 4 * math.exp(-2) / math.sqrt(2 * math.pi) / math.erf(math.sqrt(2)))) < 1e-15
    se = z.var() * np.sqrt(2 / z.size) * np.sqrt((np.mean(z**4) / z.var() ** 2 - 1) / 2)
    assert abs(z.var() - exact) < Z * se and abs(z.mean()) < Z * z.std() / np.sqrt(z.size)
    assert np.abs(z).max() <= 2
    assert abs(z.var() - 1.0) > Z * se
