# -*- coding: utf-8 -*-
"""nfv.dpdk.node_facts on fake hosts: facts per fixture, findings, read-only, check mode, bad input."""

import json
import os

import pytest

from ansible_collections.nfv.dpdk.plugins.modules import node_facts
from ansible_collections.nfv.dpdk.tests.unit.plugins.module_utils.pcihost import add_vfs, load_host

DEBIAN_OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
KUBELET_STATE = '/var/lib/kubelet/cpu_manager_state'
real_read = node_facts.HostFS.read_raw


def gather(run_module, args=None, check_mode=False):
    result = run_module(node_facts, args or {}, check_mode=check_mode)
    assert not result.failed, result.get('msg')
    assert not result.changed
    json.dumps(result)
    return result['ansible_facts']['dpdk_node']


def ids(facts, severity=None):
    return [f['id'] for f in facts['findings'] if severity is None or f['severity'] == severity]


def finding(facts, finding_id):
    found = [f for f in facts['findings'] if f['id'] == finding_id]
    assert len(found) == 1, (finding_id, ids(facts))
    return found[0]


def nic(facts, address):
    return [n for n in facts['nics'] if n['address'] == address][0]


# -- the X710 host ------------------------------------------------------------------------

@pytest.fixture
def x710(fake_host):
    return load_host(fake_host, 'x710-2socket')


def test_x710_facts(x710, run_module):
    facts = gather(run_module)
    assert facts['gathered'] == ['cpu', 'hugepages', 'iommu', 'nics', 'kernel', 'modules', 'kubelet']
    assert facts['cpu']['online'] == '0-14' and facts['cpu']['offline'] == '15'
    assert [n['id'] for n in facts['cpu']['nodes']] == [0, 1]
    assert facts['cpu']['supports_1g_pages'] is True and facts['cpu']['vendor'] == 'GenuineIntel'
    assert facts['iommu'] == {'enabled': True, 'groups': 5, 'units': [], 'vfio_noiommu': None}
    assert [n['address'] for n in facts['nics']] == ['0000:18:00.0', '0000:af:00.0', '0000:af:00.1']
    mgmt = nic(facts, '0000:18:00.0')
    assert mgmt['carries_route'] and mgmt['default_route'] and not mgmt['dpdk_candidate']
    pf = nic(facts, '0000:af:00.0')
    assert (pf['driver'], pf['numa_node'], pf['iommu_group'], pf['sriov_totalvfs']) == ('i40e', 1, 60, 64)
    # fe80::/64 on ens1f0 does not count as a route.
    assert not pf['carries_route'] and pf['dpdk_candidate']
    assert pf['iommu_group_conflicts'] == []
    assert facts['kernel']['release'] == '6.1.0-18-amd64'
    assert facts['kernel']['lockdown'] == 'none' and facts['kernel']['secure_boot'] is None
    # No /etc/os-release in this fixture: the configured command line is unknown, with the reason.
    assert facts['kernel']['cmdline_configured'] is None
    assert 'os-release' in facts['kernel']['cmdline_configured_error']
    assert facts['kernel_modules']['loaded']['vfio_pci'] is True
    assert facts['kernel_modules']['available'] == {'vfio_pci': True, 'uio_pci_generic': True, 'igb_uio': False}
    assert facts['kubelet']['cpu_manager_policy'] == 'static'
    assert facts['kubelet']['state_policy'] == 'static' and facts['kubelet']['state_cpus'] == '0-14'
    assert facts['kubelet']['topology_manager_policy'] == 'single-numa-node'


def test_x710_findings(x710, run_module):
    facts = gather(run_module)
    numa = finding(facts, 'nic_numa_node_without_hugepages')
    assert numa['severity'] == 'warning'
    assert numa['subjects'] == ['0000:af:00.0', '0000:af:00.1']
    assert 'NUMA node 1' in numa['message'] and 'nfv.dpdk.hugepages' in numa['fix']
    vfs = finding(facts, 'sriov_no_vfs')
    assert vfs['severity'] == 'info' and vfs['subjects'] == ['0000:af:00.0', '0000:af:00.1']
    assert finding(facts, 'cpus_offline')['message'].startswith('CPU(s) 15 are offline')
    assert 'iommu_disabled' not in ids(facts) and 'no_hugepages' not in ids(facts)
    assert not any(i.startswith('kubelet') for i in ids(facts))
    assert facts['summary'] == {'errors': 0, 'warnings': 1, 'info': 3, 'ready': True}
    for item in facts['findings']:
        assert set(item) == {'id', 'severity', 'message', 'fix', 'subjects'}
        assert item['fix']


def test_x710_hugepages_on_node1_clear_the_numa_finding(x710, run_module):
    x710.hugepages(1048576, total=4, node=1)
    assert 'nic_numa_node_without_hugepages' not in ids(gather(run_module))


def test_stale_kubelet_state_is_an_error(x710, run_module):
    x710.file(KUBELET_STATE, '{"policyName":"none","defaultCpuSet":"","checksum":1}')
    facts = gather(run_module)
    stale = finding(facts, 'kubelet_cpu_manager_state_stale')
    assert stale['severity'] == 'error'
    assert '"none"' in stale['message'] and '"static"' in stale['message'] and 'crash-loop' in stale['message']
    assert stale['subjects'] == [KUBELET_STATE]
    assert facts['summary']['ready'] is False
    assert facts['findings'][0]['id'] == 'kubelet_cpu_manager_state_stale'


def test_kubelet_state_covering_other_cpus_is_an_error(x710, run_module):
    x710.file(KUBELET_STATE, json.dumps({'policyName': 'static', 'defaultCpuSet': '0-3,8-15',
                                         'entries': {'pod': {'dpdk': '4-7'}}, 'checksum': 1}))
    facts = gather(run_module)
    assert facts['kubelet']['state_cpus'] == '0-15'
    assert 'online CPUs are 0-14' in finding(facts, 'kubelet_cpu_manager_state_cpus')['message']


def test_kubelet_corrupt_state_and_policy_none(x710, run_module):
    x710.file(KUBELET_STATE, '{"policyName": ')
    x710.file('/var/lib/kubelet/config.yaml', 'kind: KubeletConfiguration\n')
    facts = gather(run_module)
    assert facts['kubelet']['cpu_manager_policy'] == 'none'
    assert finding(facts, 'kubelet_cpu_manager_state_corrupt')['severity'] == 'error'
    assert finding(facts, 'kubelet_cpu_manager_not_static')['severity'] == 'warning'


def test_kubelet_flag_overrides_config(x710, run_module):
    x710.file('/var/lib/kubelet/kubeadm-flags.env',
              'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd.sock --cpu-manager-policy=none"')
    facts = gather(run_module, {'gather': ['kubelet', 'cpu']})
    assert facts['kubelet']['cpu_manager_policy'] == 'none'
    assert facts['kubelet']['cpu_manager_policy_source'] == '/var/lib/kubelet/kubeadm-flags.env'
    assert 'kubelet_cpu_manager_state_stale' in ids(facts)


def test_kubelet_config_unparsable_and_without_pyyaml(x710, run_module, monkeypatch):
    x710.file('/var/lib/kubelet/config.yaml', 'cpuManagerPolicy: [static\n')
    facts = gather(run_module, {'gather': ['kubelet']})
    assert 'not valid YAML' in facts['kubelet']['config_error']
    assert 'kubelet_config_unreadable' in ids(facts)
    monkeypatch.setattr(node_facts, 'HAS_YAML', False)
    x710.file('/var/lib/kubelet/config.yaml', 'kind: KubeletConfiguration\ncpuManagerPolicy: "static"\n')
    assert gather(run_module, {'gather': ['kubelet']})['kubelet']['cpu_manager_policy'] == 'static'


def test_kubelet_paths_are_options(x710, run_module):
    x710.file('/etc/kubernetes/kubelet.yaml', 'cpuManagerPolicy: static\n')
    x710.file('/data/kubelet/cpu_manager_state', '{"policyName":"none","defaultCpuSet":""}')
    facts = gather(run_module, {'gather': ['kubelet'], 'kubelet_config_path': '/etc/kubernetes/kubelet.yaml',
                                'kubelet_state_dir': '/data/kubelet'})
    assert facts['kubelet']['state_file'] == '/data/kubelet/cpu_manager_state'
    assert 'kubelet_cpu_manager_state_stale' in ids(facts)


def test_no_kubelet_no_kubelet_findings(fake_host, run_module):
    facts = gather(run_module, {'gather': ['kubelet']})
    assert facts['kubelet']['config_found'] is False and facts['kubelet']['state_found'] is False
    assert facts['findings'] == []


def test_vfs_and_include_vfs(x710, run_module):
    add_vfs(x710, '0000:af:00.0', 4, driver='iavf', iommu_group_base=100, netdev_prefix='ens1f0')
    facts = gather(run_module)
    pf = nic(facts, '0000:af:00.0')
    assert pf['sriov_numvfs'] == 4 and pf['vf_drivers'] == {'iavf': 4}
    assert pf['vfs'] == ['0000:af:02.0', '0000:af:02.1', '0000:af:02.2', '0000:af:02.3']
    assert len(facts['nics']) == 3
    assert finding(facts, 'sriov_no_vfs')['subjects'] == ['0000:af:00.1']
    facts = gather(run_module, {'include_vfs': True})
    assert len(facts['nics']) == 7
    vf = nic(facts, '0000:af:02.3')
    assert vf['is_vf'] and vf['physfn'] == '0000:af:00.0' and vf['vf_index'] == 3 and vf['numa_node'] == 1


def test_include_vfs_reads_each_pf_links_once(x710, run_module, monkeypatch):
    """VF indexes come from one walk of each PF's virtfn links, not one walk per VF (quadratic)."""
    from ansible_collections.nfv.dpdk.plugins.module_utils.pci import PciDevice
    add_vfs(x710, '0000:af:00.0', 16, driver='iavf', iommu_group_base=100, netdev_prefix='ens1f0')
    walks = []
    original = PciDevice._virtfns

    def counting(self):
        walks.append(self.address)
        return original(self)

    monkeypatch.setattr(PciDevice, '_virtfns', counting)
    facts = gather(run_module, {'include_vfs': True})
    vfs = [item for item in facts['nics'] if item['is_vf']]
    assert [vf['vf_index'] for vf in vfs] == list(range(16))
    # Each PF's links: once for its index map, once for its own 'vfs' entry; never once per VF.
    assert walks.count('0000:af:00.0') == 2, walks


def test_shared_iommu_group(x710, run_module):
    base = '/sys/devices/pci0000:00/0000:af:00.1'
    x710.link('/sys/kernel/iommu_groups/60/devices/0000:af:00.1', base)
    x710.link(base + '/iommu_group', '/sys/kernel/iommu_groups/60')
    facts = gather(run_module, {'gather': ['nics']})
    shared = [f for f in facts['findings'] if f['id'] == 'iommu_group_shared']
    assert [f['subjects'] for f in shared] == [['0000:af:00.0'], ['0000:af:00.1']]
    assert '0000:af:00.1 (i40e)' in shared[0]['message']


def test_reboot_pending_from_the_boot_loader(x710, run_module, commands):
    x710.file('/etc/os-release', DEBIAN_OS_RELEASE)
    x710.file('/etc/default/grub', 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
                                   'GRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt default_hugepagesz=1G hugepagesz=1G '
                                   'hugepages=8"\n')
    commands.provide('update-grub')
    facts = gather(run_module, {'gather': ['kernel']})
    assert facts['kernel']['cmdline_configured'] == (
        'intel_iommu=on iommu=pt default_hugepagesz=1G hugepagesz=1G hugepages=8 quiet')
    assert facts['kernel']['cmdline_configured_error'] is None
    pending = finding(facts, 'reboot_pending')
    assert pending['subjects'] == ['hugepages'] and 'hugepages=8' in pending['message']
    assert commands.calls == []


def test_vfio_noiommu_mode(x710, run_module):
    x710.kernel_module('vfio', {'enable_unsafe_noiommu_mode': 'Y'})
    facts = gather(run_module, {'gather': ['iommu']})
    assert facts['iommu']['vfio_noiommu'] is True
    assert finding(facts, 'vfio_noiommu_mode')['severity'] == 'warning'


def test_gather_subset(x710, run_module):
    facts = gather(run_module, {'gather': ['nics']})
    assert facts['gathered'] == ['nics']
    assert set(facts) == {'gathered', 'nics', 'findings', 'summary'}
    assert ids(facts) == ['sriov_no_vfs']


# -- the ConnectX-5 host ----------------------------------------------------------------

def test_cx5_bifurcated_lockdown(fake_host, run_module):
    load_host(fake_host, 'cx5-bifurcated')
    facts = gather(run_module)
    assert facts['cpu']['vendor'] == 'AuthenticAMD'
    assert facts['iommu']['enabled'] is True
    cx5 = nic(facts, '0000:41:00.0')
    assert cx5['is_bifurcated'] and cx5['driver'] == 'mlx5_core' and cx5['vendor_name'] == 'Mellanox/NVIDIA'
    assert cx5['dpdk_candidate'] and not nic(facts, '0000:42:00.0')['dpdk_candidate']
    assert facts['kernel']['lockdown'] == 'integrity' and facts['kernel']['secure_boot'] is True
    assert finding(facts, 'bifurcated_nic')['subjects'] == ['0000:41:00.0', '0000:41:00.1']
    assert 'never bind them to vfio-pci' in finding(facts, 'bifurcated_nic')['message']
    lockdown = finding(facts, 'uio_blocked_by_lockdown')
    assert lockdown['severity'] == 'warning' and 'igb_uio' in lockdown['message']
    assert 'ib_uverbs' in finding(facts, 'rdma_modules_not_loaded')['message']
    # vfio-pci.ko.xz is in modules.dep: loadable, just not loaded.
    assert facts['kernel_modules']['available']['vfio_pci'] is True
    assert finding(facts, 'vfio_pci_not_loaded')['severity'] == 'info'
    assert 'iommu_disabled' not in ids(facts) and 'iommu_not_passthrough' not in ids(facts)
    assert 'nic_numa_node_without_hugepages' not in ids(facts)
    assert facts['summary']['ready'] is True


def test_lockdown_without_iommu_is_an_error(fake_host, run_module):
    load_host(fake_host, 'vm-virtio')
    fake_host.file('/sys/kernel/security/lockdown', 'none integrity [confidentiality]')
    facts = gather(run_module, {'gather': ['kernel', 'iommu']})
    assert finding(facts, 'uio_blocked_by_lockdown')['severity'] == 'error'


# -- the VM --------------------------------------------------------------------------------

def test_vm_without_iommu(fake_host, run_module):
    load_host(fake_host, 'vm-virtio')
    facts = gather(run_module)
    iommu = finding(facts, 'iommu_disabled')
    assert iommu['severity'] == 'error'
    assert 'intel_iommu=on is not on its command line' in iommu['message']
    assert 'virtual IOMMU' in iommu['message']
    assert iommu['fix'].startswith('nfv.dpdk.iommu_grub')
    assert finding(facts, 'no_hugepages')['severity'] == 'error'
    assert finding(facts, 'no_1g_hugepages')['severity'] == 'warning'
    assert finding(facts, 'vfio_pci_unavailable')['severity'] == 'error'
    assert 'eth0' in finding(facts, 'no_dpdk_nic')['message']
    assert facts['iommu'] == {'enabled': False, 'groups': 0, 'units': [], 'vfio_noiommu': None}
    assert [n['address'] for n in facts['nics']] == ['0000:00:03.0']
    virtio = facts['nics'][0]
    assert virtio['netdevs'] == ['eth0'] and virtio['carries_route'] and virtio['iommu_group'] is None
    assert facts['cpu']['online'] == '0-1,3' and facts['cpu']['supports_1g_pages'] is False
    assert facts['cpu']['hypervisor'] is True
    assert facts['summary']['ready'] is False and facts['summary']['errors'] == 3


def test_iommu_requested_but_absent(fake_host, run_module):
    load_host(fake_host, 'vm-virtio')
    fake_host.cmdline('root=/dev/vda1 intel_iommu=on iommu=pt')
    message = finding(gather(run_module, {'gather': ['iommu', 'kernel', 'cpu']}), 'iommu_disabled')['message']
    assert 'intel_iommu=on is on the command line but the kernel created no IOMMU groups' in message


def test_empty_host_reports_without_failing(fake_host, run_module):
    facts = gather(run_module)
    assert facts['nics'] == [] and facts['iommu']['enabled'] is False
    assert facts['kernel']['release'] is None and facts['kernel_modules']['available']['vfio_pci'] is None
    assert facts['cpu']['supports_1g_pages'] is None
    assert 'vfio_pci_unknown' in ids(facts)


# -- read only, check mode, bad input ----------------------------------------------------------

@pytest.mark.parametrize('name', ['x710-2socket', 'cx5-bifurcated', 'vm-virtio'])
def test_changes_nothing_and_check_mode_is_the_same(fake_host, run_module, commands, name):
    load_host(fake_host, name)
    before = fake_host.snapshot()
    normal = gather(run_module)
    checked = gather(run_module, check_mode=True)
    assert normal == checked
    assert fake_host.snapshot() == before
    assert commands.calls == []


@pytest.mark.parametrize('args, words', [
    ({'gather': ['nics', 'bogus']}, ['gather', 'bogus', 'hugepages', 'kubelet']),
    ({'gather': []}, ['gather', 'at least one']),
    ({'kubelet_config_path': 'kubelet/config.yaml'}, ['kubelet_config_path', 'absolute']),
    ({'kubelet_state_dir': 'var/lib/kubelet'}, ['kubelet_state_dir', 'absolute']),
    ({'include_vfs': 'maybe'}, ['include_vfs']),
    ({'no_such_option': 1}, ['no_such_option']),
])
def test_bad_input(x710, run_module, args, words):
    before = x710.snapshot()
    result = run_module(node_facts, args)
    assert result.failed
    for word in words:
        assert word in result['msg']
    assert x710.snapshot() == before


def test_diff_and_idempotence(x710, run_module):
    first = run_module(node_facts, {}, diff=True)
    assert not first.changed and 'diff' not in first
    second = run_module(node_facts, {}, diff=True)
    assert first == second


def test_vfs_do_not_repeat_the_numa_finding(x710, run_module):
    add_vfs(x710, '0000:af:00.0', 2, driver='vfio-pci', iommu_group_base=100)
    facts = gather(run_module, {'include_vfs': True})
    assert finding(facts, 'nic_numa_node_without_hugepages')['subjects'] == ['0000:af:00.0', '0000:af:00.1']
    assert nic(facts, '0000:af:00.0')['vf_drivers'] == {'vfio-pci': 2}
    assert nic(facts, '0000:af:02.1')['is_dpdk_bound']


def test_kubelet_files_this_user_cannot_read(x710, run_module, monkeypatch):
    real_access = node_facts.os.access
    denied = x710.path('/var/lib/kubelet/config.yaml')
    monkeypatch.setattr(node_facts.os, 'access', lambda path, mode: path != denied and real_access(path, mode))
    monkeypatch.setattr(node_facts.HostFS, 'read_raw',
                        lambda self, path, default=None: default if path.endswith('config.yaml') else real_read(
                            self, path, default))
    facts = gather(run_module, {'gather': ['kubelet']})
    assert facts['kubelet']['unreadable'] == ['/var/lib/kubelet/config.yaml']
    assert facts['kubelet']['config_found'] is False
    assert finding(facts, 'kubelet_files_unreadable')['severity'] == 'warning'


def test_kubelet_state_without_the_reserved_cpus(x710, run_module):
    # reservedSystemCPUs 0,8 are assigned to a container instead of being in defaultCpuSet.
    x710.file(KUBELET_STATE, json.dumps({'policyName': 'static', 'defaultCpuSet': '1-7,9-14',
                                         'entries': {'pod': {'dpdk': '0,8'}}, 'checksum': 1}))
    facts = gather(run_module)
    assert facts['kubelet']['state_default_cpus'] == '1-7,9-14'
    reserved = finding(facts, 'kubelet_cpu_manager_state_reserved')
    assert reserved['severity'] == 'error' and 'reserved CPUs 0,8' in reserved['message']
    assert 'kubelet_cpu_manager_state_cpus' not in ids(facts)


def test_kernel_without_loadable_modules(fake_host, run_module):
    # Like a Firecracker guest kernel: no CONFIG_MODULES, no modules_disabled sysctl, no /lib/modules.
    load_host(fake_host, 'vm-virtio')
    os.unlink(fake_host.path('/proc/sys/kernel/modules_disabled'))
    facts = gather(run_module, {'gather': ['modules']})
    assert facts['kernel_modules']['module_loading'] == 'unsupported'
    assert facts['kernel_modules']['available'] == {'vfio_pci': False, 'uio_pci_generic': False, 'igb_uio': False}
    unavailable = finding(facts, 'vfio_pci_unavailable')
    assert 'not built into the running kernel' in unavailable['message']
    assert 'loadable module support' in unavailable['message']
    # Built in: /sys/module/vfio_pci exists although nothing can be loaded.
    fake_host.kernel_module('vfio_pci')
    facts = gather(run_module, {'gather': ['modules']})
    assert facts['kernel_modules']['available']['vfio_pci'] is True and facts['findings'] == []


def test_modules_disabled_sysctl(x710, run_module):
    x710.file('/proc/sys/kernel/modules_disabled', '1')
    facts = gather(run_module, {'gather': ['modules']})
    assert facts['kernel_modules']['module_loading'] == 'disabled'
    # vfio_pci is loaded already; uio_pci_generic is in modules.dep but cannot be loaded any more.
    assert facts['kernel_modules']['available'] == {'vfio_pci': True, 'uio_pci_generic': False, 'igb_uio': False}
    assert 'vfio_pci_unavailable' not in ids(facts)


def test_bond_slaves_of_a_routed_bond_are_not_candidates(x710, run_module):
    x710.netdev('bond0')
    for port in ('ens1f0', 'ens1f1'):
        x710.link('/sys/devices/virtual/net/bond0/lower_%s' % port,
                  '/sys/devices/pci0000:00/0000:af:00.%s/net/%s' % (port[-1], port))
    x710.routes('eno1', 'bond0')
    facts = gather(run_module, {'gather': ['nics']})
    pf = nic(facts, '0000:af:00.1')
    assert pf['carries_route'] and pf['default_route'] and not pf['dpdk_candidate']
    assert 'no_dpdk_nic' in ids(facts)


def test_isolated_and_nohz_full_cpus(x710, run_module):
    # No files: a kernel that does not publish them (unknown, not "none").
    facts = gather(run_module, {'gather': ['cpu']})
    assert facts['cpu']['isolated'] is None and facts['cpu']['nohz_full'] is None
    x710.file('/sys/devices/system/cpu/isolated', '')
    x710.file('/sys/devices/system/cpu/nohz_full', '(null)')
    facts = gather(run_module, {'gather': ['cpu']})
    assert facts['cpu']['isolated'] == '' and facts['cpu']['nohz_full'] == ''
    x710.file('/sys/devices/system/cpu/isolated', '2,3,4,5,9-11\n')
    x710.file('/sys/devices/system/cpu/nohz_full', '2-5,9-11')
    facts = gather(run_module, {'gather': ['cpu']})
    assert facts['cpu']['isolated'] == '2-5,9-11' and facts['cpu']['nohz_full'] == '2-5,9-11'
