"""``python -m surge run module:app``: the ``surge`` console script."""

import sys

from surge.cli import main

if __name__ == "__main__":
    sys.exit(main())
