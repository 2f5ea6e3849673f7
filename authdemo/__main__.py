"""`python -m authdemo` is the `authdemo` command."""

from .cli import main

main()
