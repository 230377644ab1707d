"""``python -m sims``: the Monte Carlo engine's commands arrive with their issue; for now only ``kernels``."""
from sims.cli import main

raise SystemExit(main())
