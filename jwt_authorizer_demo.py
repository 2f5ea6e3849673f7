"""Creates everything + runs tests (the course guide's script): `authdemo demo`, that is `authdemo up`
then the guide's four checks (`authdemo test --route protected`).

Usage: python jwt_authorizer_demo.py [--local] [any option of `authdemo demo`]
"""

import sys

from authdemo.entry import main

if __name__ == "__main__":
    main(["demo", *sys.argv[1:]])
