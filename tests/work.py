"""Work counted, not timed: bounds and growth rates that hold on any machine at any load.

``calls(fn)`` runs ``fn`` under ``cProfile`` and returns its result with
the number of function calls it made (Python functions and calls into C
alike). The count is the same for the same input however busy the machine
is, so a test can bound the work an input costs, or compare the work of
two input sizes, where a timed test would fail on a loaded machine. Its
blind spot: a loop inside one call into C (slicing a string over and over)
counts as one call each time, so it shows only as far as it makes calls.
"""

from __future__ import annotations

import cProfile
from typing import Any, Callable

from clonus_index import searching


def calls(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, int]:
    """``fn(*args, **kwargs)`` and the number of function calls it made."""
    profile = cProfile.Profile()
    profile.enable()
    try:
        result = fn(*args, **kwargs)
    finally:
        profile.disable()
    return result, sum(entry.callcount for entry in profile.getstats())


def search_calls(index, query: str, **kwargs: Any) -> tuple[Any, int]:
    """``index.search(query)`` and the calls it made, with the search's clock taken away.

    A search stops collecting at ``SEARCH_SECONDS``, which would make its
    work depend on the machine; here the caps on terms and postings alone
    bound it, as they must.
    """
    saved = searching.SEARCH_SECONDS
    searching.SEARCH_SECONDS = float("inf")
    try:
        return calls(index.search, query, **kwargs)
    finally:
        searching.SEARCH_SECONDS = saved
