"""Benchmarks: scripts that print figures (run as modules, see README.md); not tests."""
