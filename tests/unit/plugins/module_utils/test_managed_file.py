from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.nfv.dpdk.plugins.module_utils.managed_file import ManagedFile, systemd_daemon_reload

UNIT = '/etc/systemd/system/nfv-dpdk-test.service'


def _module(check_mode=False, diff=True):
    with patch_module_args({'_ansible_check_mode': check_mode, '_ansible_diff': diff}):
        return AnsibleModule(argument_spec={}, supports_check_mode=True)


def test_creates_with_diff_then_is_idempotent(fake_host):
    result = ManagedFile(_module(), UNIT, '[Unit]\n').apply()
    assert result['changed'] and result['diff']['before'] == '' and result['diff']['after'] == '[Unit]\n'
    assert fake_host.read(UNIT) == '[Unit]\n'
    assert ManagedFile(_module(), UNIT, '[Unit]\n').apply()['changed'] is False


def test_check_mode_changes_nothing(fake_host):
    before = fake_host.snapshot()
    result = ManagedFile(_module(check_mode=True), UNIT, 'x\n').apply()
    assert result['changed'] and fake_host.snapshot() == before


def test_backup_and_restore(fake_host):
    fake_host.file(UNIT, 'old\n')
    managed = ManagedFile(_module(), UNIT, 'new\n')
    result = managed.apply()
    assert result['backup_file'].startswith(UNIT + '.')
    assert fake_host.read(result['backup_file']) == 'old\n'
    assert fake_host.read(UNIT) == 'new\n'
    managed.restore()
    assert fake_host.read(UNIT) == 'old\n'


def test_absent_removes_and_restore_recreates(fake_host):
    fake_host.file(UNIT, 'old\n')
    managed = ManagedFile(_module(), UNIT, None)
    assert managed.apply()['changed'] and not fake_host.exists(UNIT)
    managed.restore()
    assert fake_host.read(UNIT) == 'old\n'
    assert ManagedFile(_module(), '/etc/none', None).apply()['changed'] is False


def test_daemon_reload_only_where_systemd_runs(fake_host, commands):
    assert systemd_daemon_reload(_module()) is False
    commands.provide('systemctl')
    assert systemd_daemon_reload(_module()) is False
    fake_host.mkdir('/run/systemd/system')
    commands.on(['/usr/bin/systemctl', 'daemon-reload'])
    assert systemd_daemon_reload(_module()) is True
    assert systemd_daemon_reload(_module(check_mode=True)) is False
    assert commands.ran(['/usr/bin/systemctl', 'daemon-reload']) == [['/usr/bin/systemctl', 'daemon-reload']]


def test_mode_applies_to_new_and_replaced_files(fake_host):
    import os
    script = '/usr/local/libexec/nfv-dpdk/helper'
    ManagedFile(_module(), script, '#!/bin/sh\n', mode=0o755).apply()
    assert os.stat(fake_host.path(script)).st_mode & 0o777 == 0o755
    ManagedFile(_module(), script, '#!/bin/sh\nexit 0\n', mode=0o700).apply()
    assert os.stat(fake_host.path(script)).st_mode & 0o777 == 0o700
