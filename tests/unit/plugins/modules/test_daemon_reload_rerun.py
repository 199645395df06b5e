# -*- coding: utf-8 -*-
"""A run killed during ``systemctl daemon-reload`` leaves the unit files written and systemd on the
old definitions; the re-run must reload although no file needs a change (issue 17)."""

import pytest

from ansible_collections.nfv.dpdk.plugins.modules import driver_bind, sriov_vfs
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.tests.unit.fakekernel_pci import PF0, fake_kernel  # noqa: F401 # pylint: disable=unused-import

SRIOV_UNIT = 'nfv-dpdk-sriov-0000-41-00.0.service'
BIND_UNIT = 'nfv-dpdk-bind-0000-41-10.0.service'
RELOAD = ['/usr/bin/systemctl', 'daemon-reload']


class Killed(BaseException):
    """The controller's connection dropped, or the process was killed, in the middle of the reload."""


def _kill():
    raise Killed()


def _reloads(commands):
    return commands.ran(RELOAD)


@pytest.fixture
def systemd(fake_kernel, fake_host):
    fake_host.mkdir('/run/systemd/system')
    return fake_kernel


@pytest.mark.parametrize('module, args, unit, prepare', [
    (sriov_vfs, {'pfs': [{'device': PF0, 'num_vfs': 2}]}, SRIOV_UNIT, None),
    (driver_bind, {'devices': ['0000:41:10.0']}, BIND_UNIT,
     lambda: HostFS().write('/sys/bus/pci/devices/%s/sriov_numvfs' % PF0, '2')),
])
def test_rerun_after_a_killed_reload_reloads(systemd, run_module, fake_host, commands, module, args, unit, prepare):
    if prepare:
        prepare()
    systemd.systemctl(['show', '--property=NeedDaemonReload', '--property=LoadState', unit])  # systemd's view now
    systemd.daemon_reload_effect = _kill
    with pytest.raises(Killed):
        run_module(module, args)
    # The file is on disk, systemd never loaded it.
    assert fake_host.exists('/etc/systemd/system/' + unit)
    assert unit not in systemd.systemd_loaded
    systemd.daemon_reload_effect = None
    del commands.calls[:]

    check = run_module(module, args, check_mode=True)
    assert not check.failed, check
    assert check.changed and _reloads(commands) == []

    result = run_module(module, args)
    assert not result.failed, result
    assert result.changed and _reloads(commands) == [RELOAD]
    assert systemd.systemd_loaded[unit] == fake_host.read('/etc/systemd/system/' + unit)

    del commands.calls[:]
    again = run_module(module, args)
    assert not again.failed and not again.changed, again
    assert _reloads(commands) == []


def test_unit_changed_behind_systemds_back_is_reloaded(systemd, run_module, fake_host, commands):
    args = {'pfs': [{'device': PF0, 'num_vfs': 2}]}
    assert run_module(sriov_vfs, args).changed
    path = '/etc/systemd/system/' + SRIOV_UNIT
    written = fake_host.read(path)
    # Loaded, then edited and put back by hand without a reload: same text, systemd holds the edit.
    fake_host.file(path, written + '# edited\n')
    systemd.systemctl(['daemon-reload'])
    fake_host.file(path, written)
    del commands.calls[:]
    result = run_module(sriov_vfs, args)
    assert result.changed and _reloads(commands) == [RELOAD]
    assert systemd.systemd_loaded[SRIOV_UNIT] == written


def test_unreadable_systemd_answer_counts_as_stale(fake_host, commands):
    from ansible.module_utils.basic import AnsibleModule
    from ansible_collections.nfv.dpdk.tests.unit.modulerunner import patch_module_args
    from ansible_collections.nfv.dpdk.plugins.module_utils.managed_file import systemd_stale_units

    fake_host.mkdir('/run/systemd/system')
    commands.provide('systemctl')
    commands.on(['/usr/bin/systemctl', 'show', '--property=NeedDaemonReload', '--property=LoadState', 'a.service'],
                rc=1, err='Failed to connect to bus')
    commands.on(['/usr/bin/systemctl', 'show', '--property=NeedDaemonReload', '--property=LoadState', 'b.service'],
                out='LoadState=loaded\nNeedDaemonReload=no\n')
    with patch_module_args({}):
        module = AnsibleModule(argument_spec={})
    assert systemd_stale_units(module, ['a.service', 'b.service']) == ['a.service']
