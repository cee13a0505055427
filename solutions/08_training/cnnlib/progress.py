"""One progress bar for every long loop of the course: training, data downloads, grading.

In a terminal it is tqdm's text bar on stdout. In Jupyter it is the same text, shown as ONE
display that is updated in place (``update_display_data``), not a stream of carriage returns:
live, the bar moves; in a stored notebook (and so in the built book) only its final state is
kept, one line with the rate and elapsed time. No widget is used: a widget's view needs
JavaScript from a CDN in the static book, which fails offline and logs console errors.

Never stderr: nbgrader gives 0 points to a cell that prints anything on stderr, so a bar on
stderr would cost a correct student points.
"""
from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm

__all__ = ["progress", "JupyterBar"]


def _in_jupyter_kernel() -> bool:
    """True inside an IPython kernel (JupyterLab, Notebook, or a notebook executed at build time)."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipykernel always brings IPython
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class JupyterBar(tqdm):
    """tqdm rendered as a text/plain display that each refresh replaces (same text as in a terminal)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._handle = None
        kwargs["file"] = io.StringIO()  # tqdm's own writes (\r, \n) go nowhere; display() shows the bar
        kwargs.setdefault("ncols", 100)
        kwargs.setdefault("ascii", False)  # block characters, as in a terminal (StringIO hides unicode support)
        super().__init__(*args, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        from IPython.display import display

        text = self.__str__() if msg is None else msg
        if not text and self._handle is None:
            return True
        bundle = {"text/plain": text}
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
        return True


def progress(iterable: Iterable | None = None, *, desc: str | None = None, total: int | None = None,
             unit: str = "it", leave: bool = True, **kwargs: Any) -> tqdm:
    """A tqdm bar (rate and time left) over ``iterable``; ``CNNLIB_PROGRESS=off`` silences it.

    Use it like tqdm: ``for batch in progress(batches, desc="epoch 1", unit="batch")``; the
    returned object also takes ``set_postfix(loss=...)`` and ``update(n)``.
    """
    if os.environ.get("CNNLIB_PROGRESS", "on") == "off":
        kwargs["disable"] = True
    if _in_jupyter_kernel():
        return JupyterBar(iterable, desc=desc, total=total, unit=unit, leave=leave, **kwargs)
    return tqdm(iterable, desc=desc, total=total, unit=unit, leave=leave, file=sys.stdout,
                dynamic_ncols=True, **kwargs)
