from theory.cli_util import exit_with
from theory.cli import main

exit_with(main())
