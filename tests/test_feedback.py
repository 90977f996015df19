"""prettynn.feedback: what a student reads about a verdict, visible in full, hidden without inputs."""

from __future__ import annotations

import numpy as np

from prettynn.feedback import hidden_report
from prettynn.judging import hidden_verdict


def test_hidden_report_never_shows_inputs():
    def wrong(x):
        return np.abs(x)

    report = hidden_report(hidden_verdict("relu", wrong))
    assert "call:" not in report and "array(" not in report
    assert "test cases pass" in report
