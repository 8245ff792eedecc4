"""Timing helper shared by the benchmark scripts (run them as `python benchmarks/<script>.py`)."""

import time


def best_time(function, repeats):
    """Best wall time of `repeats` calls: the minimum is the least disturbed by a shared machine."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)
