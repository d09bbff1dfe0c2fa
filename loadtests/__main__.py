"""`python -m loadtests`: the whole benchmark of issue 6 (see runner.py and README.md)."""

from loadtests.runner import main

main()
