"""The simulator: the same demand through several routing strategies, each on its own stock."""
