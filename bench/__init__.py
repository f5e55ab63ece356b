"""Benchmarks: ``python -m bench <measurement>`` (see bench/README.md). Not timed tests: CI runs
each once at a tiny size (``--tiny``) only to prove it still works."""
