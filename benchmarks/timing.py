"""How benchmark scripts time a call: the median of repeated calls after warm-up calls."""

from __future__ import annotations

import statistics
import time


def median_ms(function, repeat: int, warmups: int = 1) -> float:
    """Median wall-clock milliseconds of ``repeat`` calls of ``function()``, after ``warmups`` calls.

    Time one library at a time: on several cores, the threads one library leaves spinning after
    its call slow another library's next call.
    """
    for _ in range(warmups):
        function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3
