"""Creates everything + runs tests (the course guide's script): `authdemo up` then `authdemo test`.

Usage: python jwt_authorizer_demo.py [--local] [any option of `authdemo up`]
"""

import sys

from authdemo.cli import main

if __name__ == "__main__":
    main(["demo", *sys.argv[1:]])
