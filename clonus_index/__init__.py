"""clonus_index: raw medical articles in, ranked and cited passages out.

    >>> import clonus_index
    >>> hits = clonus_index.search("botox for ankle clonus")
    >>> hits[0].passage.section
    'Treatment'
"""

__version__ = "0.2.0"

from .errors import (CacheError, ClonusIndexError, IndexBusyError, IndexDamagedError,
                     IndexNotFoundError, IndexStateError, IndexUnavailableError, IndexVersionError,
                     IndexWriteError, IngestError, OutputError, QueryError, SkippedSourceWarning)
from .pipeline import Corpus, ingest, write_jsonl
from .models import Article, Hit, Passage, Reference, ReferenceLink
from .searching import Index, Results, build_index, open_index, search
from .update_plans import Update

__all__ = [
    "__version__",
    "Article", "Reference", "ReferenceLink", "Passage", "Hit", "Corpus", "Index", "Results", "Update",
    "ingest", "write_jsonl", "open_index", "build_index", "search",
    "ClonusIndexError", "IngestError", "OutputError", "QueryError", "IndexStateError", "IndexNotFoundError",
    "IndexVersionError", "IndexDamagedError", "IndexBusyError", "IndexWriteError",
    "IndexUnavailableError", "CacheError", "SkippedSourceWarning",
]
