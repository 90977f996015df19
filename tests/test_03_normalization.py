"""Chapter 03_normalization: what the generic exercise tests do not cover.

- the hidden cases cover the contract (every rank, both modes, None arguments, eps, momentum,
  small variances, float32, int and tuple normalized_shape);
- running statistics are updated in place, as torch updates them, and a wrong update is
  reported on the argument it concerns;
- typical mistakes, written as a student would write them, get their specific hints;
- the ``BatchNorm`` layer of ``prettynn.layers`` matches ``torch.nn.BatchNorm1d``;
- the landscape experiment: batch norm smooths the deep network's landscape (a reduced run).
"""

from __future__ import annotations

import numpy as np
import pytest

from prettynn.model import get
from prettynn.exercises import normalization as declarations
from prettynn.feedback import case_report
from prettynn.judging import evaluate, hidden_verdict

from .conftest import load_functions


def visible(name: str, source: str):
    """The visible verdict of the function ``name`` defined by ``source``."""
    exercise = get(name)
    return evaluate(exercise, load_functions(source)[name], exercise.visible_cases())


def hints(verdict) -> set[str]:
    return {result.hint for result in verdict.failures if result.hint}


def hidden(name: str, seed: int = 0):
    return get(name).hidden_cases(np.random.default_rng(seed))


# ---------------------------------------------------------------- the contract is covered


def test_batch_norm_hidden_cases_cover_the_contract():
    cases = hidden("batch_norm")
    assert {case.args[0].ndim for case in cases} == {2, 3, 4}
    training = [case for case in cases if case.kwargs["training"]]
    evaluation = [case for case in cases if not case.kwargs["training"]]
    assert training and evaluation
    assert all(case.args[1] is not None for case in evaluation)  # torch needs running statistics to evaluate
    assert any(case.args[1] is None and case.args[2] is None for case in training)
    assert any(case.kwargs["weight"] is None and case.kwargs["bias"] is None for case in cases)
    assert len({case.kwargs["eps"] for case in cases}) >= 3
    assert len({case.kwargs["momentum"] for case in cases}) >= 3
    assert any(case.args[0].dtype == np.float32 for case in cases)
    assert any(case.args[0].std(axis=0).max() < 1e-2 for case in cases)  # small variances
    # a batch of one sequence or image in training (torch refuses (1, C) in training: never generated)
    assert any(case.args[0].shape[0] == 1 and case.args[0].ndim > 2 for case in training)
    assert not any(case.args[0].shape[0] * np.prod(case.args[0].shape[2:]) == 1 for case in training)


def test_batch_norm_backward_and_layer_norm_cases_cover_the_contract():
    backward = hidden("batch_norm_backward")
    assert {case.args[1].ndim for case in backward} == {2, 3, 4}
    assert any(case.kwargs["weight"] is None for case in backward)
    assert any(case.args[1].dtype == np.float32 for case in backward)
    layer = hidden("layer_norm")
    shapes = [case.args[1] for case in layer]
    assert any(isinstance(s, int) for s in shapes) and any(isinstance(s, tuple) and len(s) >= 2 for s in shapes)
    assert any(case.kwargs["weight"] is None for case in layer)
    assert any(isinstance(s, tuple) and len(s) == case.args[0].ndim for s, case in zip(shapes, layer))


def test_reference_gradients_have_parameter_shapes_without_weight():
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    grad_x, grad_weight, grad_bias = declarations.torch_batch_norm_backward(np.ones_like(x), x)
    assert grad_x.shape == x.shape and grad_weight.shape == grad_bias.shape == (3,)
    np.testing.assert_allclose(grad_bias, np.full(3, 8.0))  # sum of ones over N * L values
    np.testing.assert_allclose(grad_x, 0.0, atol=1e-12)  # a constant upstream gradient has no effect


# ---------------------------------------------------------------- running statistics, in place


def test_reference_updates_the_arrays_it_is_given_as_torch_does():
    import torch

    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 3.0, size=(5, 4, 6))
    mean, var = np.zeros(4), np.ones(4)
    same_mean, same_var = mean, var
    declarations.torch_batch_norm(x, mean, var, training=True, momentum=0.3)
    module = torch.nn.BatchNorm1d(4, momentum=0.3).double()
    module(torch.from_numpy(x))
    assert mean is same_mean and var is same_var
    np.testing.assert_allclose(mean, module.running_mean.numpy())
    np.testing.assert_allclose(var, module.running_var.numpy())
    values = x.transpose(1, 0, 2).reshape(4, -1)
    np.testing.assert_allclose(var, 0.7 + 0.3 * values.var(axis=1, ddof=1))  # the unbiased variance


def test_the_solution_updates_the_same_array_objects(reference_solutions):
    batch_norm = reference_solutions["batch_norm"]
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 2, 4, 4))
    mean, var = np.zeros(2), np.ones(2)
    expected_mean, expected_var = mean.copy(), var.copy()
    declarations.torch_batch_norm(x, expected_mean, expected_var, training=True)
    batch_norm(x, mean, var, training=True)
    np.testing.assert_allclose(mean, expected_mean)
    np.testing.assert_allclose(var, expected_var)
    before = (mean.copy(), var.copy())
    batch_norm(x, mean, var, training=False)
    assert np.array_equal(mean, before[0]) and np.array_equal(var, before[1])


SOLUTION = '''
def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        m = x.size // x.shape[1]
        if running_mean is not None:
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean
        if running_var is not None:
            running_var[...] = (1 - momentum) * running_var + momentum * var * m / (m - 1)
        norm_mean, norm_var = mean, var
    else:
        norm_mean, norm_var = running_mean, running_var
    out = (x - norm_mean.reshape(shape)) / np.sqrt(norm_var.reshape(shape) + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)
'''


def variant(old: str, new: str) -> str:
    assert old in SOLUTION
    return SOLUTION.replace(old, new)


def test_the_student_style_solution_passes():
    assert visible("batch_norm", SOLUTION).all_passed
    assert hidden_verdict("batch_norm", load_functions(SOLUTION)["batch_norm"]).all_passed


def test_rebinding_the_running_statistics_is_named():
    source = variant("running_mean[...] =", "running_mean =")
    verdict = visible("batch_norm", source)
    assert any(r.problem == "`running_mean` was not updated in place." for r in verdict.failures)
    assert any("only rebinds a local name" in hint for hint in hints(verdict))


@pytest.mark.parametrize(("old", "new", "argument", "hint"), [
    ("momentum * var * m / (m - 1)", "momentum * var", "running_var", declarations.BIASED_RUNNING_VAR_HINT),
    ("(1 - momentum) * running_mean + momentum * mean", "momentum * running_mean + (1 - momentum) * mean",
     "running_mean", declarations.MOMENTUM_REVERSED_HINT),
    ("(1 - momentum) * running_var + momentum * var", "momentum * running_var + (1 - momentum) * var",
     "running_var", declarations.MOMENTUM_REVERSED_HINT),
])
def test_a_wrong_running_update_is_named_on_its_argument(old, new, argument, hint):
    # The output is right: the failure names the argument, and the mistake that explains what it holds.
    verdict = visible("batch_norm", variant(old, new))
    assert not verdict.all_passed
    assert all(r.problem == f"`{argument} after the call` has wrong values." for r in verdict.failures)
    assert hints(verdict) == {hint}
    assert hidden_verdict("batch_norm", load_functions(variant(old, new))["batch_norm"]).points() < 3


def test_running_update_hints_do_not_name_other_mistakes():
    both_reversed = variant("(1 - momentum) * running_mean + momentum * mean",
                            "momentum * running_mean + (1 - momentum) * mean").replace(
        "(1 - momentum) * running_var + momentum * var", "momentum * running_var + (1 - momentum) * var")
    assert hints(visible("batch_norm", both_reversed)) == {declarations.MOMENTUM_REVERSED_HINT}
    eps_outside = variant("np.sqrt(norm_var.reshape(shape) + eps)", "(np.sqrt(norm_var.reshape(shape)) + eps)")
    assert hints(visible("batch_norm", eps_outside)) == {declarations.EPS_OUTSIDE_HINT}


# ---------------------------------------------------------------- typical mistakes, as students write them


@pytest.mark.parametrize(("old", "new", "hint"), [
    ("np.sqrt(norm_var.reshape(shape) + eps)", "(np.sqrt(norm_var.reshape(shape)) + eps)",
     declarations.EPS_OUTSIDE_HINT),
    ("mean, var = x.mean(axis=axes), x.var(axis=axes)", "mean, var = x.mean(axis=axes), x.var(axis=axes, ddof=1)",
     declarations.UNBIASED_HINT),
    ("norm_mean, norm_var = running_mean, running_var",
     "norm_mean, norm_var = x.mean(axis=axes), x.var(axis=axes)", declarations.EVAL_BATCH_STATS_HINT),
])
def test_batch_norm_mistakes_get_their_hints(old, new, hint):
    verdict = visible("batch_norm", variant(old, new))
    assert not verdict.all_passed
    assert hints(verdict) == {hint}, [case_report(r) for r in verdict.failures]


WRONG_AXES = '''
def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        channel_axes = (0,) + tuple(range(2, x.ndim))
        m = x.size // x.shape[1]
        if running_mean is not None:
            running_mean[...] = (1 - momentum) * running_mean + momentum * x.mean(axis=channel_axes)
        if running_var is not None:
            running_var[...] = (1 - momentum) * running_var + momentum * x.var(axis=channel_axes) * m / (m - 1)
        axes = AXES
        out = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    else:
        out = (x - running_mean.reshape(shape)) / np.sqrt(running_var.reshape(shape) + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)
'''


@pytest.mark.parametrize("axes", ["0", "tuple(range(1, x.ndim))", "None"])
def test_statistics_over_the_wrong_axes_get_their_hint(axes):
    verdict = visible("batch_norm", WRONG_AXES.replace("AXES", axes))
    assert not verdict.all_passed
    assert hints(verdict) == {declarations.WRONG_AXES_HINT}, [case_report(r) for r in verdict.failures]


BACKWARD = '''
def batch_norm_backward(grad_output, x, weight=None, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    x_hat = (x - mu) / np.sqrt(var + eps)
    gamma = np.ones(x.shape[1]) if weight is None else weight
    dx_hat = grad_output * gamma.reshape(shape)
    m = x.size // x.shape[1]
    dvar = np.sum(dx_hat * (x - mu), axis=axes, keepdims=True) * -0.5 * (var + eps) ** -1.5
    dmu = -np.sum(dx_hat, axis=axes, keepdims=True) / np.sqrt(var + eps)
    grad_x = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mu) / m + dmu / m
    return grad_x, (grad_output * x_hat).sum(axis=axes), grad_output.sum(axis=axes)
'''


@pytest.mark.parametrize(("old", "new", "hint"), [
    (" + dmu / m", "", declarations.MEAN_PATH_HINT),
    (" + dvar * 2 * (x - mu) / m", "", declarations.VARIANCE_PATH_HINT),
    (" + dvar * 2 * (x - mu) / m + dmu / m", "", declarations.CONSTANT_STATISTICS_HINT),
    ("var = x.var(axis=axes, keepdims=True)", "var = x.var(axis=axes, keepdims=True, ddof=1)",
     declarations.N_MINUS_ONE_HINT),
    ("(grad_output * x_hat).sum(axis=axes)", "(grad_output * x_hat).sum(axis=0)", declarations.PARAMETER_AXES_HINT),
    ("grad_output.sum(axis=axes)", "grad_output.sum(axis=0)", declarations.PARAMETER_AXES_HINT),
])
def test_batch_norm_backward_mistakes_get_their_hints(old, new, hint):
    assert visible("batch_norm_backward", BACKWARD).all_passed
    assert old in BACKWARD
    verdict = visible("batch_norm_backward", BACKWARD.replace(old, new))
    assert not verdict.all_passed
    assert hints(verdict) == {hint}, [case_report(r) for r in verdict.failures]


LAYER_NORM = '''
def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    dims = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    axes = tuple(range(x.ndim - len(dims), x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    out = (x - mu) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias
'''


@pytest.mark.parametrize(("old", "new", "hint"), [
    ("axes = tuple(range(x.ndim - len(dims), x.ndim))", "axes = tuple(range(len(dims)))",
     declarations.LAYER_NORM_AXES_HINT),
    ("axes = tuple(range(x.ndim - len(dims), x.ndim))", "axes = -1", declarations.LAYER_NORM_AXES_HINT),
    ("np.sqrt(x.var(axis=axes, keepdims=True) + eps)", "(np.sqrt(x.var(axis=axes, keepdims=True)) + eps)",
     declarations.EPS_OUTSIDE_HINT),
])
def test_layer_norm_mistakes_get_their_hints(old, new, hint):
    assert visible("layer_norm", LAYER_NORM).all_passed
    verdict = visible("layer_norm", LAYER_NORM.replace(old, new))
    assert not verdict.all_passed
    assert hints(verdict) == {hint}, [case_report(r) for r in verdict.failures]


# ---------------------------------------------------------------- the BatchNorm layer of prettynn.layers


def test_batch_norm_layer_matches_torch(reference_solutions):
    import torch

    from prettynn.layers import BatchNorm

    rng = np.random.default_rng(5)
    layer = BatchNorm(4, reference_solutions["batch_norm"], reference_solutions["batch_norm_backward"], momentum=0.2)
    layer.params["weight"][...] = rng.normal(size=4)
    layer.params["bias"][...] = rng.normal(size=4)
    module = torch.nn.BatchNorm1d(4, momentum=0.2).double()
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(layer.params["weight"]))
        module.bias.copy_(torch.from_numpy(layer.params["bias"]))
    for _ in range(3):
        x = rng.normal(1.0, 2.0, size=(6, 4))
        g = rng.normal(size=(6, 4))
        x_torch = torch.tensor(x, requires_grad=True)
        out_torch = module(x_torch)
        out_torch.backward(torch.from_numpy(g))
        np.testing.assert_allclose(layer.forward(x, training=True), out_torch.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(layer.backward(g), x_torch.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(layer.grads["weight"], module.weight.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(layer.grads["bias"], module.bias.grad.numpy(), atol=1e-12)
        module.zero_grad()
    np.testing.assert_allclose(layer.running_mean, module.running_mean.numpy())
    np.testing.assert_allclose(layer.running_var, module.running_var.numpy())
    module.eval()
    x = rng.normal(size=(1, 4))  # a batch of one, in evaluation mode
    np.testing.assert_allclose(layer.forward(x, training=False), module(torch.from_numpy(x)).detach().numpy())


# ---------------------------------------------------------------- the landscape experiment


def test_batch_norm_smooths_the_deep_networks_landscape():
    from prettynn.experiments.landscape import LandscapeConfig, run_landscape

    result = run_landscape(LandscapeConfig(depths=(8,), learning_rates=(0.05,), grid=3))
    (row,) = result.ratios()
    assert row["loss_range_ratio"] > 10
    assert row["grad_change_ratio"] > 3
    assert row["beta_ratio"] > 1.5
    assert result.seconds < 30


def test_landscape_runs_are_seeded_and_json_safe():
    import json

    from prettynn.experiments.landscape import LandscapeConfig, run_landscape

    config = LandscapeConfig(depths=(2,), learning_rates=(0.05,), steps=20, grid=3)
    first, again = run_landscape(config), run_landscape(config)
    assert first.as_traits() == again.as_traits()
    traits = first.as_traits()
    json.dumps(traits, allow_nan=False)
    run = traits[0]
    assert len(run["steps"]) == 2 and len(run["loss"][0]) == 2
    assert np.array(run["slice_loss"]).shape == (3, 3)
    assert run["slice_loss"][1][1] == pytest.approx(run["final_loss"])  # the slice's centre is the trained weights


def test_filter_normalized_directions_match_the_weights_row_norms():
    import torch

    from prettynn.experiments.landscape import filter_normalized_direction, init_parameters

    generator = torch.Generator().manual_seed(0)
    parameters = init_parameters(2, 16, True, generator)
    for p, d in zip(parameters, filter_normalized_direction(parameters, generator)):
        if p.dim() == 2:
            torch.testing.assert_close(d.norm(dim=1), p.detach().norm(dim=1))
        else:
            assert not d.any()
