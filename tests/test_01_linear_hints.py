"""Chapter 01's hints name the missing path, the wrong axis or the missed case, never the code to type."""

from __future__ import annotations

import re

import pytest

from prettynn.model import get
from prettynn.exercises import linear  # noqa: F401 (registers the chapter's exercises)

EXERCISES = ("linear", "linear_backward", "relu", "relu_backward", "cross_entropy", "cross_entropy_backward")
# A matrix product, a transpose, the right NumPy call or a reduction is code to type, not a hint
# (naming the student's own wrong call, such as np.max(x, 0), is fine).
CODE = re.compile(r"@|\.T\b|np\.maximum|keepdims|\.sum\(|\.mean\(|return [a-z_]+ [@*+-]")


@pytest.mark.parametrize("name", EXERCISES)
def test_no_hint_hands_over_code(name):
    offending = [(mistake.name, mistake.hint) for mistake in get(name).mistakes if CODE.search(mistake.hint)]
    assert not offending, offending


def test_the_hints_still_name_what_is_wrong():
    hints = {mistake.name: mistake.hint for name in EXERCISES for mistake in get(name).mistakes}
    assert "(out_features, in_features)" in hints["transposed weight"]
    assert "N times too small" in hints["bias gradient averaged"]
    assert "axis 0" in hints["input gradient with transposed weight"]
    assert "x == 0" in hints[">= at zero"]
    assert "axis=1" in hints["softmax over the wrong axis"]
