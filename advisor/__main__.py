"""Lets `python -m advisor` run the command line."""

from .cli import main

main()
