"""A tiny pre-LN transformer pretrained under an objective's exact pattern law (JAX + equinox).

Two routes, one network (docs/theory.md §10):

- ``ar`` and ``ar:last`` (the causal kind of
  :data:`~lookaround.theory.objective_kinds.KINDS`) train a **causal** transformer on whole
  sequences, with the loss at every prefix (``ar``: each ``l = 1..T-1`` weighted ``1/(T-1)``,
  exactly the pattern law) or at the last one (``ar:last``). The context ``x_<l`` is read at position ``l-1``.
- every other objective (``dar:J``, ``mlm:m``, ``vmlm``, ``prefixlm``, ``span:m``, ``plm``)
  draws ``(S, i)`` from :func:`lookaround.theory.pattern_laws.pattern_law`: hidden positions
  carry a ``[MASK]`` token, attention is bidirectional, and the context is read at the
  **target's own slot** (its ``[MASK]`` plus its learned position is the query), so the
  network knows which position it predicts, as a context ``(omega, x_S)`` does.

Heads: cross-entropy (a ``d x V`` softmax head) or T1's spectral loss (``f = W h`` of dimension
``k`` against a target table ``g``, the product term over every pair of draws from different
sequences). Training draws fresh sequences from the source every step, through the project's
named seed streams (``draws``, ``patterns``, ``init``), so the same seed gives the same bits.

One run is one thread: XLA's intra-op pool is switched off when this module first imports JAX,
because parallel drivers run one process per core.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import numpy as np

from lookaround.base.errors import InputError
from lookaround.base.seeds import streams
from lookaround.simulations import networks
from lookaround.simulations.architectures import TransformerConfig, architecture_of
from lookaround.simulations.networks import Transformer
from lookaround.simulations.pretrain import (
    ExactTheory,
    Outputs,
    Population,
    check_evaluation_size,
    conditionals_of,
    prefix_patterns,
)
from lookaround.simulations.sampled import EvaluationDraws
from lookaround.simulations.trained import TrainedTransformer
from lookaround.simulations.training import TrainingConfig, check_run
from lookaround.theory.pattern_laws import PatternLaw, pattern_arrays
from lookaround.theory.sampling import draw_sequences
from lookaround.theory.sources import Source

# Before the first import of JAX: XLA's CPU pool off, so a run keeps one thread busy (the
# parallel drivers run one process per core). A user's own XLA_FLAGS win.
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

__all__ = [
    "TrainedTransformer",
    "context_layers",
    "network_outputs",
    "pooled_states",
    "pretrain_transformer",
    "read_contexts",
    "sampled_outputs",
    "training_batch",
]

CHUNK_STEPS = 50  # optimizer steps per compiled scan: one compile per shape, few dispatches


# --- training batches -------------------------------------------------------------------------


def training_batch(
    source: Source, law: PatternLaw, *, draws: np.random.Generator, patterns: np.random.Generator,
    n: int,
) -> dict[str, np.ndarray]:  # fmt: skip
    """``n`` fresh sequences and, for masked routes, one pattern each from ``law``.

    Returns ``tokens`` (n, T) (hidden positions set to ``[MASK] = V``), and for masked routes
    ``position`` (n,) the target slot and ``target`` (n,) its token. The target is never visible.

    Parameters
    ----------
    source : Source
    law : PatternLaw
    draws, patterns : numpy.random.Generator
        The streams of sequences and of patterns.
    n : int
        Sequences.

    Returns
    -------
    dict of str to ndarray

    Examples
    --------
    >>> from lookaround.theory.pattern_laws import pattern_law
    >>> from lookaround.theory.presets import preset_source
    >>> src, rng = preset_source("markov"), np.random.default_rng(0)
    >>> b = training_batch(src, pattern_law("mlm:2", 5), draws=rng, patterns=rng, n=4)
    >>> (b["tokens"] == 3).sum(axis=1).tolist()
    [2, 2, 2, 2]
    """
    _, tokens = draw_sequences(source, n, draws)
    if law.causal:
        return {"tokens": tokens.astype(np.int32)}
    visible, target = law.draw(patterns, n)
    rows = np.arange(n)
    return {
        "tokens": np.where(visible, tokens, source.vocab).astype(np.int32),
        "position": target.astype(np.int32),
        "target": tokens[rows, target].astype(np.int32),
    }


def _stack(batches: list[dict[str, np.ndarray]]) -> dict[str, jax.Array]:
    return {key: jnp.asarray(np.stack([b[key] for b in batches])) for key in batches[0]}


# --- losses -----------------------------------------------------------------------------------


def _contexts(model: Transformer, batch: dict, last_only: bool):
    """``(head, targets, sequence)`` of every trained context of a batch, flattened."""
    tokens = batch["tokens"]
    n, length = tokens.shape
    if model.causal:
        first = length - 2 if last_only else 0
        positions = jnp.broadcast_to(jnp.arange(first, length - 1), (n, length - 1 - first))
        targets = tokens[:, first + 1 :]
    else:
        positions, targets = batch["position"][:, None], batch["target"][:, None]
    head, _, _ = model.read(tokens, positions)
    sequence = jnp.broadcast_to(jnp.arange(n)[:, None], targets.shape)
    return head.reshape(-1, head.shape[-1]), targets.reshape(-1), sequence.reshape(-1)


def _cross_entropy(model: Transformer, batch: dict, last_only: bool) -> jax.Array:
    logits, targets, _ = _contexts(model, batch, last_only)
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, targets[:, None], axis=1))


def _spectral(model: Transformer, batch: dict, last_only: bool) -> jax.Array:
    """T1's ``-2 E_A f.g + E_{P_c x P_t} (f.g)^2``; the product term over pairs from different
    sequences, so that ``c`` and ``t`` are independent draws."""
    f, targets, sequence = _contexts(model, batch, last_only)
    scores = f @ model.readout[targets].T
    apart = sequence[:, None] != sequence[None, :]
    product = jnp.sum(jnp.where(apart, scores**2, 0.0)) / jnp.sum(apart)
    return -2.0 * jnp.mean(jnp.diagonal(scores)) + product


_LOSSES: dict[str, Callable] = {"ce": _cross_entropy, "spectral": _spectral}


@functools.cache
def _optimizer(config: TrainingConfig) -> optax.GradientTransformation:
    """One optimizer object per configuration, so every seed reuses one compiled step."""
    if config.schedule == "cosine":
        warmup = min(config.warmup, config.steps - 1)
        schedule = optax.warmup_cosine_decay_schedule(
            0.0, config.lr, max(warmup, 1), config.steps, end_value=0.0
        )
    else:
        schedule = optax.linear_schedule(0.0, config.lr, max(config.warmup, 1))
    return optax.adamw(schedule, weight_decay=0.0)


@eqx.filter_jit
def _train_chunk(model, opt_state, chunk, optimizer, loss_name: str, last_only: bool):
    params, static = eqx.partition(model, eqx.is_array)
    loss_fn = _LOSSES[loss_name]

    def step(carry, batch):
        params, opt_state = carry
        value, grads = jax.value_and_grad(
            lambda p: loss_fn(eqx.combine(p, static), batch, last_only)
        )(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (eqx.apply_updates(params, updates), opt_state), value

    (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), chunk)
    return eqx.combine(params, static), opt_state, losses


# --- a run ------------------------------------------------------------------------------------


def _initial_key(seed: int) -> jax.Array:
    state = streams(seed).init.generate_state(1)[0]
    return jax.random.PRNGKey(int(state))


def pretrain_transformer(
    source: Source, objective: str, *, config: TrainingConfig | None = None,
    architecture: TransformerConfig | None = None, seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> TrainedTransformer:  # fmt: skip
    """Train a transformer on fresh draws of ``source`` under ``objective``'s pattern law.

    Parameters
    ----------
    source : Source
    objective : str
        Any objective name of :func:`lookaround.theory.objectives.parse_objective`.
    config : TrainingConfig, optional
        Steps, batch, learning rate and loss; the defaults converge on the presets
        (tests/test_transformer.py).
    architecture : TransformerConfig, optional
        The network's shape, and by its type which architecture
        (:data:`lookaround.simulations.architectures.ARCHITECTURES`); a transformer of width 32,
        2 layers and 2 heads by default.
    seed : int
        Every random choice (weights, sequences, patterns) derives from it.
    progress : callable, optional
        Called with the number of steps done after each compiled chunk.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> run = pretrain_transformer(preset_source("topic"), "mlm:1",
    ...                            config=TrainingConfig(steps=20, batch=16))
    >>> run.curve.shape
    (20,)
    """
    config, architecture = config or TrainingConfig(), architecture or TransformerConfig()
    law = check_run(architecture, config, source=source, objective=objective)
    s = streams(seed)
    draws, patterns = np.random.default_rng(s.draws), np.random.default_rng(s.patterns)
    build = getattr(networks, architecture_of(architecture).network)
    model = build(
        architecture,
        vocab=source.vocab,
        length=source.length,
        out=config.outputs(source.vocab),
        k=config.k,
        causal=law.causal,
        key=_initial_key(seed),
    )
    optimizer = _optimizer(config)
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    curve, seen, losses = [], np.zeros(source.vocab), None
    for start in range(0, config.steps, CHUNK_STEPS):
        # drawn while the previous chunk still runs: JAX dispatches it without waiting
        batches = [
            training_batch(source, law, draws=draws, patterns=patterns, n=config.batch)
            for _ in range(min(CHUNK_STEPS, config.steps - start))
        ]
        for b in batches:
            seen += np.bincount(_trained_targets(b, law.last_only), minlength=source.vocab)
        _collect(curve, losses, progress)
        model, opt_state, losses = _train_chunk(
            model, opt_state, _stack(batches), optimizer, config.loss, law.last_only
        )
    _collect(curve, losses, progress)
    return TrainedTransformer(
        model, config, objective, seed, np.concatenate(curve), seen / seen.sum(), architecture
    )


def _collect(curve: list[np.ndarray], losses: jax.Array | None, progress: Callable | None) -> None:
    """Wait for a chunk's losses (none before the first chunk), append them to ``curve`` and
    report the steps done."""
    if losses is None:
        return
    curve.append(np.asarray(losses, dtype=np.float64))
    if progress is not None:
        progress(sum(len(part) for part in curve))


def _trained_targets(batch: dict[str, np.ndarray], last_only: bool) -> np.ndarray:
    if "target" in batch:
        return batch["target"]
    tokens = batch["tokens"]
    return tokens[:, -1] if last_only else tokens[:, 1:].ravel()


def read_contexts(
    run: TrainedTransformer, tokens: np.ndarray, visible: np.ndarray, target: np.ndarray,
    *, rows: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The network's head output and hidden state for the contexts ``(S, i, x_S)`` of each row.

    ``tokens`` (n, T), ``visible`` (n, T) bool, ``target`` (n,). A causal network reads only
    prefix contexts (``S = {0..i-1}``), at position ``i - 1``; a masked one reads the target's
    slot with every hidden position set to ``[MASK]``. Rows run in fixed blocks of ``rows``
    (padded), so one compiled shape serves every call. Returns float64 arrays.

    Parameters
    ----------
    run : TrainedTransformer
    tokens : ndarray, shape (n, T)
    visible : ndarray of bool, shape (n, T)
    target : ndarray of int, shape (n,)
    rows : int
        Rows per compiled block.

    Returns
    -------
    head, hidden : ndarray
    """
    if run.causal:
        _check_prefixes(visible, target)
        inputs, positions = tokens, target - 1
    else:
        inputs, positions = np.where(visible, tokens, run.model.mask_token), target
    head, hidden, _ = _read_blocks(run.model, inputs, positions[:, None], rows)
    return head[:, 0], hidden[:, 0]


def _check_prefixes(visible: np.ndarray, target: np.ndarray) -> None:
    """Refuse a context a causal network cannot read: every ``S`` must be ``{0..i-1}``."""
    if not np.array_equal(visible, np.arange(visible.shape[-1]) < target[..., None]):
        raise InputError("a causal network reads prefix contexts only")


def pooled_states(run: TrainedTransformer, tokens: np.ndarray, *, rows: int = 4096) -> np.ndarray:
    """Mean over positions of the hidden states of whole, unmasked sequences (n, d).

    Parameters
    ----------
    run : TrainedTransformer
    tokens : ndarray, shape (n, T)
    rows : int
        Rows per compiled block.

    Returns
    -------
    ndarray, shape (n, features)
    """
    positions = np.zeros((tokens.shape[0], 1), dtype=np.int64)
    return _read_blocks(run.model, tokens, positions, rows)[2]


@eqx.filter_jit
def _read(model: Transformer, tokens: jax.Array, positions: jax.Array):
    return model.read(tokens, positions)


@eqx.filter_jit
def _read_layers(model: Transformer, tokens: jax.Array, positions: jax.Array):
    return model.read_layers(tokens, positions)


def _read_blocks(model: Transformer, tokens: np.ndarray, positions: np.ndarray, rows: int,
                 reader: Callable = _read):  # fmt: skip
    n = tokens.shape[0]
    parts: list[list[np.ndarray]] = [[], [], []]
    for start in range(0, n, rows):
        block = slice(start, min(start + rows, n))
        size = block.stop - block.start
        pad = ((0, rows - size), (0, 0))
        outs = reader(
            model,
            jnp.asarray(np.pad(tokens[block], pad).astype(np.int32)),
            jnp.asarray(np.pad(positions[block], pad).astype(np.int32)),
        )
        for part, out in zip(parts, outs):
            part.append(np.asarray(out, dtype=np.float64)[:size])
    return tuple(np.concatenate(p) for p in parts if p)


def context_layers(
    run: TrainedTransformer, tokens: np.ndarray, visible: np.ndarray, target: np.ndarray,
    *, rows: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The residual stream and the probed features of ``run`` at each sequence's patterns.

    A causal network reads each sequence once (its patterns must be prefixes); a masked one
    reads each pattern with its hidden positions set to ``[MASK]``, at the target's slot.

    Parameters
    ----------
    run : TrainedTransformer
    tokens : ndarray of int, shape (n, T)
    visible : ndarray of bool, shape (n, P, T)
    target : ndarray of int, shape (n, P)
    rows : int
        Rows per compiled block.

    Returns
    -------
    residual : ndarray, shape (n, P, L + 1, d)
        The embeddings, then each block's output, at the read-out position.
    features : ndarray, shape (n, P, f)
        What the head and every probe read there (the final LayerNorm's output, or the
        bottleneck's ``K`` features).
    """
    n, count, length = visible.shape
    if run.causal:
        _check_prefixes(visible, target)
        residual, features = _read_blocks(run.model, tokens, target - 1, rows, _read_layers)
        return residual, features
    inputs = np.where(visible, tokens[:, None, :], run.model.mask_token).reshape(-1, length)
    residual, features = _read_blocks(run.model, inputs, target.reshape(-1, 1), rows, _read_layers)
    return (residual.reshape(n, count, *residual.shape[2:]),
            features.reshape(n, count, -1))  # fmt: skip


def network_outputs(run: TrainedTransformer, theory: ExactTheory, pop: Population) -> Outputs:
    """The network's conditionals and features on every sequence and pattern of ``theory``.

    A causal network generates from its own prefixes; a masked one by unmasking left to right
    (the prefix pattern ``({0..l-1}, l)`` with every later position ``[MASK]``).

    Parameters
    ----------
    run : TrainedTransformer
    theory : ExactTheory
    pop : Population

    Returns
    -------
    Outputs
    """
    n, length = pop.tokens.shape
    check_evaluation_size(pop, theory.objective)
    visible, target = pattern_arrays(theory.objective.patterns, length)
    prefix_visible, prefix_target = pattern_arrays(prefix_patterns(length), length)

    def each(rows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(rows, (n, *rows.shape))

    return _outputs(run, pop.tokens, (each(visible), each(target)),
                    (each(prefix_visible), each(prefix_target)))  # fmt: skip


def sampled_outputs(run: TrainedTransformer, draws: EvaluationDraws) -> Outputs:
    """The network's conditionals and features on the patterns and prefixes of ``draws``.

    Parameters
    ----------
    run : TrainedTransformer
    draws : EvaluationDraws
        Held-out sequences of a sampled evaluation.

    Returns
    -------
    Outputs
    """
    prefix = np.arange(draws.tokens.shape[1])[None, None, :] < draws.lengths[:, :, None]
    return _outputs(run, draws.tokens, (draws.visible, draws.target), (prefix, draws.lengths))


def _outputs(run: TrainedTransformer, tokens: np.ndarray, patterns: tuple, prefixes: tuple):
    """Outputs of ``run`` on per-sequence ``(visible (n, P, T), target (n, P))`` patterns and
    prefixes."""
    if run.causal:
        head, hidden, prefix_head, pooled = _read_causal(run, tokens, patterns, prefixes)
    else:
        head, hidden = _read_patterns(run, tokens, *patterns)
        prefix_head, _ = _read_patterns(run, tokens, *prefixes)
        pooled = pooled_states(run, tokens)
    g = np.asarray(run.model.readout, dtype=np.float64) if run.config.loss == "spectral" else None
    return Outputs(
        conditionals=conditionals_of(head, loss=run.config.loss, g=g, target_mass=run.target_mass),
        prefix_conditionals=conditionals_of(
            prefix_head, loss=run.config.loss, g=g, target_mass=run.target_mass
        ),
        pattern_hidden=hidden,
        pooled=pooled,
        spectral_f=head if g is not None else None,
        spectral_g=g,
    )


def _read_causal(run: TrainedTransformer, tokens: np.ndarray, patterns: tuple, prefixes: tuple):
    """A causal network reads every prefix of a sequence in one pass (position ``l - 1`` sees
    ``x_<l`` only), so each sequence is read once, whatever its patterns."""
    n, length = tokens.shape
    for visible, target in (patterns, prefixes):
        _check_prefixes(visible, target)
    positions = np.broadcast_to(np.arange(length - 1), (n, length - 1))
    head, hidden, pooled = _read_blocks(run.model, tokens, positions, 4096)
    rows = np.arange(n)[:, None]
    picked = patterns[1] - 1, prefixes[1] - 1
    return head[rows, picked[0]], hidden[rows, picked[0]], head[rows, picked[1]], pooled


def _read_patterns(run: TrainedTransformer, tokens: np.ndarray, visible: np.ndarray,
                   target: np.ndarray):  # fmt: skip
    """Head and hidden state (n, P, .) of each sequence under its own patterns."""
    n, count, length = visible.shape
    head, hidden = read_contexts(
        run, np.repeat(tokens, count, axis=0), visible.reshape(-1, length), target.reshape(-1)
    )
    return head.reshape(n, count, -1), hidden.reshape(n, count, -1)
