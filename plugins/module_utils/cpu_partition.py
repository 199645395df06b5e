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


def _parse_listed(topology, option, text):
    """An explicit CPU list: parsed, not empty, every CPU known to this host."""
    cpus = parse_cpus(option, text)
    if not cpus:
        raise CpuPartitionError('%s: must name at least one CPU (online CPUs: %s)' % (option, topology.online.format()))
    _check_known(topology, option, cpus)
    return cpus


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
            isolated = _parse_listed(topology, 'isolated_cpus', isolated_cpus)
        if reserved_cpus is not None:
            reserved = _parse_listed(topology, 'reserved_cpus', reserved_cpus)
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


# -- node plans (nfv.dpdk.node_plan): whole cores, CPU 0's core reserved, NIC nodes first ------------------

def _core_of(topology, cpu):
    return topology.siblings.get(cpu, CpuSet([cpu]))


def check_whole_cores(topology, option, cpus):
    """Refuse a cpu-list that holds some but not all threads of a core, naming the CPU and its sibling."""
    for core in topology.split_cores(cpus):
        inside = sorted(core & cpus)
        outside = sorted(core - cpus)
        raise CpuPartitionError('%s: CPU %d is listed but its SMT sibling %s is not (core %s): list whole cores, '
                                'both threads or neither' % (option, inside[0], ','.join(str(c) for c in outside),
                                                             core.format()))


def default_reserved(topology, cores_per_node=1, option='reserved_cores_per_node'):
    """CPU 0's whole core plus ``cores_per_node`` whole cores on every NUMA node with online CPUs.

    CPU 0's core counts for its own node; on each node the lowest cores are taken.
    """
    if cores_per_node < 1:
        raise CpuPartitionError('%s: must be at least 1, got %d' % (option, cores_per_node))
    reserved = CpuSet()
    first = _core_of(topology, 0) if 0 in topology.online else CpuSet()
    for node, cores in sorted(_node_cores(topology).items()):
        taken = [core for core in cores if core == first]
        for core in cores:
            if len(taken) >= cores_per_node:
                break
            if core not in taken:
                taken.append(core)
        if len(taken) < cores_per_node:
            raise CpuPartitionError('%s: %d cores asked on NUMA node %d but it has only %d online cores (CPUs %s)'
                                    % (option, cores_per_node, node, len(cores), topology.node_cpus(node).format()))
        for core in taken:
            reserved = reserved | core
    return reserved


def _reachable(sizes, target):
    """Whether some of the core sizes ``sizes`` add up to exactly ``target`` (subset sum on an int bitset)."""
    bits = 1
    for size in sizes:
        bits |= bits << size
    return target >= 0 and bool(bits >> target & 1)


def isolate_nic_nodes_first(topology, free, count, nic_nodes, option='isolated_count'):
    """``count`` CPUs of ``free`` in whole cores: balanced over ``nic_nodes`` first, then over the other nodes.

    Within a node the lowest cores come first. Cores with an offline sibling have
    fewer threads, so a core is taken only when the rest of the count can still be
    made of whole cores (a subset sum over the cores left); a count no set of whole
    cores gives is refused.
    """
    if count < 1:
        raise CpuPartitionError('%s: must be at least 1, got %d' % (option, count))
    by_node = dict((node, [core for core in cores if core <= free]) for node, cores in _node_cores(topology).items())
    available = sum(len(core) for cores in by_node.values() for core in cores)
    if count > available:
        raise CpuPartitionError('%s: %d CPUs asked but only %d can be isolated in whole cores (online CPUs: %s, '
                                'not reserved: %s)' % (option, count, available, topology.online.format(),
                                                       free.format()))
    if not _reachable([len(core) for cores in by_node.values() for core in cores], count):
        threads = topology.threads_per_core()
        raise CpuPartitionError('%s: %d CPUs cannot be isolated in whole cores (%d threads per core): the free cores '
                                'are %s; use a multiple of %d'
                                % (option, count, threads,
                                   ' '.join('(%s)' % core.format() for cores in by_node.values() for core in cores),
                                   threads))
    isolated = CpuSet()
    taken = dict((node, 0) for node in by_node)
    while len(isolated) < count:
        left = count - len(isolated)
        remaining = [(node, core) for node in by_node for core in by_node[node]]
        # NIC nodes first, then the node with the fewest isolated CPUs so far, then the lowest core.
        remaining.sort(key=lambda item: (item[0] not in nic_nodes, taken[item[0]], item[0], min(item[1])))
        for node, core in remaining:
            rest = [len(other) for other_node, other in remaining if other is not core]
            if len(core) <= left and _reachable(rest, left - len(core)):
                break
        by_node[node].remove(core)
        isolated = isolated | core
        taken[node] += len(core)
    return isolated


def plan_node_partition(topology, nic_nodes, reserved_cpus=None, isolated_cpus=None, reserved_cores_per_node=1,
                        isolated_count=None):
    """Reserved and isolated CPUs of a node plan; raises CpuPartitionError naming the option at fault.

    - reserved: ``reserved_cpus`` as given, else ``default_reserved``; when only
      ``isolated_cpus`` is given, every online CPU it leaves out.
    - isolated: ``isolated_cpus`` as given, else ``isolated_count`` CPUs of the
      non-reserved ones (NIC nodes first), else every online CPU not reserved.
    Whole cores only; CPU 0 may be isolated only when ``isolated_cpus`` names it;
    every NIC node must get isolated CPUs.
    """
    online = topology.online
    if isolated_cpus is not None and isolated_count is not None:
        raise CpuPartitionError('isolated_cpus and isolated_count: give the isolated CPUs as a list or as a count, '
                                'not both')
    reserved = isolated = None
    if reserved_cpus is not None:
        reserved = _parse_listed(topology, 'reserved_cpus', reserved_cpus)
        check_whole_cores(topology, 'reserved_cpus', reserved)
    if isolated_cpus is not None:
        isolated = _parse_listed(topology, 'isolated_cpus', isolated_cpus)
        check_whole_cores(topology, 'isolated_cpus', isolated)
    if reserved is not None and isolated is not None:
        overlap = reserved & isolated
        if overlap:
            raise CpuPartitionError('reserved_cpus and isolated_cpus overlap on CPUs %s: a CPU is either reserved or '
                                    'isolated' % overlap.format())
    if reserved is None:
        reserved = online - isolated if isolated is not None else default_reserved(topology, reserved_cores_per_node)
        reserved_option = 'isolated_cpus' if isolated is not None else 'reserved_cores_per_node'
    else:
        reserved_option = 'reserved_cpus'
    if not reserved:
        raise CpuPartitionError('isolated_cpus: %s holds every online CPU (%s), which leaves none reserved for the '
                                'kernel and system services' % (isolated.format(), online.format()))
    if isolated is None:
        free = online - reserved
        if not free:
            raise CpuPartitionError('%s: %s reserves every online CPU (%s), which leaves nothing to isolate'
                                    % (reserved_option, reserved.format(), online.format()))
        if isolated_count is not None:
            isolated = isolate_nic_nodes_first(topology, free, isolated_count, nic_nodes)
            isolated_option = 'isolated_count'
        else:
            isolated = free
            isolated_option = reserved_option
        if 0 in isolated:
            raise CpuPartitionError('%s: CPU 0 would be isolated (%s does not hold it): keep CPU 0 and its core reserved '
                                    '(the kernel keeps timekeeping and unmovable work there), or name CPU 0 in '
                                    'isolated_cpus explicitly' % (reserved_option, reserved.format()))
    else:
        isolated_option = 'isolated_cpus'
    for node in sorted(nic_nodes):
        if not isolated & topology.node_cpus(node):
            raise CpuPartitionError('%s: NUMA node %d has a DPDK NIC but no isolated CPU (isolated CPUs: %s, node %d '
                                    'CPUs: %s): DPDK threads on another node would cross the interconnect for every '
                                    'packet' % (isolated_option, node, isolated.format(), node,
                                                topology.node_cpus(node).format() or 'none'))
    return CpuPartition(isolated, reserved, [])
