"""Deletes all resources (the course guide's script): the same as `authdemo down`.

Usage: python jwt_authorizer_cleanup.py [--local] [any option of `authdemo down`]
"""

import sys

from authdemo.entry import main

if __name__ == "__main__":
    main(["down", *sys.argv[1:]])
