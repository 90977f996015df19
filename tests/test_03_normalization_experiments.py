"""Chapter 03's experiments added in the second edition: the learning-rate sweep, the activation
percentiles (Ioffe & Szegedy, 2015, Fig. 1) and the landscape's slice with the rows' norms kept."""

from __future__ import annotations

import math

import numpy as np
import pytest


def test_sweep_is_seeded_and_marks_diverged_runs():
    from prettynn.experiments.learning_rate_sweep import SweepConfig, run_sweep

    config = SweepConfig(learning_rates=(0.1, 50.0), seeds=(0,), depth=3, epochs=1)
    first, again = run_sweep(config), run_sweep(config)
    assert first.runs == again.runs
    assert len(first.runs) == 2 * 2 * 1
    (steady,) = first.select(0.1, True)
    assert math.isfinite(steady.train_loss) and 0.0 <= steady.val_accuracy <= 1.0
    (huge,) = first.select(50.0, False)
    assert huge.diverged or huge.val_accuracy < 0.3  # a plain network does not train at this rate


def test_batch_norm_trains_where_the_plain_network_does_not():
    # the chapter's claim, on one seed of its configuration
    from prettynn.experiments.learning_rate_sweep import SweepConfig, run_sweep

    result = run_sweep(SweepConfig(learning_rates=(1.0,), seeds=(1,), depth=8))
    (plain,), (normed,) = result.select(1.0, False), result.select(1.0, True)
    assert plain.diverged or plain.val_accuracy < 0.3
    assert not normed.diverged and normed.val_accuracy > 0.75


def test_percentiles_have_their_shapes_and_batch_norm_steadies_the_medians():
    from prettynn.experiments.activation_percentiles import PercentileConfig, run_percentiles

    config = PercentileConfig(steps=300, record_every=50, width=32)
    result = run_percentiles(config)
    for run in (result.plain, result.batch_norm):
        assert run.steps.tolist() == list(range(0, 301, 50))
        assert run.percentiles.shape == (7, 3, 32) and run.val_accuracy.shape == (7,)
        assert np.all(np.diff(run.percentiles, axis=1) >= 0)  # 15th <= 50th <= 85th
    # batch norm: over the validation batch, each unit's input has mean beta and spread set by gamma
    assert np.median(result.batch_norm.median_drift()) < np.median(result.plain.median_drift())


def test_line_with_kept_norms_starts_at_the_trained_weights_and_undoes_the_norm_growth():
    import torch

    from prettynn.experiments.landscape import LandscapeConfig, run_landscape, line_keeping_norms, init_parameters

    result = run_landscape(LandscapeConfig(depths=(3,), learning_rates=(0.05,), steps=20, grid=5))
    for run in result.runs:
        assert len(run.line_loss_kept_norms) == 5
        assert run.line_loss_kept_norms[2] == pytest.approx(run.final_loss)  # a = 0: the trained weights
    # moving along the weights themselves only rescales the rows: with the norms kept, nothing changes
    generator = torch.Generator().manual_seed(0)
    parameters = init_parameters(2, 8, False, generator)
    x = torch.randn(16, 64, generator=generator, dtype=torch.float64)
    y = torch.arange(16) % 10
    along_weights = [p.detach().clone() if p.dim() == 2 else torch.zeros_like(p) for p in parameters]
    line = line_keeping_norms(parameters, along_weights, x, y, 2, False, grid=3, span=0.5)
    assert line[0] == pytest.approx(line[1]) and line[2] == pytest.approx(line[1])
