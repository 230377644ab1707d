"""The optional torch backend gives the NumPy backend's statistics within Monte Carlo error (skipped without torch)."""
import numpy as np
import pytest

from sims.engine import simulate
from theory.config import NetworkConfig
from theory.errors import SpecError

torch = pytest.importorskip("torch")
Z = 4.5
STATS = ("preact_var", "grad_var", "post_second", "correlation")


def _z(a, b, key):
    (ma, sa), (mb, sb) = a["summary"][key], b["summary"][key]
    return np.abs(ma - mb) / np.sqrt(sa**2 + sb**2)


@pytest.mark.parametrize("act, init", [("tanh", "glorot_normal"), ("relu", "he_normal"), ("sigmoid", "lecun_uniform")])
def test_torch_matches_numpy_within_clt(act, init):
    cfg = NetworkConfig(activation=act, init=init, width=96, depth=5, bias_var=0.05)
    a = simulate(cfg, 48, 24, dtype="float64", seed=1)
    b = simulate(cfg, 48, 24, dtype="float64", seed=2, backend="torch")
    for key in STATS:
        assert (_z(a, b, key) <= Z).all(), (key, _z(a, b, key))


def test_negative_control_other_init_is_caught():
    """The same comparison notices a different weight variance (glorot vs he on relu: factor 2 per layer)."""
    a = simulate(NetworkConfig(activation="relu", init="he_normal", width=96, depth=5), 48, 24, dtype="float64")
    b = simulate(NetworkConfig(activation="relu", init="glorot_normal", width=96, depth=5), 48, 24, dtype="float64",
                 backend="torch")
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
