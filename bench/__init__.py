"""Benchmarks for casebook: ``python -m bench.http --backend sqlite|postgres``.

See docs/benchmarks.md for what is measured, the targets, and the last results.
"""
