"""The libraries a user already has: hmmlearn's CategoricalHMM and a source's own draws."""

from __future__ import annotations

import numpy as np
import pytest
from hmmlearn.hmm import CategoricalHMM
from strategies import random_spec

from lookaround.base.errors import InputError
from lookaround.theory.cooccurrence import sample_stream
from lookaround.theory.hmms import to_hmmlearn
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source
from lookaround.theory.sources import Source, source_from_dict

HOMOGENEOUS = ["topic", "markov", "hmm", "disjoint", "sbm-walk"]
FIELDS = ("prior", "init", "trans", "emit")


def _homogeneous_spec(seed: int) -> dict:
    """A random ``hmm`` spec with one transition and one emission law per class."""
    spec = random_spec("hmm", r=3, V=4, H=3, T=4, seed=seed, sparsity=0.3)
    spec["trans"] = [steps[0] for steps in spec["trans"]]
    spec["emit"] = [steps[0] for steps in spec["emit"]]
    return spec


def _sources():
    yield from (preset_source(name) for name in HOMOGENEOUS)
    for seed in range(4):
        yield source_from_dict(_homogeneous_spec(seed), name=f"random-{seed}")


def _exact_law(source: Source) -> tuple[np.ndarray, np.ndarray]:
    """Every sequence and its ``P(x)``, from the source's own recurrences."""
    objective = parse_objective("ar", source.length)
    tokens, q, _ = (np.concatenate(part) for part in zip(*sample_stream(source, objective)))
    return tokens, q.sum(axis=1)


@pytest.mark.parametrize("source", list(_sources()), ids=lambda s: s.name)
def test_a_source_goes_to_hmmlearn_and_back_unchanged(source):
    models = source.to_hmmlearn()
    assert len(models) == source.n_classes
    back = Source.from_hmmlearn(models, length=source.length, prior=source.prior)
    for name in FIELDS:
        np.testing.assert_allclose(getattr(back, name), getattr(source, name), atol=1e-12, rtol=0)


@pytest.mark.parametrize("source", list(_sources()), ids=lambda s: s.name)
def test_the_combined_model_scores_the_sources_exact_law(source):
    """hmmlearn's forward pass on the block-diagonal model is ``log P(x)``, every ``x``."""
    (model,) = source.to_hmmlearn(combined=True)
    assert model.n_components == source.n_classes * source.n_states
    tokens, law = _exact_law(source)
    live = np.flatnonzero(law > 1e-300)[:200]
    logs = np.array([model.score(tokens[i].reshape(-1, 1)) for i in live])
    np.testing.assert_allclose(logs, np.log(law[live]), atol=1e-12, rtol=0)


def test_a_fitted_hmmlearn_model_becomes_a_source_the_theory_reads():
    rng = np.random.default_rng(0)
    truth = CategoricalHMM(n_components=2, n_features=3, init_params="", random_state=0)
    truth.startprob_ = np.array([0.6, 0.4])
    truth.transmat_ = np.array([[0.9, 0.1], [0.2, 0.8]])
    truth.emissionprob_ = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    x, _ = truth.sample(3000, random_state=rng.integers(1 << 31))
    fitted = CategoricalHMM(n_components=2, n_features=3, n_iter=20, random_state=0).fit(x)
    small = CategoricalHMM(n_components=1, n_features=3, init_params="")
    small.startprob_, small.transmat_ = np.array([1.0]), np.array([[1.0]])
    small.emissionprob_ = np.array([[1 / 3, 1 / 3, 1 / 3]])
    source = Source.from_hmmlearn([fitted, small], length=4, prior=[0.5, 0.5], name="fitted")
    assert (source.n_classes, source.n_states, source.vocab) == (2, 2, 3)
    assert source.init[1, 1] == 0 and source.trans[1, 0, 1, 1] == 1  # the padded state
    _, law = _exact_law(source)
    assert abs(law.sum() - 1) < 1e-12


def test_what_hmmlearn_cannot_hold_is_refused_naming_the_field():
    with pytest.raises(InputError, match=r"^source\.emit changes with t"):
        to_hmmlearn(preset_source("positional"))
    spec = random_spec("hmm", r=2, V=3, H=2, T=4, seed=0, sparsity=0.0)
    spec["emit"] = [steps[0] for steps in spec["emit"]]  # the transitions still change
    with pytest.raises(InputError, match=r"^source\.trans changes with t"):
        to_hmmlearn(source_from_dict(spec))
    with pytest.raises(InputError, match=r"^models\[0\]: not a CategoricalHMM"):
        Source.from_hmmlearn(object(), length=3)
    a, b = (CategoricalHMM(n_components=1, n_features=v, init_params="") for v in (2, 3))
    for m, v in ((a, 2), (b, 3)):
        m.startprob_, m.transmat_ = np.ones(1), np.ones((1, 1))
        m.emissionprob_ = np.full((1, v), 1 / v)
    with pytest.raises(InputError, match=r"^models: every model must emit the same tokens"):
        Source.from_hmmlearn([a, b], length=3)


def test_a_missing_hmmlearn_is_one_line_naming_the_extra(monkeypatch):
    import lookaround.theory.hmms as hmms

    def absent(module, extra, what):
        raise InputError(f"{what} needs {module}: pip install 'lookaround[{extra}]'")

    monkeypatch.setattr(hmms, "require", absent)
    with pytest.raises(InputError, match=r"lookaround\[hmm\]"):
        preset_source("markov").to_hmmlearn()


def test_sample_is_seeded_and_draws_the_sources_law():
    source = preset_source("markov")
    first, again = source.sample(20_000, seed=7), source.sample(20_000, seed=7)
    assert np.array_equal(first.tokens, again.tokens)
    assert np.array_equal(first.classes, again.classes)
    assert not np.array_equal(first.tokens, source.sample(20_000, seed=8).tokens)
    # the first two tokens' joint law against the exact one, within 4.5 standard errors
    tokens, law = _exact_law(source)
    vocab = source.vocab
    exact = np.zeros(vocab * vocab)
    np.add.at(exact, tokens[:, 0] * vocab + tokens[:, 1], law)
    seen = np.bincount(first.tokens[:, 0] * vocab + first.tokens[:, 1], minlength=vocab**2)
    se = np.sqrt(exact * (1 - exact) / 20_000)
    assert np.all(np.abs(seen / 20_000 - exact) <= 4.5 * se + 1e-12)
    share = np.mean(first.classes == 0)
    assert abs(share - source.prior[0]) <= 4.5 * np.sqrt(0.25 / 20_000)
