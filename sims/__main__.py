"""``python -m sims``: run, bench, kernels (see :mod:`sims.cli`)."""
from sims.cli import main

raise SystemExit(main())
