# -*- coding: utf-8 -*-
"""The pieces of the node plan: derived MACs, reservedMemory spreading, and cpu_partition's node-plan rules."""

import hashlib

import pytest

from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_partition import (
    CpuPartitionError, check_whole_cores, default_reserved, isolate_nic_nodes_first, plan_node_partition,
)
from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_topology import CpuTopology
from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.kubelet import Quantity
from ansible_collections.nfv.dpdk.plugins.module_utils.node_plan import read_machine_id, spread_reserved_memory, vf_mac

MACHINE_ID = '4f1c0e2a9b7d4c55a1e0f3b2c6d7e8f9'


def topology_of(fake_host, **layout):
    fake_host.topology(**layout)
    return CpuTopology.read(HostFS())


# -- MACs ---------------------------------------------------------------------------------------
def test_vf_mac_is_sha256_of_machine_id_pf_and_index_with_02_first():
    digest = hashlib.sha256(b'%s/0000:af:00.0/3' % MACHINE_ID.encode()).hexdigest()
    expected = '02:' + ':'.join(digest[i:i + 2] for i in range(0, 10, 2))
    assert vf_mac(MACHINE_ID, '0000:af:00.0', 3) == expected


def test_vf_macs_are_unicast_locally_administered_and_distinct():
    macs = [vf_mac(MACHINE_ID, pf, index) for pf in ('0000:af:00.0', '0000:af:00.1') for index in range(64)]
    assert len(set(macs)) == len(macs)
    for mac in macs:
        first = int(mac.split(':')[0], 16)
        assert first == 0x02 and not first & 1 and first & 2


def test_read_machine_id_prefers_etc_and_ignores_junk(fake_host):
    fs = HostFS()
    assert read_machine_id(fs) is None
    fake_host.file('/var/lib/dbus/machine-id', MACHINE_ID.upper())
    assert read_machine_id(fs) == MACHINE_ID
    fake_host.file('/etc/machine-id', 'uninitialized')
    assert read_machine_id(fs) == MACHINE_ID
    fake_host.file('/etc/machine-id', '0' * 32)
    assert read_machine_id(fs) == '0' * 32


# -- reservedMemory -------------------------------------------------------------------------------
@pytest.mark.parametrize('total, nodes, expected', [
    (1100 * 2 ** 20, [0, 1], ['550Mi', '550Mi']),
    (1100 * 2 ** 20, [0, 1, 2], ['368Mi', '366Mi', '366Mi']),
    (1100 * 2 ** 20, [0], ['1100Mi']),
    (2 * 10 ** 9, [0, 1], ['976563Ki', '976562Ki']),
    (2 * 10 ** 9 + 1, [0, 1], ['1000000001', '1000000000']),
])
def test_spread_reserved_memory_adds_up_exactly(total, nodes, expected):
    entries = spread_reserved_memory(total, nodes)
    assert [entry['limits']['memory'] for entry in entries] == expected
    assert [entry['numaNode'] for entry in entries] == nodes
    assert sum(Quantity.parse(entry['limits']['memory']).bytes() for entry in entries) == total


def test_spread_reserved_memory_leaves_out_nodes_with_nothing():
    # 1Mi over 3 nodes: all of it on node 0 (a zero entry is refused by the kubelet).
    assert spread_reserved_memory(2 ** 20, [0, 1, 2]) == [{'numaNode': 0, 'limits': {'memory': '1Mi'}}]


# -- cpu_partition: node-plan rules ----------------------------------------------------------------
def test_default_reserved_takes_cpu0_core_and_one_core_per_node(fake_host):
    topo = topology_of(fake_host, sockets=2, cores_per_socket=4, threads_per_core=2)
    assert default_reserved(topo).format() == '0,4,8,12'
    assert default_reserved(topo, 3).format() == '0-2,4-6,8-10,12-14'
    with pytest.raises(CpuPartitionError, match=r'^reserved_cores_per_node: 5 cores asked on NUMA node 0'):
        default_reserved(topo, 5)


def test_check_whole_cores_names_the_cpu_and_its_sibling(fake_host):
    topo = topology_of(fake_host, sockets=1, cores_per_socket=4, threads_per_core=2)
    check_whole_cores(topo, 'isolated_cpus', CpuSet.parse('1-2,5-6'))
    with pytest.raises(CpuPartitionError, match=r'^isolated_cpus: CPU 1 is listed but its SMT sibling 5 is not'):
        check_whole_cores(topo, 'isolated_cpus', CpuSet.parse('1-2,6'))


def test_isolate_balances_over_nic_nodes_then_others(fake_host):
    topo = topology_of(fake_host, sockets=4, cores_per_socket=2, threads_per_core=1)
    free = topo.online - CpuSet.parse('0,2,4,6')
    # NIC nodes 1 and 3 hold CPUs 3 and 7: two CPUs land there, the third on node 0.
    assert isolate_nic_nodes_first(topo, free, 2, [1, 3]).format() == '3,7'
    assert isolate_nic_nodes_first(topo, free, 3, [1, 3]).format() == '1,3,7'


def test_isolate_uses_a_core_with_an_offline_sibling_to_reach_an_odd_count(fake_host):
    topo = topology_of(fake_host, sockets=1, cores_per_socket=4, threads_per_core=2, offline='7')
    free = topo.online - CpuSet.parse('0,4')
    # Cores (1,5), (2,6), (3): 3 CPUs = (1,5) + (3), never a split core.
    isolated = isolate_nic_nodes_first(topo, free, 3, [0])
    assert isolated.format() == '1,3,5'
    assert not topo.split_cores(isolated)
    with pytest.raises(CpuPartitionError, match=r'^isolated_count: 6 CPUs asked but only 5'):
        isolate_nic_nodes_first(topo, free, 6, [0])


def test_isolate_refuses_a_count_that_splits_cores(fake_host):
    topo = topology_of(fake_host, sockets=1, cores_per_socket=4, threads_per_core=2)
    free = topo.online - CpuSet.parse('0,4')
    with pytest.raises(CpuPartitionError, match=r'^isolated_count: 3 CPUs cannot be isolated in whole cores '
                                                r'\(2 threads per core\).*multiple of 2'):
        isolate_nic_nodes_first(topo, free, 3, [0])
    with pytest.raises(CpuPartitionError, match=r'^isolated_count: must be at least 1'):
        isolate_nic_nodes_first(topo, free, 0, [0])


def test_plan_node_partition_refuses_isolated_cpus_with_a_count(fake_host):
    topo = topology_of(fake_host, sockets=1, cores_per_socket=4, threads_per_core=1)
    with pytest.raises(CpuPartitionError, match=r'^isolated_cpus and isolated_count'):
        plan_node_partition(topo, [0], isolated_cpus='1-3', isolated_count=2)


def test_plan_node_partition_defaults_and_the_nic_node_rule(fake_host):
    topo = topology_of(fake_host, sockets=2, cores_per_socket=2, threads_per_core=1)
    partition = plan_node_partition(topo, [1])
    assert (partition.reserved.format(), partition.isolated.format()) == ('0,2', '1,3')
    with pytest.raises(CpuPartitionError, match=r'^isolated_cpus: NUMA node 1 has a DPDK NIC but no isolated CPU'):
        plan_node_partition(topo, [1], isolated_cpus='1')


def test_plan_partition_keeps_working_for_cpu_isolation(fake_host):
    """The existing count/list planner (cpu_isolation's) is unchanged by the node-plan additions."""
    from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_partition import plan_partition
    topo = topology_of(fake_host, sockets=2, cores_per_socket=2, threads_per_core=1)
    assert plan_partition(topo, reserved_per_node=1).to_dict() == {'isolated_cpus': '1,3', 'reserved_cpus': '0,2'}
