"""Benchmarks: ``bench/bench_<name>.py`` with ``main()`` printing ``bench <name>: <figure> | <reference>: <figure> |
ratio <r>``; ``python -m bench`` runs them all."""
