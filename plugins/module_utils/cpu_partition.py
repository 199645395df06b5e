# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Split a host's CPUs into isolated and reserved (housekeeping) sets.

``plan_partition(topology, ...)`` takes either explicit cpu-lists or counts,
computes the missing parts and checks the result against the topology read by
``CpuTopology``. It never changes anything; every problem raises
``CpuPartitionError`` with a message that names the option at fault, so a
module can reject bad input before it touches the host.

Vocabulary:

- *isolated*: CPUs taken away from the kernel's housekeeping work
  (``isolcpus``, ``nohz_full``, ``rcu_nocbs``) for DPDK poll-mode threads.
- *reserved*: housekeeping CPUs for the kernel, IRQs and system services
  (``irqaffinity``, systemd ``CPUAffinity``); Kubernetes' ``reservedSystemCPUs``.
- CPUs in neither set stay ordinary, shared CPUs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet, CpuSetError


class CpuPartitionError(ValueError):
    """A requested partition that is impossible or unsafe on this host."""


class CpuPartition:
    """The result: isolated and reserved CPU sets plus the cores split between them."""

    def __init__(self, isolated, reserved, split_cores=()):
        self.isolated = isolated
        self.reserved = reserved
        self.split_cores = list(split_cores)

    def to_dict(self):
        return {'isolated_cpus': self.isolated.format(), 'reserved_cpus': self.reserved.format()}


def parse_cpus(option, text):
    """Parse the cpu-list given in ``option``; errors name the option."""
    try:
        return CpuSet.parse(text)
    except CpuSetError as exc:
        raise CpuPartitionError('%s: %s' % (option, exc))


def _check_known(topology, option, cpus):
    unknown = cpus - topology.possible
    if unknown:
        raise CpuPartitionError('%s: CPUs %s do not exist on this host (online CPUs: %s)'
                                % (option, unknown.format(), topology.online.format()))
    offline = cpus - topology.online
    if offline:
        raise CpuPartitionError('%s: CPUs %s are offline (online CPUs: %s); bring them online or leave them out'
                                % (option, offline.format(), topology.online.format()))


def _node_cores(topology):
    """{node id: [core CpuSet, ...]} for every node with online CPUs, cores lowest CPU first."""
    result = {}
    for core in topology.cores():
        node = topology.node_of_cpu.get(min(core), 0)
        result.setdefault(node, []).append(core)
    return result


def _take_cores(cores, count, what):
    """The first whole cores of ``cores`` that hold exactly ``count`` CPUs."""
    taken = CpuSet()
    for core in cores:
        if len(taken) >= count:
            break
        taken = taken | core
    if len(taken) < count:
        raise CpuPartitionError(what['short'])
    if len(taken) > count:
        raise CpuPartitionError(what['split'])
    return taken


def _reserve_per_node(topology, per_node):
    reserved = CpuSet()
    for node, cores in sorted(_node_cores(topology).items()):
        count = len(cores[0]) if per_node is None else per_node
        node_cpus = topology.node_cpus(node)
        reserved = reserved | _take_cores(cores, count, {
            'short': 'reserved_per_node: %d CPUs asked but NUMA node %d has only %d online CPUs (%s)'
                     % (count, node, len(node_cpus), node_cpus.format()),
            'split': 'reserved_per_node: %d CPUs on NUMA node %d would split a core between reserved and other CPUs; '
                     'use a multiple of the threads per core (%d) so that whole cores are reserved'
                     % (count, node, len(cores[0])),
        })
    return reserved


def _isolate_balanced(topology, reserved, count):
    """``count`` CPUs in whole cores, spread evenly over the NUMA nodes, lowest free cores first."""
    free = dict((node, [core for core in cores if not core & reserved])
                for node, cores in _node_cores(topology).items())
    available = sum(len(core) for cores in free.values() for core in cores)
    if count > available:
        raise CpuPartitionError('isolated_count: %d CPUs asked but only %d can be isolated '
                                '(online CPUs: %s, reserved CPUs: %s)'
                                % (count, available, topology.online.format(), reserved.format()))
    isolated, per_node = CpuSet(), dict((node, 0) for node in free)
    while len(isolated) < count:
        candidates = [node for node in sorted(free) if free[node]]
        node = min(candidates, key=lambda n: (per_node[n], n))
        core = free[node].pop(0)
        if len(isolated) + len(core) > count:
            raise CpuPartitionError('isolated_count: %d CPUs would split core %s; use a multiple of the threads '
                                    'per core (%d) so that whole cores are isolated'
                                    % (count, core.format(), len(core)))
        isolated = isolated | core
        per_node[node] += len(core)
    return isolated


def _check_count(option, value, minimum=1):
    if value is None:
        return
    if value < minimum:
        raise CpuPartitionError('%s: must be at least %d, got %d' % (option, minimum, value))


def plan_partition(topology, isolated_cpus=None, reserved_cpus=None, isolated_count=None, reserved_per_node=None,
                   allow_split_cores=False):
    """Compute and check the partition; raises CpuPartitionError on any problem.

    Explicit mode: ``isolated_cpus`` and/or ``reserved_cpus`` (cpu-list strings);
    a missing one is every other online CPU. Count mode: ``reserved_per_node``
    CPUs of each NUMA node (default: its first core) and ``isolated_count`` CPUs
    (default: every other online CPU), both in whole cores.
    Returns a CpuPartition; ``split_cores`` lists cores that have isolated and
    non-isolated threads (only possible with ``allow_split_cores``).
    """
    explicit = isolated_cpus is not None or reserved_cpus is not None
    counted = isolated_count is not None or reserved_per_node is not None
    if explicit and counted:
        raise CpuPartitionError('give CPUs either as lists (isolated_cpus, reserved_cpus) or as counts '
                                '(isolated_count, reserved_per_node), not both')
    if not explicit and not counted:
        raise CpuPartitionError('one of isolated_cpus, reserved_cpus, isolated_count, reserved_per_node is required')
    online = topology.online
    if len(online) < 2:
        raise CpuPartitionError('this host has %d online CPU (%s): at least two are needed to isolate one and keep '
                                'one for housekeeping' % (len(online), online.format() or 'none'))

    if explicit:
        isolated = reserved = None
        if isolated_cpus is not None:
            isolated = parse_cpus('isolated_cpus', isolated_cpus)
            if not isolated:
                raise CpuPartitionError('isolated_cpus: must name at least one CPU (online CPUs: %s)' % online.format())
            _check_known(topology, 'isolated_cpus', isolated)
        if reserved_cpus is not None:
            reserved = parse_cpus('reserved_cpus', reserved_cpus)
            if not reserved:
                raise CpuPartitionError('reserved_cpus: must name at least one CPU (online CPUs: %s)' % online.format())
            _check_known(topology, 'reserved_cpus', reserved)
        if isolated is not None and reserved is not None:
            overlap = isolated & reserved
            if overlap:
                raise CpuPartitionError('isolated_cpus and reserved_cpus overlap on CPUs %s: a CPU is either isolated '
                                        'or reserved' % overlap.format())
        if isolated is None:
            isolated = online - reserved
            if not isolated:
                raise CpuPartitionError('reserved_cpus: %s holds every online CPU, which leaves nothing to isolate'
                                        % reserved.format())
        if reserved is None:
            reserved = online - isolated
        what = 'isolated_cpus' if isolated_cpus is not None else 'reserved_cpus'
    else:
        _check_count('isolated_count', isolated_count)
        _check_count('reserved_per_node', reserved_per_node)
        if isolated_count is not None and isolated_count > len(online):
            raise CpuPartitionError('isolated_count: %d is more than the %d online CPUs (%s)'
                                    % (isolated_count, len(online), online.format()))
        reserved = _reserve_per_node(topology, reserved_per_node)
        if isolated_count is None:
            isolated = online - reserved
            if not isolated:
                raise CpuPartitionError('reserved_per_node: %s reserves every online CPU (%s), which leaves nothing '
                                        'to isolate' % (reserved_per_node, online.format()))
        else:
            isolated = _isolate_balanced(topology, reserved, isolated_count)
        what = 'isolated_count' if isolated_count is not None else 'reserved_per_node'

    if isolated >= online:
        raise CpuPartitionError('%s: isolating every online CPU (%s) leaves none for the kernel and system services'
                                % (what, online.format()))
    if 0 in isolated:
        raise CpuPartitionError('%s: CPU 0 must stay a housekeeping CPU (the kernel keeps timekeeping and '
                                'unmovable work there and drops it from nohz_full); isolated CPUs would be %s'
                                % (what, isolated.format()))
    for node in topology.nodes_of(isolated):
        node_cpus = topology.node_cpus(node)
        if not reserved & node_cpus:
            raise CpuPartitionError('%s: NUMA node %d (CPUs %s) has isolated CPUs but no reserved (housekeeping) CPU; '
                                    'keep at least one CPU of every NUMA node with isolated CPUs in reserved_cpus'
                                    % (what, node, node_cpus.format()))
    split = topology.split_cores(isolated)
    if split and not allow_split_cores:
        raise CpuPartitionError('%s: isolated CPUs %s split the cores %s between isolated and non-isolated sibling '
                                'threads; isolate whole cores or set allow_split_cores=true'
                                % (what, isolated.format(), ' '.join('(%s)' % core.format() for core in split)))
    return CpuPartition(isolated, reserved, split)
