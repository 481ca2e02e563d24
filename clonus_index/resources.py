"""Packaged data: word lists and patterns kept apart from the code that uses them.

Every stage reads its lists through ``load()``, so tuning a list never means
editing logic, and the lists ship inside the installed package.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["load", "stopwords", "bundled_corpus"]


@lru_cache(maxsize=None)
def load(name: str) -> Any:
    """The parsed ``clonus_index/data/NAME.json``."""
    text = resources.files("clonus_index").joinpath("data").joinpath(f"{name}.json").read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """English function words (``data/stopwords.json``)."""
    return frozenset(load("stopwords")["stopwords"])


def bundled_corpus():
    """The folder of raw articles that ships with the package (the default corpus)."""
    return resources.files("clonus_index").joinpath("corpus")
