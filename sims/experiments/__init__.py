"""The training experiments behind the lecture's figures and claims: one module per experiment, each a function
that returns its results (numbers and arrays, nothing drawn); :mod:`figures.training` draws them."""
