"""``python -m seqlearn ...``: the same commands as the ``seqlearn`` console script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
