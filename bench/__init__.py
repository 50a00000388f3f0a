"""Benchmarks of campaign-runner (``make bench``); figures are in bench/README.md."""
