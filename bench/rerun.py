#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Idempotent re-run of playbooks/site.yml on the prepared lab node: bench/node_prep.py --rerun.

Goals: 0 changed, no reboot, at most a third of the first run's non-reboot time.

    .venv/bin/python bench/rerun.py [--first bench/results/node_prep-<stamp>.json]
"""

import sys

import node_prep

if __name__ == '__main__':
    sys.exit(node_prep.main(sys.argv[1:], rerun=True))
