"""The one configuration object of a deep random network, read by the theory prediction and the Monte Carlo.

``NetworkConfig(activation, init, width, depth, bias_var, input_var, input_dim, batchnorm, bn_eps)`` describes a
fully connected network h_1 = W_1 x + b_1, h_l = W_l phi(h_(l-1)) + b_l (l = 2..L), with weights drawn by the init
scheme (fans n_(l-1), n_l), biases N(0, bias_var), and inputs with per-coordinate second moment ``input_var``.
``width`` is one integer (every hidden layer) or a tuple of L widths. Dropout joins through its issue.

With ``batchnorm=True`` every layer normalizes its pre-activation over the batch before the nonlinearity
(Ioffe & Szegedy 2015, train mode, gamma = 1, beta = 0):
    h_l = W_l x_(l-1) + b_l  (x_0 = input),   u_l = (h_l - mean_B h_l) / sqrt(var_B h_l + bn_eps),   x_l = phi(u_l),
with mean_B and the biased variance var_B (1/B) per unit over the B rows of the batch. The bias then cancels.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from theory.activations import Activation, get_activation
from theory.errors import SpecError
from theory.init import InitScheme, get_init


@dataclass(frozen=True)
class NetworkConfig:
    activation: str = "tanh"
    init: str = "glorot_normal"
    width: int | tuple[int, ...] = 256
    depth: int = 10
    bias_var: float = 0.0
    input_var: float = 1.0
    input_dim: int | None = None  # n_0; defaults to the first hidden width
    batchnorm: bool = False  # normalize each layer's pre-activation over the batch (module docstring)
    bn_eps: float = 1e-5  # added to the batch variance (torch.nn.BatchNorm1d's default)

    def __post_init__(self):
        if isinstance(self.width, list):
            object.__setattr__(self, "width", tuple(self.width))
        self.validate()

    def validate(self) -> None:
        if not isinstance(self.depth, int) or isinstance(self.depth, bool) or self.depth <= 0:
            raise SpecError(f"depth must be a positive integer (got {self.depth!r})")
        widths = self.width if isinstance(self.width, tuple) else (self.width,) * self.depth
        if len(widths) != self.depth:
            raise SpecError(f"{len(widths)} widths given for depth {self.depth}")
        for w in widths + ((self.input_dim,) if self.input_dim is not None else ()):
            if not isinstance(w, int) or isinstance(w, bool) or w <= 0:
                raise SpecError(f"widths must be positive integers (got {w!r})")
        for name in ("bias_var", "input_var"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise SpecError(f"{name} must be a finite number >= 0 (got {v!r})")
        if not isinstance(self.batchnorm, bool):
            raise SpecError(f"batchnorm must be True or False (got {self.batchnorm!r})")
        eps = self.bn_eps
        if isinstance(eps, bool) or not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
            raise SpecError(f"bn_eps must be a finite number > 0 (got {eps!r}): it keeps sqrt(var + eps) above 0")
        self.act, self.scheme  # resolve the specs now: a bad spec fails at construction

    @property
    def widths(self) -> tuple[int, ...]:
        """(n_0, n_1, ..., n_L)."""
        hidden = self.width if isinstance(self.width, tuple) else (self.width,) * self.depth
        return (self.input_dim if self.input_dim is not None else hidden[0],) + hidden

    @property
    def act(self) -> Activation:
        return get_activation(self.activation)

    @property
    def scheme(self) -> InitScheme:
        return get_init(self.init)

    def weight_vars(self) -> list[float]:
        """Var(w) of layers 1..L from the scheme with fans (n_(l-1), n_l)."""
        n, scheme = self.widths, self.scheme
        return [scheme.variance(n[i], n[i + 1]) for i in range(self.depth)]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["width"] = list(self.width) if isinstance(self.width, tuple) else self.width
        return d
