#!/usr/bin/env python3
"""Clean raw articles into passages: ``python scripts/ingest.py source/ --out passages.jsonl``.

A thin wrapper around ``clonus-index ingest``, for use from a checkout.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clonus_index.cli import cli  # noqa: E402  (the path must be set first)

if __name__ == "__main__":
    cli(["ingest", *sys.argv[1:]], prog_name="ingest.py")
