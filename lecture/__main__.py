try:
    from lecture.cli import main

    code = main()
except KeyboardInterrupt:  # Ctrl-C outside the command body (while importing, or at the very end)
    import sys

    print("lecture: interrupted", file=sys.stderr)
    code = 130
from theory.cli_util import exit_with  # noqa: E402

exit_with(code)
