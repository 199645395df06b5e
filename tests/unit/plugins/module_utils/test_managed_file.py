from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nfv.dpdk.plugins.module_utils.managed_file import ManagedFile, systemd_daemon_reload
from ansible_collections.nfv.dpdk.tests.unit.modulerunner import patch_module_args

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


# -- backups never overwrite each other (issue 17) ---------------------------------------------

def test_two_backups_of_one_file_in_the_same_second_both_survive(fake_host, monkeypatch):
    import time
    from ansible_collections.nfv.dpdk.plugins.module_utils import managed_file
    # ansible's backup_local would name both <file>.<pid>.<same second>~: the second would overwrite the first.
    monkeypatch.setattr(time, 'time', lambda: 1767225600.25)
    fake_host.file(UNIT, 'first\n')
    first = ManagedFile(_module(), UNIT, 'second\n').apply()
    second = ManagedFile(_module(), UNIT, 'third\n').apply()
    assert first['backup_file'] != second['backup_file']
    assert fake_host.read(first['backup_file']) == 'first\n'
    assert fake_host.read(second['backup_file']) == 'second\n'
    assert first['backup_file'].endswith('.250000~') and second['backup_file'].endswith('.250000~1')
    assert managed_file.backup_name('/x', now=1767225600.25, pid=7).startswith('/x.7.')


def test_backup_keeps_mode_and_a_taken_name_is_never_reused(fake_host):
    import os
    from ansible_collections.nfv.dpdk.plugins.module_utils.managed_file import backup_copy, backup_name
    fake_host.file(UNIT, 'unit\n')
    real = fake_host.path(UNIT)
    os.chmod(real, 0o640)
    taken = backup_name(real, now=100.0)
    with open(taken, 'w') as handle:
        handle.write('somebody else\n')
    made = backup_copy(_module(), real, now=100.0)
    assert made == taken + '1'
    assert open(taken).read() == 'somebody else\n' and open(made).read() == 'unit\n'
    assert os.stat(made).st_mode & 0o777 == 0o640


def test_restore_is_byte_for_byte_and_checked(fake_host):
    import os
    raw = b'# caf\xe9 (latin-1, not UTF-8)\r\nExecStart=/bin/true\n'
    real = fake_host.path(UNIT)
    os.makedirs(os.path.dirname(real))
    with open(real, 'wb') as handle:
        handle.write(raw)
    os.chmod(real, 0o600)
    managed = ManagedFile(_module(), UNIT, '[Unit]\n')
    assert managed.apply()['changed']
    assert managed.restore() is True
    assert open(real, 'rb').read() == raw and os.stat(real).st_mode & 0o777 == 0o600
    # Changed again behind its back after a restore: the check tells.
    with open(real, 'w') as handle:
        handle.write('other\n')
    assert managed.is_as_before() is False
