"""`python -m runner.schemas`: the entry point; the code is runner.config.schemas."""

from runner.config.schemas import main

if __name__ == "__main__":
    main()
