# -*- coding: utf-8 -*-
import pytest

from ansible.module_utils.common.warnings import get_warning_messages

from ansible_collections.nfv.dpdk.plugins.modules import driver_bind
from ansible_collections.nfv.dpdk.plugins.module_utils.driver_binding import (
    SECURE_BOOT_VAR, lockdown_mode, secure_boot_enabled, ssh_sessions,
)
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.pci import PciDevice
from ansible_collections.nfv.dpdk.tests.unit.fakekernel_pci import MGMT, PF0, PF1, fake_kernel  # noqa: F401 # pylint: disable=unused-import

VF0, VF1, VF2 = '0000:41:10.0', '0000:41:10.2', '0000:41:10.4'
UNIT_VF0 = '/etc/systemd/system/nfv-dpdk-bind-0000-41-10.0.service'
WANTS_VF0 = '/etc/systemd/system/multi-user.target.wants/nfv-dpdk-bind-0000-41-10.0.service'
HELPER = '/usr/local/libexec/nfv-dpdk/driver-bind'
PROBE = '/sys/bus/pci/drivers_probe'


def create(kernel, count=3, pf=PF0):
    HostFS().write('/sys/bus/pci/devices/%s/sriov_numvfs' % pf, str(count))
    kernel.writes[:] = []


def state(address):
    device = PciDevice(address)
    return device.driver, device.driver_override


# -- binding, idempotence, check mode, diff ---------------------------------------------------
def test_binds_vfs_to_vfio_with_the_kernel_sequence(fake_kernel, run_module, fake_host, commands):
    create(fake_kernel, 2)
    result = run_module(driver_bind, {'vfs_of': [PF0]}, diff=True)
    assert not result.failed, result
    assert result.changed and result['loaded_modules'] == ['vfio-pci']
    assert commands.ran(['*/modprobe', 'vfio-pci']) == [['/usr/bin/modprobe', 'vfio-pci']]
    assert fake_kernel.writes == [
        ('/sys/bus/pci/devices/%s/driver_override' % VF0, 'vfio-pci'),
        ('/sys/bus/pci/drivers/igbvf/unbind', VF0),
        (PROBE, VF0),
        ('/sys/bus/pci/devices/%s/driver_override' % VF1, 'vfio-pci'),
        ('/sys/bus/pci/drivers/igbvf/unbind', VF1),
        (PROBE, VF1),
    ]
    assert state(VF0) == ('vfio-pci', 'vfio-pci') and state(VF1) == ('vfio-pci', 'vfio-pci')
    dev0 = result['devices'][0]
    assert dev0['address'] == VF0 and dev0['driver_before'] == 'igbvf' and dev0['driver_after'] == 'vfio-pci'
    assert dev0['iommu_group'] == 100 and dev0['numa_node'] == 0 and dev0['physfn'] == PF0 and dev0['changed']
    assert dev0['unit'] == UNIT_VF0 and dev0['interfaces'] == []
    unit = fake_host.read(UNIT_VF0)
    assert 'ExecStart=%s %s 8086:10ca vfio-pci\n' % (HELPER, VF0) in unit
    assert 'After=local-fs.target systemd-modules-load.service systemd-udev-trigger.service ' \
           'nfv-dpdk-sriov-0000-41-00.0.service\n' in unit
    assert fake_host.exists(WANTS_VF0) and fake_host.read(HELPER).startswith('#!/bin/sh')
    bindings = result['diff'][0]
    assert bindings['before'].startswith('%s: driver igbvf, driver_override (null)\n' % VF0)
    assert bindings['after'].startswith('%s: driver vfio-pci, driver_override vfio-pci\n' % VF0)
    again = run_module(driver_bind, {'vfs_of': ['ens1f0']})
    assert not again.failed and not again.changed, again
    assert [d['changed'] for d in again['devices']] == [False, False]


def test_check_mode_changes_nothing(fake_kernel, run_module, fake_host, commands):
    create(fake_kernel, 2)
    before = fake_host.snapshot()
    result = run_module(driver_bind, {'devices': [VF0]}, check_mode=True, diff=True)
    assert not result.failed and result.changed, result
    assert fake_host.snapshot() == before and fake_kernel.writes == []
    assert commands.ran(['*/modprobe', '**']) == [['/usr/bin/modprobe', '-n', 'vfio-pci']]
    assert result['devices'][0]['changed'] and result['devices'][0]['driver_after'] == 'igbvf'
    assert UNIT_VF0 in result['units']


def test_override_only_when_already_bound(fake_kernel, run_module):
    create(fake_kernel, 1)
    fake_kernel.modprobe(['vfio-pci'])
    fake_kernel.detach(VF0)
    fake_kernel.attach_driver(VF0, 'vfio-pci')       # bound the dpdk-devbind way (new_id), no override
    fake_kernel.writes[:] = []
    result = run_module(driver_bind, {'devices': [VF0], 'persist': False})
    assert result.changed and fake_kernel.writes == [('/sys/bus/pci/devices/%s/driver_override' % VF0, 'vfio-pci')]


def test_back_to_kernel_driver_removes_units(fake_kernel, run_module, fake_host):
    create(fake_kernel, 2)
    run_module(driver_bind, {'vfs_of': [PF0]})
    fake_kernel.writes[:] = []
    result = run_module(driver_bind, {'vfs_of': [PF0], 'driver': 'kernel'}, diff=True)
    assert not result.failed, result
    assert state(VF0) == ('igbvf', None) and state(VF1) == ('igbvf', None)
    assert fake_kernel.writes[:3] == [('/sys/bus/pci/devices/%s/driver_override' % VF0, '\n'),
                                      ('/sys/bus/pci/drivers/vfio-pci/unbind', VF0), (PROBE, VF0)]
    assert not fake_host.exists(UNIT_VF0) and not fake_host.exists(WANTS_VF0) and not fake_host.exists(HELPER)
    assert PciDevice(VF0).netdevs == ['ens1f0v0']
    assert not run_module(driver_bind, {'vfs_of': [PF0], 'driver': 'kernel'}).changed


def test_match_selector(fake_kernel, run_module):
    create(fake_kernel, 1)
    create(fake_kernel, 1, PF1)
    result = run_module(driver_bind, {'match': {'vendor': '0x8086', 'device': '10CA'}, 'persist': False})
    assert not result.failed, result
    assert [d['address'] for d in result['devices']] == [VF0, '0000:81:10.0']
    assert state('0000:81:10.0')[0] == 'vfio-pci'


def test_persist_false_removes_the_unit_and_keeps_the_binding(fake_kernel, run_module, fake_host):
    create(fake_kernel, 1)
    run_module(driver_bind, {'devices': [VF0]})
    result = run_module(driver_bind, {'devices': [VF0], 'persist': False})
    assert result.changed and result['units'] == [UNIT_VF0]
    assert not fake_host.exists(UNIT_VF0) and state(VF0)[0] == 'vfio-pci'


def test_uio_pci_generic(fake_kernel, run_module):
    create(fake_kernel, 1)
    result = run_module(driver_bind, {'devices': [VF0], 'driver': 'uio_pci_generic', 'persist': False})
    assert not result.failed, result
    assert state(VF0) == ('uio_pci_generic', 'uio_pci_generic') and result['loaded_modules'] == ['uio_pci_generic']


# -- restore on failure ------------------------------------------------------------------------
def test_probe_failure_restores_every_device(fake_kernel, run_module, fake_host):
    create(fake_kernel, 3)
    fake_kernel.no_probe.add(VF1)       # vfio-pci's probe fails for the second VF
    result = run_module(driver_bind, {'vfs_of': [PF0]})
    assert result.failed
    assert 'after drivers_probe it is bound to nothing, not vfio-pci' in result['msg']
    assert '0000:41:10.2 back to igbvf' in result['msg'] and '0000:41:10.0 back to igbvf' in result['msg']
    assert 'FAILED' in result['msg']    # the fake refuses every probe of VF1, the restore of VF1 too
    assert state(VF0) == ('igbvf', None) and state(VF2) == ('igbvf', None)
    assert state(VF1) == (None, None)
    assert not fake_host.exists(UNIT_VF0) and not fake_host.exists(HELPER)


def test_probe_failure_of_single_device_restores_it(fake_kernel, run_module, fake_host, monkeypatch):
    create(fake_kernel, 1)
    original = fake_kernel.attach_driver

    def refuse_vfio(address, driver):
        return False if driver == 'vfio-pci' else original(address, driver)
    monkeypatch.setattr(fake_kernel, 'attach_driver', refuse_vfio)
    result = run_module(driver_bind, {'devices': [VF0]})
    assert result.failed and 'restored: 0000:41:10.0 back to igbvf' in result['msg'] and 'FAILED' not in result['msg']
    assert state(VF0) == ('igbvf', None) and PciDevice(VF0).netdevs == ['ens1f0v0']
    assert fake_kernel.writes[-2:] == [('/sys/bus/pci/devices/%s/driver_override' % VF0, '\n'),
                                       ('/sys/bus/pci/drivers/igbvf/bind', VF0)]


def test_write_error_restores(fake_kernel, run_module):
    create(fake_kernel, 1)
    fake_kernel.fail_writes['/sys/bus/pci/drivers/igbvf/unbind'] = 19
    result = run_module(driver_bind, {'devices': [VF0]})
    assert result.failed and 'writing 0000:41:10.0 to /sys/bus/pci/drivers/igbvf/unbind failed' in result['msg']
    assert state(VF0) == ('igbvf', None)


def test_persistence_failure_restores_binding_and_files(fake_kernel, run_module, fake_host, commands):
    create(fake_kernel, 1)
    original = commands.run

    def run(args, **kwargs):
        if list(args)[1:2] == ['enable']:
            commands.calls.append(list(args))
            return 1, '', 'Failed to enable unit'
        return original(args, **kwargs)
    commands.run = run
    result = run_module(driver_bind, {'devices': [VF0]})
    assert result.failed and 'persistence failed' in result['msg']
    assert state(VF0) == ('igbvf', None) and not fake_host.exists(UNIT_VF0) and not fake_host.exists(HELPER)


def test_missing_module_fails_before_any_change(fake_kernel, run_module, fake_host):
    create(fake_kernel, 1)
    fake_host.file('/sys/kernel/security/lockdown', '[none] integrity confidentiality')
    fake_kernel.missing_modules.add('igb_uio')
    before = fake_host.snapshot()
    result = run_module(driver_bind, {'devices': [VF0], 'driver': 'igb_uio'})
    assert result.failed and 'Module igb_uio not found' in result['msg'] and 'dpdk-kmods' in result['msg']
    assert fake_host.snapshot() == before


# -- refusals: connection, IOMMU, bifurcated, lockdown, PF with VFs --------------------------------
def refused(run_module, fake_host, args, message):
    before = fake_host.snapshot()
    result = run_module(driver_bind, args)
    assert result.failed, result
    assert message in result['msg'], result['msg']
    assert fake_host.snapshot() == before
    return result


def test_management_nic_with_the_route_is_refused(fake_kernel, run_module, fake_host):
    result = refused(run_module, fake_host, {'devices': [MGMT]}, 'interface enp0s3 carries a route')
    assert 'up with addresses 192.0.2.10/24' in result['msg']
    refused(run_module, fake_host, {'devices': ['enp0s3'], 'force': False}, 'could cut this node off')
    assert fake_kernel.writes == []


def test_ssh_connection_interface_is_refused(fake_kernel, run_module, fake_host, monkeypatch):
    create(fake_kernel, 1)
    fake_kernel.addresses['ens1f0v0'] = [('inet', '198.51.100.7', 24)]
    fake_host.file('/sys/class/net/ens1f0v0/operstate', 'down')   # not up: only the SSH check catches it
    monkeypatch.setenv('SSH_CONNECTION', '203.0.113.5 50000 198.51.100.7 22')
    refused(run_module, fake_host, {'devices': [VF0]}, 'holds 198.51.100.7, the address of an SSH session')


def test_route_to_ssh_client_is_refused(fake_kernel, run_module, fake_host, monkeypatch):
    create(fake_kernel, 1)
    fake_kernel.ssh_route_dev = 'ens1f0v0'
    monkeypatch.setenv('SSH_CONNECTION', '203.0.113.5 50000 192.0.2.10 22')
    refused(run_module, fake_host, {'devices': [VF0]}, 'is the way to SSH client 203.0.113.5')


def test_ssh_session_found_without_ssh_connection(fake_kernel, fake_host):
    # sudo may drop SSH_CONNECTION: established connections on port 22 count too.
    fake_host.file('/proc/net/tcp', '  sl  local_address rem_address   st\n'
                   '   0: 0A02000C:0016 0502000A:C350 01 00000000:00000000 00:00000000 00000000 0 0 1\n'
                   '   1: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 2\n')
    fake_host.file('/proc/net/tcp6', '  sl  local_address remote_address st\n'
                   '   0: 0000000000000000FFFF00000B02000C:0016 0000000000000000FFFF00000602000A:C350 01 0\n')
    servers, clients = ssh_sessions(HostFS(), {})
    assert servers == {'12.0.2.10', '12.0.2.11'} and clients == {'10.0.2.5', '10.0.2.6'}


def test_up_with_addresses_is_refused_and_force_overrides(fake_kernel, run_module, fake_host):
    create(fake_kernel, 1)
    fake_kernel.addresses['ens1f0v0'] = [('inet', '198.51.100.7', 24), ('inet6', 'fe80::1', 64)]
    fake_host.file('/sys/class/net/ens1f0v0/operstate', 'up')
    refused(run_module, fake_host, {'devices': [VF0]}, 'interface ens1f0v0 is up with addresses 198.51.100.7/24')
    result = run_module(driver_bind, {'devices': [VF0], 'force': True, 'persist': False})
    assert not result.failed and state(VF0)[0] == 'vfio-pci'
    assert any('forced although' in w for w in get_warning_messages())


def test_bond_master_with_route_is_refused(fake_kernel, run_module, fake_host):
    create(fake_kernel, 1)
    fake_host.netdev('bond0')
    fake_host.link('/sys/class/net/ens1f0v0/master', '/sys/devices/virtual/net/bond0')
    fake_host.routes('enp0s3', 'bond0')
    refused(run_module, fake_host, {'devices': [VF0]}, 'interface bond0 (master of ens1f0v0) carries a route')


def test_block_device_is_refused(fake_kernel, run_module, fake_host):
    fake_host.pci_device('0000:00:04.0', vendor='0x1af4', device='0x1001', pci_class='0x010000',
                         driver='virtio-pci', iommu_group=4)
    fake_host.mkdir('/sys/devices/pci0000:00/0000:00:04.0/virtio1/block/vda')
    refused(run_module, fake_host, {'devices': ['0000:00:04.0']}, 'block devices vda')
    fake_host.file('/proc/mounts', '/dev/vda1 / ext4 rw 0 0\n')
    refused(run_module, fake_host, {'devices': ['0000:00:04.0'], 'force': True},
            'holds block devices in use (vda: mounted, swap or under LVM/md); it is never unbound, not even with force')


def test_iommu_group_with_other_members_is_refused(fake_kernel, run_module, fake_host):
    fake_host.pci_device('0000:05:00.0', vendor='0x8086', device='0x10c9', driver='igb', iommu_group=20)
    fake_host.pci_device('0000:05:00.1', vendor='0x8086', device='0x10c9', driver='igb', iommu_group=20)
    fake_host.pci_device('0000:00:1c.0', vendor='0x8086', device='0xa110', pci_class='0x060400',
                         driver='pcieport', iommu_group=20)
    refused(run_module, fake_host, {'devices': ['0000:05:00.0']},
            'IOMMU group 20 also holds 0000:05:00.1 (igb); vfio-pci needs every device')
    result = run_module(driver_bind, {'devices': ['0000:05:00.0', '0000:05:00.1'], 'persist': False})
    assert not result.failed, result
    assert state('0000:05:00.0')[0] == 'vfio-pci' and state('0000:05:00.1')[0] == 'vfio-pci'


def test_no_iommu_is_refused_unless_noiommu(fake_kernel, run_module, fake_host, commands):
    fake_host.pci_device('0000:06:00.0', vendor='0x8086', device='0x10ca', driver='igbvf')
    refused(run_module, fake_host, {'devices': ['0000:06:00.0']}, 'has no IOMMU group')
    result = run_module(driver_bind, {'devices': ['0000:06:00.0'], 'noiommu': True})
    assert not result.failed, result
    assert commands.ran(['*/modprobe', '**']) == [['/usr/bin/modprobe', 'vfio', 'enable_unsafe_noiommu_mode=1'],
                                                  ['/usr/bin/modprobe', 'vfio-pci']]
    assert state('0000:06:00.0')[0] == 'vfio-pci' and result['loaded_modules'] == ['vfio', 'vfio-pci']
    assert '0000:06:00.0 8086:10ca vfio-pci noiommu\n' in fake_host.read(
        '/etc/systemd/system/nfv-dpdk-bind-0000-06-00.0.service')


def test_noiommu_switch_is_written_when_vfio_is_loaded(fake_kernel, run_module, fake_host):
    fake_kernel.modprobe(['vfio-pci'])
    fake_host.pci_device('0000:06:00.0', vendor='0x8086', device='0x10ca', driver='igbvf')
    result = run_module(driver_bind, {'devices': ['0000:06:00.0'], 'noiommu': True, 'persist': False})
    assert not result.failed, result
    assert ('/sys/module/vfio/parameters/enable_unsafe_noiommu_mode', '1') in fake_kernel.writes


def test_mellanox_is_refused(fake_kernel, run_module, fake_host):
    fake_host.pci_device('0000:3b:00.2', vendor='0x15b3', device='0x1018', driver='mlx5_core', iommu_group=42)
    refused(run_module, fake_host, {'devices': ['0000:3b:00.2']}, 'bifurcated Mellanox/NVIDIA NIC')
    refused(run_module, fake_host, {'devices': ['0000:3b:00.2'], 'driver': 'uio_pci_generic'}, 'bifurcated')


def test_uio_under_lockdown_is_refused(fake_kernel, run_module, fake_host):
    create(fake_kernel, 1)
    fake_host.file('/sys/kernel/security/lockdown', 'none [integrity] confidentiality')
    assert lockdown_mode(HostFS()) == 'integrity'
    refused(run_module, fake_host, {'devices': [VF0], 'driver': 'igb_uio'}, 'kernel lockdown is integrity')
    refused(run_module, fake_host, {'devices': [VF0], 'driver': 'uio_pci_generic'}, 'kernel lockdown is integrity')


def test_igb_uio_under_secure_boot_is_refused(fake_kernel, run_module, fake_host):
    create(fake_kernel, 1)
    real = fake_host.path(SECURE_BOOT_VAR)
    fake_host.mkdir('/sys/firmware/efi/efivars')
    with open(real, 'wb') as handle:
        handle.write(b'\x06\x00\x00\x00\x01')
    assert secure_boot_enabled(HostFS()) is True
    refused(run_module, fake_host, {'devices': [VF0], 'driver': 'igb_uio'}, 'Secure Boot is on')


def test_pf_with_vfs_is_refused(fake_kernel, run_module, fake_host):
    create(fake_kernel, 2)
    fake_host.routes()      # no route through anything: only the VF check refuses
    fake_kernel.addresses.clear()
    fake_host.file('/sys/class/net/ens1f0/operstate', 'down')
    refused(run_module, fake_host, {'devices': [PF0]}, 'has 2 VFs: unbinding a PF destroys them')


def test_bridge_is_refused(fake_kernel, run_module, fake_host):
    refused(run_module, fake_host, {'devices': ['0000:00:00.0']}, 'is a PCI bridge')


# -- bad input ---------------------------------------------------------------------------------------
BAD_INPUTS = [
    ({}, 'one of the following is required: devices, vfs_of, match'),
    ({'devices': [VF0], 'driver': 'dpdk'}, 'value of driver must be one of'),
    ({'devices': [VF0], 'driver': 'uio_pci_generic', 'noiommu': True}, 'noiommu: only applies to driver vfio-pci'),
    ({'devices': ['0000:41:10.9']}, 'not a PCI address'),
    ({'devices': ['nosuch0']}, 'neither a PCI address'),
    ({'devices': ['0000:99:00.0']}, 'no such PCI device'),
    ({'devices': []}, 'select at least one device'),
    ({'vfs_of': [PF1]}, 'has no VFs (sriov_numvfs is 0)'),
    ({'vfs_of': [MGMT]}, 'is not an SR-IOV physical function'),
    ({'match': {'vendor': 'intel'}}, "match.vendor: 'intel' is not a 4-digit"),
    ({'match': {'vendor': '8086', 'device': '10c'}}, "match.device: '10c' is not a 4-digit"),
    ({'match': {'vendor': 'dead'}}, 'match: no PCI device has vendor dead'),
    ({'match': {'device': '10ca'}}, 'vendor'),
    ({'devices': VF0 + ',bogus'}, "devices[1]: 'bogus' is neither"),
    ({'devices': [VF0], 'force': 'perhaps'}, 'force'),
    ({'devices': [VF0], 'speed': 10}, 'speed'),
]


@pytest.mark.parametrize('args,message', BAD_INPUTS, ids=[str(i) for i in range(len(BAD_INPUTS))])
def test_bad_input_is_rejected_and_changes_nothing(fake_kernel, run_module, fake_host, args, message):
    create(fake_kernel, 1)
    refused(run_module, fake_host, args, message)
    assert fake_kernel.writes == []


def test_device_held_by_a_dpdk_process_is_not_unbound(fake_kernel, run_module, fake_host):
    create(fake_kernel, 1)
    run_module(driver_bind, {'devices': [VF0], 'persist': False})
    fake_host.file('/dev/vfio/100', '')
    fake_host.file('/proc/77/comm', 'dpdk-testpmd')
    fake_host.link('/proc/77/fd/3', '/dev/vfio/100')
    refused(run_module, fake_host, {'devices': [VF0], 'driver': 'kernel'},
            'in use through vfio by process 77 (dpdk-testpmd)')
