"""prettynn.widgets.sliding_kernel and .output_size: the classes (fast) and their ES modules' arithmetic against torch
(in Chromium)."""

import json

import numpy as np
import pytest

from prettynn.widgets import esm
from prettynn.widgets.output_size import OutputSizeExplorer
from prettynn.widgets.sliding_kernel import KERNEL_SIZES, SlidingKernel, default_images, default_kernels

from .browser import WIDGET_PAGE, browser  # noqa: F401  (fixture)

SLIDING_TRAITS = ("images", "image", "kernels", "kernel", "kernel_height", "kernel_width", "padding", "same", "stride",
                  "dilation", "position", "channels", "modes", "mode")
SIZE_TRAITS = ("input_size", "kernel_size", "stride", "padding", "dilation", "same", "show_formula")


def test_sliding_kernel_builds_with_defaults():
    widget = SlidingKernel()
    assert widget.images == default_images() and widget.kernels == default_kernels()
    assert (widget.image, widget.kernel) == ("digit 0 (8 x 8)", "vertical edge")
    assert (widget.kernel_height, widget.kernel_width, widget.padding, widget.stride, widget.dilation) == (3, 3, 1, 1, 1)
    assert (widget.position, widget.channels, widget.same) == (0, 1, False)
    assert (widget.modes, widget.mode) == (["forward", "backward"], "forward")


def test_the_backward_mode_can_be_withheld():
    widget = SlidingKernel(modes=["forward"])
    assert widget.modes == ["forward"]
    with pytest.raises(ValueError, match="mode must be one of"):
        widget.mode = "backward"
    with pytest.raises(ValueError, match="mode must be one of"):
        SlidingKernel(modes=["forward"], mode="backward")
    with pytest.raises(ValueError, match="modes must be a non-empty list"):
        SlidingKernel(modes=["sideways"])


def test_default_images_are_small_grids_and_kernels_come_in_every_size():
    for name, image in default_images().items():
        shape = np.shape(image)
        assert len(shape) == 2 and max(shape) <= 12, name
    digit = np.array(default_images()["digit 0 (8 x 8)"])
    assert digit.shape == (8, 8) and 0 <= digit.min() and digit.max() <= 1
    for name, by_size in default_kernels().items():
        shapes = [[np.shape(kernel) for kernel in row] for row in by_size]
        assert shapes == [[(h, w) for w in KERNEL_SIZES] for h in KERNEL_SIZES], name
    assert default_kernels()["vertical edge"][1][1] == [[1.0, -1.0], [1.0, -1.0]]
    assert default_kernels()["horizontal edge"][1][2] == [[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]]


@pytest.mark.parametrize(("cls", "name", "traits"), [(SlidingKernel, "sliding_kernel", SLIDING_TRAITS),
                                                      (OutputSizeExplorer, "output_size", SIZE_TRAITS)])
def test_widgets_send_their_es_module_and_synced_traits(cls, name, traits):
    widget = cls()
    assert widget._esm == esm(name)
    for trait in traits:
        assert widget.trait_metadata(trait, "sync"), f"trait {trait} is not synced"
        assert trait in widget.keys


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernel_height": 6}, "kernel_height must be an integer from 1 to 5, got 6"),
        ({"kernel_width": 0}, "kernel_width must be an integer from 1 to 5, got 0"),
        ({"padding": -1}, "padding must be an integer from 0 to 3"),
        ({"stride": 0}, "stride must be an integer from 1 to 3"),
        ({"dilation": 4}, "dilation must be an integer from 1 to 3"),
        ({"channels": 2}, "channels must be 1 (one channel) or 3"),
        ({"image": "cat"}, "image must be one of"),
        ({"kernel": "sobel"}, "kernel must be one of"),
        ({"images": {"big": np.zeros((13, 4)).tolist()}, "image": "big"}, "1 to 12 rows and columns"),
        ({"kernels": {"bad": [[[[1.0]]]]}, "kernel": "bad"}, "for each kh and kw in 1..5"),
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
    for widget, traits in ((SlidingKernel(kernel_height=2, kernel_width=4, padding=0, channels=3, same=True), SLIDING_TRAITS),
                           (OutputSizeExplorer(input_size=9, same=True, show_formula=True), SIZE_TRAITS)):
        state = {name: getattr(widget, name) for name in traits}
        assert json.loads(json.dumps(state)) == state


# ---------------------------------------------------------------- the ES modules in Chromium

# (image, kernel, (kernel height, width), padding (or "same"), stride, dilation, channels)
SLIDING_SETTINGS = [
    ("digit 0 (8 x 8)", "vertical edge", (3, 3), 1, 1, 1, 1),
    ("digit 3 (8 x 8)", "integers", (4, 2), 2, 3, 1, 1),
    ("dark stripe (6 x 8)", "horizontal edge", (2, 3), 0, 2, 2, 1),
    ("numbers (5 x 5)", "top-left tap only", (5, 5), 3, 1, 1, 1),
    ("numbers (5 x 5)", "integers", (3, 2), 1, 2, 1, 3),
    ("digit 3 (8 x 8)", "vertical edge", (2, 4), 1, 1, 3, 3),
    ("digit 0 (8 x 8)", "integers", (2, 3), "same", 1, 1, 1),
    ("dark stripe (6 x 8)", "integers", (4, 1), "same", 1, 3, 3),
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
    else:  # the widget's three channels and two output channels (its kernels flipped: 1 left-right, 2 up-down)
        x = np.stack([image, image[:, ::-1], image[::-1]])[None]
        flips = {0: lambda k: k, 1: lambda k: k[:, ::-1], 2: lambda k: k[::-1], 3: lambda k: k[::-1, ::-1]}
        weight = np.array([[flips[(o + c) % 4](kernel) for c in range(3)] for o in range(2)])
        bias = np.array([0.1, -0.1])
    out = F.conv2d(*(torch.tensor(np.ascontiguousarray(a)) for a in (x, weight, bias)),
                   stride=stride, padding=padding, dilation=dilation)
    return out[0].numpy()


@pytest.mark.slow
def test_the_sliding_kernel_computes_what_torch_computes(browser):  # noqa: F811
    widget = SlidingKernel()
    page = _open(browser, "sliding_kernel", {name: getattr(widget, name) for name in SLIDING_TRAITS})
    for image, kernel, (kh, kw), p, s, d, channels in SLIDING_SETTINGS:
        _set(page, {"image": image, "kernel": kernel, "kernel_height": kh, "kernel_width": kw,
                    "padding": 0 if p == "same" else p, "same": p == "same", "stride": s,
                    "dilation": d, "channels": channels, "position": 10_000})
        expected = _torch_sliding(widget.images[image], widget.kernels[kernel][kh - 1][kw - 1], p, s, d, channels)
        got = np.full(expected.shape, np.nan)
        for text in page.eval_on_selector_all("[data-output]", "els => els.map(e => e.dataset.output)"):
            o, i, j, value = text.split(",")
            got[int(o), int(i), int(j)] = float(value)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{image}, {kernel} {kh}x{kw}, padding {p}, stride {s}, dilation {d}")
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


# (image, kernel, (kernel height, width), padding (or "same"), stride, dilation)
BACKWARD_SETTINGS = [
    ("numbers (5 x 5)", "integers", (3, 2), 1, 2, 1),
    ("digit 0 (8 x 8)", "vertical edge", (3, 3), 0, 3, 1),   # the last two rows and columns are in no window
    ("dark stripe (6 x 8)", "integers", (2, 2), 0, 3, 1),    # stride 3 > span 2: gaps between windows
    ("numbers (5 x 5)", "integers", (2, 2), 2, 2, 2),        # stride and dilation 2: every other position
    ("digit 3 (8 x 8)", "integers", (2, 3), "same", 1, 2),
]


def _torch_padded_gradient(image, kernel, padding, stride, dilation):
    """The gradient, for grad_output = 1, of torch's conv2d with respect to the zero-padded input."""
    import torch
    import torch.nn.functional as F

    image, kernel = np.array(image), np.array(kernel)
    if padding == "same":
        totals = [dilation * (k - 1) for k in kernel.shape]
        (top, bottom), (left, right) = ((t // 2, t - t // 2) for t in totals)
    else:
        top = bottom = left = right = padding
    x = torch.tensor(np.pad(image, ((top, bottom), (left, right)))[None, None], requires_grad=True)
    out = F.conv2d(x, torch.tensor(kernel)[None, None], stride=stride, dilation=dilation)
    out.sum().backward()
    return x.grad[0, 0].numpy(), (top, left)


def _page_gradient(page, shape):
    grad = np.full(shape, np.nan)
    for text in page.eval_on_selector_all("[data-grad]", "els => els.map(e => e.dataset.grad)"):
        r, c, value = text.split(",")
        grad[int(r), int(c)] = float(value)
    return grad


@pytest.mark.slow
def test_the_backward_mode_scatters_what_torch_autograd_computes(browser):  # noqa: F811
    widget = SlidingKernel(mode="backward")
    page = _open(browser, "sliding_kernel", {name: getattr(widget, name) for name in SLIDING_TRAITS})
    for image, kernel, (kh, kw), p, s, d in BACKWARD_SETTINGS:
        values = {"image": image, "kernel": kernel, "kernel_height": kh, "kernel_width": kw,
                  "padding": 0 if p == "same" else p, "same": p == "same", "stride": s, "dilation": d}
        expected, _ = _torch_padded_gradient(widget.images[image], widget.kernels[kernel][kh - 1][kw - 1], p, s, d)
        _set(page, {**values, "position": 10_000})
        np.testing.assert_allclose(_page_gradient(page, expected.shape), expected, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{image}, {kernel} {kh}x{kw}, padding {p}, stride {s}, dilation {d}")
        _set(page, {**values, "position": 0})  # the first output alone: its kernel taps, nothing else
        first = _page_gradient(page, expected.shape)
        taps = np.array(widget.kernels[kernel][kh - 1][kw - 1])
        window = first[:d * (kh - 1) + 1:d, :d * (kw - 1) + 1:d]
        np.testing.assert_allclose(window, taps)
        assert np.count_nonzero(first) == np.count_nonzero(taps)
    page.close()


@pytest.mark.slow
def test_the_backward_mode_is_offered_only_where_asked(browser):  # noqa: F811
    for modes, shown in ((["forward"], False), (["forward", "backward"], True)):
        widget = SlidingKernel(modes=modes)
        page = _open(browser, "sliding_kernel", {name: getattr(widget, name) for name in SLIDING_TRAITS})
        visible = page.locator("select[aria-label=mode]").is_visible()
        assert visible == shown, modes
        page.close()


def _unread_inputs(n, k, s, p, d, same):
    """The input positions (0 .. n - 1) no tap of torch's conv reads: zero gradient for an all-ones kernel."""
    import torch
    import torch.nn.functional as F

    x = torch.ones(1, 1, n, 1, requires_grad=True)
    out = F.conv2d(x, torch.ones(1, 1, k, 1), stride=(s, 1), padding="same" if same else (p, 0), dilation=(d, 1))
    out.sum().backward()
    return [i for i in range(n) if x.grad[0, 0, i, 0] == 0]


@pytest.mark.slow
def test_the_output_size_explorer_marks_the_positions_no_tap_reads(browser):  # noqa: F811
    page = _open(browser, "output_size", {name: getattr(OutputSizeExplorer(), name) for name in SIZE_TRAITS})
    rng = np.random.default_rng(1)
    settings = [(7, 2, 2, 0, 1, False), (10, 2, 4, 0, 1, False), (9, 3, 2, 0, 2, False), (8, 2, 3, 1, 1, False),
                (9, 2, 1, 0, 1, True)]
    while len(settings) < 40:
        n, k, s, p, d = (int(rng.integers(1, 17)), int(rng.integers(1, 8)), int(rng.integers(1, 5)),
                         int(rng.integers(0, 5)), int(rng.integers(1, 4)))
        if n + 2 * p >= d * (k - 1) + 1:
            settings.append((n, k, s, p, d, False))
    for n, k, s, p, d, same in settings:
        _set(page, {"input_size": n, "kernel_size": k, "stride": s, "padding": p, "dilation": d, "same": same})
        got = page.get_attribute("svg[data-output-size]", "data-unread-inputs")
        expected = _unread_inputs(n, k, s, p, d, same)
        assert got == ",".join(map(str, expected)), f"n={n} k={k} s={s} p={p} d={d} same={same}"
        text = page.inner_text(".pnn-os") + " ".join(page.eval_on_selector_all("svg text", "els => els.map(e => e.textContent)"))
        assert "fit evenly" not in text
        if expected:
            assert "read by no tap" in text
    page.close()


@pytest.mark.slow
def test_the_output_size_formula_is_hidden_until_asked(browser):  # noqa: F811
    traits = {name: getattr(OutputSizeExplorer(), name) for name in SIZE_TRAITS}
    page = _open(browser, "output_size", traits)
    texts = lambda: " ".join(page.eval_on_selector_all("svg text", "els => els.map(e => e.textContent)"))  # noqa: E731
    assert "n_out" not in texts() and "\u230a" not in texts()
    page.locator("input[type=checkbox]").nth(1).check()
    assert "n_out = \u230a(n + 2p" in texts()
    page.close()
