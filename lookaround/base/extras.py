"""Optional dependencies: each serves one command, and its absence is a one-line error."""

from __future__ import annotations

import importlib
from types import ModuleType

from lookaround.base.errors import InputError

__all__ = ["require"]


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import ``module`` or say which extra of lookaround brings it.

    Parameters
    ----------
    module : str
        The module to import.
    extra : str
        The extra of ``pip install lookaround[EXTRA]`` that brings it.
    what : str
        What needs it, for the message.

    Returns
    -------
    module

    Examples
    --------
    >>> require("json", "none", "this example").__name__
    'json'
    >>> require("no_such_module_here", "symbolic", "derive")
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: derive needs no_such_module_here: pip install 'lookaround[symbolic]'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(f"{what} needs {module}: pip install 'lookaround[{extra}]'") from None
    except Exception as exc:  # installed but broken (a jaxlib built for another machine, say)
        raise InputError(
            f"{what}: {module} is installed but failed to import ({type(exc).__name__}: "
            f"{str(exc)[:120]}); reinstall it with pip install --force-reinstall "
            f"'lookaround[{extra}]'"
        ) from None
