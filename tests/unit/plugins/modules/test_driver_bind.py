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


# -- planned VFs: sriov_plan, iommu_planned ------------------------------------------------------------
def sriov_plan(run_module, pfs, check_mode=True):
    """The pfs result of nfv.dpdk.sriov_vfs for ``pfs`` (check mode: the VFs it would create are planned)."""
    from ansible_collections.nfv.dpdk.plugins.modules import sriov_vfs
    result = run_module(sriov_vfs, {'pfs': pfs, 'persist': False}, check_mode=check_mode)
    assert not result.failed, result
    return result['pfs']


def test_check_mode_plans_the_binding_of_vfs_sriov_vfs_would_create(fake_kernel, run_module, fake_host, commands):
    plan = sriov_plan(run_module, [{'device': PF0, 'num_vfs': 2}])
    before = fake_host.snapshot()
    # Without the plan, check mode on a fresh node refuses: the VFs do not exist yet.
    refused(run_module, fake_host, {'vfs_of': [PF0]}, 'has no VFs (sriov_numvfs is 0)')
    commands.calls[:] = []
    result = run_module(driver_bind, {'vfs_of': [PF0], 'sriov_plan': plan}, check_mode=True, diff=True)
    assert not result.failed, result
    assert result.changed and fake_host.snapshot() == before and fake_kernel.writes == []
    assert commands.ran(['*/modprobe', '**']) == [['/usr/bin/modprobe', '-n', 'vfio-pci']]
    assert result['loaded_modules'] == ['vfio-pci']
    devices = [(d['address'], d['planned'], d['changed'], d['physfn'], d['vendor_id'], d['device_id'], d['driver_before'],
                d['numa_node']) for d in result['devices']]
    assert devices == [(VF0, True, True, PF0, '8086', '10ca', None, 0), (VF1, True, True, PF0, '8086', '10ca', None, 0)]
    bindings = result['diff'][0]
    assert bindings['before'] == ('%s: not created yet (VF 0 of %s, planned by nfv.dpdk.sriov_vfs)\n'
                                  '%s: not created yet (VF 1 of %s, planned by nfv.dpdk.sriov_vfs)\n' % (VF0, PF0, VF1, PF0))
    assert bindings['after'] == ('%s: driver vfio-pci, driver_override vfio-pci\n'
                                 '%s: driver vfio-pci, driver_override vfio-pci\n' % (VF0, VF1))
    units = dict((d['after_header'], d['after']) for d in result['diff'][1:])
    assert 'ExecStart=%s %s 8086:10ca vfio-pci\n' % (HELPER, VF0) in units[UNIT_VF0]
    assert UNIT_VF0 in result['units']


def test_planned_vfs_are_selected_by_address_and_by_match(fake_kernel, run_module, fake_host):
    plan = sriov_plan(run_module, [{'device': PF0, 'num_vfs': 3}, {'device': PF1, 'num_vfs': 1}])
    by_address = run_module(driver_bind, {'devices': [VF2], 'sriov_plan': plan}, check_mode=True)
    assert not by_address.failed, by_address
    assert [(d['address'], d['planned']) for d in by_address['devices']] == [(VF2, True)]
    by_match = run_module(driver_bind, {'match': {'vendor': '8086', 'device': '10ca'}, 'sriov_plan': plan},
                          check_mode=True)
    assert not by_match.failed, by_match
    assert [d['address'] for d in by_match['devices']] == [VF0, VF1, VF2, '0000:81:10.0']


def test_plan_mixes_kept_and_planned_vfs(fake_kernel, run_module, fake_host):
    create(fake_kernel, 1)
    plan = sriov_plan(run_module, [{'device': PF0, 'num_vfs': 3}])
    result = run_module(driver_bind, {'vfs_of': [PF0], 'sriov_plan': plan}, check_mode=True)
    assert not result.failed, result
    assert [(d['address'], d['planned'], d['driver_before']) for d in result['devices']] == [
        (VF0, False, 'igbvf'), (VF1, True, None), (VF2, True, None)]


def test_plan_outside_check_mode_binds_what_exists_as_without_it(fake_kernel, run_module, fake_host):
    plan = sriov_plan(run_module, [{'device': PF0, 'num_vfs': 2}], check_mode=False)
    assert [vf['planned'] for vf in plan[0]['vfs']] == [False, False]
    fake_kernel.writes[:] = []
    result = run_module(driver_bind, {'vfs_of': [PF0], 'sriov_plan': plan, 'iommu_planned': True})
    assert not result.failed and result.changed, result
    assert fake_kernel.writes == [
        ('/sys/bus/pci/devices/%s/driver_override' % VF0, 'vfio-pci'), ('/sys/bus/pci/drivers/igbvf/unbind', VF0),
        (PROBE, VF0),
        ('/sys/bus/pci/devices/%s/driver_override' % VF1, 'vfio-pci'), ('/sys/bus/pci/drivers/igbvf/unbind', VF1),
        (PROBE, VF1)]
    assert [d['planned'] for d in result['devices']] == [False, False]
    # A plan made in check mode, once the VFs exist: the same result.
    again = run_module(driver_bind, {'vfs_of': [PF0], 'sriov_plan': plan})
    assert not again.failed and not again.changed, again


def test_planned_vf_that_was_not_created_is_an_error_outside_check_mode(fake_kernel, run_module, fake_host):
    plan = sriov_plan(run_module, [{'device': PF0, 'num_vfs': 2}])
    create(fake_kernel, 1)
    result = refused(run_module, fake_host, {'vfs_of': [PF0], 'sriov_plan': plan},
                     'vfs_of[0]: VF 1 of 0000:41:00.0 at 0000:41:10.2 (sriov_plan[0].vfs[1]) is not there: '
                     'nfv.dpdk.sriov_vfs did not create it')
    assert 'VF 0 ' not in result['msg'] and fake_kernel.writes == []
    refused(run_module, fake_host, {'devices': [VF1], 'sriov_plan': plan},
            "devices[0]: '0000:41:10.2': no such PCI device on this host (sriov_plan[0].vfs[1] plans it: "
            "nfv.dpdk.sriov_vfs did not create it)")


def iommu_off_pf(fake_host):
    """An 82576 PF on a host without IOMMU (no IOMMU group)."""
    pf = '0000:61:00.0'
    fake_host.pci_device(pf, vendor='0x8086', device='0x10c9', driver='igb', numa_node=0, sriov_totalvfs=7,
                         netdevs=['ens3f0'], parent='/sys/devices/pci0000:60')
    return pf


def test_iommu_off_refuses_planned_vfio_unless_iommu_planned(fake_kernel, run_module, fake_host):
    pf = iommu_off_pf(fake_host)
    plan = sriov_plan(run_module, [{'device': pf, 'num_vfs': 2}])
    before = fake_host.snapshot()
    result = run_module(driver_bind, {'vfs_of': [pf], 'sriov_plan': plan}, check_mode=True)
    assert result.failed and '0000:61:10.0 (8086:10ca, no driver) has no IOMMU group' in result['msg'], result
    assert 'iommu_planned: true when this run turns the IOMMU on' in result['msg']
    planned = run_module(driver_bind, {'vfs_of': [pf], 'sriov_plan': plan, 'iommu_planned': True}, check_mode=True)
    assert not planned.failed and planned.changed, planned
    assert [d['address'] for d in planned['devices']] == ['0000:61:10.0', '0000:61:10.2']
    assert any('iommu_planned: the IOMMU is off now; vfio-pci for 0000:61:10.0, 0000:61:10.2' in w
               for w in get_warning_messages())
    assert fake_host.snapshot() == before


def test_iommu_planned_is_ignored_outside_check_mode(fake_kernel, run_module, fake_host):
    fake_host.pci_device('0000:06:00.0', vendor='0x8086', device='0x10ca', driver='igbvf')
    checked = run_module(driver_bind, {'devices': ['0000:06:00.0'], 'iommu_planned': True}, check_mode=True)
    assert not checked.failed and checked.changed, checked
    refused(run_module, fake_host, {'devices': ['0000:06:00.0'], 'iommu_planned': True}, 'has no IOMMU group')
    assert fake_kernel.writes == []


def test_planned_vfs_of_a_bifurcated_pf_are_refused(fake_kernel, run_module, fake_host):
    fake_host.pci_device('0000:a1:00.0', vendor='0x15b3', device='0x1017', driver='mlx5_core', numa_node=1,
                         iommu_group=50, sriov_totalvfs=8, sriov_vf_offset=2, sriov_vf_stride=1, netdevs=['ens5f0np0'],
                         parent='/sys/devices/pci0000:a0')
    plan = sriov_plan(run_module, [{'device': '0000:a1:00.0', 'num_vfs': 1}])
    assert plan[0]['vfs'][0]['address'] == '0000:a1:00.2' and plan[0]['vfs'][0]['device_id'] == '1018'
    result = run_module(driver_bind, {'vfs_of': ['0000:a1:00.0'], 'sriov_plan': plan}, check_mode=True)
    assert result.failed and '0000:a1:00.2 (15b3:1018, no driver) is a bifurcated' in result['msg'], result


def test_planned_vfs_with_unknown_addresses_count_as_a_change_with_a_warning(fake_kernel, run_module, fake_host):
    with open(fake_host.path('/sys/devices/pci0000:40/%s/config' % PF0), 'r+b') as handle:
        handle.truncate(64)
    plan = sriov_plan(run_module, [{'device': PF0, 'num_vfs': 2}])
    assert [vf['address'] for vf in plan[0]['vfs']] == [None, None]
    result = run_module(driver_bind, {'vfs_of': [PF0], 'sriov_plan': plan}, check_mode=True, diff=True)
    assert not result.failed and result.changed and result['devices'] == [], result
    assert 'VF 1 of 0000:41:00.0: not created yet, PCI address unknown\n' in result['diff'][0]['before']
    assert any('sriov_plan[0].vfs[1]: VF 1 of 0000:41:00.0 would be created and bound to vfio-pci, but its PCI '
               'address is unknown' in w for w in get_warning_messages())


def test_planned_vfs_with_unknown_addresses_still_get_the_checks_that_need_no_address(fake_kernel, run_module,
                                                                                      fake_host):
    pf = iommu_off_pf(fake_host)
    with open(fake_host.path('/sys/devices/pci0000:60/%s/config' % pf), 'r+b') as handle:
        handle.truncate(64)
    plan = sriov_plan(run_module, [{'device': pf, 'num_vfs': 1}])
    before = fake_host.snapshot()
    result = run_module(driver_bind, {'vfs_of': [pf], 'sriov_plan': plan}, check_mode=True)
    assert result.failed and 'VF 0 of 0000:61:00.0 (address unknown, 8086:?) has no IOMMU group' in result['msg'], result
    assert fake_host.snapshot() == before
    planned = run_module(driver_bind, {'vfs_of': [pf], 'sriov_plan': plan, 'iommu_planned': True}, check_mode=True)
    assert not planned.failed and planned.changed, planned
    assert any('vfio-pci for VF 0 of 0000:61:00.0 (address unknown' in w for w in get_warning_messages())


def test_plan_address_of_an_existing_other_device_is_refused(fake_kernel, run_module, fake_host):
    # A plan that is not from this run must never make driver_bind touch another device (here the connection's NIC).
    plan = [{'address': PF0, 'vfs': [{'index': 0, 'address': MGMT, 'planned': True, 'device_id': '10ca'}]}]
    before = fake_host.snapshot()
    result = run_module(driver_bind, {'vfs_of': [PF0], 'sriov_plan': plan}, check_mode=True)
    assert result.failed and ('sriov_plan[0].vfs[0].address: 0000:00:03.0 exists and is not a VF of 0000:41:00.0 '
                              'but 1af4:1000 (virtio-pci)') in result['msg'], result
    assert fake_host.snapshot() == before


PLANNED_VF = {'index': 0, 'address': VF0, 'planned': True, 'vendor_id': '8086', 'device_id': '10ca'}
BAD_PLANS = [
    ([{'vfs': []}], 'sriov_plan[0].address: the PF address is required'),
    ([{'address': '41:00', 'vfs': []}], "sriov_plan[0].address: the PF address is required: '41:00' is not a PCI address"),
    ([{'address': PF0}], 'sriov_plan[0].vfs: must be a list (the vfs of the sriov_vfs result), got nothing'),
    ([{'address': PF0, 'vfs': 'all'}], 'sriov_plan[0].vfs: must be a list'),
    ([{'address': PF0, 'vfs': ['x']}], 'sriov_plan[0].vfs[0]: must be a dict, got str'),
    ([{'address': PF0, 'vfs': [dict(PLANNED_VF, index=-1)]}], 'sriov_plan[0].vfs[0].index: -1 is not a VF number'),
    ([{'address': PF0, 'vfs': [dict(PLANNED_VF, index=True)]}], 'sriov_plan[0].vfs[0].index: True is not a VF number'),
    ([{'address': PF0, 'vfs': [dict(PLANNED_VF, planned='yes')]}], "sriov_plan[0].vfs[0].planned: 'yes' is not a boolean"),
    ([{'address': PF0, 'vfs': [dict(PLANNED_VF, address='0000:41:10.9')]}],
     "sriov_plan[0].vfs[0].address: '0000:41:10.9' is not a PCI address"),
    ([{'address': PF0, 'vfs': [dict(PLANNED_VF, address=PF0)]}], 'is the PF itself, not one of its VFs'),
    ([{'address': PF0, 'vfs': [PLANNED_VF, dict(PLANNED_VF, index=1)]}],
     'sriov_plan[0].vfs[1].address: 0000:41:10.0 is also sriov_plan[0].vfs[0]'),
    ([{'address': PF0, 'vfs': [PLANNED_VF, dict(PLANNED_VF, address=VF1)]}], 'sriov_plan[0].vfs[1].index: VF 0 is listed twice'),
    ([{'address': PF0, 'vfs': [dict(PLANNED_VF, planned=False, address=None)]}],
     'sriov_plan[0].vfs[0].address: an existing VF (planned: false) needs its PCI address'),
    ([{'address': PF0, 'vfs': [dict(PLANNED_VF, device_id='10c')]}], "sriov_plan[0].vfs[0].device_id: '10c' is not a 4-digit"),
    ([{'address': PF0, 'vfs': [dict(PLANNED_VF, device_id=None)]}], 'sriov_plan[0].vfs[0].device_id: a planned VF with an '
                                                                    'address needs its device id'),
    ([{'address': PF0, 'vfs': []}, {'address': '41:00.0', 'vfs': []}], 'sriov_plan[1].address: PF 0000:41:00.0 is listed twice'),
]


@pytest.mark.parametrize('check_mode', [True, False], ids=['check', 'run'])
@pytest.mark.parametrize('plan,message', BAD_PLANS, ids=[str(i) for i in range(len(BAD_PLANS))])
def test_bad_sriov_plan_is_rejected_and_changes_nothing(fake_kernel, run_module, fake_host, commands, plan, message,
                                                        check_mode):
    create(fake_kernel, 1)
    before = fake_host.snapshot()
    result = run_module(driver_bind, {'vfs_of': [PF0], 'sriov_plan': plan}, check_mode=check_mode)
    assert result.failed and message in result['msg'], result
    assert 'nothing was changed' in result['msg']
    assert fake_host.snapshot() == before and fake_kernel.writes == []
    assert commands.ran(['*/modprobe', '**']) == []
