"""The seeded random sources the benchmark scripts run on (one builder for all of them).

Two equally likely classes; each class's initial law, transition rows and (for an HMM)
emission rows are Dirichlet draws from one generator, in that order, so a seed always gives
the same source.
"""

from __future__ import annotations

import numpy as np

from lookaround.theory.sources import Source, source_from_dict


def random_source(
    family: str,
    vocab: int,
    length: int,
    states: int | None = None,
    trans: float = 0.7,
    emit: float = 0.7,
    seed: int = 0,
    name: str | None = None,
) -> Source:
    """A two-class ``markov`` chain (the state is the token) or ``hmm`` with ``states`` states.

    ``trans`` and ``emit`` are the Dirichlet concentrations of the transition and emission
    rows; smaller values give sparser, more distinct classes.

    Examples
    --------
    >>> random_source("hmm", vocab=2, length=5, states=2).emit.shape
    (2, 5, 2, 2)
    """
    rng = np.random.default_rng(seed)
    hidden = vocab if family == "markov" else states
    assert hidden is not None, "an hmm needs its number of states"
    spec = {
        "family": family,
        "prior": [0.5, 0.5],
        "init": rng.dirichlet(np.ones(hidden), size=2).tolist(),
        "trans": rng.dirichlet(np.full(hidden, trans), size=(2, hidden)).tolist(),
        "length": length,
    }
    if family == "hmm":
        spec["emit"] = rng.dirichlet(np.full(vocab, emit), size=(2, hidden)).tolist()
    return source_from_dict(spec, name=name)
