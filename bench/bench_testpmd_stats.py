#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""How long testpmd_stats takes on long runs (not a test: prints timings).

A soak run with --stats-period 1 prints ~24 lines per port per second; an hour
over 2 ports is ~170k lines. Builds such logs from the real io_null fixture
(its periodic block repeated) and parses them.

    .venv/bin/python bench/bench_testpmd_stats.py [seconds ...]
"""

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, '.venv', 'collections'))

from ansible_collections.nfv.dpdk.plugins.module_utils import testpmd as tp  # noqa: E402


def synthetic_log(seconds):
    with open(os.path.join(ROOT, 'tests', 'unit', 'fixtures', 'testpmd', 'io_null.log')) as handle:
        text = handle.read()
    head, rest = text.split('Port statistics', 1)
    block, tail = rest.split('Telling cores to stop', 1)
    block = 'Port statistics' + block.rsplit('Port statistics', 1)[-1]
    return head + block * seconds + 'Telling cores to stop' + tail


def main(args):
    for seconds in [int(arg) for arg in args] or [10, 600, 3600]:
        text = synthetic_log(seconds)
        started = time.perf_counter()
        stats = tp.parse_testpmd_log(text, duration=seconds)
        verdict = tp.testpmd_verdict(stats)
        elapsed = time.perf_counter() - started
        print('%6d s of stats: %8d lines, %7.1f kB parsed and judged in %.3f s (%d blocks, passed=%s)' % (
            seconds, text.count('\n'), len(text) / 1024.0, elapsed, stats['stats_blocks'], verdict['passed']))


if __name__ == '__main__':
    main(sys.argv[1:])
