"""The one exception type users see: a bad input, named by its field."""

__all__ = ["InputError"]


class InputError(ValueError):
    """A malformed or out-of-range input; the message names the field and what was expected.

    The CLI prints it as one line, ``lookaround: error: <message>``, and exits with code 2.

    Examples
    --------
    >>> str(InputError("source.prior sums to 0.9, not 1 (tolerance 1e-9)"))
    'source.prior sums to 0.9, not 1 (tolerance 1e-9)'
    """
