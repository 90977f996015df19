"""prettynn.widgets.convolution: the classes (fast) and their ES modules' arithmetic against torch (in Chromium)."""

import json

import numpy as np
import pytest

from prettynn.widgets import esm
from prettynn.widgets.convolution import (KERNEL_SIZES, OutputSizeExplorer, SlidingKernel, default_images,
                                          default_kernels)

from .browser import WIDGET_PAGE, browser  # noqa: F401  (fixture)

SLIDING_TRAITS = ("images", "image", "kernels", "kernel", "kernel_size", "padding", "stride", "dilation",
                  "position", "channels")
SIZE_TRAITS = ("input_size", "kernel_size", "stride", "padding", "dilation", "same")


def test_sliding_kernel_builds_with_defaults():
    widget = SlidingKernel()
    assert widget.images == default_images() and widget.kernels == default_kernels()
    assert (widget.image, widget.kernel) == ("digit 0 (8 x 8)", "vertical edge")
    assert (widget.kernel_size, widget.padding, widget.stride, widget.dilation) == (3, 1, 1, 1)
    assert (widget.position, widget.channels) == (0, 1)


def test_default_images_are_small_grids_and_kernels_come_in_every_size():
    for name, image in default_images().items():
        shape = np.shape(image)
        assert len(shape) == 2 and max(shape) <= 12, name
    digit = np.array(default_images()["digit 0 (8 x 8)"])
    assert digit.shape == (8, 8) and 0 <= digit.min() and digit.max() <= 1
    for name, by_size in default_kernels().items():
        assert [np.shape(kernel) for kernel in by_size] == [(k, k) for k in KERNEL_SIZES], name
    assert default_kernels()["vertical edge"][1] == [[1.0, -1.0], [1.0, -1.0]]


@pytest.mark.parametrize(("cls", "name", "traits"), [(SlidingKernel, "sliding_kernel", SLIDING_TRAITS),
                                                      (OutputSizeExplorer, "output_size", SIZE_TRAITS)])
def test_widgets_send_their_es_module_and_synced_traits(cls, name, traits):
    widget = cls()
    assert widget._esm == esm(name) and "export default" in widget._esm
    for trait in traits:
        assert widget.trait_metadata(trait, "sync"), f"trait {trait} is not synced"
        assert trait in widget.keys


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernel_size": 6}, "kernel_size must be an integer from 1 to 5, got 6"),
        ({"padding": -1}, "padding must be an integer from 0 to 3"),
        ({"stride": 0}, "stride must be an integer from 1 to 3"),
        ({"dilation": 4}, "dilation must be an integer from 1 to 3"),
        ({"channels": 2}, "channels must be 1 (one channel) or 3"),
        ({"image": "cat"}, "image must be one of"),
        ({"kernel": "sobel"}, "kernel must be one of"),
        ({"images": {"big": np.zeros((13, 4)).tolist()}, "image": "big"}, "1 to 12 rows and columns"),
        ({"kernels": {"bad": [[[1.0]]]}, "kernel": "bad"}, "for each k in 1..5"),
    ],
)
def test_sliding_kernel_rejects_invalid_arguments(kwargs, message):
    with pytest.raises(Exception, match=message.replace("(", r"\(").replace(")", r"\)")):
        SlidingKernel(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_size": 0}, "input_size must be an integer from 1 to 16"),
        ({"kernel_size": 8}, "kernel_size must be an integer from 1 to 7"),
        ({"stride": 5}, "stride must be an integer from 1 to 4"),
        ({"padding": 5}, "padding must be an integer from 0 to 4"),
        ({"dilation": 0}, "dilation must be an integer from 1 to 3"),
    ],
)
def test_output_size_explorer_rejects_invalid_arguments(kwargs, message):
    with pytest.raises(Exception, match=message):
        OutputSizeExplorer(**kwargs)


def test_widget_states_round_trip_through_json():
    for widget, traits in ((SlidingKernel(kernel_size=2, padding=0, channels=3), SLIDING_TRAITS),
                           (OutputSizeExplorer(input_size=9, same=True), SIZE_TRAITS)):
        state = {name: getattr(widget, name) for name in traits}
        assert json.loads(json.dumps(state)) == state


# ---------------------------------------------------------------- the ES modules in Chromium

# (image, kernel, kernel size, padding, stride, dilation, channels)
SLIDING_SETTINGS = [
    ("digit 0 (8 x 8)", "vertical edge", 3, 1, 1, 1, 1),
    ("digit 3 (8 x 8)", "integers", 4, 2, 3, 1, 1),
    ("dark stripe (6 x 8)", "horizontal edge", 2, 0, 2, 2, 1),
    ("numbers (5 x 5)", "top-left tap only", 5, 3, 1, 1, 1),
    ("numbers (5 x 5)", "integers", 3, 1, 2, 1, 3),
    ("digit 3 (8 x 8)", "vertical edge", 2, 1, 1, 3, 3),
]


def _open(browser, name, traits):  # noqa: F811
    """A page running widget module ``name`` on ``traits``, ready."""
    page = browser.new_page()
    page.set_content(WIDGET_PAGE % (json.dumps(esm(name)), json.dumps(traits)))
    page.wait_for_function("window.ready === true")
    return page


def _set(page, values: dict):
    """Set traits in the page's model and redraw."""
    page.evaluate("(values) => { const m = window.widgetModel; for (const [k, v] of Object.entries(values)) "
                  "m.set(k, v); m.save_changes(); }", values)


def _torch_sliding(image, kernel, padding, stride, dilation, channels):
    """What torch's conv2d computes for the widget's setting: (C_out, H_out, W_out)."""
    import torch
    import torch.nn.functional as F

    image, kernel = np.array(image), np.array(kernel)
    if channels == 1:
        x, weight, bias = image[None, None], kernel[None, None], np.zeros(1)
    else:  # the widget's three channels and two output channels (its kernels turn clockwise)
        x = np.stack([image, image[:, ::-1], image[::-1]])[None]
        weight = np.array([[np.rot90(kernel, -(o + 2 * c)) for c in range(3)] for o in range(2)])
        bias = np.array([0.1, -0.1])
    out = F.conv2d(*(torch.tensor(np.ascontiguousarray(a)) for a in (x, weight, bias)),
                   stride=stride, padding=padding, dilation=dilation)
    return out[0].numpy()


@pytest.mark.slow
def test_the_sliding_kernel_computes_what_torch_computes(browser):  # noqa: F811
    widget = SlidingKernel()
    page = _open(browser, "sliding_kernel", {name: getattr(widget, name) for name in SLIDING_TRAITS})
    for image, kernel, k, p, s, d, channels in SLIDING_SETTINGS:
        _set(page, {"image": image, "kernel": kernel, "kernel_size": k, "padding": p, "stride": s,
                    "dilation": d, "channels": channels, "position": 10_000})
        expected = _torch_sliding(widget.images[image], widget.kernels[kernel][k - 1], p, s, d, channels)
        got = np.full(expected.shape, np.nan)
        for text in page.eval_on_selector_all("[data-output]", "els => els.map(e => e.dataset.output)"):
            o, i, j, value = text.split(",")
            got[int(o), int(i), int(j)] = float(value)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{image}, {kernel} {k}x{k}, padding {p}, stride {s}, dilation {d}")
        assert float(page.get_attribute(".prettynn-widget", "data-redraw-ms")) < 100
    page.close()


@pytest.mark.slow
def test_the_output_size_explorer_gives_torchs_sizes_and_errors(browser):  # noqa: F811
    import torch
    import torch.nn.functional as F

    page = _open(browser, "output_size", {name: getattr(OutputSizeExplorer(), name) for name in SIZE_TRAITS})
    rng = np.random.default_rng(0)
    for _ in range(40):
        n, k, s, p, d = (int(rng.integers(1, 17)), int(rng.integers(1, 8)), int(rng.integers(1, 5)),
                         int(rng.integers(0, 5)), int(rng.integers(1, 4)))
        same = bool(rng.random() < 0.25)
        _set(page, {"input_size": n, "kernel_size": k, "stride": s, "padding": p, "dilation": d, "same": same})
        try:
            expected = str(F.conv2d(torch.zeros(1, 1, n, 1), torch.zeros(1, 1, k, 1), stride=(s, 1),
                                    padding="same" if same else (p, 0), dilation=(d, 1)).shape[2])
        except RuntimeError:
            expected = "error"
        got = page.get_attribute("svg[data-output-size]", "data-output-size")
        assert got == expected, f"n={n} k={k} s={s} p={'same' if same else p} d={d}"
    page.close()
