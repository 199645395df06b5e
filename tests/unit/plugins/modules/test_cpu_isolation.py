# -*- coding: utf-8 -*-
"""nfv.dpdk.cpu_isolation on fake hosts: sets, files, commands, check mode, diff, idempotence, rollback, bad input."""

import os
import pytest

from ansible.module_utils import basic

from ansible_collections.nfv.dpdk.plugins.modules import cpu_isolation
from ansible_collections.nfv.dpdk.plugins.module_utils import cpu_isolation_config
from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_isolation_config import (
    CPULIST_KEY,
    IRQBALANCE_MARKER,
    MASK_KEY,
    edit_irqbalance,
    irqbalance_key,
    irqbalance_version,
)
from ansible_collections.nfv.dpdk.tests.unit.plugins.modules.cpu_isolation_hosts import (
    DAEMON_RELOAD,
    GRUB,
    IRQBALANCE,
    IRQBALANCE_OLD,
    MANAGER,
    RHEL_OS_RELEASE,
    SYSTEM_SLICE,
    TRY_RESTART,
    UPDATE_GRUB,
    TASKSET,
    UNITS_LOAD_START,
    USER_SLICE,
    changes,
    mutating,
    node,
    pid1_cpus,
    reboot,
    simulate_systemd,
    slice_cpus,
)

# One socket, 8 cores, 2 threads: siblings n and n+8, one NUMA node (CPUs 0-15).
HT = dict(sockets=1, cores_per_socket=8, threads_per_core=2)
# Two sockets of 8 cores, 2 threads: node0 0-7,16-23, node1 8-15,24-31; siblings n and n+16.
BIG = dict(sockets=2, cores_per_socket=8, threads_per_core=2)
# A 4-CPU VM on two NUMA nodes: node0 0-1, node1 2-3 (the lab VM).
VM4 = dict(sockets=2, cores_per_socket=2, threads_per_core=1)
VM1 = dict(sockets=1, cores_per_socket=1, threads_per_core=1)

EXPLICIT = {'isolated_cpus': '2-7,10-15', 'reserved_cpus': '0-1,8-9'}
ISOLATED_ARGS = ['isolcpus=managed_irq,domain,2-7,10-15', 'nohz_full=2-7,10-15', 'rcu_nocbs=2-7,10-15',
                 'irqaffinity=0-1,8-9']


@pytest.fixture(autouse=True)
def warnings(monkeypatch):
    """module.warn() calls of the test (kept out of Ansible's process-wide warning list)."""
    seen = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg, *a, **k: seen.append(msg))
    return seen


def grub_cmdline_linux(fake_host):
    for line in fake_host.read('/etc/default/grub').splitlines():
        if line.startswith('GRUB_CMDLINE_LINUX='):
            return line.split('=', 1)[1].strip('"')
    return None


# -- applying ------------------------------------------------------------------------

def test_explicit_sets_configure_kernel_systemd_and_irqbalance(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    result = run_module(cpu_isolation, EXPLICIT)
    assert not result.failed, result.get('msg')
    assert result.changed and result['reboot_required'] is True
    assert result['isolated_cpus'] == '2-7,10-15' and result['reserved_cpus'] == '0-1,8-9'
    assert result['kernel_args'] == ISOLATED_ARGS
    assert grub_cmdline_linux(fake_host) == 'console=ttyS0,115200n8 intel_iommu=on iommu=pt ' + ' '.join(ISOLATED_ARGS)
    assert result['cmdline'].endswith(' '.join(ISOLATED_ARGS) + ' quiet')
    assert fake_host.read(MANAGER).endswith('[Manager]\nCPUAffinity=0-1 8-9\n')
    assert fake_host.read(SYSTEM_SLICE).endswith('[Slice]\nAllowedCPUs=0-1,8-9\n')
    assert fake_host.read(USER_SLICE) == fake_host.read(SYSTEM_SLICE)
    irq = fake_host.read('/etc/default/irqbalance')
    assert '#IRQBALANCE_BANNED_CPULIST=\n%s\nIRQBALANCE_BANNED_CPULIST=2-7,10-15\n' % IRQBALANCE_MARKER in irq
    assert irq.replace('%s\nIRQBALANCE_BANNED_CPULIST=2-7,10-15\n' % IRQBALANCE_MARKER, '') == IRQBALANCE
    assert result['files'] == [MANAGER, SYSTEM_SLICE, USER_SLICE, '/etc/default/irqbalance']
    assert [b.split('.')[0] for b in result['backup_files']] == ['/etc/default/irqbalance', '/etc/default/grub']
    assert result['irqbalance_file'] == '/etc/default/irqbalance'
    assert mutating(commands) == [DAEMON_RELOAD, TRY_RESTART, [UPDATE_GRUB]]
    assert 'diff' not in result


def test_second_run_changes_nothing(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    assert run_module(cpu_isolation, EXPLICIT).changed
    before, ran = fake_host.snapshot(), len(mutating(commands))
    again = run_module(cpu_isolation, EXPLICIT, diff=True)
    assert not again.failed and not again.changed
    assert again['files'] == [] and again['backup_files'] == [] and 'diff' not in again
    assert again['reboot_required'] is True  # not rebooted yet
    assert again['isolated_cpus'] == '2-7,10-15'
    assert changes(before, fake_host.snapshot()) == []
    assert len(mutating(commands)) == ran


def test_rebooted_node_needs_no_reboot(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    first = run_module(cpu_isolation, EXPLICIT)
    fake_host.cmdline('BOOT_IMAGE=/boot/vmlinuz root=UUID=5b12f430 ro ' + first['cmdline'])
    again = run_module(cpu_isolation, EXPLICIT)
    assert not again.changed and again['reboot_required'] is False


def test_check_mode_reports_and_changes_nothing(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    before = fake_host.snapshot()
    result = run_module(cpu_isolation, EXPLICIT, check_mode=True, diff=True)
    assert not result.failed and result.changed and result['reboot_required']
    assert result['files'] == [MANAGER, SYSTEM_SLICE, USER_SLICE, '/etc/default/irqbalance']
    assert 'isolcpus=managed_irq,domain,2-7,10-15' in result['cmdline']
    assert fake_host.snapshot() == before
    assert mutating(commands) == []
    assert len(result['diff']) == 5


def test_diff_shows_every_file_and_the_kernel_command_line(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    result = run_module(cpu_isolation, EXPLICIT, diff=True)
    diffs = dict((d['before_header'], d) for d in result['diff'])
    assert sorted(diffs) == sorted([MANAGER, SYSTEM_SLICE, USER_SLICE, '/etc/default/irqbalance', '/etc/default/grub'])
    assert diffs[MANAGER]['before'] == '' and 'CPUAffinity=0-1 8-9' in diffs[MANAGER]['after']
    assert diffs['/etc/default/irqbalance']['before'] == IRQBALANCE
    assert 'IRQBALANCE_BANNED_CPULIST=2-7,10-15' in diffs['/etc/default/irqbalance']['after']
    assert diffs['/etc/default/grub']['before'] == GRUB
    assert 'nohz_full=2-7,10-15' in diffs['/etc/default/grub']['after']


def test_absent_removes_everything_and_is_idempotent(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    run_module(cpu_isolation, EXPLICIT)
    result = run_module(cpu_isolation, {'state': 'absent'}, diff=True)
    assert not result.failed and result.changed
    assert fake_host.read('/etc/default/grub') == GRUB
    assert fake_host.read('/etc/default/irqbalance') == IRQBALANCE
    for path in (MANAGER, SYSTEM_SLICE, USER_SLICE):
        assert not fake_host.exists(path)
        # no backup of the module's own drop-in, and its directory is gone with it
        assert not fake_host.exists(os.path.dirname(path)), fake_host.listdir(os.path.dirname(path))
    assert result['isolated_cpus'] == '' and result['reserved_cpus'] == '' and result['kernel_args'] == []
    assert result['reboot_required'] is False  # the running kernel never had them
    assert len(result['diff']) == 5
    again = run_module(cpu_isolation, {'state': 'absent'})
    assert not again.changed and again['files'] == []


def test_absent_on_a_clean_host_changes_nothing(fake_host, commands, run_module):
    node(fake_host, commands, **VM1)
    before = fake_host.snapshot()
    result = run_module(cpu_isolation, {'state': 'absent'})
    assert not result.failed and not result.changed
    assert fake_host.snapshot() == before and mutating(commands) == []


def test_changing_the_sets_rewrites_every_file(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    run_module(cpu_isolation, EXPLICIT)
    result = run_module(cpu_isolation, {'isolated_cpus': '4-7,12-15', 'reserved_cpus': '0-1,8-9'})
    assert result.changed and result['files'] == [MANAGER, SYSTEM_SLICE, USER_SLICE, '/etc/default/irqbalance'][3:]
    assert fake_host.read('/etc/default/irqbalance').count('IRQBALANCE_BANNED_CPULIST=4-7,12-15') == 1
    assert fake_host.read('/etc/default/irqbalance').count(IRQBALANCE_MARKER) == 1
    assert 'isolcpus=managed_irq,domain,4-7,12-15' in grub_cmdline_linux(fake_host)
    assert grub_cmdline_linux(fake_host).count('isolcpus=') == 1


# -- computed sets -------------------------------------------------------------------

def test_reserved_per_node_takes_the_lowest_whole_cores_of_each_node(fake_host, commands, run_module):
    node(fake_host, commands, **BIG)
    result = run_module(cpu_isolation, {'reserved_per_node': 4})
    assert result['reserved_cpus'] == '0-1,8-9,16-17,24-25'
    assert result['isolated_cpus'] == '2-7,10-15,18-23,26-31'


def test_isolated_count_is_numa_balanced_in_whole_cores(fake_host, commands, run_module):
    node(fake_host, commands, **BIG)
    result = run_module(cpu_isolation, {'isolated_count': 8}, check_mode=True)
    # One core (two threads) per node reserved by default, then cores alternate between nodes.
    assert result['reserved_cpus'] == '0,8,16,24'
    assert result['isolated_cpus'] == '1-2,9-10,17-18,25-26'
    result = run_module(cpu_isolation, {'isolated_count': 4, 'reserved_per_node': 4}, check_mode=True)
    assert result['reserved_cpus'] == '0-1,8-9,16-17,24-25'
    assert result['isolated_cpus'] == '2,10,18,26'
    # Uneven counts give the extra core to the lowest node.
    result = run_module(cpu_isolation, {'isolated_count': 6}, check_mode=True)
    assert result['isolated_cpus'] == '1-2,9,17-18,25'


def test_four_cpu_vm_on_two_nodes(fake_host, commands, run_module):
    node(fake_host, commands, **VM4)
    result = run_module(cpu_isolation, {'reserved_per_node': 1})
    assert result['reserved_cpus'] == '0,2' and result['isolated_cpus'] == '1,3'
    assert fake_host.read(MANAGER).endswith('CPUAffinity=0 2\n')
    assert run_module(cpu_isolation, {'isolated_count': 2})['changed'] is False
    assert run_module(cpu_isolation, {'isolated_cpus': '1,3'})['changed'] is False
    assert run_module(cpu_isolation, {'isolated_cpus': '3'}, check_mode=True)['reserved_cpus'] == '0-2'


def test_offline_cpus_are_never_used(fake_host, commands, run_module):
    node(fake_host, commands, sockets=1, cores_per_socket=8, offline='6-7')
    result = run_module(cpu_isolation, {'reserved_per_node': 1})
    assert result['isolated_cpus'] == '1-5' and result['reserved_cpus'] == '0'
    assert run_module(cpu_isolation, {'reserved_cpus': '0-1'}, check_mode=True)['isolated_cpus'] == '2-5'


def test_split_cores_are_allowed_with_a_warning(fake_host, commands, run_module, warnings):
    node(fake_host, commands, **HT)
    result = run_module(cpu_isolation, {'isolated_cpus': '2-7', 'allow_split_cores': True})
    assert not result.failed and result['reserved_cpus'] == '0-1,8-15'
    assert any('(2,10)' in w and 'whole cores' in w for w in warnings)


# -- options -------------------------------------------------------------------------

def test_kernel_parameters_follow_the_toggles_and_flags(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    run_module(cpu_isolation, EXPLICIT)
    result = run_module(cpu_isolation, dict(EXPLICIT, nohz_full=False, irqaffinity=False, isolcpus_flags=['nohz', 'domain']))
    assert result.changed and result['files'] == []
    assert result['kernel_args'] == ['isolcpus=nohz,domain,2-7,10-15', 'rcu_nocbs=2-7,10-15']
    assert 'nohz_full=' not in grub_cmdline_linux(fake_host) and 'irqaffinity=' not in grub_cmdline_linux(fake_host)
    result = run_module(cpu_isolation, dict(EXPLICIT, isolcpus_flags=[], rcu_nocbs=False, irqaffinity=False, nohz_full=False))
    assert result['kernel_args'] == ['isolcpus=2-7,10-15']
    result = run_module(cpu_isolation, dict(EXPLICIT, isolcpus=False, rcu_nocbs=False, irqaffinity=False, nohz_full=False))
    assert result['kernel_args'] == [] and grub_cmdline_linux(fake_host) == 'console=ttyS0,115200n8 intel_iommu=on iommu=pt'


def test_foreign_kernel_parameters_are_kept(fake_host, commands, run_module):
    node(fake_host, commands, **HT, grub=GRUB.replace('iommu=pt"', 'iommu=pt isolcpus=1 hugepages=16"'))
    run_module(cpu_isolation, EXPLICIT)
    assert grub_cmdline_linux(fake_host) == ('console=ttyS0,115200n8 intel_iommu=on iommu=pt %s hugepages=16'
                                             % ' '.join(ISOLATED_ARGS))


def test_systemd_parts_can_be_turned_off_and_stale_slices_are_removed(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    run_module(cpu_isolation, EXPLICIT)
    result = run_module(cpu_isolation, dict(EXPLICIT, slices=['system.slice', 'machine.slice'], systemd_cpu_affinity=False))
    assert result.changed
    assert sorted(result['files']) == sorted([MANAGER, USER_SLICE, '/etc/systemd/system/machine.slice.d/50-nfv-dpdk-cpu-isolation.conf'])
    assert not fake_host.exists(MANAGER) and not fake_host.exists(USER_SLICE) and fake_host.exists(SYSTEM_SLICE)
    assert commands.ran(DAEMON_RELOAD) == [DAEMON_RELOAD] * 2
    result = run_module(cpu_isolation, dict(EXPLICIT, slices=[], systemd_cpu_affinity=False))
    assert sorted(result['files']) == sorted([SYSTEM_SLICE, '/etc/systemd/system/machine.slice.d/50-nfv-dpdk-cpu-isolation.conf'])
    assert not fake_host.exists(SYSTEM_SLICE)


def test_cgroup_v1_hosts_get_a_warning(fake_host, commands, run_module, warnings):
    node(fake_host, commands, **HT)
    fake_host.mkdir('/sys/fs/cgroup/cpuset')
    run_module(cpu_isolation, EXPLICIT, check_mode=True)
    assert any('cgroup v1' in w for w in warnings)
    warnings[:] = []
    fake_host.file('/sys/fs/cgroup/cgroup.controllers', 'cpuset cpu io memory pids')
    run_module(cpu_isolation, EXPLICIT, check_mode=True)
    assert not any('cgroup v1' in w for w in warnings)


def test_without_running_systemd_nothing_is_reloaded(fake_host, commands, run_module, warnings):
    node(fake_host, commands, systemd=False, **HT)
    result = run_module(cpu_isolation, EXPLICIT)
    assert not result.failed and result.changed
    assert mutating(commands) == [[UPDATE_GRUB]]
    assert any('restart irqbalance' in w for w in warnings)


def test_removing_cpu_affinity_gives_systemd_every_cpu_back(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    simulate_systemd(fake_host, commands)
    run_module(cpu_isolation, EXPLICIT)
    assert pid1_cpus(fake_host) == '0-1,8-9' and commands.ran([TASKSET, '**']) == []
    result = run_module(cpu_isolation, {'state': 'absent'})
    assert result.changed and pid1_cpus(fake_host) == '0-15'
    assert commands.ran([TASKSET, '**']) == [[TASKSET, '--pid', '--cpu-list', '0-15', '1']]
    assert not run_module(cpu_isolation, {'state': 'absent'}).changed
    assert len(commands.ran([TASKSET, '**'])) == 1


def test_removed_allowed_cpus_give_the_slices_their_cpus_back(fake_host, commands, run_module, monkeypatch):
    node(fake_host, commands, **HT)
    simulate_systemd(fake_host, commands)
    run_module(cpu_isolation, EXPLICIT)
    assert slice_cpus(fake_host, 'system.slice') == '0-1,8-9' and slice_cpus(fake_host, 'user.slice') == '0-1,8-9'
    run_module(cpu_isolation, dict(EXPLICIT, slices=['system.slice']))
    assert slice_cpus(fake_host, 'system.slice') == '0-1,8-9' and slice_cpus(fake_host, 'user.slice') == ''
    # The kernel refuses an empty cpuset.cpus in a populated cgroup (ENOSPC): every online CPU then.
    real_write = cpu_isolation_config.HostFS.write

    def write(self, path, value):
        if path.endswith('/cpuset.cpus') and value == '':
            raise OSError(28, 'No space left on device')
        return real_write(self, path, value)
    monkeypatch.setattr(cpu_isolation_config.HostFS, 'write', write)
    run_module(cpu_isolation, {'state': 'absent'})
    assert slice_cpus(fake_host, 'system.slice') == '0-15'


def test_allowed_cpus_configured_elsewhere_are_left_to_systemd(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    simulate_systemd(fake_host, commands)
    fake_host.file('/etc/systemd/system/system.slice.d/10-site.conf', '[Slice]\nAllowedCPUs=0-3\n')
    run_module(cpu_isolation, EXPLICIT)
    run_module(cpu_isolation, {'state': 'absent'})
    assert slice_cpus(fake_host, 'system.slice') == '0-3' and slice_cpus(fake_host, 'user.slice') == ''


def test_slice_cgroup_paths():
    assert cpu_isolation_config.slice_cgroup('system.slice') == '/sys/fs/cgroup/system.slice'
    assert cpu_isolation_config.slice_cgroup('machine-qemu.slice') == '/sys/fs/cgroup/machine.slice/machine-qemu.slice'


def test_an_affinity_configured_elsewhere_is_left_to_systemd(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    simulate_systemd(fake_host, commands)
    fake_host.file('/etc/systemd/system.conf', '[Manager]\n#CPUAffinity=1 2\nCPUAffinity=0-3\n')
    run_module(cpu_isolation, EXPLICIT)
    run_module(cpu_isolation, {'state': 'absent'})
    assert pid1_cpus(fake_host) == '0-3' and commands.ran([TASKSET, '**']) == []


# -- irqbalance ----------------------------------------------------------------------

def test_old_irqbalance_gets_a_hex_mask(fake_host, commands, run_module):
    node(fake_host, commands, irqbalance=IRQBALANCE_OLD, irqbalance_version='irqbalance version 1.7.0', **HT)
    run_module(cpu_isolation, EXPLICIT)
    text = fake_host.read('/etc/default/irqbalance')
    assert text == IRQBALANCE_OLD + '%s\nIRQBALANCE_BANNED_CPUS=fcfc\n' % IRQBALANCE_MARKER
    assert run_module(cpu_isolation, EXPLICIT)['changed'] is False


def test_existing_assignments_are_edited_in_place(fake_host, commands, run_module):
    text = ('IRQBALANCE_ONESHOT=yes\nIRQBALANCE_BANNED_CPUS=00000003\nIRQBALANCE_ARGS="--policyscript=/x"\n'
            'IRQBALANCE_BANNED_CPULIST=1\nexport IRQBALANCE_BANNED_CPULIST=2\n')
    node(fake_host, commands, irqbalance=text, **HT)
    run_module(cpu_isolation, EXPLICIT)
    assert fake_host.read('/etc/default/irqbalance') == (
        'IRQBALANCE_ONESHOT=yes\n#IRQBALANCE_BANNED_CPUS=00000003\nIRQBALANCE_ARGS="--policyscript=/x"\n'
        '%s\nIRQBALANCE_BANNED_CPULIST=2-7,10-15\n' % IRQBALANCE_MARKER)


def test_hosts_without_irqbalance_are_left_alone(fake_host, commands, run_module):
    node(fake_host, commands, irqbalance=None, irqbalance_version=None, **HT)
    result = run_module(cpu_isolation, EXPLICIT)
    assert result['irqbalance_file'] is None and not fake_host.exists('/etc/default/irqbalance')
    assert TRY_RESTART not in commands.calls


def test_irqbalance_false_leaves_its_file_alone(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    result = run_module(cpu_isolation, dict(EXPLICIT, irqbalance=False))
    assert fake_host.read('/etc/default/irqbalance') == IRQBALANCE and result['irqbalance_file'] is None
    assert TRY_RESTART not in commands.calls


def test_irqbalance_program_without_a_file_gets_one_where_the_distribution_reads_it(fake_host, commands, run_module):
    from ansible_collections.nfv.dpdk.tests.unit.plugins.module_utils.bootloader_hosts import FakeGrubby
    node(fake_host, commands, irqbalance=None, os_release=RHEL_OS_RELEASE, grub=None, **HT)
    FakeGrubby(commands, [{'kernel': '/boot/vmlinuz-5.14.0-427.el9.x86_64', 'args': 'ro crashkernel=auto quiet'}])
    result = run_module(cpu_isolation, EXPLICIT)
    assert not result.failed, result.get('msg')
    assert result['irqbalance_file'] == '/etc/sysconfig/irqbalance'
    assert fake_host.read('/etc/sysconfig/irqbalance') == '%s\nIRQBALANCE_BANNED_CPULIST=2-7,10-15\n' % IRQBALANCE_MARKER
    assert result['cmdline'] == 'ro crashkernel=auto quiet ' + ' '.join(ISOLATED_ARGS)
    assert run_module(cpu_isolation, EXPLICIT)['changed'] is False


def test_edit_irqbalance_units():
    assert edit_irqbalance('', CPULIST_KEY, '2-3') == '%s\n%s=2-3\n' % (IRQBALANCE_MARKER, CPULIST_KEY)
    assert edit_irqbalance('A=1', CPULIST_KEY, '2') == 'A=1\n%s\n%s=2\n' % (IRQBALANCE_MARKER, CPULIST_KEY)
    ours = edit_irqbalance('A=1\n', MASK_KEY, 'c')
    # Switching format (irqbalance upgraded) drops our old line instead of commenting it out.
    assert edit_irqbalance(ours, CPULIST_KEY, '2-3') == 'A=1\n%s\n%s=2-3\n' % (IRQBALANCE_MARKER, CPULIST_KEY)
    assert edit_irqbalance(ours) == 'A=1\n'
    assert edit_irqbalance('%s=5\n' % CPULIST_KEY) == '%s=5\n' % CPULIST_KEY  # not ours: kept on absent
    assert irqbalance_version('irqbalance version 1.9.2') == (1, 9) and irqbalance_version('') is None
    assert irqbalance_key((1, 8), '') == CPULIST_KEY and irqbalance_key((1, 7), CPULIST_KEY) == MASK_KEY
    assert irqbalance_key(None, '#IRQBALANCE_BANNED_CPULIST=') == CPULIST_KEY and irqbalance_key(None, None) == MASK_KEY


# -- rollback ------------------------------------------------------------------------

def test_update_grub_failure_restores_drop_ins_and_irqbalance(fake_host, commands, run_module):
    node(fake_host, commands, update_grub_rc=1, **HT)
    simulate_systemd(fake_host, commands)
    fake_host.file(USER_SLICE, '[Slice]\nAllowedCPUs=0\n')
    fake_host.file('/sys/fs/cgroup/user.slice/cpuset.cpus', '0')  # as systemd applied it at boot
    before = fake_host.snapshot()
    result = run_module(cpu_isolation, EXPLICIT)
    assert result.failed
    assert 'update-grub failed' in result['msg'] and 'files changed by this run were restored' in result['msg']
    # Files, directories, systemd's own affinity (/proc/1/status) and the slices' cpusets are as they were.
    assert changes(before, fake_host.snapshot()) == []
    # systemd and irqbalance saw the new files, so they are reloaded again with the old ones.
    assert mutating(commands) == [DAEMON_RELOAD, TRY_RESTART, [UPDATE_GRUB], DAEMON_RELOAD,
                                  [TASKSET, '--pid', '--cpu-list', '0-15', '1'], TRY_RESTART]


def test_daemon_reload_failure_restores_before_touching_grub(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    commands.on(DAEMON_RELOAD, rc=1, err='Failed to reload daemon: Access denied')
    before = fake_host.snapshot()
    result = run_module(cpu_isolation, EXPLICIT)
    assert result.failed and 'daemon-reload failed' in result['msg'] and 'restored' in result['msg']
    assert changes(before, fake_host.snapshot()) == []
    assert commands.ran([UPDATE_GRUB]) == []


def test_irqbalance_restart_failure_restores(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    commands.on(TRY_RESTART, rc=1, err='Job for irqbalance.service failed')
    before = fake_host.snapshot()
    result = run_module(cpu_isolation, EXPLICIT)
    assert result.failed and 'try-restart' in result['msg']
    assert changes(before, fake_host.snapshot()) == []
    assert commands.ran([UPDATE_GRUB]) == [] and commands.ran(DAEMON_RELOAD) == [DAEMON_RELOAD] * 2


def test_write_error_restores(fake_host, commands, run_module, monkeypatch):
    node(fake_host, commands, **HT)
    before = fake_host.snapshot()
    real_atomic_move = basic.AnsibleModule.atomic_move

    def atomic_move(self, src, dest, *args, **kwargs):
        if dest.endswith('irqbalance'):
            raise OSError(28, 'No space left on device')
        return real_atomic_move(self, src, dest, *args, **kwargs)
    monkeypatch.setattr(basic.AnsibleModule, 'atomic_move', atomic_move)
    result = run_module(cpu_isolation, EXPLICIT)
    assert result.failed and 'No space left on device' in result['msg']
    assert changes(before, fake_host.snapshot()) == []
    assert mutating(commands) == []


# -- bad input -----------------------------------------------------------------------

BAD_INPUT = [
    # (host, args, words the message must contain)
    (HT, {'isolated_cpus': '0-15'}, ['isolated_cpus', 'every online CPU', '0-15']),
    (HT, {'reserved_cpus': '0-15'}, ['reserved_cpus', 'nothing to isolate']),
    (HT, {'isolated_cpus': '2-7', 'reserved_cpus': '0-2'}, ['overlap', 'CPUs 2']),
    (HT, {'isolated_cpus': '2-7,40-41'}, ['isolated_cpus', '40-41', 'do not exist', 'online CPUs: 0-15']),
    (HT, {'reserved_cpus': '0,99'}, ['reserved_cpus', '99', 'online CPUs: 0-15']),
    (HT, {'isolated_cpus': '2-x'}, ['isolated_cpus', "'2-x' is not a valid cpu-list"]),
    (HT, {'isolated_cpus': '7-2'}, ['isolated_cpus', 'runs backwards']),
    (HT, {'isolated_cpus': ''}, ['isolated_cpus', 'at least one CPU']),
    (HT, {'isolated_cpus': '0,8', 'reserved_cpus': '1-7,9-15'}, ['CPU 0 must stay a housekeeping CPU']),
    (HT, {'isolated_cpus': '2-7'}, ['split the cores', '(2,10)', 'allow_split_cores']),
    (BIG, {'isolated_cpus': '8-15,24-31'}, ['NUMA node 1', '8-15,24-31', 'no reserved']),
    (VM4, {'isolated_cpus': '2-3'}, ['NUMA node 1', 'housekeeping']),
    (VM4, {'isolated_count': 4}, ['isolated_count', 'only 2 can be isolated']),
    (HT, {'isolated_count': -1}, ['isolated_count', 'at least 1']),
    (HT, {'isolated_count': 0}, ['isolated_count', 'at least 1']),
    (HT, {'reserved_per_node': 0}, ['reserved_per_node', 'at least 1']),
    (HT, {'isolated_count': 100}, ['isolated_count', '100', '16 online CPUs']),
    (HT, {'isolated_count': 16}, ['isolated_count', 'only 14 can be isolated']),
    (HT, {'isolated_count': 3}, ['isolated_count', 'whole cores']),
    (HT, {'reserved_per_node': 3}, ['reserved_per_node', 'whole cores']),
    (BIG, {'reserved_per_node': 64}, ['reserved_per_node', 'NUMA node 0 has only 16']),
    (HT, {'reserved_per_node': 16}, ['reserved_per_node', 'nothing to isolate']),
    (HT, {'isolated_cpus': '2-7,10-15', 'isolated_count': 4}, ['mutually exclusive', 'isolated_cpus', 'isolated_count']),
    (HT, {'reserved_cpus': '0-1', 'reserved_per_node': 2}, ['mutually exclusive', 'reserved_cpus', 'reserved_per_node']),
    (HT, {}, ['isolated_cpus', 'reserved_cpus', 'isolated_count', 'reserved_per_node']),
    (HT, {'isolated_count': 'many'}, ['isolated_count', 'int']),
    (HT, dict(EXPLICIT, isolcpus_flags=['domain', 'bogus']), ['isolcpus_flags', 'bogus', 'domain, managed_irq, nohz']),
    (HT, dict(EXPLICIT, isolcpus_flags=['domain', 'domain']), ['isolcpus_flags', "'domain'", 'more than once']),
    (HT, dict(EXPLICIT, slices=['system']), ['slices', "'system'", 'slice name']),
    (HT, dict(EXPLICIT, slices=['kubepods.slice']), ['slices', 'kubepods.slice', 'isolated CPUs']),
    (HT, dict(EXPLICIT, slices=['-.slice']), ['slices', '-.slice']),
    (HT, dict(EXPLICIT, state='enabled'), ['state', 'present, absent']),
    (VM1, {'reserved_per_node': 1}, ['1 online CPU', 'at least two']),
    (VM1, {'isolated_cpus': '0'}, ['at least two']),
]


@pytest.mark.parametrize('host,args,words', BAD_INPUT, ids=['%02d' % i for i in range(len(BAD_INPUT))])
def test_bad_input_is_rejected_and_nothing_changes(fake_host, commands, run_module, host, args, words):
    node(fake_host, commands, **host)
    before = fake_host.snapshot()
    result = run_module(cpu_isolation, args)
    assert result.failed, result
    for word in words:
        assert word in result['msg'], result['msg']
    assert fake_host.snapshot() == before
    assert mutating(commands) == []


def test_offline_cpus_are_rejected_with_the_online_set(fake_host, commands, run_module):
    node(fake_host, commands, sockets=1, cores_per_socket=8, offline='6-7')
    before = fake_host.snapshot()
    result = run_module(cpu_isolation, {'isolated_cpus': '4-7'})
    assert result.failed and 'CPUs 6-7 are offline (online CPUs: 0-5)' in result['msg']
    assert fake_host.snapshot() == before and mutating(commands) == []


def test_unsupported_boot_setup_is_rejected_before_any_change(fake_host, commands, run_module):
    node(fake_host, commands, grub=None, **HT)
    before = fake_host.snapshot()
    result = run_module(cpu_isolation, EXPLICIT)
    assert result.failed and 'kernel command line' in result['msg'] and '/etc/default/grub' in result['msg']
    assert fake_host.snapshot() == before and mutating(commands) == []


# -- a run killed during daemon-reload (issue 17) -----------------------------------------------

class Killed(BaseException):
    """The process was killed in the middle of ``systemctl daemon-reload``."""


def _killed(argv):
    raise Killed()


def test_rerun_after_a_killed_daemon_reload_applies_the_drop_ins(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    simulate_systemd(fake_host, commands)
    commands.on(DAEMON_RELOAD, effect=_killed)
    with pytest.raises(Killed):
        run_module(cpu_isolation, EXPLICIT)
    assert fake_host.exists(MANAGER) and fake_host.exists(SYSTEM_SLICE)
    simulate_systemd(fake_host, commands)  # systemd never applied them
    assert pid1_cpus(fake_host) == '0-15' and slice_cpus(fake_host, 'system.slice') == ''
    del commands.calls[:]
    result = run_module(cpu_isolation, EXPLICIT)
    assert not result.failed, result
    assert result.changed and commands.ran(DAEMON_RELOAD) == [DAEMON_RELOAD]
    assert pid1_cpus(fake_host) == '0-1,8-9' and slice_cpus(fake_host, 'system.slice') == '0-1,8-9'
    del commands.calls[:]
    again = run_module(cpu_isolation, EXPLICIT)
    assert not again.changed and commands.ran(DAEMON_RELOAD) == []


def test_slice_drop_in_systemd_has_not_loaded_is_reloaded(fake_host, commands, run_module):
    node(fake_host, commands, **HT)
    args = dict(EXPLICIT, systemd_cpu_affinity=False)
    assert run_module(cpu_isolation, args).changed
    show = ['/usr/bin/systemctl', 'show', '--property=NeedDaemonReload', '--property=LoadState', 'system.slice']
    commands.on(show, out='LoadState=loaded\nNeedDaemonReload=yes\n')
    del commands.calls[:]
    assert run_module(cpu_isolation, args, check_mode=True).changed and commands.ran(DAEMON_RELOAD) == []
    result = run_module(cpu_isolation, args)
    assert result.changed and commands.ran(DAEMON_RELOAD) == [DAEMON_RELOAD]


# -- systemd's view after a normal boot is current (no false "stale"), after a killed reload it is not ----------

LAB = {'isolated_cpus': '1,3', 'reserved_cpus': '0,2'}


@pytest.mark.parametrize('pid1', ['0-3', '0,2'])
def test_after_a_normal_boot_the_settings_systemd_applied_are_not_reported_stale(fake_host, commands, run_module, pid1):
    node(fake_host, commands, **VM4)
    simulate_systemd(fake_host, commands, pid1='0-3')
    assert run_module(cpu_isolation, LAB).changed
    # As on the lab node (systemd 252, Linux 6.1) after a reboot without the playbook: systemd read
    # CPUAffinity=0 2 at boot and set it on itself, then turned the cpuset controller on for the
    # slices' AllowedCPUs=0,2, and the kernel reset PID 1 (in init.scope) to its cpuset, 0-3.
    reboot(fake_host, commands, pid1=pid1)
    del commands.calls[:]
    check = run_module(cpu_isolation, LAB, check_mode=True, diff=True)
    assert not check.failed, check
    assert not check.changed and check['systemd_stale'] == [] and check['files'] == [] and 'diff' not in check
    assert commands.ran(DAEMON_RELOAD) == []
    result = run_module(cpu_isolation, LAB)
    assert not result.changed and commands.ran(DAEMON_RELOAD) == [] and pid1_cpus(fake_host) == pid1


def test_unknown_systemd_start_time_counts_a_differing_pid1_affinity_as_stale(fake_host, commands, run_module):
    node(fake_host, commands, **VM4)
    simulate_systemd(fake_host, commands, pid1='0-3')
    assert run_module(cpu_isolation, LAB).changed
    reboot(fake_host, commands, pid1='0-3')
    commands.on(UNITS_LOAD_START, rc=1, err='Failed to connect to bus')
    check = run_module(cpu_isolation, LAB, check_mode=True)
    assert check.changed and check['files'] == [] and len(check['systemd_stale']) == 1
    assert 'CPUs 0-3' in check['msg']


def test_cpu_affinity_overridden_by_a_later_drop_in_is_not_stale(fake_host, commands, run_module):
    node(fake_host, commands, **VM4)
    simulate_systemd(fake_host, commands, pid1='0-3')
    fake_host.file('/etc/systemd/system.conf.d/90-site.conf', '[Manager]\nCPUAffinity=0\n')
    assert run_module(cpu_isolation, LAB).changed
    assert pid1_cpus(fake_host) == '0'
    del commands.calls[:]
    again = run_module(cpu_isolation, LAB)
    assert not again.changed and again['systemd_stale'] == [] and commands.ran(DAEMON_RELOAD) == []


def test_stale_systemd_says_why_it_reports_changed(fake_host, commands, run_module):
    node(fake_host, commands, **VM4)
    simulate_systemd(fake_host, commands, pid1='0-3')
    commands.on(DAEMON_RELOAD, effect=_killed)
    with pytest.raises(Killed):
        run_module(cpu_isolation, LAB)
    simulate_systemd(fake_host, commands, pid1='0-3')  # the drop-ins are on disk, systemd never applied them
    del commands.calls[:]
    check = run_module(cpu_isolation, LAB, check_mode=True, diff=True)
    assert not check.failed, check
    assert check.changed and check['files'] == [] and commands.ran(DAEMON_RELOAD) == []
    assert check['systemd_stale'] == [
        'systemd (PID 1) runs on CPUs 0-3, not on CPUAffinity=0 2 of %s, written after systemd started: '
        'systemd has not applied it' % MANAGER]
    assert 'would be reloaded' in check['msg'] and 'CPUs 0-3' in check['msg']
    # The killed run never reached the kernel command line, so GRUB's file is still to change.
    assert [d['before_header'] for d in check['diff']] == ['systemd (running)', '/etc/default/grub']
    assert 'CPUAffinity=0 2' in check['diff'][0]['before']
    result = run_module(cpu_isolation, LAB)
    assert result.changed and 'reloaded' in result['msg'] and commands.ran(DAEMON_RELOAD) == [DAEMON_RELOAD]
    assert pid1_cpus(fake_host) == '0,2'
    again = run_module(cpu_isolation, LAB, check_mode=True)
    assert not again.changed and again['systemd_stale'] == [] and 'msg' not in again
