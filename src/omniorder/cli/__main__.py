"""`python -m omniorder.cli`: the same as the `omniorder` command."""

from omniorder.cli import main

main()
