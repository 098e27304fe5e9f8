"""Wall time of the steps of a stage, for the night's summary and the bench."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def timed_step(seconds: dict[str, float], step: str, digits: int | None = 2) -> Iterator[None]:
    """Add the wall time of the block to ``seconds[step]`` (rounded to ``digits``, unless None:
    a step of a small file takes well under 10 ms, and the bench sums them over files)."""
    started = time.perf_counter()
    yield
    total = seconds.get(step, 0.0) + time.perf_counter() - started
    seconds[step] = round(total, digits) if digits is not None else total
