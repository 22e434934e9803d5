"""`python -m runner.ceiling`: the entry point; the code is runner.measure.ceiling."""

import sys

from runner.measure.ceiling.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
