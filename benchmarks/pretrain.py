"""Training speed of ``lookaround pretrain`` against a plain training loop, side by side.

The peer is the loop a JAX user would write directly: the same network, optimizer and loss,
one ``eqx.filter_jit`` step per minibatch, batches drawn by the same numpy code. lookaround
runs the same steps as compiled scans of ``CHUNK_STEPS`` steps. Both are timed after their
compile, in this process, alternating, medians of ``--repeats``; the losses of the two routes
must agree (the same draws, the same updates) to float32 rounding.

    python benchmarks/pretrain.py [--steps 600] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import equinox as eqx
import numpy as np

from lookaround.base.seeds import streams
from lookaround.simulations.architectures import TransformerConfig
from lookaround.simulations.networks import Transformer
from lookaround.simulations.training import TrainingConfig
from lookaround.simulations.transformer import (
    _LOSSES,
    _initial_key,
    _optimizer,
    pretrain_transformer,
    training_batch,
)
from lookaround.theory.pattern_laws import pattern_law
from lookaround.theory.presets import preset_source


@eqx.filter_jit
def _plain_step(model, opt_state, batch, optimizer, loss_name, last_only):
    loss_fn = _LOSSES[loss_name]
    value, grads = eqx.filter_value_and_grad(lambda m: loss_fn(m, batch, last_only))(model)
    updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(model, eqx.is_array))
    return eqx.apply_updates(model, updates), opt_state, value


def plain_loop(source, objective: str, config: TrainingConfig, seed: int) -> np.ndarray:
    """The reference: one compiled step per minibatch, the same draws and initial weights."""
    law = pattern_law(objective, source.length)
    s = streams(seed)
    draws, patterns = np.random.default_rng(s.draws), np.random.default_rng(s.patterns)
    model = Transformer(TransformerConfig(), vocab=source.vocab, length=source.length,
                        out=config.outputs(source.vocab), k=config.k, causal=law.causal,
                        key=_initial_key(seed))  # fmt: skip
    optimizer = _optimizer(config)
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    losses = []
    for _ in range(config.steps):
        batch = training_batch(source, law, draws=draws, patterns=patterns, n=config.batch)
        model, opt_state, value = _plain_step(
            model, opt_state, batch, optimizer, config.loss, law.last_only
        )
        losses.append(float(value))
    return np.array(losses)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    config, shape = TrainingConfig(steps=args.steps), TransformerConfig()
    print(f"steps per second, {args.steps} steps, batch {config.batch}, width {shape.width}, "
          f"{shape.layers} layers; medians of {args.repeats} after a compile")  # fmt: skip
    for name, objective in (("markov", "ar"), ("markov", "mlm:2"), ("markov", "vmlm")):
        source = preset_source(name)
        ours = pretrain_transformer(source, objective, config=config, seed=0).curve  # compile
        plain = plain_loop(source, objective, config, seed=0)
        assert np.allclose(ours, plain, rtol=1e-4, atol=1e-5), "the two routes must agree"
        times: dict[str, list[float]] = {"lookaround": [], "plain": []}
        for repeat in range(args.repeats):
            start = time.perf_counter()
            pretrain_transformer(source, objective, config=config, seed=repeat + 1)
            times["lookaround"].append(time.perf_counter() - start)
            start = time.perf_counter()
            plain_loop(source, objective, config, seed=repeat + 1)
            times["plain"].append(time.perf_counter() - start)
        ours_rate = args.steps / statistics.median(times["lookaround"])
        plain_rate = args.steps / statistics.median(times["plain"])
        print(f"{name:<7} {objective:<6} lookaround {ours_rate:7.1f}/s  plain loop "
              f"{plain_rate:7.1f}/s  ratio {ours_rate / plain_rate:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
