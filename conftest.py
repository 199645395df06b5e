# -*- coding: utf-8 -*-
"""Make the repository importable as ``ansible_collections.nfv.dpdk`` for pytest.

The collection lives at the repository root, but its Python code imports itself
by its collection name. A symlink under .venv/ (outside what git, the build and
the linters look at) gives pytest that name without installing anything.
"""

import os
import sys

_ROOT = os.path.dirname(os.path.abspath(__file__))
_COLLECTIONS = os.path.join(_ROOT, '.venv', 'collections')
_LINK = os.path.join(_COLLECTIONS, 'ansible_collections', 'nfv', 'dpdk')

if not os.path.islink(_LINK):
    os.makedirs(os.path.dirname(_LINK), exist_ok=True)
    try:
        os.symlink(_ROOT, _LINK)
    except FileExistsError:
        pass
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)

# The lab CLI's tests and helpers import from the lab/ and tests/ folders.
collect_ignore_glob = ['.venv/*', 'tests/output/*', 'lab/.cache/*']
