"""Notebook cells run as IPython runs them, for tests of what the checks see."""

from __future__ import annotations

import itertools
import linecache

import numpy as np

_numbers = itertools.count(1)

# A helper cell and an exercise cell that relies on it: fine in a notebook, not when graded.
SOFTMAX_CELL = '''
def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
'''
BACKWARD_WITH_HELPER = '''
def cross_entropy_backward(logits, target):
    grad = softmax(logits)
    grad[np.arange(len(target)), target] -= 1
    return grad / len(target)
'''


def run_cell(source: str, namespace: dict) -> None:
    """Run ``source`` in ``namespace`` as an IPython cell: compiled under a name of its own whose
    code ``linecache`` keeps, undated (IPython's ``CachingCompiler`` does the same)."""
    filename = f"/tmp/ipykernel_test/{next(_numbers)}.py"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102


def kernel() -> dict:
    """A notebook's namespace after its setup cell."""
    import matplotlib

    from prettynn.checks import check

    return {"__name__": "__main__", "np": np, "matplotlib": matplotlib, "check": check}
