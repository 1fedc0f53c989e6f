"""A trained network with its run (:class:`TrainedTransformer`), and its file form: a JSON
header line, then equinox's serialised leaves.

The header holds what rebuilds the network's skeleton (architecture and its settings, the
training config, ``V``, ``T``, whether it is causal) and the run's record (objective, seed,
loss curve, target frequencies); ``equinox.tree_serialise_leaves`` then fills the skeleton's
arrays, the layout equinox's own serialisation guide uses. A file is written to a temporary
name and moved into place, so an interrupted save leaves no half file and a second writer
never mixes its bytes into the first's.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from lookaround.base.errors import InputError
from lookaround.base.version import __version__
from lookaround.simulations import networks
from lookaround.simulations.architectures import (
    TransformerConfig,
    architecture_config,
    architecture_of,
)
from lookaround.simulations.networks import Transformer
from lookaround.simulations.training import TrainingConfig, training_config

__all__ = ["FORMAT", "TrainedTransformer"]

FORMAT = "lookaround.transformer/1"


@dataclass(frozen=True, eq=False)
class TrainedTransformer:
    """A pretrained network and how it got there.

    Attributes
    ----------
    model : Transformer
        The network (:mod:`lookaround.simulations.networks`).
    config : TrainingConfig
    objective : str
        The objective it was trained under.
    seed : int
    curve : ndarray
        The minibatch training loss at every step.
    target_mass : ndarray
        Frequencies of the trained targets (``P_t`` as the run saw it): a spectral model reads
        ``P(t|c) ~ P_t f(c).g(t)`` with it.
    architecture : TransformerConfig
        The network's shape (a subclass names another architecture).
    """

    model: Transformer
    config: TrainingConfig
    objective: str
    seed: int
    curve: np.ndarray
    target_mass: np.ndarray = field(repr=False)
    architecture: TransformerConfig = field(default_factory=TransformerConfig)

    @property
    def causal(self) -> bool:
        """Whether the network was trained with a causal mask (its objective's kind says)."""
        return self.model.causal

    def save(self, path: str | Path) -> Path:
        """Write the network and its run to ``path``; :meth:`load` reads back the same bits.

        Parameters
        ----------
        path : str or Path
            The file (conventionally ``.eqx``).

        Returns
        -------
        Path
            Where it was written.

        Examples
        --------
        >>> import tempfile
        >>> from lookaround.theory.presets import preset_source
        >>> from lookaround.simulations.transformer import pretrain_transformer
        >>> from lookaround.simulations.training import TrainingConfig
        >>> run = pretrain_transformer(preset_source("topic"), "ar",
        ...                            config=TrainingConfig(steps=5, batch=8))
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     again = TrainedTransformer.load(run.save(f"{tmp}/run.eqx"))
        >>> again.objective, again.curve.tolist() == run.curve.tolist()
        ('ar', True)
        """
        path = Path(path)
        model = self.model
        header = {
            "format": FORMAT,
            "lookaround": __version__,
            "architecture": {"architecture": architecture_of(self.architecture).name,
                             **asdict(self.architecture)},
            "training": asdict(self.config),
            "objective": self.objective,
            "seed": self.seed,
            "vocab": int(self.target_mass.size),
            "length": int(model.position.shape[0]),
            "causal": bool(model.causal),
            "curve": self.curve.tolist(),
            "target_mass": self.target_mass.tolist(),
        }  # fmt: skip
        # a name of its own per writer: two saves to one path never share a partial file
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        partial = Path(name)
        try:
            with os.fdopen(handle, "wb") as f:
                f.write((json.dumps(header) + "\n").encode())
                eqx.tree_serialise_leaves(f, model)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path: str | Path) -> TrainedTransformer:
        """A network :meth:`save` wrote: the same network, config, objective, seed, curve and
        target frequencies.

        Parameters
        ----------
        path : str or Path
            The file.

        Returns
        -------
        TrainedTransformer

        Raises
        ------
        InputError
            When the file is not one (its first line names the format it expected).
        """
        with open(path, "rb") as f:
            header = _header(f.readline(), path)
            architecture = architecture_config(header["architecture"])
            config = training_config(header["training"])
            build = getattr(networks, architecture_of(architecture).network)
            skeleton = build(
                architecture,
                vocab=header["vocab"],
                length=header["length"],
                out=config.outputs(header["vocab"]),
                k=config.k,
                causal=header["causal"],
                key=jax.random.PRNGKey(0),  # every array is overwritten by the file's
            )
            model = eqx.tree_deserialise_leaves(f, skeleton)
        return cls(
            model=model,
            config=config,
            objective=header["objective"],
            seed=header["seed"],
            curve=np.asarray(header["curve"], dtype=np.float64),
            target_mass=np.asarray(header["target_mass"], dtype=np.float64),
            architecture=architecture,
        )


def _header(line: bytes, path: str | Path) -> dict:
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InputError(f"{path}: not a saved network (its first line is not a {FORMAT} header)")
    return header
