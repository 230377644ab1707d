"""The one configuration object of a deep random network, read by the theory prediction and the Monte Carlo.

``NetworkConfig(activation, init, width, depth, bias_var, input_var, input_dim, batchnorm, bn_eps, dropout_keep)``
describes a fully connected network h_1 = W_1 x + b_1, h_l = W_l phi(h_(l-1)) + b_l (l = 2..L), with weights drawn by
the init scheme (fans n_(l-1), n_l), biases N(0, bias_var), and inputs with per-coordinate second moment
``input_var``. ``width`` is one integer (every hidden layer) or a tuple of L widths.

With ``dropout_keep = p < 1`` (the KEEP probability, the lecture's D ~ Bern(p); PyTorch's ``nn.Dropout(p')`` and
Keras' ``Dropout(rate)`` take the drop probability p' = rate = 1 - p) every hidden layer's output is replaced by
inverted dropout (Srivastava et al. 2014, train mode):
    x_l = D_l * phi(h_l) / p,   D_l iid Bernoulli(p) per unit and input,   l = 1..L-1,
and h_(l+1) = W_(l+1) x_l + b_(l+1). The inputs x_0 and the top layer are not dropped: phi(h_L) feeds no layer (the
network's output is h_L, and the backward pass starts from dL/dh_L), so dropping it would change no pre-activation
and no gradient, only relabel a statistic. With this choice the mean-field maps gain exactly one factor per layer
transition, E[x_l^2] = E[phi(h_l)^2] / p forward and E[(D_l/p)^2 phi'(h_l)^2] = E[phi'(h_l)^2] / p backward
(:mod:`theory.predict`), while q_1 and the output gradient's scale stay those of the network without dropout.
``dropout_keep = 1`` is the network without dropout.

With ``batchnorm=True`` every layer normalizes its pre-activation over the batch before the nonlinearity
(Ioffe & Szegedy 2015, train mode, gamma = 1, beta = 0):
    h_l = W_l x_(l-1) + b_l  (x_0 = input),   u_l = (h_l - mean_B h_l) / sqrt(var_B h_l + bn_eps),   x_l = phi(u_l),
with mean_B and the biased variance var_B (1/B) per unit over the B rows of the batch. The bias then cancels.
With batch norm and dropout, dropout acts on x_l = D_l * phi(u_l) / p (l = 1..L-1), after phi, so the next layer's
batch norm normalizes the dropped-out signal ("dropout before BN", the order analysed by Li et al. 2019).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from theory.activations import Activation, get_activation
from theory import validate
from theory.errors import SpecError
from theory.init import InitScheme, get_init


#: Limits checked before anything is built (``(width,) * depth`` included). The mean-field recursion costs about
#: 0.12 ms per layer (tanh, measured), so 10^5 layers take about 12 s; the Monte Carlo adds a weight matrix per layer
#: and network. Widths: the engine's memory model (one n x n weight matrix per layer, at most 8 GiB) stops at a few
#: times 10^4; the infinite-width theory does not depend on n, so 10^7 is only a guard against absurd input.
MAX_DEPTH = 100_000
MAX_WIDTH = 10_000_000


@dataclass(frozen=True)
class NetworkConfig:
    """A deep random network, read by both :func:`theory.predict.predict` and :func:`sims.engine.simulate`.

    h_1 = W_1 x + b_1, h_l = W_l phi(h_(l-1)) + b_l (l = 2..L), W_l iid from the init scheme with fans
    (n_(l-1), n_l), b_l ~ N(0, bias_var), E[x_i^2] = input_var; optional batch norm and inverted dropout with KEEP
    probability ``dropout_keep`` (module docstring). Specs are resolved at construction: a bad one raises SpecError.
    """

    activation: str = "tanh"
    init: str = "glorot_normal"
    width: int | tuple[int, ...] = 256
    depth: int = 10
    bias_var: float = 0.0
    input_var: float = 1.0
    input_dim: int | None = None  # n_0; defaults to the first hidden width
    batchnorm: bool = False  # normalize each layer's pre-activation over the batch (module docstring)
    bn_eps: float = 1e-5  # added to the batch variance (torch.nn.BatchNorm1d's default)
    dropout_keep: float = 1.0  # KEEP probability p of inverted dropout on layers 1..L-1 (module docstring); 1: none

    def __post_init__(self):
        if isinstance(self.width, list):
            object.__setattr__(self, "width", tuple(self.width))
        for name in ("depth", "width", "input_dim"):  # NumPy integers become ints: one spelling in to_dict and JSON
            v = getattr(self, name)
            if validate.is_integer(v):
                object.__setattr__(self, name, int(v))
            elif isinstance(v, tuple):
                object.__setattr__(self, name, tuple(int(w) if validate.is_integer(w) else w for w in v))
        self.validate()
        if isinstance(self.dropout_keep, int):  # 1 -> 1.0: one spelling in to_dict and JSON
            object.__setattr__(self, "dropout_keep", float(self.dropout_keep))

    def validate(self) -> None:
        """Raise SpecError (one line) for a bad depth, width, variance, eps, keep probability or spec."""
        if not validate.is_integer(self.depth) or self.depth <= 0:
            raise SpecError(f"depth must be a positive integer (got {self.depth!r})")
        if self.depth > MAX_DEPTH:
            raise SpecError(f"depth {self.depth} is above the limit {MAX_DEPTH:,} (the mean-field recursion costs about "
                            "0.12 ms per layer, and the Monte Carlo a weight matrix per layer and network)")
        if not isinstance(self.width, tuple):
            self._check_width(self.width)
        widths = self.width if isinstance(self.width, tuple) else (self.width,) * self.depth
        if len(widths) != self.depth:
            raise SpecError(f"{len(widths)} widths given for depth {self.depth}")
        for w in widths + ((self.input_dim,) if self.input_dim is not None else ()):
            self._check_width(w)
        for name in ("bias_var", "input_var"):
            v = getattr(self, name)
            validate.real(name, v, 0.0)
        if not isinstance(self.batchnorm, bool):
            raise SpecError(f"batchnorm must be True or False (got {self.batchnorm!r})")
        eps = self.bn_eps
        if not validate.is_real(eps) or eps <= 0:
            raise SpecError(f"bn_eps must be a finite number > 0 (got {eps!r}): it keeps sqrt(var + eps) above 0")
        validate.keep_probability(self.dropout_keep, "dropout_keep")
        self.act, self.scheme  # resolve the specs now: a bad spec fails at construction

    @staticmethod
    def _check_width(w) -> None:
        if not validate.is_integer(w) or w <= 0:
            raise SpecError(f"widths must be positive integers (got {w!r})")
        if w > MAX_WIDTH:
            raise SpecError(f"width {w} is above the limit {MAX_WIDTH:,} (the Monte Carlo stores an n x n weight "
                            "matrix per layer; the infinite-width theory does not depend on n)")

    @property
    def widths(self) -> tuple[int, ...]:
        """(n_0, n_1, ..., n_L)."""
        hidden = self.width if isinstance(self.width, tuple) else (self.width,) * self.depth
        return (self.input_dim if self.input_dim is not None else hidden[0],) + hidden

    @property
    def act(self) -> Activation:
        """The resolved activation phi (:func:`theory.activations.get_activation`)."""
        return get_activation(self.activation)

    @property
    def scheme(self) -> InitScheme:
        """The resolved init scheme (:func:`theory.init.get_init`)."""
        return get_init(self.init)

    def weight_vars(self) -> list[float]:
        """Var(w) of layers 1..L from the scheme with fans (n_(l-1), n_l)."""
        n, scheme = self.widths, self.scheme
        return [scheme.variance(n[i], n[i + 1]) for i in range(self.depth)]

    def to_dict(self) -> dict:
        """Every field as plain JSON-ready values (``width`` a list when per layer)."""
        d = asdict(self)
        d["width"] = list(self.width) if isinstance(self.width, tuple) else self.width
        return d
