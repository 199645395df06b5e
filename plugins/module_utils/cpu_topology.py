# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CPUs, their sibling threads and NUMA nodes, read from sysfs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet, CpuSetError
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS

CPU_DIR = '/sys/devices/system/cpu'
NODE_DIR = '/sys/devices/system/node'
_MEMINFO_LINE = re.compile(r'^(?:Node \d+ )?(\w+):\s+(\d+)(?: kB)?$')


def _cpuset(fs, path):
    try:
        return CpuSet.parse(fs.read(path, ''))
    except CpuSetError:
        return CpuSet()


def parse_meminfo(text):
    """``/proc/meminfo`` or a node's meminfo as {field: kB (or count)}."""
    values = {}
    for line in (text or '').splitlines():
        match = _MEMINFO_LINE.match(line.strip())
        if match:
            values[match.group(1)] = int(match.group(2))
    return values


class NumaNode:
    """One NUMA node: its CPUs and memory."""

    def __init__(self, node_id, cpus, mem_total_kb, mem_free_kb):
        self.id = node_id
        self.cpus = cpus
        self.mem_total_kb = mem_total_kb
        self.mem_free_kb = mem_free_kb

    def to_dict(self):
        return {'id': self.id, 'cpus': self.cpus.format(), 'mem_total_kb': self.mem_total_kb,
                'mem_free_kb': self.mem_free_kb}


class CpuTopology:
    """Online CPUs, the NUMA node and sibling threads of each, and the NUMA nodes.

    A host without NUMA support in sysfs (no /sys/devices/system/node) is one
    node 0 holding every online CPU and all memory, which is how the kernel
    treats it.
    """

    def __init__(self, online, possible, node_of_cpu, siblings, core_of_cpu, package_of_cpu, nodes):
        self.online = online
        self.possible = possible
        self.node_of_cpu = node_of_cpu
        self.siblings = siblings
        self.core_of_cpu = core_of_cpu
        self.package_of_cpu = package_of_cpu
        self.nodes = nodes

    @classmethod
    def read(cls, fs=None):
        fs = fs or HostFS()
        online = _cpuset(fs, CPU_DIR + '/online')
        possible = _cpuset(fs, CPU_DIR + '/possible') or online
        nodes = {}
        for name in fs.listdir(NODE_DIR):
            match = re.match(r'^node(\d+)$', name)
            if not match:
                continue
            node_id = int(match.group(1))
            base = '%s/%s' % (NODE_DIR, name)
            meminfo = parse_meminfo(fs.read(base + '/meminfo', ''))
            nodes[node_id] = NumaNode(node_id, _cpuset(fs, base + '/cpulist') & online,
                                      meminfo.get('MemTotal'), meminfo.get('MemFree'))
        if not nodes:
            meminfo = parse_meminfo(fs.read('/proc/meminfo', ''))
            nodes[0] = NumaNode(0, online, meminfo.get('MemTotal'), meminfo.get('MemFree'))
        node_of_cpu = {}
        for node in nodes.values():
            for cpu in node.cpus:
                node_of_cpu[cpu] = node.id
        siblings, core_of_cpu, package_of_cpu = {}, {}, {}
        for cpu in online:
            topo = '%s/cpu%d/topology' % (CPU_DIR, cpu)
            # core_cpus_list is the newer name (5.x); thread_siblings_list the older.
            threads = _cpuset(fs, topo + '/core_cpus_list') or _cpuset(fs, topo + '/thread_siblings_list')
            siblings[cpu] = (threads & online) or CpuSet([cpu])
            core_of_cpu[cpu] = fs.read_int(topo + '/core_id', cpu)
            package_of_cpu[cpu] = fs.read_int(topo + '/physical_package_id', 0)
            node_of_cpu.setdefault(cpu, 0)
        return cls(online, possible, node_of_cpu, siblings, core_of_cpu, package_of_cpu, nodes)

    @property
    def offline(self):
        return self.possible - self.online

    def node_cpus(self, node_id):
        node = self.nodes.get(node_id)
        return node.cpus if node else CpuSet()

    def cores(self):
        """Physical cores as sibling sets, ordered by their lowest CPU."""
        seen, cores = set(), []
        for cpu in sorted(self.online):
            if cpu in seen:
                continue
            core = self.siblings.get(cpu, CpuSet([cpu]))
            seen.update(core)
            cores.append(core)
        return cores

    def split_cores(self, cpus):
        """Cores of which ``cpus`` holds some but not all sibling threads."""
        cpus = CpuSet.parse(cpus)
        return [core for core in self.cores() if core & cpus and not core <= cpus]

    def nodes_of(self, cpus):
        """NUMA node ids that the CPUs of ``cpus`` belong to."""
        return sorted(set(self.node_of_cpu[cpu] for cpu in CpuSet.parse(cpus) if cpu in self.node_of_cpu))

    def threads_per_core(self):
        return max([len(core) for core in self.cores()] or [1])

    def to_dict(self):
        return {
            'online': self.online.format(),
            'offline': self.offline.format(),
            'threads_per_core': self.threads_per_core(),
            'cores': [core.format() for core in self.cores()],
            'nodes': [self.nodes[node_id].to_dict() for node_id in sorted(self.nodes)],
        }
