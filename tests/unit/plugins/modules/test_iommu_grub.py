# -*- coding: utf-8 -*-
import pytest

from ansible.module_utils import basic

from ansible_collections.nfv.dpdk.plugins.modules import iommu_grub
from ansible_collections.nfv.dpdk.tests.unit.plugins.module_utils.bootloader_hosts import (
    BOOT, GRUB, SUSE_OS_RELEASE, debian_host, rhel_entries, rhel_host)

UPDATE = ['/usr/bin/update-grub']
GRUB_PATH = '/etc/default/grub'


def cmdline_var(fake_host):
    return [line for line in fake_host.read(GRUB_PATH).splitlines() if line.startswith('GRUB_CMDLINE_LINUX=')][0]


def test_intel_passthrough_on_debian(fake_host, commands, run_module):
    debian_host(fake_host, commands)
    result = run_module(iommu_grub, {})
    assert not result.failed, result.get('msg')
    assert result.changed and result['reboot_required'] and result['platform'] == 'debian'
    assert result['args'] == ['intel_iommu=on', 'iommu=pt'] and result['vendor'] == 'intel'
    assert result['owned_keys'] == ['intel_iommu', 'amd_iommu', 'iommu']
    assert cmdline_var(fake_host) == 'GRUB_CMDLINE_LINUX="console=ttyS0,115200n8 dyndbg=\\"file x.c +p\\" intel_iommu=on iommu=pt"'
    assert result['cmdline'] == 'console=ttyS0,115200n8 dyndbg="file x.c +p" intel_iommu=on iommu=pt quiet'
    assert result['running_cmdline'] == BOOT + ' quiet'
    assert result['iommu_active'] is False
    assert fake_host.read(result['backup_file']) == GRUB and result['backup_files'] == [result['backup_file']]
    assert commands.calls == [UPDATE]
    assert 'diff' not in result


def test_idempotent_and_reboot_required_after_reboot(fake_host, commands, run_module):
    debian_host(fake_host, commands)
    assert run_module(iommu_grub, {}).changed
    snapshot = fake_host.snapshot()
    second = run_module(iommu_grub, {}, diff=True)
    assert not second.changed and second['backup_file'] is None and 'diff' not in second
    assert fake_host.snapshot() == snapshot and commands.calls == [UPDATE]
    # After the reboot the running kernel has them: no reboot required, IOMMU up.
    fake_host.cmdline(BOOT + ' console=ttyS0,115200n8 intel_iommu=on iommu=pt quiet')
    fake_host.mkdir('/sys/class/iommu/dmar0')
    third = run_module(iommu_grub, {})
    assert not third.changed and third['reboot_required'] is False and third['iommu_active'] is True


def test_check_mode_reports_and_touches_nothing(fake_host, commands, run_module):
    debian_host(fake_host, commands)
    before = fake_host.snapshot()
    result = run_module(iommu_grub, {}, check_mode=True, diff=True)
    assert result.changed and result['reboot_required']
    assert result['cmdline'].endswith('intel_iommu=on iommu=pt quiet')
    assert result['diff']['before'] == GRUB and 'intel_iommu=on iommu=pt"' in result['diff']['after']
    assert fake_host.snapshot() == before and commands.calls == []


def test_diff_of_the_grub_file(fake_host, commands, run_module):
    debian_host(fake_host, commands)
    result = run_module(iommu_grub, {}, diff=True)
    diff = result['diff']
    assert diff['before_header'] == diff['after_header'] == GRUB_PATH
    assert diff['before'] == GRUB and diff['after'] == fake_host.read(GRUB_PATH)


def test_amd_removes_intel_and_stale_amd_tokens(fake_host, commands, run_module):
    debian_host(fake_host, commands, grub='GRUB_CMDLINE_LINUX="intel_iommu=on amd_iommu=on quiet"\n')
    fake_host.cpuinfo(cpus=2, vendor='AuthenticAMD')
    result = run_module(iommu_grub, {})
    assert result['vendor'] == 'amd' and result['args'] == ['iommu=pt']
    assert fake_host.read(GRUB_PATH) == 'GRUB_CMDLINE_LINUX="iommu=pt quiet"\n'


def test_stale_amd_iommu_on_intel_box_is_removed(fake_host, commands, run_module):
    debian_host(fake_host, commands, grub='GRUB_CMDLINE_LINUX="quiet amd_iommu=on"\n')
    run_module(iommu_grub, {'vendor': 'intel'})
    assert fake_host.read(GRUB_PATH) == 'GRUB_CMDLINE_LINUX="quiet intel_iommu=on iommu=pt"\n'


def test_sm_on_replaced_not_duplicated_and_not_equal(fake_host, commands, run_module):
    debian_host(fake_host, commands, grub='GRUB_CMDLINE_LINUX="intel_iommu=on,sm_on iommu=pt"\n',
                cmdline=BOOT + ' intel_iommu=on,sm_on iommu=pt')
    result = run_module(iommu_grub, {})
    assert result.changed and result['reboot_required']
    assert fake_host.read(GRUB_PATH) == 'GRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"\n'


def test_hugepage_pairs_and_foreign_tokens_left_alone(fake_host, commands, run_module):
    grub = ('# keep me\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="hugepagesz=1G hugepages=4 hugepagesz=2M hugepages=512 '
            'x=\\"a b\\" iommu=soft"  # note\nGRUB_DISABLE_OS_PROBER=true\n')
    debian_host(fake_host, commands, grub=grub)
    run_module(iommu_grub, {})
    assert fake_host.read(GRUB_PATH) == grub.replace('iommu=soft', 'intel_iommu=on iommu=pt')


def test_passthrough_false_and_extra_args(fake_host, commands, run_module):
    debian_host(fake_host, commands, grub='GRUB_CMDLINE_LINUX="iommu=pt quiet"\n')
    extra = ['vfio_iommu_type1.allow_unsafe_interrupts=1', 'vfio-pci.ids=8086:154c,8086:10ed']
    result = run_module(iommu_grub, {'passthrough': False, 'extra_args': extra})
    assert result['args'] == ['intel_iommu=on'] + extra
    assert result['owned_keys'] == ['intel_iommu', 'amd_iommu', 'iommu', 'vfio_iommu_type1.allow_unsafe_interrupts', 'vfio-pci.ids']
    assert fake_host.read(GRUB_PATH) == 'GRUB_CMDLINE_LINUX="intel_iommu=on %s quiet"\n' % ' '.join(extra)
    assert not run_module(iommu_grub, {'passthrough': False, 'extra_args': extra}).changed
    # Another value of an extra key replaces it (the key is owned).
    run_module(iommu_grub, {'passthrough': False, 'extra_args': ['vfio_iommu_type1.allow_unsafe_interrupts=0']})
    assert 'allow_unsafe_interrupts=0' in fake_host.read(GRUB_PATH) and 'allow_unsafe_interrupts=1' not in fake_host.read(GRUB_PATH)


def test_absent_removes_iommu_and_listed_extra_args(fake_host, commands, run_module):
    grub = 'GRUB_CMDLINE_LINUX="quiet intel_iommu=on iommu=pt vfio_iommu_type1.allow_unsafe_interrupts=1 other=1"\n'
    debian_host(fake_host, commands, grub=grub)
    fake_host.cpuinfo(cpus=1, vendor='SomethingElse')  # not read with state=absent
    result = run_module(iommu_grub, {'state': 'absent', 'extra_args': ['vfio_iommu_type1.allow_unsafe_interrupts']})
    assert result.changed and result['args'] == [] and result['vendor'] is None
    assert fake_host.read(GRUB_PATH) == 'GRUB_CMDLINE_LINUX="quiet other=1"\n'
    assert not run_module(iommu_grub, {'state': 'absent'}).changed


def test_update_grub_failure_restores_and_fails_with_stderr(fake_host, commands, run_module):
    debian_host(fake_host, commands, update_grub_rc=1, update_grub_err='grub-probe: error: failed to get canonical path\n')
    result = run_module(iommu_grub, {})
    assert result.failed and 'failed to get canonical path' in result['msg'] and result['rc'] == 1
    assert result['stderr'].startswith('grub-probe') and fake_host.read(GRUB_PATH) == GRUB


def test_rhel_grubby_path(fake_host, commands, run_module):
    grubby = rhel_host(fake_host, commands, entries=rhel_entries('ro amd_iommu=on quiet'))
    result = run_module(iommu_grub, {}, diff=True)
    assert result.changed and result['platform'] == 'rhel'
    assert commands.ran(['/usr/bin/grubby', '--update-kernel=ALL', '**']) == [[
        '/usr/bin/grubby', '--update-kernel=ALL', '--args=intel_iommu=on iommu=pt', '--remove-args=amd_iommu=on']]
    assert grubby.args(0) == 'ro quiet $tuned_params intel_iommu=on iommu=pt' and grubby.args(1) == 'ro quiet intel_iommu=on iommu=pt'
    assert result['cmdline'] == 'ro quiet intel_iommu=on iommu=pt'
    assert 'intel_iommu=on iommu=pt"' in cmdline_var(fake_host)
    assert [d['before_header'] for d in result['diff']] == ['grubby boot entries (default)', GRUB_PATH]
    updates = len(commands.ran(['/usr/bin/grubby', '--update-kernel=ALL', '**']))
    assert not run_module(iommu_grub, {}).changed
    assert len(commands.ran(['/usr/bin/grubby', '--update-kernel=ALL', '**'])) == updates


def test_rhel_check_mode_runs_only_info(fake_host, commands, run_module):
    grubby = rhel_host(fake_host, commands)
    before = fake_host.snapshot()
    result = run_module(iommu_grub, {}, check_mode=True)
    assert result.changed and fake_host.snapshot() == before and 'iommu' not in grubby.args(0)
    assert not commands.ran(['/usr/bin/grubby', '--update-kernel=ALL', '**'])


@pytest.mark.parametrize('args, words', [
    ({'state': 'enabled'}, 'state'),
    ({'vendor': 'arm'}, 'vendor'),
    ({'passthrough': 'maybe'}, 'passthrough'),
    ({'extra_args': 'vfio.x=1'}, None),  # a string is a one-element list: accepted (see below)
    ({'extra_args': ['']}, 'empty parameter'),
    ({'extra_args': ['   ']}, 'empty parameter'),
    ({'extra_args': ['a b']}, 'is not a kernel parameter'),
    ({'extra_args': ['foo="a b"']}, 'is not a kernel parameter'),
    ({'extra_args': ["foo='x'"]}, 'is not a kernel parameter'),
    ({'extra_args': ['foo=']}, 'is not a kernel parameter'),
    ({'extra_args': ['=1']}, 'is not a kernel parameter'),
    ({'extra_args': ['--']}, 'is not a kernel parameter'),
    ({'extra_args': ['-foo']}, 'is not a kernel parameter'),
    ({'extra_args': ['foo\tbar']}, 'is not a kernel parameter'),
    ({'extra_args': ['isolcpus=2-3']}, 'owned by nfv.dpdk.cpu_isolation'),
    ({'extra_args': ['nohz-full=2-3']}, 'owned by nfv.dpdk.cpu_isolation'),
    ({'extra_args': ['hugepagesz=1G']}, 'owned by nfv.dpdk.hugepages'),
    ({'extra_args': ['default_hugepagesz=1G']}, 'owned by nfv.dpdk.hugepages'),
    ({'extra_args': ['intel_iommu=on,sm_on']}, 'set by this module from vendor and passthrough'),
    ({'extra_args': ['iommu=nopt']}, 'set by this module from vendor and passthrough'),
    ({'extra_args': ['a=1', 'a=1']}, 'listed twice'),
    ({'bogus': 1}, 'Unsupported parameters'),
])
def test_bad_input_is_rejected_and_nothing_changes(fake_host, commands, run_module, args, words):
    debian_host(fake_host, commands)
    before = fake_host.snapshot()
    result = run_module(iommu_grub, args)
    if words is None:
        assert not result.failed and result['args'][-1] == 'vfio.x=1'
        return
    assert result.failed and words in result['msg'], result.get('msg')
    assert fake_host.snapshot() == before and commands.calls == []


@pytest.mark.parametrize('vendor_id', ['CentaurHauls', 'SomethingElse', None])
def test_unknown_cpu_vendor_with_auto(fake_host, commands, run_module, vendor_id):
    debian_host(fake_host, commands)
    if vendor_id is None:
        fake_host.file('/proc/cpuinfo', 'processor\t: 0\n')
    else:
        fake_host.cpuinfo(vendor=vendor_id)
    before = fake_host.snapshot()
    result = run_module(iommu_grub, {})
    assert result.failed and 'vendor=auto cannot tell' in result['msg'] and 'set vendor to intel or amd' in result['msg']
    assert fake_host.snapshot() == before and commands.calls == []
    # An explicit vendor works on such a host.
    assert run_module(iommu_grub, {'vendor': 'amd'}).changed


@pytest.mark.parametrize('table, cpu, vendor, args', [
    ('DMAR', 'AuthenticAMD', 'intel', ['intel_iommu=on', 'iommu=pt']),  # QEMU intel-iommu on an AMD host
    ('IVRS', 'GenuineIntel', 'amd', ['iommu=pt']),
    (None, 'HygonGenuine', 'amd', ['iommu=pt']),
])
def test_auto_vendor_prefers_the_acpi_iommu_table(fake_host, commands, run_module, table, cpu, vendor, args):
    debian_host(fake_host, commands)
    fake_host.cpuinfo(cpus=2, vendor=cpu)
    if table:
        fake_host.file('/sys/firmware/acpi/tables/' + table, '')
    result = run_module(iommu_grub, {})
    assert result['vendor'] == vendor and result['args'] == args


def test_explicit_vendor_against_the_acpi_table_warns(fake_host, commands, run_module, monkeypatch):
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, warning: warnings.append(warning))
    debian_host(fake_host, commands)
    fake_host.file('/sys/firmware/acpi/tables/DMAR', '')
    result = run_module(iommu_grub, {'vendor': 'amd'})
    assert result['args'] == ['iommu=pt'] and warnings == ['vendor=amd but the firmware describes an intel IOMMU (ACPI DMAR table)']


def test_explicit_vendor_mismatch_warns(fake_host, commands, run_module, monkeypatch):
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, warning: warnings.append(warning))
    debian_host(fake_host, commands)
    result = run_module(iommu_grub, {'vendor': 'amd'})
    assert result['args'] == ['iommu=pt'] and warnings == ['vendor=amd but /proc/cpuinfo says vendor_id GenuineIntel']


@pytest.mark.parametrize('grub', [
    'GRUB_CMDLINE_LINUX="quiet\n',
    "GRUB_CMDLINE_LINUX='quiet\n",
    'GRUB_CMDLINE_LINUX="$HOME quiet"\n',
    'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX intel_iommu=off"\n',
    'if true; then GRUB_CMDLINE_LINUX="x"; fi\n',
])
def test_malformed_grub_refused(fake_host, commands, run_module, grub):
    debian_host(fake_host, commands, grub=grub)
    before = fake_host.snapshot()
    result = run_module(iommu_grub, {})
    assert result.failed and GRUB_PATH in result['msg']
    assert fake_host.snapshot() == before and commands.calls == []


def test_unsupported_platform_refused(fake_host, commands, run_module):
    debian_host(fake_host, commands, os_release=SUSE_OS_RELEASE)
    before = fake_host.snapshot()
    result = run_module(iommu_grub, {})
    assert result.failed and 'unsupported platform' in result['msg'] and 'Debian/Ubuntu' in result['msg']
    assert fake_host.snapshot() == before and commands.calls == []


def test_debian_without_grub_refused(fake_host, commands, run_module):
    debian_host(fake_host, commands, grub=None)
    before = fake_host.snapshot()
    result = run_module(iommu_grub, {})
    assert result.failed and 'GRUB is not installed' in result['msg'] and fake_host.snapshot() == before
