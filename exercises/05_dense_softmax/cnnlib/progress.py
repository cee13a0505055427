"""One progress bar for every long loop of the course: training, data downloads, grading.

Writes to stdout, never stderr: nbgrader gives 0 points to a cell that prints anything on
stderr, so a bar on stderr would cost a correct student points.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm


def progress(iterable: Iterable | None = None, *, desc: str | None = None, total: int | None = None,
             unit: str = "it", leave: bool = True, **kwargs: Any) -> tqdm:
    """A tqdm bar (rate and time left) over ``iterable``; ``CNNLIB_PROGRESS=off`` silences it.

    Use it like tqdm: ``for batch in progress(batches, desc="epoch 1", unit="batch")``; the
    returned object also takes ``set_postfix(loss=...)`` and ``update(n)``.
    """
    if os.environ.get("CNNLIB_PROGRESS", "on") == "off":
        kwargs["disable"] = True
    return tqdm(iterable, desc=desc, total=total, unit=unit, leave=leave, file=sys.stdout,
                dynamic_ncols=True, **kwargs)
