"""The proved statements: T1 (spectral loss = factorization) and the probe bounds T2, T2'.

Every probe here reads a row ``c`` of a co-occurrence through its conditional ``P(. | c)``:
its features are ``P(. | c) Phi`` for a ``V x k`` matrix ``Phi``, so the weighted least-squares
fit reduces to ``V x V`` algebra and the predictions to one ``V x r`` readout matrix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from lookaround.theory.marginals import bayes_labels
from lookaround.theory.numerics import SLACK, TIE_TOL, inverse_sqrt_mass, normalize
from lookaround.theory.spectral import Chunk, TargetSide, run_pass

__all__ = [
    "ProbeScorer",
    "PROBES",
    "PROBE_MARGIN",
    "ROUNDING_CONFIDENCE",
    "Readout",
    "gram_rounding",
    "resolved",
    "factorization_loss",
    "label_disagreement",
    "optimal_factors",
    "probe_bound",
    "probe_errors",
    "probe_readout",
    "spectral_readout",
    "spectral_features",
    "spectral_loss",
    "spectral_optimum",
]


def label_disagreement(side: TargetSide) -> float:
    """``phi`` (contexts) or ``alpha`` (samples): ``P(y(c) != y(c'))`` over the two-hop graph.

    ``1 - sum_t sum_z (R^T Y)[t, z]^2 / P_t``, equal to ``tr(U^T (I - Rbar Rbar^T) U)`` with
    ``U = D_r^{1/2} Y``.

    Parameters
    ----------
    side : TargetSide
        The target side, with its target mass by Bayes label ``L``.

    Returns
    -------
    float

    Examples
    --------
    >>> from lookaround.theory.spectral import accumulate_target_side
    >>> side = accumulate_target_side([(np.array([[0.25, 0.25], [0.25, 0.25]]), np.eye(2) / 2)])
    >>> label_disagreement(side)
    0.5
    """
    positive = side.target_mass > 0
    kept = (side.label_target[positive] ** 2).sum(axis=1) / side.target_mass[positive]
    return float(max(0.0, 1.0 - kept.sum()))


def probe_bound(phi: float, s_next: float) -> float:
    """Upper bound of T2 (and T2') on the argmax linear-probe error.

    Parameters
    ----------
    phi : float
        Two-hop labeling error ``phi`` (or ``alpha`` for samples).
    s_next : float
        ``s_{k+1}``, the (k+1)-th singular value of ``Abar`` (``sqrt(lam_{k+1})`` for samples);
        0 past the rank.

    Returns
    -------
    float
        ``2 phi / (1 - s_{k+1}^2)``; ``inf`` when ``s_{k+1} == 1`` to within 1e-12 (a graph
        with more than ``k`` components, where the proof gives nothing).

    Examples
    --------
    >>> probe_bound(0.1, 0.5)
    0.26666666666666666
    """
    gap = 1.0 - s_next**2
    if gap <= SLACK:
        return float("inf")
    return 2.0 * phi / gap


UNIT_ROUNDOFF = float(np.finfo(float).eps) / 2
ROUNDING_CONFIDENCE = 10.0
"""``lambda`` of the probabilistic rounding bound ``lambda sqrt(n) u`` on a sum of ``n`` terms
(Higham and Mary 2019), which fails with probability at most ``2 exp(-lambda^2 / 2)``
(``4e-22`` here); the worst case ``n u`` is far too pessimistic at a million rows."""
PROBES = 4
"""Readouts recomputed from perturbed Grams to measure the scores' sensitivity."""
PROBE_MARGIN = 2.0
"""The tie tolerance is this many times the largest score change the probes show."""
BOUND_SLACK = 1.000001
"""Widens the bound on the probes' changes past the rounding of the two products that compute
it and them, so that a row the bound rules out is one the changes would rule out."""
NEAR_ROWS = 8192
"""Rows near a tie whose probes' changes :class:`ProbeScorer` computes at once."""
_PROBE_SEED = 29  # fixed: the same perturbations, and so the same bits, on every run


def gram_rounding(side: TargetSide) -> float:
    """``eps``: a bound on ``||dM||_2`` for the normalized Gram ``M = D_t^{-1/2} G D_t^{-1/2}``.

    ``G`` sums ``n`` nonnegative rank-one terms, so each entry's rounding error is at most
    ``lambda sqrt(n) u`` times the entry, and ``||M||_2 = s_1^2 <= 1``; the factorization,
    the normalization and the eigensolver add a backward error of a few ``V u``
    (docs/theory.md §4.6).

    Parameters
    ----------
    side : TargetSide
        The target side of ``Abar`` (its Gram, row count and vocabulary).

    Returns
    -------
    float
        ``eps = u (10 sqrt(n) + 4 V)`` times the Gram's scale.

    Examples
    --------
    >>> from lookaround.theory.spectral import accumulate_target_side
    >>> side = accumulate_target_side([(np.array([[0.5, 0.0], [0.0, 0.5]]), np.eye(2) / 2)])
    >>> f"{gram_rounding(side):.2e}"
    '2.46e-15'
    """
    vocab = side.target_mass.size
    return UNIT_ROUNDOFF * (ROUNDING_CONFIDENCE * float(np.sqrt(side.n_rows)) + 4 * vocab)


def spectral_features(side: TargetSide, k: int) -> np.ndarray:
    """``Phi = D_t^{-1/2} V_k S_k^{-1}``: row ``c`` of ``F_k = D_c^{-1/2} U_k`` is ``P(.|c) Phi``.

    Singular vectors with ``s_j`` below the rank tolerance are left out; the bound still holds,
    since the residual on their complement is then bounded through ``s_{k'+1} ~ 0``.

    Parameters
    ----------
    side : TargetSide
        The target side of ``Abar``.
    k : int
        The feature dimension.

    Returns
    -------
    ndarray, shape (V, k)
    """
    values, vectors = side.top_right_vectors(k)
    return inverse_sqrt_mass(side.target_mass)[:, None] * vectors / values[None, :]


def resolved(side: TargetSide, k: int) -> bool:
    """Whether rounding can tell the top-``k`` subspace apart: ``s_k^2 - s_(k+1)^2 > 2 eps``.

    Where it cannot, the computed subspace (and every score read through it) is rounding's
    choice, whatever the tie tolerance.

    Parameters
    ----------
    side : TargetSide
        The target side of ``Abar``.
    k : int
        The subspace dimension.

    Returns
    -------
    bool

    Examples
    --------
    >>> from lookaround.theory.spectral import accumulate_target_side
    >>> side = accumulate_target_side([(np.array([[0.4, 0.1], [0.1, 0.4]]), np.eye(2) / 2)])
    >>> resolved(side, 1), resolved(side, 2)
    (True, True)
    """
    squares, _, kept = _eigen(side, k)
    return _resolved(squares, kept, gram_rounding(side))


def _resolved(squares: np.ndarray, kept: int, eps: float) -> bool:
    following = squares[kept] if kept < squares.size else 0.0
    return bool(squares[kept - 1] - following > 2 * eps)


@dataclass(frozen=True, eq=False)
class Readout:
    """A probe's ``V x r`` readout ``B`` and how far rounding could move its scores.

    Attributes
    ----------
    matrix : ndarray, shape (V, r)
        ``B``: row ``c`` scores ``P(c, .) B``.
    changes : ndarray, shape (V, PROBES * r), or None
        ``B' - B`` for Grams moved by random roundings of size ``eps``
        (:func:`spectral_readout`); None where the subspace is rounding's choice
        (:func:`resolved`), so every decision is.
    """

    matrix: np.ndarray
    changes: np.ndarray | None

    @cached_property
    def rounding(self) -> np.ndarray:
        """``4 V u max_z |B[:, z]|``: a row's product with it bounds its scores' own rounding
        (the rows being nonnegative)."""
        return 4 * self.matrix.shape[0] * UNIT_ROUNDOFF * np.abs(self.matrix).max(axis=1)

    @cached_property
    def head(self) -> np.ndarray:
        """``B`` and, with the changes measured, the column ``2 PROBE_MARGIN BOUND_SLACK
        max_j |(B' - B)[:, j]| + rounding`` beside it: one product per chunk gives the scores
        and a bound on the tolerance every probe's change and rounding could ask of them."""
        if self.changes is None:
            return self.matrix
        moved = PROBE_MARGIN * 2 * BOUND_SLACK * np.abs(self.changes).max(axis=1)
        return np.column_stack([self.matrix, moved + self.rounding])

    @cached_property
    def near(self) -> np.ndarray:
        """``[B, rounding, B' - B]`` side by side: what a row near a tie is read against."""
        assert self.changes is not None
        return np.column_stack([self.matrix, self.rounding, self.changes])


def _eigen(side: TargetSide, k: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Every eigenvalue ``s_j^2`` of the normalized Gram, its eigenvectors, and the number of
    them :func:`spectral_features` keeps."""
    values, vectors = side.right_singular
    squares = np.zeros(vectors.shape[1])
    squares[: values.size] = values**2
    return squares, vectors, side.kept(k)


def _noise(side: TargetSide, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One rounding the pass could have made: a random symmetric ``dM`` of spectral norm about
    ``eps`` (``N + N^T`` has norm about ``2 sqrt(2V)``, the edge of Wigner's semicircle, so no
    ``V^3`` norm is taken) and a relative ``eps`` on each label mass. Its law is the same in
    every orthonormal basis, so it is drawn in the one it is used in."""
    eps = gram_rounding(side)
    vocab = side.target_mass.size
    noise = rng.standard_normal((vocab, vocab))
    noise = (noise + noise.T) * (eps / (2 * np.sqrt(2 * vocab)))
    return noise, side.label_target * eps * rng.standard_normal(side.label_target.shape)


def _inverse_change(squares: np.ndarray, kept: int, noise: np.ndarray, coefficients: np.ndarray):
    """First-order change of ``V^T (V_k S_k^{-2} V_k^T) l`` when the Gram moves by ``noise``
    (in the eigenbasis), for ``coefficients = V^T l``: Daleckii and Krein's divided differences
    of ``f = 1/lambda`` on the kept values, 0 past them."""
    inside = np.arange(squares.size) < kept
    f = np.where(inside, 1.0 / np.where(inside, squares, 1.0), 0.0)
    both = inside[:, None] & inside[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        divided = (f[:, None] - f[None, :]) / (squares[:, None] - squares[None, :])
    divided = np.where(both, -f[:, None] * f[None, :], divided)
    divided[~(inside[:, None] | inside[None, :])] = 0.0
    return (divided * noise) @ coefficients


def _moved_features(squares, vectors, kept: int, noise: np.ndarray, root: np.ndarray):
    """Spectral features ``D^{-1/2} V_k S_k^{-1}`` after a Gram move (``noise`` in the
    eigenbasis), to first order; only their span matters to a least-squares fit, so turns
    inside the kept set are left out."""
    inside = np.arange(squares.size) < kept
    with np.errstate(divide="ignore"):
        turn = np.where(inside[:, None], 0.0, 1.0 / (squares[None, :kept] - squares[:, None]))
    rotated = vectors[:, :kept] + vectors @ (turn * noise[:, :kept])
    return root[:, None] * rotated / np.sqrt(squares[:kept])[None, :]


def probe_readout(side: TargetSide, features: np.ndarray) -> np.ndarray:
    """``V x r`` readout ``B`` of the ``P_r``-weighted least-squares probe on ``P(.|row) Phi``.

    Normal equations ``(Phi^T G Phi) W = Phi^T R^T Y`` with ``G`` the target-side Gram;
    the probe predicts ``P(.|row) B`` with ``B = Phi W``.

    Parameters
    ----------
    side : TargetSide
        The target side the probe is fitted on.
    features : ndarray, shape (V, k)
        ``Phi``: the features of a row ``q`` are ``q Phi``.

    Returns
    -------
    ndarray, shape (V, r)

    Examples
    --------
    >>> from lookaround.theory.spectral import accumulate_target_side
    >>> side = accumulate_target_side([(np.array([[0.4, 0.1], [0.1, 0.4]]), np.eye(2) / 2)])
    >>> np.round(probe_readout(side, np.eye(2)), 12).tolist()
    [[1.333333333333, -0.333333333333], [-0.333333333333, 1.333333333333]]
    """
    return _fit(side.gram, side.label_target, features)


def _fit(gram: np.ndarray, labels: np.ndarray, features: np.ndarray) -> np.ndarray:
    normal = features.T @ gram @ features
    weights = np.linalg.lstsq(normal, features.T @ labels, rcond=None)[0]
    return features @ weights


def spectral_readout(side: TargetSide, k: int, context: TargetSide | None = None) -> Readout:
    """The probe on the top-``k`` spectral features of ``context`` (default: ``side`` itself),
    fitted and read on ``side``, with its sensitivity to rounding measured.

    The readout is moved by :data:`PROBES` random roundings of both sides' Grams at the bound
    ``eps`` (about ten times what a pass makes; seeded, so the same bits every run), each to
    first order in it: a Monte Carlo arithmetic estimate of how far rounding moves each score
    (docs/theory.md §4.6).

    Parameters
    ----------
    side : TargetSide
        The target side the probe is fitted and read on.
    k : int
        The feature dimension.
    context : TargetSide, optional
        The side whose top-``k`` spectral features are used (the averaged-feature probe reads
        the context level's features on the sample level).

    Returns
    -------
    Readout
        The readout ``B`` and the changes rounding makes to it.

    Examples
    --------
    >>> from lookaround.theory.spectral import accumulate_target_side
    >>> side = accumulate_target_side([(np.array([[0.4, 0.1], [0.1, 0.4]]), np.eye(2) / 2)])
    >>> readout = spectral_readout(side, 2)
    >>> np.round(readout.matrix, 12).tolist(), bool(np.abs(readout.changes).max() < 1e-13)
    ([[1.333333333333, -0.333333333333], [-0.333333333333, 1.333333333333]], True)
    """
    own = context is None
    context = side if context is None else context
    matrix = probe_readout(side, spectral_features(context, k))
    squares, vectors, kept = _eigen(context, k)  # the SVD the features came from, cached
    if not _resolved(squares, kept, gram_rounding(context)):
        return Readout(matrix, None)
    rng = np.random.default_rng(_PROBE_SEED)
    if own:  # B = D^{-1/2} V_k S_k^{-2} V_k^T D^{-1/2} L, moved term by term
        scale = inverse_sqrt_mass(side.target_mass)
        coefficients = vectors.T @ (scale[:, None] * side.label_target)  # V^T D^{-1/2} L
        inverse = vectors[:, :kept] / squares[None, :kept] @ vectors[:, :kept].T
        changes = []
        for _ in range(PROBES):
            noise, labels = _noise(side, rng)
            moved = vectors @ _inverse_change(squares, kept, noise, coefficients)
            changes.append(scale[:, None] * (moved + inverse @ (scale[:, None] * labels)))
        return Readout(matrix, np.concatenate(changes, axis=1))
    root, mass = inverse_sqrt_mass(context.target_mass), np.sqrt(side.target_mass)
    changes = []
    for _ in range(PROBES):
        noise, labels = _noise(side, rng)
        moved = _moved_features(squares, vectors, kept, _noise(context, rng)[0], root)
        gram = side.gram + mass[:, None] * noise * mass[None, :]
        changes.append(_fit(gram, side.label_target + labels, moved) - matrix)
    return Readout(matrix, np.concatenate(changes, axis=1))


class ProbeScorer:
    """Pass consumer: the ``P_r``-weighted argmax error of each readout against the Bayes labels.

    A class ties with the top score when within the stated ``TIE_TOL`` (relative) of it, or
    within :data:`PROBE_MARGIN` times the largest change of the two scores' difference under
    the perturbed readouts (:class:`Readout`): the smallest such class is read, as the Bayes
    labels are. ``rounding_mass`` is the mass of rows whose correctness that second rule
    decided (their label among the classes it let tie), or every row where the subspace is
    rounding's choice: the error is exact if those ties are.

    Parameters
    ----------
    readouts : dict of str to Readout
        The readouts to score, by name; each pass chunk adds its weighted errors.
    """

    def __init__(self, readouts: dict[str, Readout]) -> None:
        self.readouts = readouts
        self.errors = dict.fromkeys(readouts, 0.0)
        self.rounding_mass = dict.fromkeys(readouts, 0.0)

    def add(self, chunk: Chunk) -> None:
        # rows are P_c(c) P(.|c): the positive factor P_c(c) moves no argmax (nor the
        # tolerances, which scale with it), so the conditionals are never formed
        for name, readout in self.readouts.items():
            columns = chunk.columns(readout.head)  # (k, n): reductions over rows
            classes = readout.matrix.shape[1]
            scores = columns[:classes]
            if readout.changes is None:
                labels = bayes_labels(scores, axis=0)  # the stated rule alone
                self.rounding_mass[name] += float(chunk.mass.sum())
            else:
                # the probes' changes are computed only where their bound (the head's last
                # column) lets a second class tie: elsewhere the top class alone ties,
                # whatever they are. In place: each pass over the rows costs about as much
                top = scores.max(axis=0)
                slack = np.abs(top)
                slack *= TIE_TOL
                np.maximum(slack, columns[classes], out=slack)
                tied = scores >= np.subtract(top, slack, out=slack)[None, :]
                labels = _first(tied)
                near = np.flatnonzero(_several(tied))
                # a few thousand at a time: each near row's changes take about 40 floats,
                # and on sparse sources most rows of a chunk can be near
                for start in range(0, near.size, NEAR_ROWS):
                    part = near[start : start + NEAR_ROWS]
                    labels[part], decided = _near_ties(chunk, readout, part)
                    self.rounding_mass[name] += float(chunk.mass[part][decided].sum())
            # a product, not a gather of the wrong rows' masses: 3x faster on 6e4 rows
            self.errors[name] += float(chunk.mass @ (labels != chunk.labels))


def _near_ties(chunk: Chunk, readout: Readout, near: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels of the rows ``near`` by the probes' measured changes, and which of them that
    widened rule decided (their correctness hangs on telling a tie from a near tie)."""
    columns = chunk.columns_at(readout.near, near)
    classes = readout.matrix.shape[1]
    scores, own, changes = columns[:classes], columns[classes], columns[classes + 1 :]
    top = scores.max(axis=0)
    stated = TIE_TOL * np.abs(top)
    moved = np.maximum(changes.max(axis=0), -changes.min(axis=0))
    slack = PROBE_MARGIN * 2 * moved + own
    tied = scores >= (top - np.maximum(stated, slack))[None, :]
    labels = _first(tied)
    open_ = (slack > stated) & _several(tied)
    return labels, open_ & tied[chunk.labels[near], np.arange(near.size)]


def _several(tied: np.ndarray) -> np.ndarray:
    """Whether each column of ``tied`` (r, n) has more than one ``True``: counted in the
    smallest integer that holds ``r`` (an int64 count is 8x slower on 6e4 columns)."""
    return tied.sum(axis=0, dtype=np.min_scalar_type(tied.shape[0])) > 1


def _first(tied: np.ndarray) -> np.ndarray:
    """The first ``True`` along axis 0 of ``tied`` (r, n), each column having one: ``argmax``
    over a short leading axis copies the array to make it trailing, this reads rows."""
    first = np.full(tied.shape[1], tied.shape[0] - 1)
    for z in range(tied.shape[0] - 2, -1, -1):
        first = np.where(tied[z], z, first)
    return first


def probe_errors(
    blocks: Iterable[tuple[np.ndarray, np.ndarray]], readouts: dict[str, Readout]
) -> dict[str, float]:
    """A pass of :class:`ProbeScorer` alone: the error of each readout.

    Parameters
    ----------
    blocks : iterable of (rows, class_joint)
        One pass over the rows of ``R`` and their ``P(z, r)``.
    readouts : dict of str to Readout
        The readouts to score.

    Returns
    -------
    dict of str to float
        The ``P_r``-weighted argmax error of each readout.

    Examples
    --------
    >>> blocks = [(np.array([[0.5, 0.0], [0.0, 0.5]]), np.eye(2) / 2)]
    >>> still = np.zeros((2, 2))
    >>> probe_errors(blocks, {"right": Readout(np.eye(2), still),
    ...                       "swapped": Readout(np.eye(2)[::-1], still)})
    {'right': 0.0, 'swapped': 1.0}
    """
    scorer = ProbeScorer(readouts)
    run_pass(blocks, [scorer])
    return scorer.errors


def spectral_loss(cooccurrence: np.ndarray, f: np.ndarray, g: np.ndarray) -> float:
    """``L(f, g) = -2 E_{(c,t)~A} f(c).g(t) + E_{c~P_c, t~P_t} (f(c).g(t))^2`` (T1).

    Parameters
    ----------
    cooccurrence : ndarray, shape (n_c, n_t)
        ``A``, summing to 1.
    f : ndarray, shape (n_c, k)
    g : ndarray, shape (n_t, k)

    Examples
    --------
    >>> a = np.array([[0.5, 0.0], [0.0, 0.5]])
    >>> spectral_loss(a, np.ones((2, 1)), np.ones((2, 1)))
    -1.0
    """
    scores = f @ g.T
    p_c, p_t = cooccurrence.sum(axis=1), cooccurrence.sum(axis=0)
    return float(-2.0 * np.sum(cooccurrence * scores) + p_c @ scores**2 @ p_t)


def factorization_loss(cooccurrence: np.ndarray, f: np.ndarray, g: np.ndarray) -> float:
    """``||Abar - F G^T||_F^2 - ||Abar||_F^2`` with ``F = D_c^{1/2} f``, ``G = D_t^{1/2} g``.

    T1 states this equals :func:`spectral_loss` for every ``f, g``.

    Parameters
    ----------
    cooccurrence : ndarray, shape (contexts, V)
        ``A``, a joint law.
    f : ndarray, shape (contexts, k)
        Context features ``f(c)``.
    g : ndarray, shape (V, k)
        Target features ``g(t)``.

    Returns
    -------
    float

    Examples
    --------
    >>> a = np.array([[0.5, 0.0], [0.0, 0.5]])
    >>> round(factorization_loss(a, np.ones((2, 1)), np.ones((2, 1))), 12)
    -1.0
    """
    p_c, p_t = cooccurrence.sum(axis=1), cooccurrence.sum(axis=0)
    normalized, _, _ = normalize(cooccurrence)
    big_f, big_g = np.sqrt(p_c)[:, None] * f, np.sqrt(p_t)[:, None] * g
    return float(np.sum((normalized - big_f @ big_g.T) ** 2) - np.sum(normalized**2))


def spectral_optimum(singular_values: np.ndarray, k: int) -> float:
    """``-sum_{i<=k} s_i^2``, the rank-``k`` minimum of the spectral loss (Eckart-Young).

    Parameters
    ----------
    singular_values : ndarray
        ``s_1 >= s_2 >= ...``.
    k : int
        The rank.

    Returns
    -------
    float

    Examples
    --------
    >>> spectral_optimum(np.array([1.0, 0.5, 0.1]), 2)
    -1.25
    """
    return float(-np.sum(np.asarray(singular_values)[:k] ** 2))


def optimal_factors(cooccurrence: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Minimizers of T1's loss: ``f = D_c^{-1/2} U_k S_k^{1/2}``, ``g = D_t^{-1/2} V_k S_k^{1/2}``.

    Parameters
    ----------
    cooccurrence : ndarray, shape (contexts, V)
        ``A``, a joint law.
    k : int
        The rank.

    Returns
    -------
    f : ndarray, shape (contexts, k)
    g : ndarray, shape (V, k)

    Examples
    --------
    >>> a = np.array([[0.4, 0.1], [0.1, 0.4]])
    >>> f, g = optimal_factors(a, 2)
    >>> round(spectral_loss(a, f, g), 12)
    -1.36
    """
    normalized, left, right = normalize(cooccurrence)
    u, s, vt = np.linalg.svd(normalized, full_matrices=False)
    root = np.sqrt(s[:k])
    return left[:, None] * u[:, :k] * root, right[:, None] * vt[:k].T * root
