"""`python -m authdemo` is the `authdemo` command."""

from .entry import main

main()
