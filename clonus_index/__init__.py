"""clonus_index."""
__version__ = "0.1.0"
