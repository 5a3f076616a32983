"""Repositories: all SQL lives here, behind small typed methods."""
