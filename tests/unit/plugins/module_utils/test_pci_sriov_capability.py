# -*- coding: utf-8 -*-
"""The SR-IOV extended capability in PCI config space, and the VF addresses planned from it."""
import os

import pytest

from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.pci import (
    PciDevice, SriovCapabilityError, parse_sriov_capability, vf_routing_address)
from ansible_collections.nfv.dpdk.tests.unit.fakehost import SRIOV_CAP_POSITION, pci_config_space


def test_capability_found_behind_another_one():
    data = pci_config_space('8086', '10c9', total_vfs=7, num_vfs=2, vf_offset=0x80, vf_stride=2, vf_device='10ca')
    capability = parse_sriov_capability(data)
    assert capability == {'position': SRIOV_CAP_POSITION, 'total_vfs': 7, 'num_vfs': 2, 'vf_offset': 0x80,
                          'vf_stride': 2, 'vf_device_id': '10ca'}


def test_real_82576_config_bytes():
    # Bytes written out by hand as a device chains them: AER at 0x100, ARI at 0x140, then SR-IOV at 0x160 with
    # the 82576's values (TotalVFs 8, First VF Offset 0x80, VF Stride 2, VF Device ID 10ca, page sizes 0x553).
    data = bytearray(4096)
    data[0x100:0x104] = bytes.fromhex('01000114')    # AER, v1, next 0x140
    data[0x140:0x144] = bytes.fromhex('0e000116')    # ARI, v1, next 0x160
    data[0x160:0x180] = bytes.fromhex(' '.join(['10000100', '00000000', '10000000', '08000800',
                                                '00000000', '80000200', '0000ca10', '53050000']))
    capability = parse_sriov_capability(bytes(data))
    assert (capability['total_vfs'], capability['vf_offset'], capability['vf_stride'],
            capability['vf_device_id']) == (8, 0x80, 2, '10ca')
    assert [vf_routing_address('0000:41:00.0', 0x80, 2, n) for n in range(3)] == [
        '0000:41:10.0', '0000:41:10.2', '0000:41:10.4']


@pytest.mark.parametrize('data, message', [
    (b'\x86\x80\xc9\x10' + bytes(60), 'shows only 64 bytes'),
    (b'', 'shows only 0 bytes'),
    (pci_config_space('8086', '1572'), 'no SR-IOV extended capability'),
    (bytes(256) + b'\x01\x00\x01\x10' + bytes(4096 - 260), 'no SR-IOV extended capability'),   # AER pointing at itself
    (pci_config_space('8086', '10c9', total_vfs=7)[:SRIOV_CAP_POSITION + 8], 'cut off'),
])
def test_unusable_config_space_raises_with_the_reason(data, message):
    with pytest.raises(SriovCapabilityError) as exc:
        parse_sriov_capability(data)
    assert message in str(exc.value)


def test_list_that_points_outside_the_bytes_read():
    data = bytearray(pci_config_space('8086', '10c9', total_vfs=7))
    with pytest.raises(SriovCapabilityError) as exc:
        parse_sriov_capability(bytes(data[:0x120]))
    assert 'points at 0x160' in str(exc.value)


@pytest.mark.parametrize('pf, offset, stride, index, expected', [
    ('0000:41:00.0', 0x80, 2, 0, '0000:41:10.0'),
    ('0000:41:00.0', 0x80, 2, 6, '0000:41:11.4'),
    ('0000:81:00.1', 0x7f, 2, 1, '0000:81:10.2'),      # second port: PF RID + 1
    ('0000:5e:00.0', 0xfe, 1, 2, '0000:5f:00.0'),      # carries into the next bus
    ('0002:af:00.0', 0x10, 1, 0, '0002:af:02.0'),      # domain kept
])
def test_vf_routing_address(pf, offset, stride, index, expected):
    assert vf_routing_address(pf, offset, stride, index) == expected


@pytest.mark.parametrize('pf, offset, stride, index, message', [
    ('0000:41:00.0', 0, 2, 0, 'give no VF routing ID'),
    ('0000:41:00.0', 0x80, 0, 1, 'give no VF routing ID'),
    ('0000:ff:1f.0', 0x80, 2, 4, 'beyond bus ff'),
])
def test_vf_routing_address_refuses_impossible_values(pf, offset, stride, index, message):
    with pytest.raises(SriovCapabilityError) as exc:
        vf_routing_address(pf, offset, stride, index)
    assert message in str(exc.value)


def test_device_plans_vfs_from_its_config_file(fake_host):
    fake_host.pci_device('0000:3b:00.0', vendor='0x8086', device='0x1572', driver='i40e', sriov_totalvfs=64,
                         sriov_vf_offset=0x10, sriov_vf_stride=1)
    device = PciDevice('0000:3b:00.0', HostFS())
    assert device.planned_vfs(3) == [(0, '0000:3b:02.0'), (1, '0000:3b:02.1'), (2, '0000:3b:02.2')]
    assert device.sriov_capability()['vf_device_id'] == '154c'


def test_device_without_config_file(fake_host):
    fake_host.pci_device('0000:3b:00.0', sriov_totalvfs=8)
    os.unlink(fake_host.path('/sys/devices/pci0000:00/0000:3b:00.0/config'))
    with pytest.raises(SriovCapabilityError) as exc:
        PciDevice('0000:3b:00.0', HostFS()).planned_vfs(2)
    assert 'config cannot be read' in str(exc.value)
