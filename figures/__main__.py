from theory.cli_util import exit_with
from figures.cli import main

exit_with(main())
