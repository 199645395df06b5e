"""After converge, idempotence and a reboot without the playbook: is the lab node still a DPDK node?

Runs with testinfra against the Molecule inventory (the lab node). The
expected values mirror lab/site-vars.yml.
"""

import json
import os

import yaml

PROJECT = os.environ.get('MOLECULE_PROJECT_DIRECTORY', '.')
with open(os.path.join(PROJECT, 'lab', 'site-vars.yml')) as handle:
    VARS = yaml.safe_load(handle)

PFS = [pf['device'] for pf in VARS['dpdk_node_sriov_pfs']]


def cmdline(host):
    return host.file('/proc/cmdline').content_string.split()


def test_iommu_arguments_are_active(host):
    tokens = cmdline(host)
    assert 'intel_iommu=on' in tokens
    assert 'iommu=pt' in tokens
    assert host.file('/sys/kernel/iommu_groups').exists
    assert len(host.file('/sys/kernel/iommu_groups').listdir()) > 0


def test_cpu_isolation_arguments_are_active(host):
    tokens = cmdline(host)
    isolated = VARS['dpdk_node_isolated_cpus']
    assert 'isolcpus=managed_irq,domain,%s' % isolated in tokens
    assert 'nohz_full=%s' % isolated in tokens
    assert 'rcu_nocbs=%s' % isolated in tokens
    assert 'irqaffinity=%s' % VARS['dpdk_node_reserved_cpus'] in tokens
    assert host.file('/sys/devices/system/cpu/isolated').content_string.strip() == isolated


def test_hugepages_per_numa_node_survive_the_reboot(host):
    for pool in VARS['dpdk_node_hugepages_pools']:
        path = '/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages' % pool['node']
        assert int(host.file(path).content_string) == pool['count'], path


def test_hugetlbfs_mounts_survive_the_reboot(host):
    """The role's mounts are in /etc/fstab: after side_effect's reboot they are mounted again, with their page size."""
    mounts = VARS.get('dpdk_node_hugepages_mounts', [])
    assert mounts, 'lab/site-vars.yml sets a hugetlbfs mount'
    fstab = [line.split() for line in host.file('/etc/fstab').content_string.splitlines()
             if line.strip() and not line.lstrip().startswith('#')]
    for mount in mounts:
        size = mount['size']
        entries = [fields for fields in fstab if len(fields) >= 4 and fields[1] == mount['path']]
        assert len(entries) == 1, (mount['path'], fstab)
        assert entries[0][2] == 'hugetlbfs' and 'pagesize=%s' % size in entries[0][3].split(','), entries[0]
        mounted = host.mount_point(mount['path'])
        assert mounted.exists, mount['path']
        assert mounted.filesystem == 'hugetlbfs', (mount['path'], mounted.filesystem)
        assert 'pagesize=%s' % size in mounted.options, (mount['path'], mounted.options)


def test_vfs_are_recreated_at_boot_with_their_macs(host):
    for pf in VARS['dpdk_node_sriov_pfs']:
        base = '/sys/bus/pci/devices/%s' % pf['device']
        assert int(host.file(base + '/sriov_numvfs').content_string) == pf['num_vfs']
        links = json.loads(host.check_output('ip -j link show dev %s' % host.file(base + '/net').listdir()[0]))
        vfinfo = {vf['vf']: vf for vf in links[0].get('vfinfo_list', [])}
        for vf in pf['vfs']:
            assert vfinfo[vf['index']]['address'] == vf['mac']
            for flag in ('spoofchk', 'trust'):
                if flag in vf:
                    assert vfinfo[vf['index']][flag] is vf[flag], (pf['device'], vf['index'], flag)


def test_pfs_are_up_so_their_vfs_pass_traffic(host):
    for pf in PFS:
        ifname = host.file('/sys/bus/pci/devices/%s/net' % pf).listdir()[0]
        link = json.loads(host.check_output('ip -j link show dev %s' % ifname))[0]
        assert 'UP' in link['flags'], (pf, link['flags'])


def test_pfs_keep_their_predictable_names(host):
    """udev cannot rename an interface that is up: the boot unit must wait for udev before setting the PF up."""
    for pf in PFS:
        ifname = host.file('/sys/bus/pci/devices/%s/net' % pf).listdir()[0]
        assert ifname.startswith('enp'), (pf, ifname)


def test_vfs_are_not_probed_by_the_kernel_vf_driver(host):
    for pf in VARS['dpdk_node_sriov_pfs']:
        if pf.get('drivers_autoprobe') is False:
            path = '/sys/bus/pci/devices/%s/sriov_drivers_autoprobe' % pf['device']
            assert host.file(path).content_string.strip() == '0', path


def test_vfs_are_bound_to_vfio_pci_in_their_own_iommu_groups(host):
    for pf in PFS:
        base = '/sys/bus/pci/devices/%s' % pf
        vfs = [name for name in host.file(base).listdir() if name.startswith('virtfn')]
        assert vfs
        for vf in vfs:
            vf_path = host.file('%s/%s' % (base, vf)).linked_to
            assert os.path.basename(host.file(vf_path + '/driver').linked_to) == 'vfio-pci', vf_path
            group = os.path.basename(host.file(vf_path + '/iommu_group').linked_to)
            assert host.file('/dev/vfio/%s' % group).exists


def test_persistence_units_are_enabled(host):
    units = host.check_output('systemctl list-unit-files --no-legend "nfv-dpdk-*"')
    assert units, 'no nfv-dpdk units installed'
    for line in units.splitlines():
        name, state = line.split()[:2]
        assert state in ('enabled', 'static', 'generated'), line


def test_persistence_units_succeeded_at_boot(host):
    units = host.check_output('systemctl list-units --all --no-legend --plain "nfv-dpdk-*"')
    names = [line.split()[0] for line in units.splitlines() if line.strip()]
    assert len(names) >= len(PFS), units
    for name in names:
        state = host.check_output('systemctl show -P ActiveState %s' % name)
        result = host.check_output('systemctl show -P Result %s' % name)
        assert (state, result) == ('active', 'success'), (name, state, result)


def test_management_nic_untouched(host):
    assert os.path.basename(host.file('/sys/bus/pci/devices/0000:00:02.0/driver').linked_to) == 'virtio-pci'
    assert host.interface('enp0s2').exists


def test_testpmd_forwarded_packets_in_the_pod(host):
    result = host.file('/var/lib/nfv-dpdk/testpmd/testpmd.json')
    assert result.exists, 'the testpmd role writes its verdict on the node'
    verdict = json.loads(result.content_string)
    assert verdict['passed'] is True, verdict
    assert verdict['figures']['rx_packets'] > 0 and verdict['figures']['tx_packets'] > 0, verdict
