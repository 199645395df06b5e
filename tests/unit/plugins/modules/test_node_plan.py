# -*- coding: utf-8 -*-
"""nfv.dpdk.node_plan on the project's fake hosts: the plan's rules hold and every refusal names its option.

The hosts are tests/unit/fixtures/hosts: x710-2socket (2 sockets, SMT, X710 PFs on NUMA
node 1, CPU 15 offline so core (7,15) has one online thread), vm-virtio (one node, no
SMT, CPU 2 offline, no 1G pages, virtio-net without SR-IOV) and cx5-bifurcated (one
node, SMT, two ConnectX-5 PFs on mlx5_core).
"""

import re

import pytest

from ansible_collections.nfv.dpdk.plugins.modules import node_plan, sriov_vfs
from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_topology import CpuTopology
from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.kubelet import Quantity
from ansible_collections.nfv.dpdk.tests.unit.plugins.module_utils.pcihost import add_vfs, load_host

MACHINE_ID = '4f1c0e2a9b7d4c55a1e0f3b2c6d7e8f9'
OTHER_MACHINE_ID = '0a1b2c3d4e5f60718293a4b5c6d7e8f9'
X710_PF0 = '0000:af:00.0'
X710_PF1 = '0000:af:00.1'
CX5_PF0 = '0000:41:00.0'
VM_NIC = '0000:00:03.0'
_MAC = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')


def host(fake_host, name, machine_id=MACHINE_ID):
    load_host(fake_host, name)
    if machine_id is not None:
        fake_host.file('/etc/machine-id', machine_id)
    return fake_host


def plan(run_module, check_mode=False, **args):
    result = run_module(node_plan, args, check_mode=check_mode)
    assert not result.failed, result.get('msg')
    assert result.changed is False
    return result


def refused(run_module, fake_host, **args):
    before = fake_host.snapshot()
    result = run_module(node_plan, args)
    assert result.failed, result
    assert fake_host.snapshot() == before
    return result['msg']


def topology():
    return CpuTopology.read(HostFS())


def assert_whole_cores(cpus):
    topo = topology()
    assert not topo.split_cores(CpuSet.parse(cpus)), cpus


# -- the default plan on each host ------------------------------------------------------------
def test_x710_defaults_follow_the_rules(fake_host, run_module):
    host(fake_host, 'x710-2socket')
    result = plan(run_module, nics=[X710_PF0, 'ens1f1'])
    # CPU 0's core (0,8) and node 1's first core (4,12); CPU 15 is offline.
    assert result['reserved_cpus'] == '0,4,8,12'
    assert result['isolated_cpus'] == '1-3,5-7,9-11,13-14'
    assert_whole_cores(result['reserved_cpus'])
    assert_whole_cores(result['isolated_cpus'])
    reserved, isolated = CpuSet.parse(result['reserved_cpus']), CpuSet.parse(result['isolated_cpus'])
    assert not reserved & isolated and (reserved | isolated) <= topology().online
    for node in ('0', '1'):
        assert result['numa_nodes'][node]['reserved_cpus']
    # Hugepages only on the NICs' node 1, 1G pages (the host has a 1G pool).
    assert result['hugepage_pools'] == [{'size': '1G', 'count': 1, 'node': 1}]
    assert result['numa_nodes']['0']['hugepages'] == []
    assert result['numa_nodes']['1']['nics'] == [X710_PF0, X710_PF1]
    assert result['numa_nodes']['1']['memory_bytes'] == 67108864 * 1024
    kubelet = result['kubelet_settings']
    assert kubelet['cpuManagerPolicy'] == 'static'
    assert kubelet['reservedSystemCPUs'] == result['reserved_cpus']
    assert kubelet['topologyManagerPolicy'] == 'single-numa-node'
    assert kubelet['memoryManagerPolicy'] == 'Static'
    assert kubelet['reservedMemory'] == [{'numaNode': 0, 'limits': {'memory': '550Mi'}},
                                         {'numaNode': 1, 'limits': {'memory': '550Mi'}}]
    assert kubelet['kubeReserved'] == {'memory': '500Mi'}
    assert kubelet['systemReserved'] == {'memory': '500Mi'}
    assert kubelet['evictionHard'] == {'memory.available': '100Mi'}
    # min(4, sriov_totalvfs 64) VFs per PF, all on vfio-pci.
    assert [(pf['device'], pf['num_vfs']) for pf in result['sriov_pfs']] == [(X710_PF0, 4), (X710_PF1, 4)]
    # All of them go to vfio-pci, so no kernel VF driver may probe them first.
    assert [pf['drivers_autoprobe'] for pf in result['sriov_pfs']] == [False, False]
    assert result['bindings'] == [{'vfs_of': [X710_PF0 + '#0-3', X710_PF1 + '#0-3'], 'driver': 'vfio-pci',
                                   'persist': True}]
    assert result['device_plugin_resources'] == [
        {'resource_name': 'dpdk_numa1', 'resource_prefix': 'nfv.dpdk', 'pf': X710_PF0, 'vfs': '0-3', 'driver': 'vfio-pci'},
        {'resource_name': 'dpdk_numa1', 'resource_prefix': 'nfv.dpdk', 'pf': X710_PF1, 'vfs': '0-3', 'driver': 'vfio-pci'},
    ]
    assert result['vfs'][1]['interface'] == 'ens1f1' and result['vfs'][1]['numa_node'] == 1
    assert result['vfs'][1]['vendor'] == '8086'
    assert result['aligned'] is True
    assert result['proof_pods'] == [{
        'numa_node': 1, 'cpus': '5', 'pci_devices': [result['vfs'][0]['vfs'][0]['address']],
        'macs': [result['vfs'][0]['vfs'][0]['mac']], 'resource': 'nfv.dpdk/dpdk_numa1', 'hugepage_size': '1G',
        'hugepages': '1Gi'}]
    assert any('isolated CPUs 1-3,5-7,9-11,13-14' in line for line in result['summary'])


def test_reserved_memory_sums_to_kube_system_and_eviction(fake_host, run_module):
    host(fake_host, 'x710-2socket')
    result = plan(run_module, nics=[X710_PF0], kube_reserved_memory='1Gi', system_reserved_memory='300Mi',
                  eviction_hard_memory='101Mi')
    entries = result['kubelet_settings']['reservedMemory']
    total = sum(Quantity.parse(entry['limits']['memory']).bytes() for entry in entries)
    assert total == (1024 + 300 + 101) * 1024 * 1024
    # 1425Mi over two nodes: 712Mi each, the remainder (1Mi) on node 0.
    assert entries == [{'numaNode': 0, 'limits': {'memory': '713Mi'}}, {'numaNode': 1, 'limits': {'memory': '712Mi'}}]


def test_reserved_memory_in_decimal_units_still_adds_up(fake_host, run_module):
    host(fake_host, 'x710-2socket')
    result = plan(run_module, nics=[X710_PF0], kube_reserved_memory='1G', system_reserved_memory='1G',
                  eviction_hard_memory='1001')
    entries = result['kubelet_settings']['reservedMemory']
    assert sum(Quantity.parse(entry['limits']['memory']).bytes() for entry in entries) == 2 * 10 ** 9 + 1001


def test_vm_single_node_no_smt_no_1g_pages_no_sriov(fake_host, run_module):
    host(fake_host, 'vm-virtio')
    result = plan(run_module, nics=['eth0'])
    assert result['reserved_cpus'] == '0'
    assert result['isolated_cpus'] == '1,3'
    assert result['hugepage_pools'] == [{'size': '2M', 'count': 512, 'node': 0}]
    assert result['kubelet_settings']['reservedMemory'] == [{'numaNode': 0, 'limits': {'memory': '1100Mi'}}]
    # No SR-IOV: the PF itself is the DPDK device.
    assert result['sriov_pfs'] == []
    assert result['bindings'] == [{'devices': [VM_NIC], 'driver': 'vfio-pci', 'persist': True}]
    assert result['vfs'] == [{'pf': VM_NIC, 'interface': 'eth0', 'numa_node': 0, 'vendor': '1af4', 'num_vfs': 0,
                              'vfs': []}]
    assert result['device_plugin_resources'] == []
    assert result['proof_pods'] == [{'numa_node': 0, 'cpus': '1', 'pci_devices': [VM_NIC], 'macs': [],
                                     'resource': None, 'hugepage_size': '2M', 'hugepages': '1Gi'}]
    assert result['aligned'] is True
    # eth0 carries the VM's default route: the plan says so before driver_bind would refuse it.
    assert any('nics[0]: %s carries a route (eth0)' % VM_NIC in warning for warning in result['warnings'])


def test_cx5_vfs_stay_on_mlx5_core(fake_host, run_module):
    host(fake_host, 'cx5-bifurcated')
    result = plan(run_module, nics=[CX5_PF0, 'ens2f1np1'])
    assert result['reserved_cpus'] == '0,8'
    assert result['isolated_cpus'] == '1-7,9-15'
    for pf in result['vfs']:
        assert pf['vendor'] == '15b3' and pf['num_vfs'] == 4
        assert [vf['driver'] for vf in pf['vfs']] == ['kernel'] * 4
    assert result['bindings'] == []
    assert [r['driver'] for r in result['device_plugin_resources']] == ['mlx5_core', 'mlx5_core']
    assert result['proof_pods'][0]['pci_devices'] == [result['vfs'][0]['vfs'][0]['address']]
    assert result['proof_pods'][0]['resource'] == 'nfv.dpdk/dpdk_numa0'


def test_cx5_pf_without_vfs_is_not_bound(fake_host, run_module):
    host(fake_host, 'cx5-bifurcated')
    result = plan(run_module, nics=[CX5_PF0], vfs_per_pf=0)
    assert result['bindings'] == [] and result['sriov_pfs'] == []
    assert result['proof_pods'][0]['pci_devices'] == [CX5_PF0]


# -- MACs and VF addresses -----------------------------------------------------------------------
def test_macs_are_stable_locally_administered_unicast_and_distinct(fake_host, run_module):
    host(fake_host, 'x710-2socket')
    first = plan(run_module, nics=[X710_PF0, X710_PF1], vfs_per_pf=16)
    again = plan(run_module, nics=[X710_PF0, X710_PF1], vfs_per_pf=16)
    macs = [vf['mac'] for pf in first['vfs'] for vf in pf['vfs']]
    assert len(macs) == 32 and len(set(macs)) == 32
    for mac in macs:
        assert _MAC.match(mac) and mac.startswith('02:')
    assert macs == [vf['mac'] for pf in again['vfs'] for vf in pf['vfs']]
    assert first['sriov_pfs'][0]['vfs'][3] == {'index': 3, 'mac': first['vfs'][0]['vfs'][3]['mac']}
    fake_host.file('/etc/machine-id', OTHER_MACHINE_ID)
    other = plan(run_module, nics=[X710_PF0, X710_PF1], vfs_per_pf=16)
    assert not set(macs) & set(vf['mac'] for pf in other['vfs'] for vf in pf['vfs'])


def test_vf_addresses_match_what_sriov_vfs_plans(fake_host, run_module, commands):
    host(fake_host, 'x710-2socket')
    # sriov_vfs reads each PF's link (up, no VFs yet) before it plans; check mode changes nothing.
    commands.provide('ip')
    for ifname in ('ens1f0', 'ens1f1'):
        commands.on(['/usr/bin/ip', '-j', 'link', 'show', 'dev', ifname],
                    out='[{"ifname": "%s", "flags": ["BROADCAST", "MULTICAST", "UP"], "operstate": "UP"}]' % ifname)
    result = plan(run_module, nics=[X710_PF0, X710_PF1], vfs_per_pf=3)
    checked = run_module(sriov_vfs, {'pfs': result['sriov_pfs'], 'persist': False}, check_mode=True)
    assert not checked.failed, checked.get('msg')
    for planned_pf, pf in zip(result['vfs'], checked['pfs']):
        assert [(vf['index'], vf['address']) for vf in planned_pf['vfs']] == \
            [(vf['index'], vf['address']) for vf in pf['vfs']]
        assert [vf['mac'] for vf in planned_pf['vfs']] == [vf['mac'] for vf in pf['vfs']]
    # The fake config space: First VF Offset 0x80, VF Stride 2.
    assert [vf['address'] for vf in result['vfs'][0]['vfs']] == ['0000:af:10.0', '0000:af:10.2', '0000:af:10.4']


def test_existing_vfs_keep_their_addresses(fake_host, run_module):
    host(fake_host, 'x710-2socket')
    existing = add_vfs(fake_host, X710_PF0, 2, first_address='0000:af:02.0')
    result = plan(run_module, nics=[X710_PF0], vfs_per_pf=3)
    addresses = [vf['address'] for vf in result['vfs'][0]['vfs']]
    assert addresses[:2] == existing
    assert addresses[2] == '0000:af:10.4'


def test_unreadable_config_space_gives_null_addresses_and_a_warning(fake_host, run_module):
    host(fake_host, 'x710-2socket')
    fake_host.pci_device(X710_PF0, device='0x1572', driver='i40e', numa_node=1, iommu_group=60,
                         sriov_totalvfs=64, netdevs=['ens1f0'], config_size=64)
    result = plan(run_module, nics=[X710_PF0], vfs_per_pf=2)
    assert [vf['address'] for vf in result['vfs'][0]['vfs']] == [None, None]
    assert any('not known' in warning for warning in result['warnings'])


# -- overrides -------------------------------------------------------------------------------------
def test_isolated_count_takes_nic_node_first_in_whole_cores(fake_host, run_module):
    host(fake_host, 'x710-2socket')
    # Node 1 has free cores (5,13), (6,14) and (7) (CPU 15 offline): 5 CPUs, all on node 1.
    result = plan(run_module, nics=[X710_PF0], isolated_count=5)
    assert result['isolated_cpus'] == '5-7,13-14'
    # 3 CPUs: a two-thread core and the one-thread core, not a split core.
    result = plan(run_module, nics=[X710_PF0], isolated_count=3)
    assert len(CpuSet.parse(result['isolated_cpus'])) == 3
    assert CpuSet.parse(result['isolated_cpus']) <= CpuSet.parse('4-7,12-14')
    assert_whole_cores(result['isolated_cpus'])
    # 7 CPUs: node 1's five, then a core of node 0.
    result = plan(run_module, nics=[X710_PF0], isolated_count=7)
    assert result['isolated_cpus'] == '1,5-7,9,13-14'


def test_isolated_count_balances_across_nic_nodes(fake_host, run_module):
    host(fake_host, 'x710-2socket')
    fake_host.pci_device('0000:18:00.0', vendor='0x8086', device='0x1521', driver='igb', numa_node=0,
                         iommu_group=30, sriov_totalvfs=7, netdevs=['eno1'])
    result = plan(run_module, nics=['eno1', X710_PF0], isolated_count=4)
    isolated = CpuSet.parse(result['isolated_cpus'])
    assert len(isolated & CpuSet.parse('0-3,8-11')) == 2 and len(isolated & CpuSet.parse('4-7,12-14')) == 2
    assert_whole_cores(result['isolated_cpus'])
    assert [pool['node'] for pool in result['hugepage_pools']] == [0, 1]
    assert [pod['numa_node'] for pod in result['proof_pods']] == [0, 1]


def test_reserved_cores_per_node(fake_host, run_module):
    host(fake_host, 'x710-2socket')
    result = plan(run_module, nics=[X710_PF0], reserved_cores_per_node=2)
    assert result['reserved_cpus'] == '0-1,4-5,8-9,12-13'


def test_explicit_lists(fake_host, run_module):
    host(fake_host, 'x710-2socket')
    result = plan(run_module, nics=[X710_PF0], reserved_cpus='0,8', isolated_cpus='4-7,12-14')
    assert result['reserved_cpus'] == '0,8' and result['isolated_cpus'] == '4-7,12-14'
    assert result['kubelet_settings']['reservedSystemCPUs'] == '0,8'
    # Only isolated_cpus: every other online CPU is reserved.
    result = plan(run_module, nics=[X710_PF0], isolated_cpus='5-7,13-14')
    assert result['reserved_cpus'] == '0-4,8-12'
    # Only reserved_cpus: every other online CPU is isolated.
    result = plan(run_module, nics=[X710_PF0], reserved_cpus='0-1,8-9')
    assert result['isolated_cpus'] == '2-7,10-14'


def test_explicit_isolated_list_may_hold_cpu_0(fake_host, run_module):
    host(fake_host, 'vm-virtio')
    result = plan(run_module, nics=['eth0'], isolated_cpus='0-1', reserved_cpus='3')
    assert result['isolated_cpus'] == '0-1'


def test_hugepage_size_amount_vfs_and_policy_overrides(fake_host, run_module):
    host(fake_host, 'x710-2socket')
    result = plan(run_module, nics=[X710_PF0], hugepage_size='2M', hugepages_per_nic_node='512M', vfs_per_pf=2,
                  vfio_vfs=1, topology_manager_policy='none', resource_prefix='example.com',
                  resource_name_template='sriov_dpdk_n{node}', proof_pod_cpus=2)
    assert result['hugepage_pools'] == [{'size': '2M', 'count': 256, 'node': 1}]
    assert [vf['driver'] for vf in result['vfs'][0]['vfs']] == ['vfio-pci', 'kernel']
    # VF 1 stays on the kernel VF driver, which must probe it.
    assert 'drivers_autoprobe' not in result['sriov_pfs'][0]
    assert result['bindings'] == [{'vfs_of': [X710_PF0 + '#0'], 'driver': 'vfio-pci', 'persist': True}]
    assert result['device_plugin_resources'] == [{'resource_name': 'sriov_dpdk_n1', 'resource_prefix': 'example.com',
                                                  'pf': X710_PF0, 'vfs': '0', 'driver': 'vfio-pci'}]
    assert result['kubelet_settings']['topologyManagerPolicy'] == 'none'
    assert result['kubelet_settings']['memoryManagerPolicy'] == 'None'
    pod = result['proof_pods'][0]
    assert pod['cpus'] == '5,13' and pod['hugepages'] == '512Mi' and pod['hugepage_size'] == '2M'
    assert pod['resource'] == 'example.com/sriov_dpdk_n1'


def test_check_mode_gives_the_same_plan_and_changes_nothing(fake_host, run_module):
    host(fake_host, 'x710-2socket')
    before = fake_host.snapshot()
    normal = plan(run_module, nics=[X710_PF0])
    checked = plan(run_module, check_mode=True, nics=[X710_PF0])
    assert fake_host.snapshot() == before
    assert dict(normal) == dict(checked)


# -- refusals: each names its option and leaves the node as it was ---------------------------------
@pytest.mark.parametrize('args, field, text', [
    ({'nics': []}, 'nics', 'at least one'),
    ({'nics': ['0000:99:00.0']}, 'nics[0]', 'no such PCI device'),
    ({'nics': ['ens9']}, 'nics[0]', 'neither a PCI address'),
    ({'nics': ['2460.0']}, 'nics[0]', 'quote it'),
    ({'nics': [X710_PF0, 'ens1f0']}, 'nics[1]', 'nics[0] names already'),
    ({'nics': [X710_PF0], 'reserved_cpus': '0'}, 'reserved_cpus', 'CPU 0 is listed but its SMT sibling 8'),
    ({'nics': [X710_PF0], 'isolated_cpus': '5-7'}, 'isolated_cpus', 'CPU 5 is listed but its SMT sibling 13'),
    ({'nics': [X710_PF0], 'isolated_cpus': '5-7,13-15'}, 'isolated_cpus', 'offline'),
    ({'nics': [X710_PF0], 'isolated_cpus': '5-7,13-14,40'}, 'isolated_cpus', 'do not exist'),
    ({'nics': [X710_PF0], 'isolated_cpus': '5-x'}, 'isolated_cpus', 'not a valid cpu-list'),
    ({'nics': [X710_PF0], 'reserved_cpus': '0,4-5,8,12-13', 'isolated_cpus': '5-7,13-14'},
     'reserved_cpus and isolated_cpus', 'overlap on CPUs 5,13'),
    ({'nics': [X710_PF0], 'isolated_cpus': '0-14'}, 'isolated_cpus', 'leaves none reserved'),
    ({'nics': [X710_PF0], 'reserved_cpus': '0-14'}, 'reserved_cpus', 'leaves nothing to isolate'),
    ({'nics': [X710_PF0], 'reserved_cpus': '1,9'}, 'reserved_cpus', 'CPU 0 would be isolated'),
    ({'nics': [X710_PF0], 'isolated_cpus': '1-3,9-11'}, 'isolated_cpus', 'NUMA node 1 has a DPDK NIC but no isolated'),
    ({'nics': [X710_PF0], 'reserved_cpus': '0,4-8,12-14'}, 'reserved_cpus', 'NUMA node 1 has a DPDK NIC but no isolated'),
    ({'nics': [X710_PF0], 'isolated_count': 100}, 'isolated_count', 'only 11 can be isolated'),
    ({'nics': [X710_PF0], 'isolated_count': 0}, 'isolated_count', 'at least 1'),
    ({'nics': [X710_PF0], 'reserved_cores_per_node': 0}, 'reserved_cores_per_node', 'at least 1'),
    ({'nics': [X710_PF0], 'reserved_cores_per_node': 5}, 'reserved_cores_per_node', 'only 4 online cores'),
    ({'nics': [X710_PF0], 'reserved_cores_per_node': 4}, 'reserved_cores_per_node', 'leaves nothing to isolate'),
    ({'nics': [X710_PF0], 'hugepages_per_nic_node': '64G'}, 'hugepages_per_nic_node', 'does not fit'),
    ({'nics': [X710_PF0], 'hugepages_per_nic_node': '1500M'}, 'hugepages_per_nic_node', 'whole number of 1G pages'),
    ({'nics': [X710_PF0], 'hugepages_per_nic_node': 'lots'}, 'hugepages_per_nic_node', 'not a page size'),
    ({'nics': [X710_PF0], 'hugepages_per_nic_node': '10%'}, 'hugepages_per_nic_node', 'not a percentage'),
    ({'nics': [X710_PF0], 'vfs_per_pf': 65}, 'vfs_per_pf', 'more than the 64 VFs'),
    ({'nics': [X710_PF0], 'vfs_per_pf': -1}, 'vfs_per_pf', 'at least 0'),
    ({'nics': [X710_PF0], 'vfs_per_pf': 2, 'vfio_vfs': 3}, 'vfio_vfs', 'more than the 2 VFs'),
    ({'nics': [X710_PF0], 'vfio_vfs': -1}, 'vfio_vfs', 'at least 0'),
    ({'nics': [X710_PF0], 'kube_reserved_memory': 'much'}, 'kube_reserved_memory', 'not a quantity'),
    ({'nics': [X710_PF0], 'system_reserved_memory': '-1Mi'}, 'system_reserved_memory', 'non-negative'),
    ({'nics': [X710_PF0], 'eviction_hard_memory': '0.5'}, 'eviction_hard_memory', 'whole'),
    ({'nics': [X710_PF0], 'kube_reserved_memory': '200Gi'}, 'kube_reserved_memory', 'kubelet would refuse'),
    ({'nics': [X710_PF0], 'kube_reserved_memory': '0', 'system_reserved_memory': '0', 'eviction_hard_memory': '0'},
     'kube_reserved_memory', 'kubelet would refuse'),
    ({'nics': [X710_PF0], 'resource_name_template': 'dpdk'}, 'resource_name_template', 'must contain {node}'),
    ({'nics': [X710_PF0], 'resource_name_template': 'dpdk{node}{x}'}, 'resource_name_template', 'only {node}'),
    ({'nics': [X710_PF0], 'resource_name_template': 'dpdk/{node}'}, 'resource_prefix/resource_name_template',
     'resource_name'),
    ({'nics': [X710_PF0], 'resource_prefix': 'Not_A_Domain'}, 'resource_prefix/resource_name_template',
     'resource_prefix'),
    ({'nics': [X710_PF0], 'proof_pod_cpus': 6}, 'proof_pod_cpus', 'only 5 isolated CPUs'),
    ({'nics': [X710_PF0], 'proof_pod_cpus': 0}, 'proof_pod_cpus', 'at least 1'),
])
def test_refusals_name_the_option(fake_host, run_module, args, field, text):
    host(fake_host, 'x710-2socket')
    msg = refused(run_module, fake_host, **args)
    assert msg.startswith(field), msg
    assert text in msg, msg


def test_refuses_isolated_cpus_with_isolated_count(fake_host, run_module):
    host(fake_host, 'x710-2socket')
    msg = refused(run_module, fake_host, nics=[X710_PF0], isolated_cpus='5-7,13-14', isolated_count=2)
    assert 'isolated_cpus' in msg and 'isolated_count' in msg and 'mutually exclusive' in msg


def test_refuses_a_vf_as_nic(fake_host, run_module):
    host(fake_host, 'x710-2socket')
    vf = add_vfs(fake_host, X710_PF0, 1)[0]
    msg = refused(run_module, fake_host, nics=[vf])
    assert msg.startswith('nics[0]:') and 'is a VF of %s' % X710_PF0 in msg


def test_refuses_1g_pages_on_a_node_without_them(fake_host, run_module):
    host(fake_host, 'vm-virtio')
    msg = refused(run_module, fake_host, nics=['eth0'], hugepage_size='1G')
    assert msg.startswith('hugepage_size:') and '1G pages are not supported' in msg


def test_refuses_hugepages_beyond_node_memory_with_other_pools(fake_host, run_module):
    # cx5: 128 GiB on node 0, of which 2048 x 2M = 4 GiB in 2M pages; 1 GiB margin: 123G is the most 1G pages.
    host(fake_host, 'cx5-bifurcated')
    assert plan(run_module, nics=[CX5_PF0], hugepages_per_nic_node='123G')['hugepage_pools'][0]['count'] == 123
    fake_host.hugepages(2048, total=2048, node=0)
    msg = refused(run_module, fake_host, nics=[CX5_PF0], hugepages_per_nic_node='124G')
    assert msg.startswith('hugepages_per_nic_node:') and '4G of it in hugepages of other sizes' in msg


def test_refuses_vfio_vfs_on_bifurcated_nics(fake_host, run_module):
    host(fake_host, 'cx5-bifurcated')
    msg = refused(run_module, fake_host, nics=[CX5_PF0], vfio_vfs=1)
    assert msg.startswith('vfio_vfs:') and 'bifurcated' in msg


def test_refuses_vfs_without_machine_id(fake_host, run_module):
    host(fake_host, 'x710-2socket', machine_id=None)
    msg = refused(run_module, fake_host, nics=[X710_PF0])
    assert msg.startswith('vfs_per_pf:') and '/etc/machine-id' in msg
    # Without VFs no MAC is needed.
    assert plan(run_module, nics=[X710_PF0], vfs_per_pf=0)['bindings'] == [
        {'devices': [X710_PF0], 'driver': 'vfio-pci', 'persist': True}]


def test_refuses_an_unknown_topology_policy_in_the_class():
    from ansible_collections.nfv.dpdk.plugins.module_utils.node_plan import NodePlan, NodePlanError
    params = dict((name, spec.get('default')) for name, spec in node_plan.ARGUMENT_SPEC.items())
    params.update(nics=[X710_PF0], topology_manager_policy='strict')
    with pytest.raises(NodePlanError, match=r'^topology_manager_policy: .*allowed: none, best-effort'):
        NodePlan(params).build()
    params.update(topology_manager_policy='none', hugepage_size='4M')
    with pytest.raises(NodePlanError, match=r'^hugepage_size: '):
        NodePlan(params).build()


def test_refuses_an_isolated_count_that_splits_a_core(fake_host, run_module):
    host(fake_host, 'cx5-bifurcated')
    msg = refused(run_module, fake_host, nics=[CX5_PF0], isolated_count=3)
    assert msg.startswith('isolated_count:') and '2 threads per core' in msg and 'multiple of 2' in msg
    assert plan(run_module, nics=[CX5_PF0], isolated_count=4)['isolated_cpus'] == '1-2,9-10'
