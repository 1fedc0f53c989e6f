"""The one exception type users see: a bad input, named by its field."""

__all__ = ["InputError"]


class InputError(ValueError):
    """A malformed or out-of-range input; the message names the field and what was expected.

    ``field`` is the name of the parameter at fault when the message opens with it: a Python
    caller reads the name it passed (``metric``), and the CLI says the flag that set it
    (``--metric``) and prints the message as one line, ``lookaround: error: <message>``, with
    exit code 2.

    Parameters
    ----------
    message : str
        One line: what was wrong and what was expected.
    field : str, optional
        The parameter at fault, when ``message`` opens with its name.

    Examples
    --------
    >>> str(InputError("source.prior sums to 0.9, not 1 (tolerance 1e-9)"))
    'source.prior sums to 0.9, not 1 (tolerance 1e-9)'
    >>> error = InputError("metric must be one of phi, ari, got 'x'", field="metric")
    >>> error.flagged({"metric": "--metric"})
    "--metric must be one of phi, ari, got 'x'"
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def flagged(self, flags: dict[str, str]) -> str:
        """The message with its leading field named as ``flags`` spell it (unchanged if absent)."""
        text = str(self)
        flag = flags.get(self.field or "")
        if flag is None or not text.startswith(f"{self.field} "):
            return text
        return flag + text[len(self.field or "") :]
