# -*- coding: utf-8 -*-
"""driver_bind's ``vfs_of: ["PF#first-last"]``: a split PF binds only the range of its DPDK pool (issue 15).

The range is the SR-IOV network device plugin's syntax for pfNames/rootDevices, so the binding and the
device plugin's selector of one pool are written the same way (roles/sriov_device_plugin).
"""
import pytest

from ansible_collections.nfv.dpdk.plugins.modules import driver_bind
from ansible_collections.nfv.dpdk.plugins.module_utils.driver_binding import split_vfs_of
from ansible_collections.nfv.dpdk.tests.unit.fakekernel_pci import PF0, fake_kernel  # noqa: F401 # pylint: disable=unused-import
from ansible_collections.nfv.dpdk.tests.unit.plugins.modules.test_driver_bind import create, refused, sriov_plan, state

VF0, VF1, VF2 = '0000:41:10.0', '0000:41:10.2', '0000:41:10.4'
PROBE = '/sys/bus/pci/drivers_probe'


@pytest.mark.parametrize('entry, expected', [
    ('ens1f0', ('ens1f0', None, None)),
    ('0000:41:00.0#0-1', ('0000:41:00.0', {0, 1}, None)),
    ('ens1f0#2', ('ens1f0', {2}, None)),
    ('ens1f0#0,2-3', ('ens1f0', {0, 2, 3}, None)),
])
def test_split_vfs_of(entry, expected):
    assert split_vfs_of(entry) == expected


def test_binds_only_the_range_and_leaves_the_other_vfs_on_the_kernel_driver(fake_kernel, run_module, fake_host):
    create(fake_kernel, 3)
    result = run_module(driver_bind, {'vfs_of': ['ens1f0#0-1']})
    assert not result.failed and result.changed, result
    assert [d['address'] for d in result['devices']] == [VF0, VF1]
    assert fake_kernel.writes == [
        ('/sys/bus/pci/devices/%s/driver_override' % VF0, 'vfio-pci'), ('/sys/bus/pci/drivers/igbvf/unbind', VF0),
        (PROBE, VF0),
        ('/sys/bus/pci/devices/%s/driver_override' % VF1, 'vfio-pci'), ('/sys/bus/pci/drivers/igbvf/unbind', VF1),
        (PROBE, VF1)]
    assert state(VF2) == ('igbvf', None)
    assert not fake_host.exists('/etc/systemd/system/nfv-dpdk-bind-0000-41-10.4.service')
    again = run_module(driver_bind, {'vfs_of': ['%s#0-1' % PF0]})
    assert not again.failed and not again.changed, again


def test_check_mode_with_a_range_reports_only_the_range(fake_kernel, run_module, fake_host):
    create(fake_kernel, 3)
    before = fake_host.snapshot()
    result = run_module(driver_bind, {'vfs_of': ['ens1f0#2']}, check_mode=True, diff=True)
    assert not result.failed and result.changed, result
    assert [(d['address'], d['changed']) for d in result['devices']] == [(VF2, True)]
    assert fake_host.snapshot() == before and fake_kernel.writes == []


def test_the_range_selects_from_the_sriov_plan_in_check_mode(fake_kernel, run_module, fake_host):
    plan = sriov_plan(run_module, [{'device': PF0, 'num_vfs': 3}])
    result = run_module(driver_bind, {'vfs_of': ['ens1f0#1-2'], 'sriov_plan': plan}, check_mode=True)
    assert not result.failed, result
    assert [(d['address'], d['planned']) for d in result['devices']] == [(VF1, True), (VF2, True)]


def test_the_range_outside_check_mode_checks_only_the_planned_vfs_of_the_range(fake_kernel, run_module, fake_host):
    plan = sriov_plan(run_module, [{'device': PF0, 'num_vfs': 3}])
    create(fake_kernel, 2)     # VF 2 was not created: outside the range it does not matter
    result = run_module(driver_bind, {'vfs_of': ['ens1f0#0-1'], 'sriov_plan': plan, 'persist': False})
    assert not result.failed and result.changed, result
    assert [d['address'] for d in result['devices']] == [VF0, VF1]


@pytest.mark.parametrize('entry, message', [
    ('ens1f0#0-3', 'vfs_of[0]: ens1f0#0-3 names VFs 3 but 0000:41:00.0 has VFs 0-2'),
    ('ens1f0#2-1', "vfs_of[0]: VF range of 'ens1f0#2-1': '2-1': the range 2-1 ends before it starts"),
    ('ens1f0#x', "vfs_of[0]: VF range of 'ens1f0#x': 'x' is not a VF range"),
    ('ens1f0#', "vfs_of[0]: VF range of 'ens1f0#': '' is not a VF range"),
    ('#0-1', "vfs_of[0]: '#0-1' has no PF before '#'"),
    ('ens9f9#0-1', 'vfs_of[0]: '),
])
def test_bad_ranges_are_refused_and_change_nothing(fake_kernel, run_module, fake_host, entry, message):
    create(fake_kernel, 3)
    refused(run_module, fake_host, {'vfs_of': [entry]}, message)


def test_a_range_past_the_plan_is_refused_in_check_mode(fake_kernel, run_module, fake_host):
    plan = sriov_plan(run_module, [{'device': PF0, 'num_vfs': 2}])
    before = fake_host.snapshot()
    result = run_module(driver_bind, {'vfs_of': ['ens1f0#0-3'], 'sriov_plan': plan}, check_mode=True)
    assert result.failed and 'vfs_of[0]: ens1f0#0-3 names VFs 2-3 but 0000:41:00.0 has VFs 0-1' in result['msg'], result
    assert fake_host.snapshot() == before
