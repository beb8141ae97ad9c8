"""`python -m brace` is the `brace` command."""

from .cli import main

main()
