"""Retrievers for application frameworks, each an optional extra.

``clonus_index.integrations.langchain`` (``pip install "clonus-index[langchain]"``)
and ``clonus_index.integrations.llamaindex`` (``pip install
"clonus-index[llamaindex]"``) return the passages of ``Index.search`` as the
framework's documents, with ``serving.hit_metadata`` as their metadata.
Importing this package imports neither framework.
"""
