"""cqld's benchmark suite (`make bench` = `python -m bench`).

Throughput and latency of cqld under the real Python driver, quoted as ratios against a baseline measured in
the same run (an OPTIONS round trip over a raw pipelined socket), because the machines it runs on are shared
and noisy.  See docs/bench.md.  Nothing here runs in the test suite.
"""
