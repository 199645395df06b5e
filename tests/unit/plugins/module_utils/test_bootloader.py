# -*- coding: utf-8 -*-
import os
import subprocess

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nfv.dpdk.plugins.module_utils import bootloader
from ansible_collections.nfv.dpdk.plugins.module_utils.kernel_cmdline import KernelArg
from ansible_collections.nfv.dpdk.plugins.module_utils.bootloader import (
    BootloaderError, GrubDefaults, ensure_kernel_args, parse_assignments, read_configured_cmdline, running_cmdline)
from ansible_collections.nfv.dpdk.tests.unit.modulerunner import ModuleExit, patch_module_args
from ansible_collections.nfv.dpdk.tests.unit.plugins.module_utils.bootloader_hosts import (
    BOOT, GRUB, RHEL_GRUB, ROCKY_OS_RELEASE, SUSE_OS_RELEASE, UBUNTU_OS_RELEASE, debian_host, rhel_entries, rhel_host)

IOMMU = ['intel_iommu', 'amd_iommu', 'iommu']
ON = ['intel_iommu=on', 'iommu=pt']
HUGE = ['default_hugepagesz', 'hugepagesz', 'hugepages']
UPDATE = ['/usr/bin/update-grub']


@pytest.fixture
def module(run_module):
    """An AnsibleModule factory whose exit_json/fail_json raise ModuleExit (run_module patches them)."""
    def build(check_mode=False, diff=True):
        with patch_module_args({'_ansible_check_mode': check_mode, '_ansible_diff': diff}):
            return AnsibleModule(argument_spec={}, supports_check_mode=True)
    return build


def failure(call):
    with pytest.raises(ModuleExit) as exc:
        call()
    assert exc.value.failed
    return exc.value.result


def grub_line(fake_host, var='GRUB_CMDLINE_LINUX', path='/etc/default/grub'):
    lines = [line for line in fake_host.read(path).splitlines() if line.startswith(var + '=')]
    assert len(lines) == 1
    return lines[0]


# -- Debian ----------------------------------------------------------------------------

def test_debian_adds_args_regenerates_and_is_idempotent(fake_host, commands, module):
    debian_host(fake_host, commands)
    result = ensure_kernel_args(module(), IOMMU, ON)
    assert result['changed'] and result['reboot_required'] and result['platform'] == 'debian'
    assert grub_line(fake_host) == 'GRUB_CMDLINE_LINUX="console=ttyS0,115200n8 dyndbg=\\"file x.c +p\\" intel_iommu=on iommu=pt"'
    assert result['configured_cmdline'] == 'console=ttyS0,115200n8 dyndbg="file x.c +p" intel_iommu=on iommu=pt quiet'
    assert result['running_cmdline'] == BOOT + ' quiet'
    assert commands.calls == [UPDATE]
    assert fake_host.read(result['backup_file']) == GRUB
    # Every other line of the file is untouched, byte for byte.
    before, after = GRUB.splitlines(), fake_host.read('/etc/default/grub').splitlines()
    assert [a for a, b in zip(before, after) if a != b] == [before[7]]
    second = ensure_kernel_args(module(), IOMMU, ON)
    assert not second['changed'] and second['backup_file'] is None and commands.calls == [UPDATE]
    assert second['reboot_required']


def test_debian_diff_shows_the_grub_file(fake_host, commands, module):
    debian_host(fake_host, commands)
    diff = ensure_kernel_args(module(diff=True), IOMMU, ON)['diff']
    assert diff['before_header'] == '/etc/default/grub' and diff['before'] == GRUB
    assert diff['after'] == fake_host.read('/etc/default/grub')
    assert 'diff' not in ensure_kernel_args(module(diff=False), IOMMU, ON)


def test_debian_check_mode_writes_and_runs_nothing(fake_host, commands, module):
    debian_host(fake_host, commands)
    before = fake_host.snapshot()
    result = ensure_kernel_args(module(check_mode=True), IOMMU, ON)
    assert result['changed'] and 'intel_iommu=on iommu=pt' in result['diff']['after']
    assert result['configured_cmdline'].endswith('intel_iommu=on iommu=pt quiet')
    assert fake_host.snapshot() == before and commands.calls == []


def test_reboot_required_compares_running_owned_tokens_in_order(fake_host, commands, module):
    debian_host(fake_host, commands, cmdline=BOOT + ' intel_iommu=on iommu=pt quiet')
    assert ensure_kernel_args(module(), IOMMU, ON)['reboot_required'] is False
    fake_host.cmdline(BOOT + ' iommu=pt intel_iommu=on')
    assert ensure_kernel_args(module(), IOMMU, ON)['reboot_required'] is True
    fake_host.cmdline(BOOT + ' intel_iommu=on,sm_on iommu=pt')
    assert ensure_kernel_args(module(), IOMMU, ON)['reboot_required'] is True
    fake_host.cmdline(BOOT)
    assert ensure_kernel_args(module(), IOMMU, [])['reboot_required'] is False


def test_sm_on_is_replaced_not_duplicated(fake_host, commands, module):
    debian_host(fake_host, commands, grub='GRUB_CMDLINE_LINUX="intel_iommu=on,sm_on quiet iommu=pt"\n')
    result = ensure_kernel_args(module(), IOMMU, ON)
    assert result['changed']
    assert fake_host.read('/etc/default/grub') == 'GRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt quiet"\n'


def test_repeated_hugepage_pairs_of_another_owner_are_left_alone(fake_host, commands, module):
    grub = 'GRUB_CMDLINE_LINUX="hugepagesz=1G hugepages=4 intel_iommu=off hugepagesz=2M hugepages=512"\n'
    debian_host(fake_host, commands, grub=grub)
    ensure_kernel_args(module(), IOMMU, ON)
    assert fake_host.read('/etc/default/grub') == \
        'GRUB_CMDLINE_LINUX="hugepagesz=1G hugepages=4 intel_iommu=on iommu=pt hugepagesz=2M hugepages=512"\n'
    # ...and the hugepages owner sees its pairs in order, and can replace them.
    assert not ensure_kernel_args(module(), HUGE, ['hugepagesz=1G', 'hugepages=4', 'hugepagesz=2M', 'hugepages=512'])['changed']
    ensure_kernel_args(module(), HUGE, ['hugepagesz=1G', 'hugepages=8'])
    assert fake_host.read('/etc/default/grub') == 'GRUB_CMDLINE_LINUX="hugepagesz=1G hugepages=8 intel_iommu=on iommu=pt"\n'


def test_absent_removes_owned_everywhere_and_keeps_the_rest(fake_host, commands, module):
    grub = 'GRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=pt"\nGRUB_CMDLINE_LINUX="amd_iommu=on x intel-iommu=on"\n'
    debian_host(fake_host, commands, grub=grub)
    result = ensure_kernel_args(module(), IOMMU, [])
    assert result['changed'] and result['configured_cmdline'] == 'x quiet'
    assert fake_host.read('/etc/default/grub') == 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="x"\n'
    assert not ensure_kernel_args(module(), IOMMU, [])['changed']


def test_owned_key_in_cmdline_linux_default_is_removed_there(fake_host, commands, module):
    debian_host(fake_host, commands, grub='GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=off"\nGRUB_CMDLINE_LINUX=""\n')
    ensure_kernel_args(module(), IOMMU, ON)
    assert fake_host.read('/etc/default/grub') == \
        'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"\n'


def test_words_that_are_no_parameter_are_kept_as_foreign(fake_host, commands, module):
    grub = 'GRUB_CMDLINE_LINUX="a+b=1 intel_iommu=off @x"\n'
    debian_host(fake_host, commands, grub=grub, cmdline=BOOT + ' a+b=1 intel_iommu=on iommu=pt')
    result = ensure_kernel_args(module(), IOMMU, ON)
    assert fake_host.read('/etc/default/grub') == 'GRUB_CMDLINE_LINUX="a+b=1 intel_iommu=on iommu=pt @x"\n'
    assert result['reboot_required'] is False
    assert not ensure_kernel_args(module(), IOMMU, ON)['changed']


def test_missing_line_is_added(fake_host, commands, module):
    debian_host(fake_host, commands, grub='GRUB_DEFAULT=0\n# GRUB_CMDLINE_LINUX="old"\nGRUB_TIMEOUT=5')
    result = ensure_kernel_args(module(), IOMMU, ON)
    assert fake_host.read('/etc/default/grub') == \
        'GRUB_DEFAULT=0\n# GRUB_CMDLINE_LINUX="old"\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"\n'
    assert result['configured_cmdline'] == 'intel_iommu=on iommu=pt'
    assert not ensure_kernel_args(module(), IOMMU, ON)['changed']
    # Nothing to add and no line: nothing written.
    fake_host.file('/etc/default/grub', 'GRUB_DEFAULT=0\n')
    assert not ensure_kernel_args(module(), IOMMU, [])['changed']


@pytest.mark.parametrize('value, expected', [
    ("'quiet splash'", "'quiet splash intel_iommu=on iommu=pt'"),
    ('quiet', '"quiet intel_iommu=on iommu=pt"'),
    ('', '"intel_iommu=on iommu=pt"'),
    ('"a=\\"x y\\"" # trailing comment', '"a=\\"x y\\" intel_iommu=on iommu=pt" # trailing comment'),
    ('"quiet \\\n  nosplash"', '"quiet nosplash intel_iommu=on iommu=pt"'),
])
def test_quote_styles(fake_host, commands, module, value, expected):
    debian_host(fake_host, commands, grub='A=1\nexport GRUB_CMDLINE_LINUX=%s\nB=2\n' % value)
    ensure_kernel_args(module(), IOMMU, ON)
    assert fake_host.read('/etc/default/grub') == 'A=1\nexport GRUB_CMDLINE_LINUX=%s\nB=2\n' % expected
    assert not ensure_kernel_args(module(), IOMMU, ON)['changed']


TUNED = '''GRUB_CMDLINE_LINUX="crashkernel=1G-4G:192M rhgb quiet"
GRUB_CMDLINE_LINUX_DEFAULT="${GRUB_CMDLINE_LINUX_DEFAULT:+$GRUB_CMDLINE_LINUX_DEFAULT }\\$tuned_params"
GRUB_INITRD_OVERLAY="${GRUB_INITRD_OVERLAY:+$GRUB_INITRD_OVERLAY }\\$tuned_initrd"
'''


def test_tuned_self_reference_is_understood_and_kept(fake_host, commands, module):
    debian_host(fake_host, commands, grub=TUNED)
    result = ensure_kernel_args(module(), IOMMU, ON)
    assert fake_host.read('/etc/default/grub') == TUNED.replace('rhgb quiet"', 'rhgb quiet intel_iommu=on iommu=pt"')
    assert result['configured_cmdline'] == 'crashkernel=1G-4G:192M rhgb quiet intel_iommu=on iommu=pt'
    assert not ensure_kernel_args(module(), IOMMU, ON)['changed']


def test_self_appending_override_edits_the_base(fake_host, commands, module):
    debian_host(fake_host, commands, grub='GRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=soft"\nGRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT splash"\n')
    fake_host.file('/etc/default/grub.d/60-x.cfg', 'GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} console=ttyS0"\n')
    result = ensure_kernel_args(module(), IOMMU, ON)
    # No plain GRUB_CMDLINE_LINUX: one is put right before the line that appends to it.
    assert fake_host.read('/etc/default/grub.d/60-x.cfg') == \
        'GRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"\nGRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} console=ttyS0"\n'
    assert fake_host.read('/etc/default/grub') == \
        'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT splash"\n'
    assert result['configured_cmdline'] == 'intel_iommu=on iommu=pt console=ttyS0 quiet splash'
    assert not ensure_kernel_args(module(), IOMMU, ON)['changed']


def test_last_assignment_wins_and_grub_d_override_is_edited_in_place(fake_host, commands, module):
    grub = 'GRUB_CMDLINE_LINUX="dead"\nGRUB_CMDLINE_LINUX="live"\n'
    debian_host(fake_host, commands, grub=grub)
    fake_host.file('/etc/default/grub.d/50-cloudimg-settings.cfg', 'GRUB_CMDLINE_LINUX="console=ttyS0"\n')
    fake_host.file('/etc/default/grub.d/README', 'GRUB_CMDLINE_LINUX="not sourced"\n')
    result = ensure_kernel_args(module(), IOMMU, ON)
    assert fake_host.read('/etc/default/grub') == grub
    assert fake_host.read('/etc/default/grub.d/50-cloudimg-settings.cfg') == 'GRUB_CMDLINE_LINUX="console=ttyS0 intel_iommu=on iommu=pt"\n'
    assert result['backup_file'].startswith('/etc/default/grub.d/50-cloudimg-settings.cfg.')
    assert result['configured_cmdline'] == 'console=ttyS0 intel_iommu=on iommu=pt'


def test_edits_in_two_files_give_a_diff_per_file(fake_host, commands, module):
    debian_host(fake_host, commands, grub='GRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=soft"\n')
    fake_host.file('/etc/default/grub.d/90-x.cfg', 'GRUB_CMDLINE_LINUX=""\n')
    result = ensure_kernel_args(module(), IOMMU, ON)
    assert [d['before_header'] for d in result['diff']] == ['/etc/default/grub', '/etc/default/grub.d/90-x.cfg']
    assert len(result['backup_files']) == 2 and commands.calls == [UPDATE]


def test_file_mode_and_symlink_are_kept(fake_host, commands, module):
    debian_host(fake_host, commands, grub=None)
    fake_host.file('/etc/grub-real', GRUB)
    os.chmod(fake_host.path('/etc/grub-real'), 0o600)
    fake_host.link('/etc/default/grub', '/etc/grub-real')
    result = ensure_kernel_args(module(), IOMMU, ON)
    assert os.path.islink(fake_host.path('/etc/default/grub'))
    assert 'intel_iommu=on iommu=pt' in fake_host.read('/etc/grub-real')
    assert os.stat(fake_host.path('/etc/grub-real')).st_mode & 0o7777 == 0o600
    assert result['backup_file'].startswith('/etc/grub-real.')


GRUB_CFG = """### BEGIN /etc/grub.d/05_debian_theme ###
set menu_color_normal=cyan/blue
### END /etc/grub.d/05_debian_theme ###
### BEGIN /etc/grub.d/10_linux ###
menuentry 'Debian GNU/Linux' {
\tlinux\t/boot/vmlinuz-6.1.0-28-amd64 root=UUID=5b12f430 ro %s
\tinitrd\t/boot/initrd.img-6.1.0-28-amd64
}
submenu 'Advanced options for Debian GNU/Linux' {
\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-28-amd64 (recovery mode)' {
\t\tlinux\t/boot/vmlinuz-6.1.0-28-amd64 root=UUID=5b12f430 ro single %s
\t}
}
### END /etc/grub.d/10_linux ###
### BEGIN /etc/grub.d/30_os-prober ###
menuentry 'Other OS' {
\tlinux\t/vmlinuz root=/dev/sdb1 intel_iommu=off
}
### END /etc/grub.d/30_os-prober ###
"""


def test_stale_grub_cfg_is_regenerated_even_when_the_defaults_are_right(fake_host, commands, module):
    grub = 'GRUB_CMDLINE_LINUX="console=ttyS0 intel_iommu=on iommu=pt"\n'
    debian_host(fake_host, commands, grub=grub)
    # An interrupted update-grub: the defaults are edited, grub.cfg is not.
    fake_host.file('/boot/grub/grub.cfg', GRUB_CFG % ('console=ttyS0', 'console=ttyS0'))
    before = fake_host.snapshot()
    checked = ensure_kernel_args(module(check_mode=True), IOMMU, ON)
    assert checked['changed'] and fake_host.snapshot() == before and commands.calls == []
    assert checked['diff']['after'].splitlines() == [
        'linux\t/boot/vmlinuz-6.1.0-28-amd64 root=UUID=5b12f430 ro console=ttyS0 intel_iommu=on iommu=pt',
        'linux\t/boot/vmlinuz-6.1.0-28-amd64 root=UUID=5b12f430 ro single console=ttyS0 intel_iommu=on iommu=pt']
    result = ensure_kernel_args(module(), IOMMU, ON)
    assert result['changed'] and result['backup_file'] is None and commands.calls == [UPDATE]
    assert fake_host.read('/etc/default/grub') == grub
    # Once grub.cfg has them (the other OS's entry does not count), nothing to do.
    fake_host.file('/boot/grub/grub.cfg', GRUB_CFG % ('console=ttyS0 intel_iommu=on iommu=pt', 'console=ttyS0 intel_iommu=on iommu=pt'))
    assert not ensure_kernel_args(module(), IOMMU, ON)['changed'] and commands.calls == [UPDATE]
    # A hand-written grub.cfg (no grub-mkconfig sections) tells nothing: no claim, no regeneration.
    fake_host.file('/boot/grub/grub.cfg', 'menuentry x {\n linux /vmlinuz ro\n}\n')
    assert not ensure_kernel_args(module(), IOMMU, ON)['changed']


def test_failed_regeneration_of_a_stale_grub_cfg_fails(fake_host, commands, module):
    debian_host(fake_host, commands, grub='GRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"\n', update_grub_rc=1, update_grub_err='no space\n')
    fake_host.file('/boot/grub/grub.cfg', GRUB_CFG % ('', ''))
    msg = failure(lambda: ensure_kernel_args(module(), IOMMU, ON))['msg']
    assert msg == '/usr/bin/update-grub failed (rc=1): no space'


def test_grub_mkconfig_when_update_grub_is_absent(fake_host, commands, module):
    debian_host(fake_host, commands, os_release=UBUNTU_OS_RELEASE)
    commands.binaries.pop('update-grub')
    commands.on(['/usr/bin/grub-mkconfig', '-o', '/boot/grub/grub.cfg'])
    assert ensure_kernel_args(module(), IOMMU, ON)['changed']
    assert commands.calls == [['/usr/bin/grub-mkconfig', '-o', '/boot/grub/grub.cfg']]


def test_failed_update_grub_restores_the_file_and_fails_with_stderr(fake_host, commands, module):
    debian_host(fake_host, commands, update_grub_rc=1, update_grub_err='/usr/sbin/grub-mkconfig: error: disk full\n')
    result = failure(lambda: ensure_kernel_args(module(), IOMMU, ON))
    assert 'disk full' in result['msg'] and 'restored /etc/default/grub' in result['msg'] and result['rc'] == 1
    assert fake_host.read('/etc/default/grub') == GRUB


@pytest.mark.parametrize('grub, words', [
    ('GRUB_CMDLINE_LINUX="quiet\n', 'unbalanced double quote'),
    ("GRUB_CMDLINE_LINUX='quiet\n", 'unbalanced single quote'),
    ('GRUB_CMDLINE_LINUX="$OTHER x"\n', 'shell expansion of $OTHER'),
    ('GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX#x}"\n', 'the expansion'),
    ('GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX:+"x"}"\n', 'quotes inside'),
    ('GRUB_CMDLINE_LINUX=${GRUB_CMDLINE_LINUX:+x\n', 'unbalanced ${'),
    ('GRUB_CMDLINE_LINUX="`cat /x`"\n', 'command substitution'),
    ('GRUB_CMDLINE_LINUX="a"\nGRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX iommu=soft"\n', 'uses shell expansion; move them'),
    ('GRUB_CMDLINE_LINUX=$(cat /x)\n', 'shell expansion'),
    ('[ -e /x ] && GRUB_CMDLINE_LINUX="x"\n', 'cannot be edited safely'),
    ('GRUB_CMDLINE_LINUX+=" x"\n', 'cannot be edited safely'),
    ('GRUB_CMDLINE_LINUX="a" GRUB_TIMEOUT=1\n', 'unexpected text'),
    ('GRUB_CMDLINE_LINUX=a b\n', 'unexpected text'),
    ('GRUB_CMDLINE_LINUX="a=\\"b"\n', 'unbalanced double quote'),
])
def test_malformed_grub_file_is_refused_untouched(fake_host, commands, module, grub, words):
    debian_host(fake_host, commands, grub=grub)
    before = fake_host.snapshot()
    result = failure(lambda: ensure_kernel_args(module(), IOMMU, ON))
    assert words in result['msg'] and '/etc/default/grub' in result['msg']
    assert fake_host.snapshot() == before and commands.calls == []


@pytest.mark.parametrize('owned, desired, words', [
    (IOMMU, ['hugepages=4'], 'not among the keys'),
    (IOMMU, ['intel_iommu="on'], 'unbalanced double quote'),
    (IOMMU, ['a b'], 'exactly one'),
    ([], [], 'at least one'),
    (['bad key'], [], 'parameter name'),
])
def test_bad_arguments_are_refused_untouched(fake_host, commands, module, owned, desired, words):
    debian_host(fake_host, commands)
    before = fake_host.snapshot()
    assert words in failure(lambda: ensure_kernel_args(module(), owned, desired))['msg']
    assert fake_host.snapshot() == before and commands.calls == []


# -- platforms ---------------------------------------------------------------------------

def test_unsupported_platforms_are_refused(fake_host, commands, module):
    debian_host(fake_host, commands, os_release=SUSE_OS_RELEASE)
    before = fake_host.snapshot()
    msg = failure(lambda: ensure_kernel_args(module(), IOMMU, ON))['msg']
    assert 'unsupported platform SUSE Linux Enterprise Server 15 SP5' in msg and 'Debian/Ubuntu' in msg and 'grubby' in msg
    fake_host.file('/etc/os-release', 'ID=debian\n')
    before = fake_host.snapshot()
    commands.binaries.clear()
    assert 'neither update-grub nor grub-mkconfig' in failure(lambda: ensure_kernel_args(module(), IOMMU, ON))['msg']
    assert fake_host.snapshot() == before and commands.calls == []


def test_debian_without_grub_is_refused(fake_host, commands, module):
    debian_host(fake_host, commands, grub=None)
    fake_host.file('/etc/kernel/cmdline', 'root=UUID=x ro\n')
    before = fake_host.snapshot()
    assert 'GRUB is not installed' in failure(lambda: ensure_kernel_args(module(), IOMMU, ON))['msg']
    assert fake_host.snapshot() == before


def test_no_os_release_is_refused(fake_host, commands, module):
    debian_host(fake_host, commands)
    os.unlink(fake_host.path('/etc/os-release'))
    assert '/etc/os-release is missing' in failure(lambda: ensure_kernel_args(module(), IOMMU, ON))['msg']


def test_rhel_without_grubby_is_refused(fake_host, commands, module):
    rhel_host(fake_host, commands)
    commands.binaries.clear()
    before = fake_host.snapshot()
    assert 'install the grubby package' in failure(lambda: ensure_kernel_args(module(), IOMMU, ON))['msg']
    assert fake_host.snapshot() == before and commands.calls == []


# -- RHEL ---------------------------------------------------------------------------------

def test_rhel_grubby_argv_and_grub_defaults_in_step(fake_host, commands, module):
    grubby = rhel_host(fake_host, commands, entries=rhel_entries('ro intel_iommu=on,sm_on quiet'))
    result = ensure_kernel_args(module(), IOMMU, ON)
    assert result['changed'] and result['platform'] == 'rhel' and result['reboot_required']
    assert commands.ran(['/usr/bin/grubby', '--update-kernel=ALL', '**']) == [[
        '/usr/bin/grubby', '--update-kernel=ALL', '--args=intel_iommu=on iommu=pt', '--remove-args=intel_iommu=on,sm_on']]
    assert grubby.args(0) == 'ro quiet $tuned_params intel_iommu=on iommu=pt'
    assert grubby.args(1) == 'ro quiet intel_iommu=on iommu=pt'
    assert result['configured_cmdline'] == 'ro quiet intel_iommu=on iommu=pt'
    assert grub_line(fake_host) == 'GRUB_CMDLINE_LINUX="crashkernel=1G-4G:192M resize=1 rhgb quiet intel_iommu=on iommu=pt"'
    assert fake_host.read(result['backup_file']) == RHEL_GRUB
    calls = len(commands.calls)
    second = ensure_kernel_args(module(), IOMMU, ON)
    assert not second['changed']
    assert commands.calls[calls:] == [['/usr/bin/grubby', '--info=ALL'], ['/usr/bin/grubby', '--info=DEFAULT']]


def test_rhel_spelling_variants_and_absent(fake_host, commands, module):
    grubby = rhel_host(fake_host, commands, entries=[
        {'kernel': '/boot/vmlinuz-a', 'args': 'ro intel-iommu=off iommu=pt'},
        {'kernel': '/boot/vmlinuz-b', 'args': 'ro intel_iommu=on iommu=pt'}], grub=None)
    ensure_kernel_args(module(), IOMMU, ON)
    assert commands.ran(['/usr/bin/grubby', '--update-kernel=ALL', '**']) == [[
        '/usr/bin/grubby', '--update-kernel=ALL', '--args=intel_iommu=on iommu=pt',
        '--remove-args=intel-iommu=off iommu=pt intel_iommu=on']]
    assert grubby.args(0) == grubby.args(1) == 'ro intel_iommu=on iommu=pt'
    assert not ensure_kernel_args(module(), IOMMU, ON)['changed']
    # '-' and '_' spell the same key for the kernel: an equal parameter is no change.
    grubby.entries[0]['args'] = 'ro intel-iommu=on iommu=pt'
    grubby._answer()
    assert not ensure_kernel_args(module(), IOMMU, ON)['changed']
    result = ensure_kernel_args(module(), IOMMU, [])
    assert result['changed'] and grubby.args(0) == grubby.args(1) == 'ro'
    assert result['backup_file'] is None
    assert commands.ran(['/usr/bin/grubby', '--update-kernel=ALL', '**'])[-1] == [
        '/usr/bin/grubby', '--update-kernel=ALL', '--remove-args=intel-iommu=on iommu=pt intel_iommu=on']


def test_rhel_keeps_etc_kernel_cmdline_in_step(fake_host, commands, module):
    rhel_host(fake_host, commands, grub=None)
    fake_host.file('/etc/kernel/cmdline', 'root=UUID=5b12f430 ro intel_iommu=off quiet\n')
    result = ensure_kernel_args(module(), IOMMU, ON)
    assert fake_host.read('/etc/kernel/cmdline') == 'root=UUID=5b12f430 ro intel_iommu=on iommu=pt quiet\n'
    assert result['backup_files'][0].startswith('/etc/kernel/cmdline.')
    assert not ensure_kernel_args(module(), IOMMU, ON)['changed']


def test_rhel_check_mode_only_reads(fake_host, commands, module):
    grubby = rhel_host(fake_host, commands, os_release=ROCKY_OS_RELEASE)
    before = fake_host.snapshot()
    result = ensure_kernel_args(module(check_mode=True), IOMMU, ON)
    assert result['changed'] and result['configured_cmdline'].endswith('intel_iommu=on iommu=pt')
    assert [d['before_header'] for d in result['diff']] == ['grubby boot entries (default)', '/etc/default/grub']
    assert fake_host.snapshot() == before and 'intel_iommu' not in grubby.args(0)
    assert all(argv[1].startswith('--info=') for argv in commands.calls)


def test_rhel_grubby_failure_restores_grub_defaults(fake_host, commands, module):
    rhel_host(fake_host, commands, rc=1, err='grubby: bad entry\n')
    result = failure(lambda: ensure_kernel_args(module(), IOMMU, ON))
    assert 'grubby: bad entry' in result['msg'] and 'restored /etc/default/grub' in result['msg']
    assert fake_host.read('/etc/default/grub') == RHEL_GRUB


# -- read-only helpers ----------------------------------------------------------------------

def test_read_configured_and_running(fake_host, commands, module):
    debian_host(fake_host, commands)
    assert read_configured_cmdline(None) == ('console=ttyS0,115200n8 dyndbg="file x.c +p" quiet', None)
    assert running_cmdline() == BOOT + ' quiet'
    fake_host.file('/etc/default/grub', 'GRUB_CMDLINE_LINUX="x\n')
    cmdline, reason = read_configured_cmdline(None)
    assert cmdline is None and 'unbalanced double quote' in reason
    fake_host.file('/etc/os-release', SUSE_OS_RELEASE)
    assert read_configured_cmdline(None)[1].startswith('unsupported platform')


def test_read_configured_on_rhel_needs_a_module(fake_host, commands, module):
    rhel_host(fake_host, commands)
    cmdline, reason = read_configured_cmdline(None)
    assert cmdline is None and 'grubby' in reason
    assert read_configured_cmdline(module())[0].startswith('ro crashkernel')


def test_running_cmdline_missing_is_empty(fake_host):
    assert running_cmdline() == ''


def test_parse_assignments_positions():
    text = 'X=1\nGRUB_CMDLINE_LINUX="a b" # c\n'
    (assignment,) = parse_assignments('/f', text)
    assert text[assignment.start:assignment.end] == '"a b"' and assignment.line == 2
    assert GrubDefaults({}, [assignment]).value('GRUB_CMDLINE_LINUX') == 'a b'
    with pytest.raises(BootloaderError):
        parse_assignments('/f', 'GRUB_CMDLINE_LINUX=x\\')
    assert GrubDefaults({}, []).cmdline() == ''
    assert bootloader.parse_os_release('ID="rhel"\nNAME=\'A B\'\n# c\nX="a\\"b"\n') == {'ID': 'rhel', 'NAME': 'A B', 'X': 'a"b'}


# -- what /bin/sh makes of the files (grub-mkconfig sources them with sh) ---------------------

SH_SAMPLES = [
    GRUB,
    TUNED,
    'GRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=soft"\nGRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT splash"\n'
    'GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} console=ttyS0"\n',
    "export GRUB_CMDLINE_LINUX='quiet splash'\n",
    'GRUB_CMDLINE_LINUX=quiet\\ x=\\"y\\"\n',
    'GRUB_CMDLINE_LINUX="a=\\"x y\\"" # trailing comment\n',
    'GRUB_CMDLINE_LINUX="quiet \\\n  nosplash"\n',
    'GRUB_CMDLINE_LINUX="a"\'b c\'"d"\nGRUB_CMDLINE_LINUX_DEFAULT=${GRUB_CMDLINE_LINUX_DEFAULT:-"x"}\n'.replace('"x"', 'x'),
    'GRUB_CMDLINE_LINUX="hugepagesz=1G hugepages=4 intel_iommu=on,sm_on \\$x \\\\y"\n',
    '',
]


def _sh_values(path):
    script = '. "$1"; printf "%s\\0%s" "$GRUB_CMDLINE_LINUX" "$GRUB_CMDLINE_LINUX_DEFAULT"'
    out = subprocess.run(['/bin/sh', '-c', script, 'sh', path], env={'PATH': '/usr/bin:/bin'},
                         check=True, capture_output=True, text=True).stdout
    return tuple(out.split('\0'))


@pytest.mark.skipif(not os.path.exists('/bin/sh'), reason='needs /bin/sh')
@pytest.mark.parametrize('grub', SH_SAMPLES)
def test_sh_reads_the_files_as_we_do_before_and_after_the_edit(fake_host, commands, module, grub):
    debian_host(fake_host, commands, grub=grub)
    path = fake_host.path('/etc/default/grub')
    ours = GrubDefaults.read()
    assert _sh_values(path) == (ours.value('GRUB_CMDLINE_LINUX'), ours.value('GRUB_CMDLINE_LINUX_DEFAULT'))
    ensure_kernel_args(module(), IOMMU, ON)
    ours = GrubDefaults.read()
    linux, default = _sh_values(path)
    assert (linux, default) == (ours.value('GRUB_CMDLINE_LINUX'), ours.value('GRUB_CMDLINE_LINUX_DEFAULT'))
    assert bootloader._parse(linux + ' ' + default, 'sh').select(IOMMU) == [KernelArg.parse(a) for a in ON]


# -- exact put-back of BLS entry options (issue 17) ---------------------------------------------

def test_exact_args_argv_restores_order_through_grubby_semantics(commands):
    from ansible_collections.nfv.dpdk.plugins.module_utils.bootloader import exact_args_argv
    from ansible_collections.nfv.dpdk.tests.unit.plugins.module_utils.bootloader_hosts import FakeGrubby
    before = 'ro hugepagesz=1G hugepages=4 hugepagesz=2M hugepages=512 quiet $tuned_params'
    now = 'ro hugepagesz=1G quiet $tuned_params hugepages=8'
    grubby = FakeGrubby(commands, [{'kernel': '/boot/vmlinuz-x', 'args': now}])
    argv = exact_args_argv('/usr/bin/grubby', '/boot/vmlinuz-x', before.split(), now.split())
    # 'hugepagesz' is in the common prefix 'ro hugepagesz=1G' and among the words to add: the prefix
    # shrinks to 'ro', or grubby would replace the prefix's word in place instead of appending.
    assert argv == ['/usr/bin/grubby', '--update-kernel=/boot/vmlinuz-x',
                    '--remove-args=hugepagesz=1G quiet $tuned_params hugepages=8',
                    '--args=hugepagesz=1G hugepages=4 hugepagesz=2M hugepages=512 quiet $tuned_params']
    commands.run(argv)
    assert grubby.args(0) == before
    assert exact_args_argv('/usr/bin/grubby', '/boot/vmlinuz-x', before.split(), before.split()) is None
