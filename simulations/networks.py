"""The networks the architectures of :mod:`lookaround.simulations.architectures` build (JAX).

Each has the interface training and the evaluation read: ``read(tokens, positions)`` gives
the head's outputs ``(B, P, out)``, the features a probe reads ``(B, P, features)`` and the
mean-pooled features ``(B, features)``; ``causal``, ``readout`` and ``mask_token``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from lookaround.simulations.architectures import BottleneckConfig, TransformerConfig

__all__ = ["Block", "Bottlenecked", "Transformer"]


class Block(eqx.Module):
    """Pre-LN block: ``x + attn(LN x)``, then ``x + MLP(LN x)`` (GELU, width ``4d``).

    Parameters
    ----------
    width : int
        ``d``.
    heads : int
        Attention heads.
    key : jax.Array
        The initialization key.
    """

    attn_norm: eqx.nn.LayerNorm
    attention: eqx.nn.MultiheadAttention
    mlp_norm: eqx.nn.LayerNorm
    mlp: eqx.nn.MLP

    def __init__(self, width: int, heads: int, key: jax.Array) -> None:
        k1, k2 = jax.random.split(key)
        self.attn_norm = eqx.nn.LayerNorm(width)
        self.attention = eqx.nn.MultiheadAttention(heads, width, key=k1)
        self.mlp_norm = eqx.nn.LayerNorm(width)
        self.mlp = eqx.nn.MLP(width, width, 4 * width, 1, activation=jax.nn.gelu, key=k2)

    def __call__(self, x: jax.Array, mask: jax.Array) -> jax.Array:
        y = jax.vmap(self.attn_norm)(x)
        x = x + self.attention(y, y, y, mask=mask)
        return x + jax.vmap(self.mlp)(jax.vmap(self.mlp_norm)(x))


class Transformer(eqx.Module):
    """Token (``V`` plus ``[MASK]``) and learned position embeddings, blocks, a final LayerNorm.

    ``head`` maps a hidden state to ``out`` outputs: ``V`` logits (cross-entropy) or ``f(c)`` of
    dimension ``k`` (spectral); ``readout`` is the spectral target table ``g`` (``V x k``).
    ``head_input`` is the head's input width when a subclass feeds it something narrower.

    Parameters
    ----------
    config : TransformerConfig
        Width, layers and heads.
    vocab : int
        ``V`` (the input table has ``V + 1`` rows, ``[MASK]`` last).
    length : int
        ``T``.
    out : int
        The head's outputs.
    k : int
        Columns of the spectral target table ``g``.
    causal : bool
        Whether attention is causal.
    key : jax.Array
        The initialization key.
    head_input : int, optional
        The head's input width, when narrower than ``d``.
    """

    embed: jax.Array
    position: jax.Array
    blocks: tuple[Block, ...]
    norm: eqx.nn.LayerNorm
    head: eqx.nn.Linear
    readout: jax.Array
    causal: bool = eqx.field(static=True)

    def __init__(
        self, config: TransformerConfig, *, vocab: int, length: int, out: int, k: int,
        causal: bool, key: jax.Array, head_input: int | None = None,
    ) -> None:  # fmt: skip
        keys = jax.random.split(key, config.layers + 4)
        d = config.width
        self.embed = 0.02 * jax.random.normal(keys[0], (vocab + 1, d))
        self.position = 0.02 * jax.random.normal(keys[1], (length, d))
        self.blocks = tuple(Block(d, config.heads, key) for key in keys[4:])
        self.norm = eqx.nn.LayerNorm(d)
        self.head = eqx.nn.Linear(head_input or d, out, key=keys[2])
        self.readout = 0.3 * jax.random.normal(keys[3], (vocab, k))
        self.causal = causal

    @property
    def mask_token(self) -> int:
        """The input id of ``[MASK]``: ``V``."""
        return self.embed.shape[0] - 1

    def residual(self, tokens: jax.Array) -> jax.Array:
        """The residual stream of one input row (``V`` is ``[MASK]``): shape (L + 1, T, d),
        the embeddings and then each block's output, before the final LayerNorm."""
        length = tokens.shape[0]
        x = self.embed[tokens] + self.position
        full = jnp.ones((length, length), dtype=bool)
        mask = jnp.tril(full) if self.causal else full
        stream = [x]
        for block in self.blocks:
            x = block(x, mask)
            stream.append(x)
        return jnp.stack(stream)

    def hidden(self, tokens: jax.Array) -> jax.Array:
        """Final hidden states, shape (T, d), of one input row (``V`` is ``[MASK]``)."""
        return jax.vmap(self.norm)(self.residual(tokens)[-1])

    def features(self, states: jax.Array) -> jax.Array:
        """What the head and the probes read of hidden states ``(..., d)``: the states."""
        return states

    def read(
        self, tokens: jax.Array, positions: jax.Array
    ) -> tuple[jax.Array, jax.Array, jax.Array]:
        """Head outputs and features at ``positions`` of each row, and the mean-pooled features.

        ``tokens`` (B, T), ``positions`` (B, P) → head (B, P, out), features (B, P, f),
        pooled (B, f); ``f = d`` here.
        """
        states = jax.vmap(self.hidden)(tokens)
        picked = self.features(jnp.take_along_axis(states, positions[:, :, None], axis=1))
        return jax.vmap(jax.vmap(self.head))(picked), picked, self.features(states.mean(axis=1))

    def read_layers(self, tokens: jax.Array, positions: jax.Array) -> tuple[jax.Array, jax.Array]:
        """The residual stream and the features at ``positions`` of each row.

        ``tokens`` (B, T), ``positions`` (B, P) → residual (B, P, L + 1, d), features (B, P, f).
        """
        stream = jax.vmap(self.residual)(tokens)  # (B, L + 1, T, d)
        picked = jnp.take_along_axis(stream, positions[:, None, :, None], axis=2)
        final = jax.vmap(jax.vmap(self.norm))(picked[:, -1])
        return jnp.swapaxes(picked, 1, 2), self.features(final)


class Bottlenecked(Transformer):
    """A :class:`Transformer` whose head reads a ``K``-dimensional linear feature layer:
    ``head(W h + b)``, and every probe reads ``W h + b``, the theory's ``f(c)`` of dimension
    ``K`` (issue 27: the representation a probe reads then has the theory's dimension).

    Parameters
    ----------
    config : BottleneckConfig
        The shape, with the bottleneck's dimension ``K``.
    **shape
        As :class:`Transformer` takes them: ``vocab, length, out, k, causal, key``.
    """

    layer: eqx.nn.Linear

    def __init__(self, config: BottleneckConfig, **shape) -> None:
        super().__init__(config, head_input=config.bottleneck, **shape)
        self.layer = eqx.nn.Linear(config.width, config.bottleneck,
                                   key=jax.random.fold_in(shape["key"], 1))  # fmt: skip

    def features(self, states: jax.Array) -> jax.Array:
        """``W h + b`` of hidden states ``(..., d)``: shape ``(..., K)``."""
        flat = states.reshape(-1, states.shape[-1])
        return jax.vmap(self.layer)(flat).reshape(*states.shape[:-1], -1)
