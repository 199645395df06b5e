# -*- coding: utf-8 -*-
"""nfv.dpdk.dpdk_audit_drift / dpdk_audit_areas over module results shaped as the modules return them in check mode."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.nfv.dpdk.plugins.filter.audit import FilterModule, dpdk_audit_areas, dpdk_audit_drift

RUNNING = 'BOOT_IMAGE=/vmlinuz ro quiet intel_iommu=on iommu=pt'


def iommu(running=RUNNING, reboot_required=False, changed=False):
    return {'changed': changed, 'args': ['intel_iommu=on', 'iommu=pt'], 'owned_keys': ['intel_iommu', 'amd_iommu', 'iommu'],
            'cmdline': 'ro quiet intel_iommu=on iommu=pt', 'running_cmdline': running, 'reboot_required': reboot_required}


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {'dpdk_audit_drift', 'dpdk_audit_areas'}


def test_in_sync_gives_no_item_and_names_what_ran():
    results = {'configured_cmdline': 'ro quiet intel_iommu=on iommu=pt', 'iommu_grub': iommu(),
               'cpu_isolation': {'skipped': True, 'changed': False}, 'driver_bind': {}}
    assert dpdk_audit_drift(results) == []
    assert dpdk_audit_areas(results) == ['iommu_grub']


def test_configured_kernel_argument_missing():
    items = dpdk_audit_drift({'configured_cmdline': 'ro quiet iommu=pt',
                              'iommu_grub': iommu(running='ro quiet iommu=pt', reboot_required=True, changed=True)})
    assert items == [{'area': 'kernel', 'what': 'kernel arguments (iommu_grub)', 'expected': 'intel_iommu=on iommu=pt',
                      'found': 'configured iommu=pt, running iommu=pt', 'fix': 'site.yml --tags kernel,reboot'}]


def test_configured_but_not_running_is_a_pending_reboot():
    items = dpdk_audit_drift({'configured_cmdline': 'ro quiet intel_iommu=on iommu=pt',
                              'iommu_grub': iommu(running='ro quiet', reboot_required=True)})
    assert [(item['area'], item['what'], item['found']) for item in items] == [
        ('reboot', 'kernel arguments (iommu_grub): configured but not running', 'running (none)')]


def test_cpu_isolation_files_besides_the_boot_configuration():
    result = {'changed': True, 'kernel_args': ['isolcpus=1-3'], 'running_cmdline': 'ro isolcpus=1-3',
              'files': ['/etc/default/grub', '/etc/systemd/system.conf.d/nfv-dpdk-cpu-isolation.conf'],
              'systemd_stale': ['PID 1 runs on CPUs 0-7, its drop-in says 0,4']}
    items = dpdk_audit_drift({'configured_cmdline': 'ro isolcpus=1-3', 'cpu_isolation': result})
    assert items == [{'area': 'kernel', 'what': 'CPU isolation files (systemd, irqbalance)', 'expected': 'as configured',
                      'found': 'would change: /etc/systemd/system.conf.d/nfv-dpdk-cpu-isolation.conf',
                      'fix': 'site.yml --tags kernel,reboot'},
                     {'area': 'kernel', 'what': 'CPU isolation in systemd', 'expected': 'applied',
                      'found': 'not applied: PID 1 runs on CPUs 0-7, its drop-in says 0,4', 'fix': 'site.yml --tags kernel,reboot'}]


def test_hugepage_pools_mounts_and_fstab():
    hugepages = {'changed': True, 'cmdline': '', 'running_cmdline': 'ro',
                 'pools': [{'size': '2M', 'node': 1, 'before': {'persistent': 100}, 'after': {'persistent': 256}},
                           {'size': '2M', 'node': 0, 'before': {'persistent': 256}, 'after': {'persistent': 256}}],
                 'mounts': [{'path': '/dev/hugepages-2M', 'size': '2M', 'action': 'mounted'}]}
    mounts = {'changed': True, 'results': [{'changed': True, 'opts': 'pagesize=2M', 'item': {'path': '/dev/hugepages-2M'}}]}
    items = dpdk_audit_drift({'configured_cmdline': 'ro', 'hugepages': hugepages, 'mounts': mounts})
    assert [(item['what'], item['expected'], item['found']) for item in items] == [
        ('hugetlbfs mount /dev/hugepages-2M in /etc/fstab', 'mounted, in /etc/fstab (pagesize=2M)', 'missing or different'),
        ('hugepages 2M on node 1', '256 pages', '100 pages'),
        ('hugetlbfs mount /dev/hugepages-2M (2M)', 'mounted', 'would be mounted'),
    ]
    assert set(item['fix'] for item in items) == {'site.yml --tags hugepages'}


def test_vf_count_attributes_link_and_units():
    pf = {'address': '0000:41:00.0', 'interface': 'ens4', 'num_vfs_before': 2, 'num_vfs': 2, 'changed': True,
          'vf_commands': [['/usr/sbin/ip', 'link', 'set', 'dev', 'ens4', 'vf', '1', 'mac', '02:00:00:00:41:01',
                           'spoofchk', 'off']],
          'link_commands': [['/usr/sbin/ip', 'link', 'set', 'dev', 'ens4', 'up']],
          'vfs': [{'index': 0, 'planned': False, 'mac': '02:00:00:00:41:00'},
                  {'index': 1, 'planned': False, 'mac': '02:00:00:00:41:77', 'spoofchk': True}]}
    items = dpdk_audit_drift({'sriov_vfs': {'changed': True, 'pfs': [pf],
                                            'units': ['/etc/systemd/system/nfv-dpdk-sriov-0000_41_00_0.service']}})
    assert [(item['what'], item['expected'], item['found']) for item in items] == [
        ('PF 0000:41:00.0 VF 1 mac', '02:00:00:00:41:01', '02:00:00:00:41:77'),
        ('PF 0000:41:00.0 VF 1 spoofchk', 'off', 'on'),
        ('PF 0000:41:00.0 link (ens4)', 'up', 'down'),
        ('VF boot units', 'as configured', 'missing or different: /etc/systemd/system/nfv-dpdk-sriov-0000_41_00_0.service'),
    ]


def test_vfs_to_create_are_one_count_item():
    pf = {'address': '0000:41:00.0', 'num_vfs_before': 1, 'num_vfs': 2, 'changed': True,
          'vf_commands': [['ip', 'link', 'set', 'dev', 'ens4', 'vf', '1', 'mac', '02:00:00:00:41:01']],
          'vfs': [{'index': 0, 'planned': False}, {'index': 1, 'planned': True, 'mac': '02:00:00:00:41:01'}]}
    items = dpdk_audit_drift({'sriov_vfs': {'changed': True, 'pfs': [pf], 'units': []}})
    assert [(item['what'], item['expected'], item['found']) for item in items] == [
        ('PF 0000:41:00.0 VF count', '2 VFs', '1 VFs')]


def test_drivers():
    bind = {'changed': True, 'results': [
        {'item': {'driver': 'vfio-pci'}, 'changed': True, 'loaded_modules': [], 'units': [],
         'devices': [{'address': '0000:41:10.0', 'changed': True, 'driver_before': 'igbvf'},
                     {'address': '0000:41:10.2', 'changed': False, 'driver_before': 'vfio-pci'},
                     {'address': '0000:41:10.4', 'changed': True, 'driver_before': None, 'planned': True}]},
        {'item': {'driver': 'vfio-pci'}, 'skipped': True}]}
    items = dpdk_audit_drift({'driver_bind': bind})
    assert [(item['what'], item['expected'], item['found'], item['fix']) for item in items] == [
        ('device 0000:41:10.0 driver', 'vfio-pci', 'igbvf', 'site.yml --tags bind'),
        ('device 0000:41:10.4 driver', 'vfio-pci', 'no such VF yet', 'site.yml --tags bind'),
    ]


def test_kubelet_keys_and_checkpoints():
    result = {'changed': True, 'created': False, 'path': '/var/lib/kubelet/config.yaml',
              'config': 'kind: KubeletConfiguration\ncpuManagerPolicy: static\nreservedSystemCPUs: "0,2"\n',
              'stale_state_files': [{'path': '/var/lib/kubelet/cpu_manager_state', 'reason': 'policy none'}]}
    before = 'kind: KubeletConfiguration\ncpuManagerPolicy: none\n'
    items = dpdk_audit_drift({'kubelet_config': result, 'kubelet_config_before': before})
    assert [(item['what'], item['expected'], item['found']) for item in items] == [
        ('kubelet cpuManagerPolicy', 'static', 'none'),
        ('kubelet reservedSystemCPUs', '0,2', '(not set)'),
        ('kubelet checkpoint /var/lib/kubelet/cpu_manager_state', 'accepted by the kubelet', 'stale: policy none'),
    ]
    assert set(item['fix'] for item in items) == {'site.yml --tags kubelet'}


def test_kubelet_file_missing():
    items = dpdk_audit_drift({'kubelet_config': {'changed': True, 'created': True, 'path': '/etc/k.yaml'}})
    assert [(item['what'], item['expected'], item['found']) for item in items] == [
        ('kubelet configuration /etc/k.yaml', 'present', 'missing')]


@pytest.mark.parametrize('value, message', [
    ('text', 'expects a dict of registered results, got str'),
    ({'sriov': {}}, 'unknown keys sriov (allowed: iommu_grub, cpu_isolation'),
])
def test_bad_input_is_refused(value, message):
    with pytest.raises(AnsibleFilterError) as error:
        dpdk_audit_drift(value)
    assert message in str(error.value)
