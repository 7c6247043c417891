"""Lets `python -m advisor` run the command line."""

from .cli import main

if __name__ == "__main__":  # worker processes that spawn (not fork) import this module again
    main()
