"""omniorder: distributed order management."""

__version__ = "0.1.0"
