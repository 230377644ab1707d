"""Errors raised on untrusted input.

Every command-line entry point turns a :class:`SpecError` into one line on stderr and exit status 2.
"""


class SpecError(ValueError):
    """A user-supplied specification (expression, name, size, probability, path) is invalid."""
