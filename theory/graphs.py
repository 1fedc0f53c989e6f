"""Graph-level views of a co-occurrence: components, connectivity, augmentation graph, networkx.

The two-hop graphs (contexts through targets, samples through contexts and targets) are
described here through their bipartite row-target form; the few measures that truly need
pairs of rows (effective degree) are computed per row, exactly when small and on a seeded
sample of rows, with its standard error, when not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import svds

from lookaround.base.errors import InputError
from lookaround.base.seeds import streams
from lookaround.theory.cooccurrence import (
    Cooccurrence,
    context_offsets,
    sample_stream,
    visible_index,
)
from lookaround.theory.marginals import bayes_labels, sequence_joint
from lookaround.theory.numerics import inverse_sqrt_mass
from lookaround.theory.objectives import Objective
from lookaround.theory.sources import Source
from lookaround.theory.spectral import Chunk, TargetSide

__all__ = [
    "Rows",
    "SupportCounter",
    "WithinClassBuilder",
    "augmentation_spectrum",
    "context_graph",
    "context_target_graph",
    "effective_degree",
    "sample_context_incidence",
    "sample_graph",
    "support_measures",
]

if TYPE_CHECKING:  # networkx is imported only when a graph is exported
    import networkx as nx

Rows = Iterable[tuple[np.ndarray, np.ndarray]]
_COUNTED_WIDTH = 16  # up to 2^16 support keys are counted with bincount


class SupportCounter:
    """Pass consumer: how many rows have each support pattern over the targets.

    A support is packed into integer keys (64 targets per key), so counting is a 1-d
    ``unique`` instead of a sort of rows.
    """

    def __init__(self) -> None:
        self.counts: Counter = Counter()

    def add(self, chunk: Chunk) -> None:
        support, weights = chunk.supports()
        width = support.shape[1]
        words = _packed(support)
        if width <= _COUNTED_WIDTH:  # keys small enough to count by index, without a sort
            count = np.bincount(words[0].astype(np.intp), weights=weights, minlength=1 << width)
            for key in np.flatnonzero(count).tolist():
                self.counts[(key,)] += int(count[key])
            return
        unique, inverse = np.unique(words.T, axis=0, return_inverse=True)
        count = np.bincount(inverse.ravel(), weights=weights, minlength=unique.shape[0])
        for key, n in zip(map(tuple, unique.tolist()), count.tolist()):
            self.counts[key] += int(n)

    def masks(self, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Boolean supports (G, V) and their row counts (G,)."""
        # Python ints throughout: shifted by a numpy int, a word is converted to int64,
        # which a word with bit 63 set overflows
        masks = np.array(
            [[(key[b // 64] >> (b % 64)) & 1 for b in range(width)] for key in self.counts],
            dtype=bool,
        )
        return masks, np.array(list(self.counts.values()), dtype=float)


class WithinClassBuilder:
    """Pass consumer: the Gram of ``B_z = D_z^{-1/2} R_z D_t^{-1/2}`` for each class ``z``.

    The restricted degree is ``d_z(row) = R[row] D_t^{-1} (R_z^T 1)`` and ``R_z^T 1`` is column
    ``z`` of ``side.label_target``, so it needs the first pass's :class:`TargetSide`. The gap
    ``1 - s_2^2`` is read off the Gram's eigenvalues, whose absolute error (about 1e-16) is
    the gap's: no QR is needed here.

    Parameters
    ----------
    side : TargetSide
        The target side the per-class Grams are normalized by.
    """

    def __init__(self, side: TargetSide) -> None:
        self.side = side
        positive = side.target_mass > 0
        self.inv_t = np.zeros_like(side.target_mass)
        self.inv_t[positive] = 1.0 / side.target_mass[positive]
        classes, width = side.label_target.shape[1], side.target_mass.size
        self.grams = np.zeros((classes, width, width))
        self.counts = np.zeros(classes, dtype=int)

    def add(self, chunk: Chunk) -> None:
        # every row scaled by its degree within its own class, then each class's Gram
        degrees = chunk.columns(self.inv_t[:, None] * self.side.label_target)  # (r, n)
        own = np.einsum("zn,zn->n", degrees, chunk.indicator)
        # own > 0 for every row with mass (it meets itself at its own targets); a row of zero
        # mass, or one whose degree underflows, is no vertex and contributes nothing
        scale = np.zeros_like(own)
        np.divide(1.0, np.sqrt(own), out=scale, where=own > 0)
        self.grams += chunk.class_grams(scale)
        self.counts += chunk.indicator.sum(axis=1).astype(int)

    def result(self) -> float:
        """``min_z (1 - s_2(B_z)^2)``; nan when no class has two rows."""
        gaps = []
        scale = inverse_sqrt_mass(self.side.target_mass)
        for gram, count in zip(self.grams, self.counts):
            if count < 2:
                continue
            values = np.linalg.eigvalsh(scale[:, None] * gram * scale[None, :])[::-1]
            gaps.append(1.0 - min(values[1], 1.0) if values.size > 1 else 1.0)
        return float(min(gaps)) if gaps else float("nan")


def _packed(support: np.ndarray) -> np.ndarray:
    """The supports (n, V) as bits, 64 targets a word: ``words[w, row]`` holds target ``t`` of
    ``64 w <= t < 64 (w + 1)`` at bit ``t % 64`` (the layout :meth:`SupportCounter.masks`
    reads). Built a target at a time: the supports come column-major (the rows' layout),
    where a product with the powers is 1.6-4x slower."""
    rows, width = support.shape
    words = np.zeros((-(-width // 64), rows), dtype=np.uint64)
    for target, column in enumerate(support.T):
        words[target // 64] |= column.astype(np.uint64) << np.uint64(target % 64)
    return words


def support_measures(counter: SupportCounter, side: TargetSide) -> tuple[int, float]:
    """Components and support fraction from the distinct supports of the rows.

    Rows are joined through shared targets, so the components of the target graph whose
    edges are the distinct supports are the components of the rows. The support fraction is
    the share of ordered pairs of rows with a positive two-hop weight.

    Parameters
    ----------
    counter : SupportCounter
        The pass consumer that collected the rows' distinct supports.
    side : TargetSide
        The target side of the same pass.

    Returns
    -------
    components : int
    support_fraction : float

    Examples
    --------
    >>> from lookaround.theory.spectral import target_side_pass
    >>> rows = [(np.array([[0.25, 0.0], [0.25, 0.0], [0.0, 0.5]]), np.diag([0.25, 0.25, 0.5])[:, [0, 2]])]
    >>> counter = SupportCounter()
    >>> support_measures(counter, target_side_pass(rows, [counter]))
    (2, 0.5)
    """
    vocab = side.target_mass.size
    masks, sizes = counter.masks(vocab)
    heads = masks.argmax(axis=1)
    edges_i, edges_j = np.nonzero(masks)
    targets = sp.coo_matrix(
        (np.ones(edges_i.size), (heads[edges_i], edges_j)), shape=(vocab, vocab)
    )
    _, label = connected_components(targets, directed=False)
    components = np.unique(label[side.target_mass > 0]).size
    overlap = (masks.astype(float) @ masks.T.astype(float)) > 0
    return int(components), float(sizes @ overlap @ sizes / sizes.sum() ** 2)


KERNEL_CHUNK = 1 << 20  # entries of K held at once by effective_degree (three such arrays)
DEGREE_ENTRIES = 5_000_000  # kernel entries effective_degree computes before it samples rows
DEGREE_ROWS = 200  # the fewest rows it samples


def degree_entries(n: int) -> int:
    """Kernel entries :func:`effective_degree` computes on ``n`` rows (each row is ``n``)."""
    return min(n * n, max(DEGREE_ROWS * n, DEGREE_ENTRIES))


def effective_degree(
    q: np.ndarray, max_entries: int = DEGREE_ENTRIES, seed: int = 0
) -> tuple[float, float, int]:
    """``E_x exp(H(K(x, .)))``, the mean effective number of samples a sample reaches.

    ``K(x, x') = sum_t P(t|x) Q[x', t] / P_t``. Every row costs ``n`` kernel entries, so all
    rows are used when ``n^2 <= max_entries``; otherwise ``max(200, max_entries / n)`` rows
    drawn from ``P(x)`` with the seed, each row's entropy still exact, and the standard error
    of their mean is returned.

    Parameters
    ----------
    q : ndarray, shape (samples, V)
        ``Q``: the sample-target matrix.
    max_entries : int
        Entries of ``K`` computed at most; past it, rows are sampled.
    seed : int
        Seed of the sampled rows.

    Returns
    -------
    mean : float
    standard_error : float
        0 when every row was used.
    rows_used : int

    Examples
    --------
    >>> q = np.array([[0.25, 0.0], [0.25, 0.0], [0.0, 0.5]])
    >>> effective_degree(q)
    (1.5, 0.0, 3)
    """
    mass = q.sum(axis=1)
    q, mass = q[mass > 0], mass[mass > 0]
    p_t = q.sum(axis=0)
    reach = q * np.where(p_t > 0, 1.0 / np.where(p_t > 0, p_t, 1), 0.0)[None, :]  # P(x'|t)
    n = q.shape[0]
    exact = n * n <= max_entries
    if exact:
        rows = np.arange(n)
    else:
        draws = max(DEGREE_ROWS, max_entries // n)
        rows = np.random.default_rng(streams(seed).rows).choice(n, size=draws, p=mass / mass.sum())
    degrees = np.empty(rows.size)
    step = max(1, KERNEL_CHUNK // n)  # rows of K at a time: 256 fixed rows took 1.3 GB at n = 2^18
    for start in range(0, rows.size, step):
        chosen = rows[start : start + step]
        kernel = (q[chosen] / mass[chosen, None]) @ reach.T
        logs = np.log(np.where(kernel > 0, kernel, 1.0))
        degrees[start : start + step] = np.exp(-(kernel * logs).sum(axis=1))
    if exact:
        return float(degrees @ mass / mass.sum()), 0.0, int(rows.size)
    return float(degrees.mean()), float(degrees.std(ddof=1) / np.sqrt(rows.size)), int(rows.size)


def sample_context_incidence(source: Source, objective: Objective) -> sp.csr_matrix:
    """``J[x, c] = P(x) P(c | x)`` over positive-mass sequences and all contexts.

    Columns are contexts in pattern order, each pattern's ``V^|S|`` block in mixed radix.

    Parameters
    ----------
    source : Source
        A small source.
    objective : Objective
        The objective.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (V^T, contexts)
    """
    joint = sequence_joint(source).reshape(source.n_classes, -1).sum(axis=0)
    ids = np.flatnonzero(joint > 0)
    tokens = np.stack(np.unravel_index(ids, (source.vocab,) * source.length), axis=1)
    offsets = context_offsets(objective, source.vocab)
    cols = [
        offsets[j] + visible_index(pattern.visible, tokens, source.vocab)
        for j, pattern in enumerate(objective.patterns)
    ]
    vals = [weight * joint[ids] for weight in objective.weights]
    row_ids = np.tile(np.arange(ids.size), len(cols))
    return sp.csr_matrix(
        (np.concatenate(vals), (row_ids, np.concatenate(cols))), shape=(ids.size, offsets[-1])
    )


def augmentation_spectrum(source: Source, objective: Objective, count: int) -> np.ndarray:
    """Top ``count`` eigenvalues of the normalized augmentation graph ``W_aug``.

    ``W_aug = J^T D_x^{-1} J`` over contexts; its normalized eigenvalues are the squared
    singular values of ``D_x^{-1/2} J D_c^{-1/2}``, read from the sample side (dense below
    2000 samples, Lanczos ``svds`` above), zero-padded past the rank.

    Parameters
    ----------
    source : Source
        A small source (at most ``AUGMENTATION_MAX_SEQUENCES`` sequences).
    objective : Objective
        The objective.
    count : int
        Eigenvalues to return.

    Returns
    -------
    ndarray
        The largest, in decreasing order.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> vals = augmentation_spectrum(preset_source("topic"), parse_objective("mlm:1", 4), 3)
    >>> round(float(vals[0]), 12)
    1.0
    """
    incidence = sample_context_incidence(source, objective)
    rows = np.asarray(incidence.sum(axis=1)).ravel()
    cols = np.asarray(incidence.sum(axis=0)).ravel()
    normalized = sp.diags(rows**-0.5) @ incidence @ sp.diags(inverse_sqrt_mass(cols))
    smaller = min(normalized.shape)
    if smaller <= 2000 or count + 1 >= smaller:
        dense = normalized.toarray()
        gram = dense @ dense.T if dense.shape[0] <= dense.shape[1] else dense.T @ dense
        values = np.sort(np.linalg.eigvalsh(gram))[::-1]
    else:
        found = np.asarray(svds(normalized, k=count, return_singular_vectors=False))
        values = np.sort(found)[::-1] ** 2
    values = np.clip(values[:count], 0.0, 1.0)
    return np.concatenate([values, np.zeros(max(0, count - values.size))])


# --------------------------------------------------------------------------- networkx export


def _check_small(n: int, max_nodes: int, what: str) -> None:
    if n > max_nodes:
        raise InputError(f"{what} has {n} nodes, more than max_nodes={max_nodes} for drawing")


def context_target_graph(co: Cooccurrence, max_nodes: int = 500) -> nx.Graph:
    """The bipartite context-target graph, edge weights ``A[c, t]``.

    Nodes are ``("c", label)`` with ``bipartite=0`` and ``("t", token)`` with ``bipartite=1``.

    Parameters
    ----------
    co : Cooccurrence
        ``A`` of one objective.
    max_nodes : int
        The largest graph built; a larger one is refused.

    Returns
    -------
    networkx.Graph

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> from lookaround.theory.cooccurrence import build_cooccurrence
    >>> co = build_cooccurrence(preset_source("topic"), parse_objective("ar:last", 2 + 2))
    >>> g = context_target_graph(co, max_nodes=100)
    >>> round(sum(w for _, _, w in g.edges(data="weight")), 12)
    1.0
    """
    import networkx as nx

    _check_small(co.matrix.get_shape()[0] + co.vocab, max_nodes, "the context-target graph")
    graph = nx.Graph()
    labels = [co.context_label(i) for i in range(co.matrix.get_shape()[0])]
    graph.add_nodes_from((("c", lab) for lab in labels), bipartite=0)
    graph.add_nodes_from((("t", t) for t in range(co.vocab)), bipartite=1)
    coo = co.matrix.tocoo()
    graph.add_weighted_edges_from(
        (("c", labels[i]), ("t", int(j)), float(w)) for i, j, w in zip(coo.row, coo.col, coo.data)
    )
    return graph


def _two_hop_graph(rows: np.ndarray, names: list, max_nodes: int, what: str) -> nx.Graph:
    import networkx as nx

    _check_small(rows.shape[0], max_nodes, what)
    p_t = rows.sum(axis=0)
    weights = rows @ np.diag(np.where(p_t > 0, 1.0 / np.where(p_t > 0, p_t, 1), 0.0)) @ rows.T
    graph = nx.Graph()
    graph.add_nodes_from(names)
    i, j = np.nonzero(np.triu(weights, k=1))
    graph.add_weighted_edges_from((names[a], names[b], float(weights[a, b])) for a, b in zip(i, j))
    return graph


def context_graph(co: Cooccurrence, max_nodes: int = 500) -> nx.Graph:
    """The two-hop context graph ``W = A D_t^{-1} A^T`` (self-loops left out), for drawing.

    Parameters
    ----------
    co : Cooccurrence
        ``A`` of one objective.
    max_nodes : int
        The largest graph built; a larger one is refused.

    Returns
    -------
    networkx.Graph
    """
    names = [co.context_label(i) for i in range(co.matrix.get_shape()[0])]
    return _two_hop_graph(co.matrix.toarray(), names, max_nodes, "the context graph")


def sample_graph(source: Source, objective: Objective, max_nodes: int = 500) -> nx.Graph:
    """The sample graph ``P(x) K(x, x')`` over positive-mass sequences (self-loops left out).

    Nodes are token strings such as ``"0120"`` with attribute ``label`` (the Bayes class).

    Parameters
    ----------
    source : Source
        A small source.
    objective : Objective
        The objective.
    max_nodes : int
        The largest graph built; a larger one is refused.

    Returns
    -------
    networkx.Graph
    """
    tokens, q, class_joint = (
        np.concatenate(part) for part in zip(*sample_stream(source, objective))
    )
    keep = q.sum(axis=1) > 0
    names = ["".join(map(str, row)) for row in tokens[keep]]
    graph = _two_hop_graph(q[keep], names, max_nodes, "the sample graph")
    for name, label in zip(names, bayes_labels(class_joint[keep]).tolist()):
        graph.nodes[name]["label"] = label
    return graph
