# -*- coding: utf-8 -*-
"""cpu_partition: explicit and counted CPU sets checked against a fake topology."""

import pytest

from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_partition import CpuPartitionError, plan_partition
from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_topology import CpuTopology


def topo(fake_host, **kwargs):
    fake_host.topology(**kwargs)
    return CpuTopology.read()


def test_explicit_sets_and_defaults(fake_host):
    t = topo(fake_host, sockets=1, cores_per_socket=8, threads_per_core=2)
    p = plan_partition(t, isolated_cpus='2-7,10-15', reserved_cpus='0-1,8-9')
    assert p.to_dict() == {'isolated_cpus': '2-7,10-15', 'reserved_cpus': '0-1,8-9'} and p.split_cores == []
    assert plan_partition(t, isolated_cpus='2-7,10-15').reserved.format() == '0-1,8-9'
    assert plan_partition(t, reserved_cpus='0-1,8-9').isolated.format() == '2-7,10-15'
    # CPUs in neither set stay shared.
    p = plan_partition(t, isolated_cpus='4-7,12-15', reserved_cpus='0,8')
    assert p.isolated.format() == '4-7,12-15' and p.reserved.format() == '0,8'


def test_counts_reserve_lowest_whole_cores_and_balance_nodes(fake_host):
    t = topo(fake_host, sockets=2, cores_per_socket=4, threads_per_core=2)  # node0 0-3,8-11; node1 4-7,12-15
    p = plan_partition(t, reserved_per_node=2)
    assert p.reserved.format() == '0,4,8,12' and p.isolated.format() == '1-3,5-7,9-11,13-15'
    p = plan_partition(t, isolated_count=4)
    assert p.reserved.format() == '0,4,8,12' and p.isolated.format() == '1,5,9,13'
    p = plan_partition(t, isolated_count=12)
    assert p.isolated.format() == '1-3,5-7,9-11,13-15'
    p = plan_partition(t, isolated_count=2, reserved_per_node=4)
    assert p.reserved.format() == '0-1,4-5,8-9,12-13' and p.isolated.format() == '2,10'


def test_no_hyperthreads_and_no_numa(fake_host):
    fake_host.file('/sys/devices/system/cpu/online', '0-3')
    t = CpuTopology.read()
    p = plan_partition(t, isolated_count=2)
    assert p.reserved.format() == '0' and p.isolated.format() == '1-2'


def test_split_cores_allowed_when_asked(fake_host):
    t = topo(fake_host, sockets=1, cores_per_socket=4, threads_per_core=2)
    p = plan_partition(t, isolated_cpus='2-3', allow_split_cores=True)
    assert [c.format() for c in p.split_cores] == ['2,6', '3,7']
    with pytest.raises(CpuPartitionError, match='allow_split_cores'):
        plan_partition(t, isolated_cpus='2-3')


@pytest.mark.parametrize('kwargs,message', [
    ({}, 'one of isolated_cpus'),
    ({'isolated_cpus': '2', 'isolated_count': 2}, 'not both'),
    ({'isolated_cpus': '0-7'}, 'every online CPU'),
    ({'isolated_cpus': '0,4'}, 'CPU 0 must stay'),
    ({'isolated_cpus': 'a'}, 'isolated_cpus: '),
    ({'reserved_cpus': ''}, 'reserved_cpus: must name'),
    ({'isolated_cpus': '9'}, 'do not exist'),
    ({'isolated_count': 7}, 'only 6 can be isolated'),
    ({'isolated_count': 9}, 'more than the 8 online'),
    ({'reserved_per_node': 9}, 'has only 8'),
    ({'reserved_per_node': 5}, 'would split a core'),
    ({'reserved_per_node': -2}, 'at least 1'),
])
def test_rejections(fake_host, kwargs, message):
    t = topo(fake_host, sockets=1, cores_per_socket=4, threads_per_core=2)
    with pytest.raises(CpuPartitionError, match=message):
        plan_partition(t, **kwargs)
