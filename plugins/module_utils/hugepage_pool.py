# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hugepage pools per page size and NUMA node, and hugetlbfs mounts.

The kernel keeps one pool per supported page size
(``/sys/kernel/mm/hugepages/hugepages-<kB>kB``) and, on NUMA kernels, one per
size and node (``/sys/devices/system/node/node<N>/hugepages/hugepages-<kB>kB``).
A pool's *persistent* pages are ``nr_hugepages - surplus_hugepages``: that is
the number a write to ``nr_hugepages`` sets, and what this collection compares.

The kernel grants fewer pages than asked without an error when memory is short
or fragmented; ``set_pool`` reads back what it obtained so that callers never
report a partial allocation as success.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_topology import CpuTopology, parse_meminfo
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS

HUGEPAGES_DIR = '/sys/kernel/mm/hugepages'
NODE_DIR = '/sys/devices/system/node'
COMPACT_MEMORY = '/proc/sys/vm/compact_memory'
MEMINFO = '/proc/meminfo'
MOUNTS = '/proc/mounts'
CPUINFO = '/proc/cpuinfo'

KB_PER_MB = 1024
KB_PER_GB = 1024 * 1024

_SIZE_DIR = re.compile(r'^hugepages-(\d+)kB$')
_NODE = re.compile(r'^node(\d+)$')
# Hugepage sizes are powers of two: every unit is binary (the kernel's memparse
# reads hugepagesz=2M as 2 MiB), so 2M, 2MB, 2Mi and 2MiB all mean 2048 kB.
_SIZE = re.compile(r'^(\d+)\s*(?:([kKmMgGtT])(?:i?[bB]|i)?)?$')
_UNIT_KB = {'k': 1, 'm': KB_PER_MB, 'g': KB_PER_GB, 't': KB_PER_GB * 1024}
_OCTAL_ESCAPE = re.compile(r'\\([0-7]{3})')


class HugepageSizeError(ValueError):
    """A page size that cannot be parsed."""


def parse_size(value):
    """Page size in kB from ``2M``, ``2048kB``, ``1G``, ``1Gi``, ``2MiB`` or an int (kB).

    A bare number (int or digits) is kB, as in sysfs directory names.
    """
    if isinstance(value, bool):
        raise HugepageSizeError('%r is not a page size' % (value,))
    if isinstance(value, int):
        kb = value
    else:
        text = str(value).strip()
        match = _SIZE.match(text)
        if not match:
            raise HugepageSizeError("'%s' is not a page size (use forms like 2M, 1G, 2048kB, 1Gi or a number of kB)" % text)
        kb = int(match.group(1)) * _UNIT_KB[(match.group(2) or 'k').lower()]
    if kb <= 0:
        raise HugepageSizeError("'%s' is not a page size: it must be greater than zero" % (value,))
    return kb


def format_size(kb):
    """Kernel command line spelling of a size in kB: ``2M``, ``1G``, ``64K``."""
    if kb % KB_PER_GB == 0:
        return '%dG' % (kb // KB_PER_GB)
    if kb % KB_PER_MB == 0:
        return '%dM' % (kb // KB_PER_MB)
    return '%dK' % kb


def parse_memory(value, total_kb):
    """An amount of memory in kB: a size (``1G``, ``512M``, kB as a number) or ``N%`` of ``total_kb``."""
    text = str(value).strip()
    if text.endswith('%'):
        try:
            percent = float(text[:-1])
        except ValueError:
            raise HugepageSizeError("'%s' is not a percentage" % text)
        if not 0 <= percent <= 100:
            raise HugepageSizeError("'%s' is not a percentage between 0%% and 100%%" % text)
        return int(total_kb * percent / 100)
    if text == '0':
        return 0
    return parse_size(text)


def pool_dir(size_kb, node=None):
    """Sysfs directory of the global pool (``node=None``) or a node's pool."""
    name = 'hugepages-%dkB' % size_kb
    if node is None:
        return '%s/%s' % (HUGEPAGES_DIR, name)
    return '%s/node%d/hugepages/%s' % (NODE_DIR, node, name)


def pool_label(size_kb, node=None):
    """Human name of a pool for messages: ``2M pool``, ``1G pool on node 1``."""
    if node is None:
        return '%s pool' % format_size(size_kb)
    return '%s pool on node %d' % (format_size(size_kb), node)


class HugepagePool:
    """One pool: global (``node`` None) or one NUMA node's, as sysfs shows it."""

    def __init__(self, size_kb, node=None, total=0, free=0, surplus=0, reserved=None):
        self.size_kb = size_kb
        self.node = node
        self.total = total
        self.free = free
        self.surplus = surplus
        self.reserved = reserved

    @classmethod
    def read(cls, fs, size_kb, node=None):
        """The pool as sysfs shows it now, or None when its directory does not exist.

        Older kernels lack some attributes (per-node ``surplus_hugepages`` before
        2.6.33, any file a security module hides): a missing counter reads as 0,
        a missing ``resv_hugepages`` (never present per node) as None.
        """
        base = pool_dir(size_kb, node)
        if not fs.isdir(base):
            return None
        return cls(size_kb, node,
                   total=fs.read_int(base + '/nr_hugepages', 0),
                   free=fs.read_int(base + '/free_hugepages', 0),
                   surplus=fs.read_int(base + '/surplus_hugepages', 0),
                   reserved=fs.read_int(base + '/resv_hugepages') if node is None else None)

    @property
    def key(self):
        return (self.size_kb, self.node)

    @property
    def path(self):
        return pool_dir(self.size_kb, self.node)

    @property
    def persistent(self):
        """Pages a write to ``nr_hugepages`` sets: total without surplus (overcommit) pages."""
        return max(self.total - self.surplus, 0)

    @property
    def memory_kb(self):
        return self.persistent * self.size_kb

    def to_dict(self):
        return {
            'size': format_size(self.size_kb), 'size_kb': self.size_kb, 'node': self.node,
            'total': self.total, 'free': self.free, 'surplus': self.surplus, 'reserved': self.reserved,
            'persistent': self.persistent,
        }

    def __repr__(self):
        return 'HugepagePool(%s, total=%d, free=%d, surplus=%d)' % (
            pool_label(self.size_kb, self.node), self.total, self.free, self.surplus)


def _unescape_mount_field(text):
    # /proc/mounts escapes space, tab, newline and backslash as \040, \011, \012, \134.
    return _OCTAL_ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), text)


class HugetlbfsMount:
    """A mounted hugetlbfs: its mount point and page size (``pagesize=`` or the default size)."""

    def __init__(self, path, source, options, size_kb, explicit_size):
        self.path = path
        self.source = source
        self.options = options
        self.size_kb = size_kb
        self.explicit_size = explicit_size

    def to_dict(self):
        return {'path': self.path, 'source': self.source, 'size': format_size(self.size_kb) if self.size_kb else None,
                'size_kb': self.size_kb, 'options': ','.join(self.options)}


def read_mounts(fs, default_size_kb):
    """Every mount from ``/proc/mounts`` as (path, fstype, HugetlbfsMount or None), in order."""
    mounts = []
    for line in (fs.read(MOUNTS, '') or '').splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        source, path, fstype = _unescape_mount_field(fields[0]), _unescape_mount_field(fields[1]), fields[2]
        hugetlbfs = None
        if fstype == 'hugetlbfs':
            options = fields[3].split(',')
            size_kb, explicit = default_size_kb, False
            for option in options:
                if option.startswith('pagesize='):
                    try:
                        size_kb, explicit = parse_size(option[len('pagesize='):]), True
                    except HugepageSizeError:
                        pass
            hugetlbfs = HugetlbfsMount(path, source, options, size_kb, explicit)
        mounts.append((path, fstype, hugetlbfs))
    return mounts


def cpu_flags(fs):
    """x86 CPU flags from ``/proc/cpuinfo`` (first ``flags`` line), or None on other architectures."""
    for line in (fs.read(CPUINFO, '') or '').splitlines():
        key, sep, value = line.partition(':')
        if sep and key.strip() == 'flags':
            return set(value.split())
    return None


class HugepageState:
    """Every hugepage pool on the host, the supported and default sizes, and hugetlbfs mounts."""

    def __init__(self, sizes, default_size_kb, pools, node_pools, mounts, all_mounts, mem_total_kb, topology):
        self.sizes = sizes
        self.default_size_kb = default_size_kb
        self.pools = pools
        self.node_pools = node_pools
        self.mounts = mounts
        self.all_mounts = all_mounts
        self.mem_total_kb = mem_total_kb
        self.topology = topology

    @classmethod
    def read(cls, fs=None, topology=None):
        fs = fs or HostFS()
        topology = topology or CpuTopology.read(fs)
        sizes = []
        for name in fs.listdir(HUGEPAGES_DIR):
            match = _SIZE_DIR.match(name)
            if match:
                sizes.append(int(match.group(1)))
        sizes.sort()
        meminfo = parse_meminfo(fs.read(MEMINFO, ''))
        default_size_kb = meminfo.get('Hugepagesize')
        pools = {}
        for size_kb in sizes:
            pool = HugepagePool.read(fs, size_kb)
            if pool is not None:
                pools[size_kb] = pool
        node_pools = {}
        for name in fs.listdir(NODE_DIR):
            match = _NODE.match(name)
            if not match:
                continue
            node = int(match.group(1))
            for size_kb in sizes:
                pool = HugepagePool.read(fs, size_kb, node)
                if pool is not None:
                    node_pools[(size_kb, node)] = pool
        all_mounts = read_mounts(fs, default_size_kb)
        mounts = [hugetlbfs for _path, _fstype, hugetlbfs in all_mounts if hugetlbfs is not None]
        mem_total_kb = meminfo.get('MemTotal')
        if mem_total_kb is None:
            mem_total_kb = sum(node.mem_total_kb or 0 for node in topology.nodes.values()) or None
        return cls(sizes, default_size_kb, pools, node_pools, mounts, all_mounts, mem_total_kb, topology)

    @property
    def numa_nodes(self):
        """NUMA node ids that have per-node hugepage pools (empty on a kernel without NUMA)."""
        return sorted(set(node for _size, node in self.node_pools))

    def pool(self, size_kb, node=None):
        if node is None:
            return self.pools.get(size_kb)
        return self.node_pools.get((size_kb, node))

    def node_memory_kb(self, node):
        numa = self.topology.nodes.get(node)
        return numa.mem_total_kb if numa else None

    def mount_at(self, path):
        """(fstype, HugetlbfsMount or None) of the last mount on ``path`` (the visible one), or None."""
        found = None
        for mount_path, fstype, hugetlbfs in self.all_mounts:
            if mount_path == path:
                found = (fstype, hugetlbfs)
        return found

    def to_dict(self):
        return {
            'sizes': [format_size(size) for size in self.sizes],
            'default_size': format_size(self.default_size_kb) if self.default_size_kb else None,
            'pools': [self.pools[size].to_dict() for size in sorted(self.pools)],
            'node_pools': [self.node_pools[key].to_dict() for key in sorted(self.node_pools, key=lambda k: (k[1], k[0]))],
            'mounts': [mount.to_dict() for mount in self.mounts],
        }


def set_pool(fs, size_kb, count, node=None, compact=True):
    """Set a pool's persistent pages to ``count`` through sysfs and report what the kernel granted.

    Writes ``nr_hugepages`` (global or the node's), reads the pool back and,
    when the kernel granted fewer pages than asked and ``compact`` is true,
    writes ``1`` to ``/proc/sys/vm/compact_memory`` (compact all zones; no
    caches are dropped) and writes ``nr_hugepages`` once more. There is never
    more than that one retry. An OSError from the kernel propagates.

    Returns ``{'requested', 'previous', 'obtained', 'attempts', 'compacted'}``;
    ``obtained`` counts persistent pages, so it can differ from ``requested``
    in both directions: fewer (memory short or fragmented) or, when shrinking,
    more only if the kernel could not turn in-use pages into surplus pages.
    """
    path = pool_dir(size_kb, node) + '/nr_hugepages'
    before = HugepagePool.read(fs, size_kb, node)
    if before is None:
        raise OSError('%s does not exist' % pool_dir(size_kb, node))
    result = {'requested': count, 'previous': before.persistent, 'obtained': before.persistent, 'attempts': 0, 'compacted': False}
    for attempt in (1, 2):
        fs.write(path, count)
        result['attempts'] = attempt
        after = HugepagePool.read(fs, size_kb, node)
        result['obtained'] = after.persistent
        if after.persistent >= count or attempt == 2 or not compact or count < before.persistent:
            break
        if not fs.exists(COMPACT_MEMORY):
            break
        try:
            fs.write(COMPACT_MEMORY, 1)
            result['compacted'] = True
        except (IOError, OSError):
            break
    return result
