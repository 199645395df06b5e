# -*- coding: utf-8 -*-
import errno
import json

import pytest

from ansible_collections.nfv.dpdk.plugins.modules import sriov_vfs
from ansible_collections.nfv.dpdk.plugins.module_utils.pci import PciDevice
from ansible_collections.nfv.dpdk.tests.unit.fakekernel_pci import PF0, PF1, fake_kernel  # noqa: F401

UNIT0 = '/etc/systemd/system/nfv-dpdk-sriov-0000-41-00.0.service'
HELPER = '/usr/local/libexec/nfv-dpdk/sriov-vfs'
NUMVFS0 = '/sys/bus/pci/devices/%s/sriov_numvfs' % PF0


def numvfs_writes(kernel, path=NUMVFS0):
    return [value for written, value in kernel.writes if written == path]


def test_creates_vfs_with_attributes_and_unit(fake_kernel, run_module, fake_host):
    result = run_module(sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 3, 'vfs': [
        {'index': 0, 'mac': '02:00:00:00:41:00', 'vlan': 100, 'spoofchk': False}]}]}, diff=True)
    assert not result.failed, result
    assert result.changed
    pf = result['pfs'][0]
    assert pf['numvfs_writes'] == [3] and pf['interface'] == 'ens1f0'
    assert [vf['address'] for vf in pf['vfs']] == ['0000:41:10.0', '0000:41:10.2', '0000:41:10.4']
    vf0 = pf['vfs'][0]
    assert vf0['mac'] == '02:00:00:00:41:00' and vf0['vlan'] == 100 and vf0['spoofchk'] is False
    assert vf0['numa_node'] == 0 and vf0['iommu_group'] == 100 and vf0['driver'] == 'igbvf'
    unit = fake_host.read(UNIT0)
    assert 'ExecStart=%s numvfs %s 3\n' % (HELPER, PF0) in unit
    assert 'ExecStart=%s vf %s 0 mac 02:00:00:00:41:00\n' % (HELPER, PF0) in unit
    assert 'Before=network-pre.target kubelet.service' in unit
    assert fake_host.exists('/etc/systemd/system/multi-user.target.wants/nfv-dpdk-sriov-0000-41-00.0.service')
    assert fake_host.read(HELPER).startswith('#!/bin/sh')
    again = run_module(sriov_vfs, {'pfs': [{'device': 'ens1f0', 'num_vfs': 3, 'vfs': [
        {'index': 0, 'mac': '02:00:00:00:41:00', 'vlan': 100, 'spoofchk': False}]}]})
    assert not again.failed and not again.changed, again
