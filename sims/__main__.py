"""``python -m sims``: run, bench, kernels (see :mod:`sims.cli`)."""
from theory.cli_util import exit_with
from sims.cli import main

exit_with(main())
