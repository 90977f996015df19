"""Experiments the chapters run and show: small, seeded, CPU-only; torch allowed (they are not exercises).

Each module computes what a chapter's figure or widget needs and returns plain data
(lists and numbers), so that a widget can send it to the browser as traits.
"""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def one_torch_thread():
    """Run torch on one thread while the block runs (restored afterwards): the experiments' matrices
    are so small that a second thread only adds synchronisation, which costs a lot on a busy machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
