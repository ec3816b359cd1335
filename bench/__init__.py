"""Benchmarks: `make bench` (or `python -m bench [SECTION ...]`).

Each section is a function returning a flat dict of figures; bench/__main__.py runs them in order, prints a
table and writes bench/results/<section>-<timestamp>.json and bench/results/latest-<section>.json.
"""
