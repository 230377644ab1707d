"""Figures: one module per figure group, thin: results in, files out.

``python -m figures list`` names them; ``python -m figures [--only NAME ...] [--out DIR] [--lang en|ru] [--fast]``
regenerates PNG and PDF files, byte-reproducibly (see :mod:`figures.common`). A figure group is a module that
registers its figures with :func:`figures.common.register`; its name goes into :data:`figures.common.MODULES`.
"""

import sims  # noqa: E402,F401  (before NumPy loads: sets the BLAS thread timeout, see sims/__init__)
