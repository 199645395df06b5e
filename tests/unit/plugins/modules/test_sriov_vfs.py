# -*- coding: utf-8 -*-
import errno

import pytest

from ansible.module_utils.common.warnings import get_warning_messages

from ansible_collections.nfv.dpdk.plugins.modules import sriov_vfs
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.pci import PciDevice
from ansible_collections.nfv.dpdk.plugins.module_utils.sriov import (
    SriovError, parse_vfinfo, set_num_vfs, sriov_unit_content, vf_attribute_args,
)
from ansible_collections.nfv.dpdk.tests.unit.fakekernel_pci import MGMT, PF0, PF1, fake_kernel  # noqa: F401 # pylint: disable=unused-import

UNIT0 = '/etc/systemd/system/nfv-dpdk-sriov-0000-41-00.0.service'
UNIT1 = '/etc/systemd/system/nfv-dpdk-sriov-0000-81-00.0.service'
WANTS0 = '/etc/systemd/system/multi-user.target.wants/nfv-dpdk-sriov-0000-41-00.0.service'
HELPER = '/usr/local/libexec/nfv-dpdk/sriov-vfs'
NUMVFS0 = '/sys/bus/pci/devices/%s/sriov_numvfs' % PF0


def numvfs_writes(kernel, path=NUMVFS0):
    return [value for written, value in kernel.writes if written == path]


def create(kernel, count, pf=PF0):
    HostFS().write('/sys/bus/pci/devices/%s/sriov_numvfs' % pf, str(count))
    kernel.writes[:] = []


VF0 = {'index': 0, 'mac': '02:00:00:00:41:00', 'vlan': 100, 'spoofchk': False}


# -- creating, idempotence, check mode, diff ----------------------------------------------------
def test_creates_vfs_with_attributes_and_unit(fake_kernel, run_module, fake_host):
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 3, 'vfs': [VF0]}]})
    assert not result.failed, result
    assert result.changed
    pf = result['pfs'][0]
    assert pf['numvfs_writes'] == [3] and pf['interface'] == 'ens1f0' and pf['num_vfs_before'] == 0
    assert [vf['address'] for vf in pf['vfs']] == ['0000:41:10.0', '0000:41:10.2', '0000:41:10.4']
    vf0 = pf['vfs'][0]
    assert vf0['mac'] == '02:00:00:00:41:00' and vf0['vlan'] == 100 and vf0['spoofchk'] is False
    assert vf0['numa_node'] == 0 and vf0['iommu_group'] == 100 and vf0['driver'] == 'igbvf'
    assert vf0['interfaces'] == ['ens1f0v0']
    assert pf['vf_commands'] == [
        ['/usr/bin/ip', 'link', 'set', 'dev', 'ens1f0', 'vf', '0', 'mac', '02:00:00:00:41:00'],
        ['/usr/bin/ip', 'link', 'set', 'dev', 'ens1f0', 'vf', '0', 'vlan', '100', 'qos', '0'],
        ['/usr/bin/ip', 'link', 'set', 'dev', 'ens1f0', 'vf', '0', 'spoofchk', 'off']]
    unit = fake_host.read(UNIT0)
    assert 'ExecStart=%s numvfs %s 3\n' % (HELPER, PF0) in unit
    assert 'ExecStart=%s vf %s 0 mac 02:00:00:00:41:00\n' % (HELPER, PF0) in unit
    assert 'ExecStart=%s vf %s 0 spoofchk off\n' % (HELPER, PF0) in unit
    assert 'Before=network-pre.target kubelet.service' in unit and 'WantedBy=multi-user.target' in unit
    assert fake_host.exists(WANTS0)
    assert fake_host.read(HELPER).startswith('#!/bin/sh')
    assert oct(__import__('os').stat(fake_host.path(HELPER)).st_mode & 0o777) == '0o755'
    assert result['units'] == [UNIT0]
    # Same request by interface name: nothing to do, no command that changes anything.
    again = run_module(sriov_vfs, {'pfs': [{'device': 'ens1f0', 'num_vfs': 3, 'vfs': [VF0]}]})
    assert not again.failed and not again.changed, again
    assert again['pfs'][0]['vf_commands'] == [] and again['units'] == []


def test_check_mode_reports_and_changes_nothing(fake_kernel, run_module, fake_host, commands):
    before = fake_host.snapshot()
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 3, 'vfs': [VF0]}]}, check_mode=True, diff=True)
    assert not result.failed and result.changed
    assert fake_host.snapshot() == before
    assert fake_kernel.writes == []
    assert commands.ran(['*/systemctl', '**']) == [] and commands.ran(['*/ip', 'link', 'set', '**']) == []
    pf = result['pfs'][0]
    assert pf['numvfs_writes'] == [3] and len(pf['vf_commands']) == 3
    # The VFs it would create, at the addresses the 82576's SR-IOV capability gives (offset 0x80, stride 2).
    assert [(vf['index'], vf['address'], vf['planned']) for vf in pf['vfs']] == [
        (0, '0000:41:10.0', True), (1, '0000:41:10.2', True), (2, '0000:41:10.4', True)]
    vf0 = pf['vfs'][0]
    assert (vf0['vendor_id'], vf0['device_id'], vf0['numa_node'], vf0['driver'], vf0['iommu_group']) == (
        '8086', '10ca', 0, None, None)
    assert vf0['mac'] == '02:00:00:00:41:00' and vf0['vlan'] == 100 and pf['vfs'][1]['mac'] is None
    headers = [d['before_header'] for d in result['diff']]
    assert NUMVFS0 in headers and UNIT0 in headers and HELPER in headers


def test_planned_addresses_are_the_ones_the_kernel_gives(fake_kernel, run_module):
    plan = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 7}]}, check_mode=True)
    done = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 7}]})
    assert not plan.failed and not done.failed, (plan, done)
    planned = [(vf['index'], vf['address'], vf['device_id']) for vf in plan['pfs'][0]['vfs']]
    created = [(vf['index'], vf['address'], vf['device_id']) for vf in done['pfs'][0]['vfs']]
    # The lab README: the 82576's VFs sit at <bus>:10.0, 10.2, ... (RID + 0x80, stride 2).
    assert planned == created and created[1] == (1, '0000:41:10.2', '10ca') and created[6][1] == '0000:41:11.4'
    assert all(vf['planned'] for vf in plan['pfs'][0]['vfs'])
    assert not any(vf['planned'] for vf in done['pfs'][0]['vfs'])


@pytest.mark.parametrize('pf, offset, stride, expected', [
    # A PF on function 1 with stride 1: VFs are consecutive functions.
    ('0000:3b:00.1', 0x7f, 1, ['0000:3b:10.0', '0000:3b:10.1', '0000:3b:10.2']),
    # The routing ID carries into the next bus number.
    ('0000:5e:00.0', 0xfe, 1, ['0000:5e:1f.6', '0000:5e:1f.7', '0000:5f:00.0']),
    # Stride 4, domain kept.
    ('0001:18:00.0', 0x08, 4, ['0001:18:01.0', '0001:18:01.4', '0001:18:02.0']),
])
def test_planned_addresses_follow_offset_and_stride(fake_kernel, fake_host, run_module, pf, offset, stride, expected):
    fake_host.pci_device(pf, vendor='0x8086', device='0x1572', driver='i40e', numa_node=1, iommu_group=30,
                         sriov_totalvfs=32, sriov_vf_offset=offset, sriov_vf_stride=stride, netdevs=['ens9f1'])
    plan = run_module(sriov_vfs, {'pfs': [{'device': pf, 'num_vfs': 3}], 'persist': False}, check_mode=True)
    assert not plan.failed, plan
    vfs = plan['pfs'][0]['vfs']
    assert [vf['address'] for vf in vfs] == expected
    assert set((vf['vendor_id'], vf['device_id'], vf['numa_node']) for vf in vfs) == {('8086', '154c', 1)}
    done = run_module(sriov_vfs, {'pfs': [{'device': pf, 'num_vfs': 3}], 'persist': False})
    assert [vf['address'] for vf in done['pfs'][0]['vfs']] == expected


@pytest.mark.parametrize('config_size, reason', [(64, 'shows only 64 bytes'), (None, 'cannot be read')])
def test_unreadable_config_space_gives_no_address_and_a_warning(fake_kernel, fake_host, run_module, config_size,
                                                                reason):
    config = '/sys/devices/pci0000:40/%s/config' % PF0
    if config_size is None:
        __import__('os').unlink(fake_host.path(config))
    else:
        # What a user without root reads: the first 64 bytes of the header.
        with open(fake_host.path(config), 'r+b') as handle:
            handle.truncate(config_size)
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2}]}, check_mode=True)
    assert not result.failed and result.changed, result
    vfs = result['pfs'][0]['vfs']
    assert [(vf['index'], vf['address'], vf['planned'], vf['device_id']) for vf in vfs] == [
        (0, None, True, None), (1, None, True, None)]
    warnings = get_warning_messages()
    assert any('PCI addresses of the 2 VF(s)' in w and 'address null' in w and reason in w for w in warnings), warnings


def test_check_mode_lists_kept_vfs_as_existing_and_new_ones_as_planned(fake_kernel, run_module):
    create(fake_kernel, 2)
    more = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 4}]}, check_mode=True)
    assert [(vf['address'], vf['planned'], vf['driver']) for vf in more['pfs'][0]['vfs']] == [
        ('0000:41:10.0', False, 'igbvf'), ('0000:41:10.2', False, 'igbvf'),
        ('0000:41:10.4', True, None), ('0000:41:10.6', True, None)]
    fewer = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 1}]}, check_mode=True)
    assert [(vf['address'], vf['planned']) for vf in fewer['pfs'][0]['vfs']] == [('0000:41:10.0', False)]
    none = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 0}]}, check_mode=True)
    assert none['pfs'][0]['vfs'] == []
    same = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2}]}, check_mode=True)
    assert [vf['planned'] for vf in same['pfs'][0]['vfs']] == [False, False]
    assert not any('not known' in w for w in get_warning_messages())


def test_diff_shows_count_attributes_and_unit(fake_kernel, run_module):
    create(fake_kernel, 2)
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [{'index': 1, 'mac': '02:00:00:00:00:01'}]}]},
                        diff=True)
    diffs = dict((d['before_header'], d) for d in result['diff'])
    attrs = diffs['0000:41:00.0 (ens1f0) VF attributes']
    assert attrs['before'] == 'vf 1 mac 00:00:00:00:00:00\n' and attrs['after'] == 'vf 1 mac 02:00:00:00:00:01\n'
    assert diffs[UNIT0]['before'] == '' and 'numvfs 0000:41:00.0 2' in diffs[UNIT0]['after']
    assert NUMVFS0 not in diffs


def test_only_differing_attributes_are_set(fake_kernel, run_module, commands):
    run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [VF0]}]})
    commands.calls[:] = []
    changed = dict(VF0, vlan=200, qos=3)
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [changed]}]})
    assert result.changed
    assert commands.ran(['*/ip', 'link', 'set', '**']) == [
        ['/usr/bin/ip', 'link', 'set', 'dev', 'ens1f0', 'vf', '0', 'vlan', '200', 'qos', '3']]
    assert result['pfs'][0]['vfs'][0]['qos'] == 3


# -- VF count: N -> M through 0, EBUSY ------------------------------------------------------------
def test_n_to_m_goes_through_zero(fake_kernel, run_module):
    create(fake_kernel, 3)
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 5}]})
    assert not result.failed, result
    assert result['pfs'][0]['numvfs_writes'] == [0, 5]
    assert numvfs_writes(fake_kernel) == ['0', '5']
    assert PciDevice(PF0).sriov_numvfs == 5 and len(PciDevice(PF0).vfs) == 5


def test_kernel_refuses_non_zero_to_non_zero(fake_kernel):
    create(fake_kernel, 3)
    with pytest.raises(OSError) as raised:
        HostFS().write(NUMVFS0, '2')
    assert raised.value.errno == errno.EBUSY
    with pytest.raises(OSError) as raised:
        HostFS().write(NUMVFS0, '8')
    assert raised.value.errno == errno.ERANGE
    with pytest.raises(OSError) as raised:
        HostFS().write(NUMVFS0, 'x')
    assert raised.value.errno == errno.EINVAL


def test_ebusy_race_passes_through_zero(fake_kernel, run_module):
    # VFs appeared between the read and the write: the kernel says EBUSY, the module writes 0 then retries.
    fake_kernel.fail_writes[NUMVFS0] = errno.EBUSY
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2}]})
    assert not result.failed, result
    assert numvfs_writes(fake_kernel) == ['2', '0', '2']
    assert result['pfs'][0]['numvfs_writes'] == [0, 2]


def test_set_num_vfs_reports_the_kernel_reason(fake_kernel):
    fake_kernel.fail_writes[NUMVFS0] = errno.ENOMEM
    with pytest.raises(SriovError) as raised:
        set_num_vfs(HostFS(), PciDevice(PF0), 4)
    assert 'MMIO' in str(raised.value) and NUMVFS0 in str(raised.value)


def test_zero_removes_vfs_unit_and_helper(fake_kernel, run_module, fake_host, commands):
    run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 3}]})
    assert fake_host.exists(UNIT0) and fake_host.exists(WANTS0)
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 0}]}, diff=True)
    assert result.changed and result['pfs'][0]['vfs'] == [] and result['pfs'][0]['unit'] is None
    assert not fake_host.exists(UNIT0) and not fake_host.exists(WANTS0) and not fake_host.exists(HELPER)
    leftovers = [n for n in fake_host.listdir('/etc/systemd/system') if n.endswith('~')]
    assert leftovers == []      # no backup of a generated file that is removed
    # nor the helper's directory, once its last script is gone
    assert not fake_host.exists('/usr/local/libexec/nfv-dpdk')
    assert commands.ran(['*/systemctl', 'disable', '**']) == [
        ['/usr/bin/systemctl', 'disable', '--now', 'nfv-dpdk-sriov-0000-41-00.0.service']]
    assert not fake_host.exists('/sys/bus/pci/devices/0000:41:10.0')
    assert not fake_host.exists('/sys/kernel/iommu_groups/100')
    assert run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 0}]}).changed is False


def test_helper_stays_while_another_pf_has_a_unit(fake_kernel, run_module, fake_host):
    run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 1}, {'device': 'ens2f0', 'num_vfs': 2}]})
    assert fake_host.exists(UNIT0) and fake_host.exists(UNIT1)
    run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 0}]})
    assert not fake_host.exists(UNIT0) and fake_host.exists(UNIT1) and fake_host.exists(HELPER)


def test_persist_false_writes_no_unit_and_removes_one(fake_kernel, run_module, fake_host):
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2}], 'persist': False})
    assert result.changed and not fake_host.exists(UNIT0) and result['units'] == []
    run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2}]})
    assert fake_host.exists(UNIT0)
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2}], 'persist': False})
    assert result.changed and result['units'] == [UNIT0]
    assert not fake_host.exists(UNIT0) and not fake_host.exists(WANTS0)
    assert PciDevice(PF0).sriov_numvfs == 2


def test_drivers_autoprobe_false_leaves_vfs_unbound(fake_kernel, run_module, fake_host):
    result = run_module(sriov_vfs, {'pfs': [{'device': PF1, 'num_vfs': 2, 'drivers_autoprobe': False}]})
    assert not result.failed, result
    assert [vf['driver'] for vf in result['pfs'][0]['vfs']] == [None, None]
    assert [vf['numa_node'] for vf in result['pfs'][0]['vfs']] == [1, 1]
    assert 'numvfs 0000:81:00.0 2 0' in fake_host.read(UNIT1)
    written = [(p, v) for p, v in fake_kernel.writes if 'sriov' in p]
    assert written == [('/sys/bus/pci/devices/%s/sriov_drivers_autoprobe' % PF1, '0'),
                       ('/sys/bus/pci/devices/%s/sriov_numvfs' % PF1, '2')]


def test_unsupported_attribute_fails_with_ip_message_and_writes_no_unit(fake_kernel, run_module, fake_host):
    fake_kernel.unsupported_vf_attrs['igb'] = {'trust'}
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [{'index': 0, 'trust': True}]}]})
    assert result.failed
    assert 'trust on failed: RTNETLINK answers: Operation not supported' in result['msg']
    assert not fake_host.exists(UNIT0)


def test_persistence_failure_restores_unit_files(fake_kernel, run_module, fake_host, commands):
    fake_host.file(UNIT0, 'old unit\n')
    original = commands.run

    def run(args, **kwargs):
        if list(args)[1:2] == ['enable']:
            commands.calls.append(list(args))
            return 1, '', 'Failed to enable unit'
        return original(args, **kwargs)
    commands.run = run
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 1}]})
    assert result.failed and 'unit files restored' in result['msg']
    assert fake_host.read(UNIT0) == 'old unit\n' and not fake_host.exists(HELPER)


def test_warns_when_pf_with_route_changes_count(fake_kernel, run_module, fake_host):
    fake_host.routes('enp0s3', 'ens1f0')
    create(fake_kernel, 1)
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2}], 'persist': False})
    assert not result.failed
    assert any('ens1f0) carries a route' in w for w in get_warning_messages())


# -- bad input: rejected, nothing changed --------------------------------------------------------
BAD_INPUTS = [
    ({'pfs': []}, 'at least one PF'),
    ({'pfs': [{'device': 'nosuch0', 'num_vfs': 1}]}, 'neither a PCI address'),
    ({'pfs': [{'device': '0000:99:00.0', 'num_vfs': 1}]}, 'no such PCI device'),
    ({'pfs': [{'device': '0000:41:00.9', 'num_vfs': 1}]}, 'not a PCI address'),
    ({'pfs': [{'device': '', 'num_vfs': 1}]}, 'is empty'),
    ({'pfs': [{'device': MGMT, 'num_vfs': 1}]}, 'not SR-IOV capable'),
    ({'pfs': [{'device': 'enp0s3', 'num_vfs': 1}]}, 'not SR-IOV capable'),
    ({'pfs': [{'device': PF0, 'num_vfs': 8}]}, 'allowed 0-7'),
    ({'pfs': [{'device': PF0, 'num_vfs': -1}]}, 'allowed 0-7'),
    ({'pfs': [{'device': PF0, 'num_vfs': 'four'}]}, 'num_vfs'),
    ({'pfs': [{'device': PF0}]}, 'num_vfs'),
    ({'pfs': [{'device': PF0, 'num_vfs': 1, 'colour': 'red'}]}, 'colour'),
    ({'pfs': [{'device': PF0, 'num_vfs': 1}, {'device': 'ens1f0', 'num_vfs': 2}]}, 'same PF as pfs[0]'),
    ({'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [{'index': 2}]}]}, 'allowed 0-1'),
    ({'pfs': [{'device': PF0, 'num_vfs': 0, 'vfs': [{'index': 0, 'mac': '02:00:00:00:00:01'}]}]}, 'num_vfs is 0'),
    ({'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [{'index': 0, 'mac': '02:00:00:00:00'}]}]}, 'not a MAC address'),
    ({'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [{'index': 0, 'mac': '01:00:5e:00:00:01'}]}]}, 'multicast'),
    ({'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [{'index': 0, 'vlan': 4096}]}]}, 'allowed 0-4095'),
    ({'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [{'index': 0, 'vlan': 10, 'qos': 8}]}]}, 'allowed 0-7'),
    ({'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [{'index': 0, 'qos': 3}]}]}, 'needs vlan'),
    ({'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [{'index': 0, 'min_tx_rate': 500, 'max_tx_rate': 100}]}]},
     'above max_tx_rate'),
    ({'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [{'index': 0, 'max_tx_rate': -5}]}]}, 'negative'),
    ({'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [{'index': 0, 'link_state': 'up'}]}]}, 'link_state'),
    ({'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [{'index': 1}, {'index': 1}]}]}, 'listed twice'),
    ({'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [{'mac': '02:00:00:00:00:01'}]}]}, 'index'),
    ({'pfs': [{'device': PF0, 'num_vfs': 2}], 'persist': 'maybe'}, 'persist'),
    ({'pfs': [{'device': PF0, 'num_vfs': 2}], 'unknown': 1}, 'unknown'),
    ({'pfs': 'ens1f0'}, 'dictionary requested'),
]


@pytest.mark.parametrize('args,message', BAD_INPUTS, ids=[str(i) for i in range(len(BAD_INPUTS))])
def test_bad_input_is_rejected_and_changes_nothing(fake_kernel, run_module, fake_host, args, message):
    before = fake_host.snapshot()
    result = run_module(sriov_vfs, args)
    assert result.failed, result
    assert message in result['msg'], result['msg']
    assert fake_host.snapshot() == before
    assert fake_kernel.writes == []


def test_all_problems_are_reported_at_once(fake_kernel, run_module):
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 9, 'vfs': [{'index': 0, 'vlan': 5000}]},
                                            {'device': 'nosuch', 'num_vfs': 1}]})
    assert result.failed and len(result['problems']) == 3 and result['msg'].startswith('3 problem(s)')


def test_vf_given_as_pf_is_refused(fake_kernel, run_module, fake_host):
    create(fake_kernel, 2)
    before = fake_host.snapshot()
    result = run_module(sriov_vfs, {'pfs': [{'device': '0000:41:10.0', 'num_vfs': 1}]})
    assert result.failed and 'is a virtual function (of 0000:41:00.0)' in result['msg']
    assert fake_host.snapshot() == before


def test_pf_without_driver_is_refused(fake_kernel, run_module, fake_host):
    fake_kernel.detach(PF0)
    before = fake_host.snapshot()
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 1}]})
    assert result.failed and 'has no driver bound' in result['msg']
    assert fake_host.snapshot() == before


def test_bifurcated_pf_refuses_autoprobe_off(fake_kernel, run_module, fake_host):
    fake_host.pci_device('0000:3b:00.0', vendor='0x15b3', device='0x1017', driver='mlx5_core', iommu_group=40,
                         sriov_totalvfs=8, netdevs=['ens3f0np0'])
    before = fake_host.snapshot()
    result = run_module(sriov_vfs, {'pfs': [{'device': '0000:3b:00.0', 'num_vfs': 2, 'drivers_autoprobe': False}]})
    assert result.failed and 'bifurcated' in result['msg']
    assert fake_host.snapshot() == before


def test_attributes_need_a_pf_interface(fake_kernel, run_module, fake_host):
    fake_host.pci_device('0000:3c:00.0', vendor='0x8086', device='0x1572', driver='vfio-pci', iommu_group=41,
                         sriov_totalvfs=32)
    result = run_module(sriov_vfs, {'pfs': [{'device': '0000:3c:00.0', 'num_vfs': 0,
                                             'vfs': []}, {'device': PF0, 'num_vfs': 1}]}, check_mode=True)
    assert not result.failed
    result = run_module(sriov_vfs, {'pfs': [{'device': '0000:3c:00.0', 'num_vfs': 2,
                                             'vfs': [{'index': 0, 'mac': '02:00:00:00:00:01'}]}]})
    assert result.failed and 'has no network interface (driver vfio-pci)' in result['msg']


# -- helpers -------------------------------------------------------------------------------------
def test_parse_vfinfo_both_vlan_formats():
    parsed = parse_vfinfo('[{"ifname": "p", "vfinfo_list": ['
                          '{"vf": 0, "address": "02:AA:00:00:00:01", "vlan_list": [{"vlan": 7, "qos": 2}],'
                          ' "rate": {"max_tx": 100, "min_tx": 10}, "spoofchk": true, "trust": false,'
                          ' "link_state": "enable"},'
                          '{"vf": 1, "address": "02:aa:00:00:00:02", "vlan": 9, "tx_rate": 50}]}]')
    assert parsed[0] == {'mac': '02:aa:00:00:00:01', 'vlan': 7, 'qos': 2, 'max_tx_rate': 100, 'min_tx_rate': 10,
                         'spoofchk': True, 'trust': False, 'link_state': 'enable'}
    assert parsed[1]['vlan'] == 9 and parsed[1]['max_tx_rate'] == 50 and parsed[1]['spoofchk'] is None
    with pytest.raises(SriovError):
        parse_vfinfo('not json')


def test_rate_pair_is_sent_together():
    current = {'max_tx_rate': 100, 'min_tx_rate': 0}
    assert vf_attribute_args({'max_tx_rate': 100, 'min_tx_rate': 50}, current) == [
        ['min_tx_rate', '50', 'max_tx_rate', '100']]
    assert vf_attribute_args({'max_tx_rate': 100, 'min_tx_rate': 0}, current) == []


def test_unit_replays_every_attribute():
    unit = sriov_unit_content(PF0, 2, [{'index': 1, 'link_state': 'enable', 'trust': True, 'mac': None}], True)
    assert 'sriov-vfs numvfs 0000:41:00.0 2 1\n' in unit
    assert 'sriov-vfs vf 0000:41:00.0 1 trust on\n' in unit and 'sriov-vfs vf 0000:41:00.0 1 state enable\n' in unit
    assert 'DefaultDependencies=no' in unit and 'Wants=network-pre.target' in unit


def test_vfs_held_by_a_dpdk_process_are_not_removed(fake_kernel, run_module, fake_host):
    create(fake_kernel, 2)
    fake_kernel.modprobe(['vfio-pci'])
    fake_kernel.detach('0000:41:10.2')
    fake_kernel.attach_driver('0000:41:10.2', 'vfio-pci')
    fake_host.file('/dev/vfio/101', '')
    fake_host.file('/proc/4242/comm', 'dpdk-testpmd')
    fake_host.link('/proc/4242/fd/7', '/dev/vfio/101')
    fake_kernel.writes[:] = []
    before = fake_host.snapshot()
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 4}]})
    assert result.failed and 'removes VF 0000:41:10.2, which process 4242 (dpdk-testpmd) holds' in result['msg']
    assert fake_host.snapshot() == before and fake_kernel.writes == []
    # Attributes only (no count change) are fine while the VF is in use.
    assert not run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [{'index': 1, 'vlan': 5}]}],
                                      'persist': False}).failed


def test_warns_about_bind_units_of_removed_vfs(fake_kernel, run_module, fake_host):
    create(fake_kernel, 2)
    fake_host.file('/etc/systemd/system/nfv-dpdk-bind-0000-41-10.2.service', '[Unit]\n')
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 1}], 'persist': False})
    assert not result.failed
    assert any('VF 0000:41:10.2 is gone' in w for w in get_warning_messages())


# -- the PF's link ----------------------------------------------------------------------------
def set_down(fake_host, ifname='ens1f0'):
    fake_host.file('/sys/class/net/%s/operstate' % ifname, 'down')


def test_pf_that_is_down_is_set_up_now_and_at_boot(fake_kernel, run_module, fake_host):
    set_down(fake_host)
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2}]}, diff=True)
    assert not result.failed and result.changed, result
    assert result['pfs'][0]['link_commands'] == [['/usr/bin/ip', 'link', 'set', 'dev', 'ens1f0', 'up']]
    assert fake_kernel.link_commands == [['link', 'set', 'dev', 'ens1f0', 'up']]
    assert fake_host.read('/sys/class/net/ens1f0/operstate').strip() == 'up'
    link_diff = [d for d in result['diff'] if d['before_header'] == '%s (ens1f0) link' % PF0]
    assert link_diff == [{'before_header': '%s (ens1f0) link' % PF0, 'after_header': '%s (ens1f0) link' % PF0,
                          'before': 'down\n', 'after': 'up\n'}]
    unit = fake_host.read(UNIT0)
    # After the VF count, before the VF attributes: igb ignores VF settings while its PF is down.
    assert unit.index('numvfs %s 2\n' % PF0) < unit.index('ExecStart=%s link %s up\n' % (HELPER, PF0))
    again = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2}]})
    assert not again.failed and not again.changed, again
    assert again['pfs'][0]['link_commands'] == []


def test_pf_link_and_vf_attributes_come_from_one_ip_show(fake_kernel, run_module, fake_host, commands):
    create(fake_kernel, 2)
    set_down(fake_host)
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2, 'vfs': [VF0]}]})
    assert not result.failed and result.changed, result
    assert result['pfs'][0]['link_commands'] == [['/usr/bin/ip', 'link', 'set', 'dev', 'ens1f0', 'up']]
    assert len(result['pfs'][0]['vf_commands']) == 3
    # One read to plan the link and the attributes, one to describe the VFs after the changes.
    assert len(commands.ran(['*/ip', '-j', 'link', 'show', '**'])) == 2


def test_pf_link_up_in_check_mode_changes_nothing(fake_kernel, run_module, fake_host, commands):
    create(fake_kernel, 2)
    set_down(fake_host)
    run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2}]}, check_mode=True)
    before = fake_host.snapshot()
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2}]}, check_mode=True)
    assert not result.failed and result.changed
    assert result['pfs'][0]['link_commands'] == [['/usr/bin/ip', 'link', 'set', 'dev', 'ens1f0', 'up']]
    assert fake_host.snapshot() == before and fake_kernel.link_commands == []
    assert commands.ran(['*/ip', 'link', 'set', '**']) == []


def test_link_up_false_leaves_the_pf_down(fake_kernel, run_module, fake_host):
    set_down(fake_host)
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2, 'link_up': False}]})
    assert not result.failed and result.changed
    assert result['pfs'][0]['link_commands'] == [] and fake_kernel.link_commands == []
    assert fake_host.read('/sys/class/net/ens1f0/operstate').strip() == 'down'
    assert ' link ' not in fake_host.read(UNIT0)


def test_pf_without_vfs_is_never_set_up(fake_kernel, run_module, fake_host):
    create(fake_kernel, 2)
    set_down(fake_host)
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 0}]})
    assert not result.failed and result.changed
    assert result['pfs'][0]['link_commands'] == [] and fake_kernel.link_commands == []


HELPER_IP_STUB = r'''#!/bin/sh
# ip stand-in: the first call finds the name udev is renaming (eth1 -> enp129s0).
echo "$*" >> "$LOG"
if [ -e "$NET/eth1" ]; then
    mv "$NET/eth1" "$NET/enp129s0"
    echo 'Cannot find device "eth1"' >&2
    exit 1
fi
[ "$FAIL" = 1 ] && { echo 'RTNETLINK answers: Operation not supported' >&2; exit 2; }
exit 0
'''


def run_helper(tmp_path, args, fail=False, udev_db=None):
    """The boot helper itself, run by /bin/sh against a sysfs copy and an ip stand-in (no udev unless udev_db)."""
    import os
    import subprocess
    from ansible_collections.nfv.dpdk.plugins.module_utils.sriov import SRIOV_HELPER_CONTENT
    devices = tmp_path / 'devices'
    net = devices / PF1 / 'net'
    if not net.exists():
        (net / 'eth1').mkdir(parents=True)
        (net / 'eth1' / 'ifindex').write_text('7\n')
    udev_db = udev_db or (tmp_path / 'no-udev')
    (devices / PF1 / 'driver').mkdir(exist_ok=True)
    stub = tmp_path / 'bin'
    stub.mkdir(exist_ok=True)
    (stub / 'ip').write_text(HELPER_IP_STUB)
    os.chmod(str(stub / 'ip'), 0o755)
    script = SRIOV_HELPER_CONTENT.replace('PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'PATH=%s:/usr/bin:/bin' % stub)
    script = script.replace('/sys/bus/pci/devices', str(devices))
    script = script.replace('udev_db=/run/udev/data', 'udev_db=%s' % udev_db)
    assert str(stub) in script and str(devices) in script and str(udev_db) in script
    log = tmp_path / 'ip.log'
    env = dict(os.environ, LOG=str(log), NET=str(net), FAIL='1' if fail else '0')
    proc = subprocess.run(['/bin/sh', '-c', script, 'sriov-vfs'] + args, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    return proc, (log.read_text().splitlines() if log.exists() else [])


@pytest.mark.parametrize('args, tail', [
    (['vf', PF1, '0', 'mac', '02:00:00:00:81:00'], 'vf 0 mac 02:00:00:00:81:00'),
    (['link', PF1, 'up'], 'up'),
])
def test_boot_helper_follows_a_renamed_pf_interface(tmp_path, args, tail):
    proc, calls = run_helper(tmp_path, args)
    assert proc.returncode == 0, proc.stderr
    assert calls == ['link set dev eth1 %s' % tail, 'link set dev enp129s0 %s' % tail]


def test_boot_helper_fails_at_once_when_ip_refuses(tmp_path):
    run_helper(tmp_path, ['link', PF1, 'up'])       # leaves the interface renamed
    proc, calls = run_helper(tmp_path, ['vf', PF1, '0', 'trust', 'on'], fail=True)
    assert proc.returncode == 1
    assert 'Operation not supported' in proc.stderr and 'failed' in proc.stderr
    assert calls[-1] == 'link set dev enp129s0 vf 0 trust on' and len(calls) == 3


def test_boot_helper_link_only_sets_up(tmp_path):
    proc, calls = run_helper(tmp_path, ['link', PF1, 'down'])
    assert proc.returncode == 2 and calls == []


def test_boot_helper_waits_for_udev_before_touching_the_pf(tmp_path):
    """udev cannot rename an interface that is up: the helper waits for udev's database entry of the PF's interface."""
    import threading
    import time
    udev_db = tmp_path / 'udev-data'
    udev_db.mkdir()

    def udev():
        time.sleep(1.0)
        net = tmp_path / 'devices' / PF1 / 'net'
        (net / 'eth1').rename(net / 'enp129s0')
        (udev_db / 'n7').write_text('')

    worker = threading.Thread(target=udev)
    worker.start()
    started = time.monotonic()
    proc, calls = run_helper(tmp_path, ['link', PF1, 'up'], udev_db=udev_db)
    worker.join()
    assert proc.returncode == 0, proc.stderr
    assert calls == ['link set dev enp129s0 up']
    assert time.monotonic() - started >= 0.9
