# -*- coding: utf-8 -*-
import os

import pytest

from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.hugepage_pool import COMPACT_MEMORY, pool_dir
from ansible_collections.nfv.dpdk.plugins.module_utils.hugepage_reservation import UNIT_NAME, UNIT_PATH
from ansible_collections.nfv.dpdk.plugins.modules import hugepages

G = 1024 * 1024
M2 = 2048
BOOT = 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=UUID=5b12f430 ro quiet'
GRUB = ('GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
        'GRUB_CMDLINE_LINUX="console=ttyS0,115200n8"\n')
UPDATE = ['/usr/bin/update-grub']


class FakeHugetlb:
    """The kernel's side of nr_hugepages writes on the fake tree.

    A write to a node's nr_hugepages sets that node's pool (free pages with it)
    and the global pool to the sum of the nodes; a write to the global pool
    spreads pages over the nodes round-robin. ``limits[(size_kb, node)]`` caps
    the pages a node can hold (memory short or fragmented); writing
    compact_memory applies ``after_compaction``. ``fail_on`` paths raise OSError.
    """

    def __init__(self, fake_host, monkeypatch, nodes=(0, 1), limits=None, after_compaction=None, fail_on=()):
        self.host = fake_host
        self.nodes = list(nodes)
        self.limits = dict(limits or {})
        self.after_compaction = dict(after_compaction or {})
        self.fail_on = set(fail_on)
        self.writes = []
        self.compactions = 0
        kernel = self
        real_write = HostFS.write

        def write(fs, path, value):
            kernel.writes.append((path, str(value)))
            if path in kernel.fail_on:
                raise OSError(22, 'Invalid argument')
            if path == COMPACT_MEMORY:
                kernel.compactions += 1
                kernel.limits.update(kernel.after_compaction)
                return real_write(fs, path, value)
            if path.endswith('/nr_hugepages') and path.startswith('/sys/'):
                return kernel.set(path, int(value))
            return real_write(fs, path, value)
        monkeypatch.setattr(HostFS, 'write', write)

    def count(self, size_kb, node=None):
        return int(self.host.read(pool_dir(size_kb, node) + '/nr_hugepages'))

    def _put(self, size_kb, node, count):
        base = pool_dir(size_kb, node)
        self.host.file(base + '/nr_hugepages', str(count))
        self.host.file(base + '/free_hugepages', str(count))

    def _grant(self, size_kb, node, count):
        return min(count, self.limits.get((size_kb, node), count))

    def set(self, path, count):
        size_kb = int(path.split('hugepages-')[1].split('kB')[0])
        if '/node/node' in path:
            node = int(path.split('/node/node')[1].split('/')[0])
            self._put(size_kb, node, self._grant(size_kb, node, count))
        elif self.nodes:
            per_node = dict((node, 0) for node in self.nodes)
            for index in range(count):
                per_node[self.nodes[index % len(self.nodes)]] += 1
            for node, pages in per_node.items():
                self._put(size_kb, node, self._grant(size_kb, node, pages))
        else:
            self._put(size_kb, None, self._grant(size_kb, None, count))
            return
        self._put(size_kb, None, sum(self.count(size_kb, node) for node in self.nodes))


def numa_host(fake_host, kernel='6.1.0-28-amd64', flags='fpu sse4_2 avx2 pse pdpe1gb', **counts):
    """Two NUMA nodes of 8 GiB (16 GiB host), 2M (default) and 1G pools, no hugetlbfs mounted."""
    fake_host.topology(sockets=2, cores_per_socket=2, flags=flags)
    for size in (M2, G):
        total = 0
        for node in (0, 1):
            pages = counts.get('n%d_%s' % (node, 'g' if size == G else 'm'), 0)
            total += pages
            fake_host.hugepages(size, node=node, total=pages)
        fake_host.hugepages(size, total=total)
    fake_host.mounts()
    fake_host.cmdline(BOOT)
    fake_host.file('/proc/sys/kernel/osrelease', kernel)
    fake_host.file(COMPACT_MEMORY, '')
    return fake_host


def debian_boot(fake_host, commands, grub=GRUB):
    fake_host.file('/etc/os-release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n')
    fake_host.file('/etc/default/grub', grub)
    commands.provide('update-grub')
    commands.on(UPDATE)


def grub_cmdline(fake_host):
    return [line for line in fake_host.read('/etc/default/grub').splitlines() if line.startswith('GRUB_CMDLINE_LINUX=')][0]


def node_pages(fake_host, size_kb, node=None):
    return int(fake_host.read(pool_dir(size_kb, node) + '/nr_hugepages'))


@pytest.fixture
def kernel(fake_host, monkeypatch):
    numa_host(fake_host)
    return FakeHugetlb(fake_host, monkeypatch)


# -- runtime ---------------------------------------------------------------------------------

def test_per_node_runtime_allocation_then_idempotent(fake_host, kernel, run_module):
    args = {'pools': [{'size': '2M', 'count': 512, 'node': 1}]}
    result = run_module(hugepages, args)
    assert not result.failed, result.get('msg')
    assert result.changed and not result['reboot_required']
    assert node_pages(fake_host, M2, 1) == 512 and node_pages(fake_host, M2, 0) == 0 and node_pages(fake_host, M2) == 512
    assert result['pools'] == [{'size': '2M', 'size_kb': 2048, 'node': 1, 'requested': 512, 'compacted': False,
                                'before': {'total': 0, 'free': 0, 'surplus': 0, 'persistent': 0},
                                'after': {'total': 512, 'free': 512, 'surplus': 0, 'persistent': 512}}]
    assert result['default_size'] == '2M' and 'cmdline' not in result
    writes = len(kernel.writes)
    second = run_module(hugepages, args)
    assert not second.changed and len(kernel.writes) == writes
    assert second['pools'][0]['before'] == second['pools'][0]['after']


def test_global_pool_sizes_accept_every_spelling(fake_host, kernel, run_module):
    result = run_module(hugepages, {'pools': [{'size': '2048kB', 'count': 64}, {'size': '1Gi', 'count': 2}]})
    assert result.changed and node_pages(fake_host, M2) == 64 and node_pages(fake_host, G) == 2
    for spelling in ('2M', '2MiB', '2048'):
        assert not run_module(hugepages, {'pools': [{'size': spelling, 'count': 64}]}).changed


def test_check_mode_reports_and_changes_nothing(fake_host, kernel, run_module):
    before = fake_host.snapshot()
    result = run_module(hugepages, {'pools': [{'size': '1G', 'count': 4, 'node': 0}]}, check_mode=True, diff=True)
    assert result.changed and fake_host.snapshot() == before and kernel.writes == []
    assert result['pools'][0]['after'] == {'total': 4, 'free': 4, 'surplus': 0, 'persistent': 4}
    assert result['diff'] == [{'before_header': 'hugepage pools', 'after_header': 'hugepage pools',
                               'before': '1G node0: 0\n', 'after': '1G node0: 4\n'}]


def test_diff_lists_every_pool_changed(fake_host, kernel, run_module):
    result = run_module(hugepages, {'pools': [{'size': '2M', 'count': 8, 'node': 0}, {'size': '2M', 'count': 0, 'node': 1},
                                              {'size': '1G', 'count': 0}]}, diff=True)
    assert result.changed
    # node 1 is already at 0 and the 1G pool too: only node 0 changes.
    assert result['diff'] == [{'before_header': 'hugepage pools', 'after_header': 'hugepage pools',
                               'before': '2M node0: 0\n', 'after': '2M node0: 8\n'}]
    assert 'diff' not in run_module(hugepages, {'pools': [{'size': '2M', 'count': 8, 'node': 0}]}, diff=True)


def test_shrinking_pools_go_first(fake_host, monkeypatch, run_module):
    numa_host(fake_host, n0_g=4)
    kernel = FakeHugetlb(fake_host, monkeypatch)
    result = run_module(hugepages, {'pools': [{'size': '2M', 'count': 100, 'node': 0}, {'size': '1G', 'count': 1, 'node': 0}]})
    assert result.changed
    pools = [path for path, _value in kernel.writes if path.endswith('nr_hugepages')]
    assert pools == [pool_dir(G, 0) + '/nr_hugepages', pool_dir(M2, 0) + '/nr_hugepages']
    assert node_pages(fake_host, G, 0) == 1 and node_pages(fake_host, M2, 0) == 100


def test_state_absent_releases_listed_pools(fake_host, monkeypatch, run_module):
    numa_host(fake_host, n0_m=64, n1_m=32, n1_g=2)
    FakeHugetlb(fake_host, monkeypatch)
    result = run_module(hugepages, {'state': 'absent', 'pools': [{'size': '2M', 'node': 0}, {'size': '1G', 'node': 1, 'count': 0}]})
    assert result.changed
    assert (node_pages(fake_host, M2, 0), node_pages(fake_host, M2, 1), node_pages(fake_host, G, 1)) == (0, 32, 0)
    assert not run_module(hugepages, {'state': 'absent', 'pools': [{'size': '2M', 'node': 0}]}).changed


@pytest.mark.parametrize('args', [{'runtime': False, 'pools': [{'size': '2M', 'count': 8}]},
                                  {'runtime': False, 'boot': False}])
def test_runtime_false_and_boot_false_is_refused(fake_host, kernel, commands, run_module, args):
    before = fake_host.snapshot()
    result = run_module(hugepages, args)
    assert result.failed and 'runtime and boot are both false' in result['msg']
    assert 'runtime=true' in result['msg'] and 'boot=true' in result['msg']
    assert kernel.writes == [] and commands.calls == [] and fake_host.snapshot() == before


def test_runtime_false_and_boot_false_still_manages_mounts(fake_host, kernel, commands, run_module):
    commands.provide('mount')
    commands.on(['/usr/bin/mount', '**'])
    result = run_module(hugepages, {'runtime': False, 'mounts': [{'path': '/mnt/h'}]})
    assert not result.failed and result.changed and kernel.writes == []


def test_surplus_pages_are_not_persistent(fake_host, kernel, run_module):
    fake_host.hugepages(M2, total=10, surplus=10)
    result = run_module(hugepages, {'pools': [{'size': '2M', 'count': 0}]})
    assert not result.changed and result['pools'][0]['before'] == {'total': 10, 'free': 10, 'surplus': 10, 'persistent': 0}


def test_host_without_numa_uses_the_global_pool(fake_host, monkeypatch, run_module):
    fake_host.file('/sys/devices/system/cpu/online', '0-1')
    fake_host.meminfo(total_kb=4 * G)
    fake_host.cpuinfo(cpus=2)
    fake_host.hugepages(M2, total=0)
    fake_host.mounts()
    FakeHugetlb(fake_host, monkeypatch, nodes=())
    result = run_module(hugepages, {'pools': [{'size': '2M', 'count': 64}]})
    assert result.changed and node_pages(fake_host, M2) == 64
    failed = run_module(hugepages, {'pools': [{'size': '2M', 'count': 64, 'node': 0}]})
    assert failed.failed and 'no per-node hugepage pools' in failed['msg']


# -- partial allocations -------------------------------------------------------------------------

def test_partial_allocation_restores_and_fails(fake_host, monkeypatch, run_module):
    numa_host(fake_host, n0_m=16)
    kernel = FakeHugetlb(fake_host, monkeypatch, limits={(G, 1): 1})
    args = {'pools': [{'size': '2M', 'count': 0, 'node': 0}, {'size': '1G', 'count': 4, 'node': 1}]}
    result = run_module(hugepages, args)
    assert result.failed
    assert result['msg'].startswith('pools[1]: 1G pool on node 1: requested 4 pages, obtained 1 (after compacting memory')
    assert 'the previous pools were restored' in result['msg']
    assert (result['requested'], result['obtained']) == (4, 1)
    assert kernel.compactions == 1
    # Both pools are back where they were: the shrunk 2M pool of node 0 too.
    assert (node_pages(fake_host, M2, 0), node_pages(fake_host, G, 1), node_pages(fake_host, M2)) == (16, 0, 16)


def test_compaction_can_rescue_an_allocation(fake_host, monkeypatch, run_module):
    numa_host(fake_host)
    kernel = FakeHugetlb(fake_host, monkeypatch, limits={(G, 0): 1}, after_compaction={(G, 0): 8})
    result = run_module(hugepages, {'pools': [{'size': '1G', 'count': 4, 'node': 0}]})
    assert result.changed and not result.failed and result['pools'][0]['compacted'] is True
    assert node_pages(fake_host, G, 0) == 4 and kernel.compactions == 1


def test_compact_false_fails_without_retry(fake_host, monkeypatch, run_module):
    numa_host(fake_host)
    kernel = FakeHugetlb(fake_host, monkeypatch, limits={(M2, None): 10}, nodes=())
    result = run_module(hugepages, {'compact': False, 'pools': [{'size': '2M', 'count': 64}]})
    assert result.failed and 'requested 64 pages, obtained 10 (no retry' in result['msg']
    assert kernel.compactions == 0 and node_pages(fake_host, M2) == 0


def test_kernel_error_on_write_restores_and_fails(fake_host, monkeypatch, run_module):
    numa_host(fake_host, n1_m=8)
    FakeHugetlb(fake_host, monkeypatch, fail_on=[pool_dir(G, 0) + '/nr_hugepages'])
    result = run_module(hugepages, {'pools': [{'size': '2M', 'count': 0, 'node': 1}, {'size': '1G', 'count': 1, 'node': 0}]})
    assert result.failed and 'setting the 1G pool on node 0 to 1 pages failed' in result['msg']
    assert 'Invalid argument' in result['msg']
    assert node_pages(fake_host, M2, 1) == 8


# -- mounts --------------------------------------------------------------------------------------

def _mount_effect(fake_host):
    def effect(argv):
        lines = fake_host.read('/proc/mounts').splitlines()
        if argv[0].endswith('/mount'):
            lines.append('nodev %s hugetlbfs rw,relatime,%s 0 0' % (argv[-1], argv[4]))
        else:
            lines = [line for line in lines if line.split()[1] != argv[-1]]
        fake_host.file('/proc/mounts', '\n'.join(lines))
    return effect


def test_mounts_mount_then_idempotent_then_unmount(fake_host, kernel, commands, run_module):
    commands.provide('mount', 'umount')
    commands.on(['/usr/bin/mount', '**'], effect=_mount_effect(fake_host))
    commands.on(['/usr/bin/umount', '*'], effect=_mount_effect(fake_host))
    args = {'mounts': [{'path': '/dev/hugepages-1G', 'size': '1G'}, {'path': '/dev/hugepages'}]}
    result = run_module(hugepages, args, diff=True)
    assert result.changed
    assert commands.calls == [['/usr/bin/mount', '-t', 'hugetlbfs', '-o', 'pagesize=1G', 'nodev', '/dev/hugepages-1G'],
                              ['/usr/bin/mount', '-t', 'hugetlbfs', '-o', 'pagesize=2M', 'nodev', '/dev/hugepages']]
    assert fake_host.exists('/dev/hugepages-1G')
    assert result['mounts'] == [{'path': '/dev/hugepages-1G', 'size': '1G', 'action': 'mounted'},
                                {'path': '/dev/hugepages', 'size': '2M', 'action': 'mounted'}]
    assert result['diff'][-1]['after'] == '/dev/hugepages-1G hugetlbfs pagesize=1G\n/dev/hugepages hugetlbfs pagesize=2M\n'
    second = run_module(hugepages, args)
    assert not second.changed and len(commands.calls) == 2
    assert [m['action'] for m in second['mounts']] == ['none', 'none']
    gone = run_module(hugepages, {'state': 'absent', 'mounts': [{'path': '/dev/hugepages-1G'}]})
    assert gone.changed and commands.calls[-1] == ['/usr/bin/umount', '/dev/hugepages-1G']
    assert gone['mounts'] == [{'path': '/dev/hugepages-1G', 'size': '1G', 'action': 'unmounted'}]


def test_mount_check_mode_runs_nothing(fake_host, kernel, commands, run_module):
    commands.provide('mount')
    before = fake_host.snapshot()
    result = run_module(hugepages, {'mounts': [{'path': '/dev/hugepages-1G', 'size': '1G'}]}, check_mode=True)
    assert result.changed and commands.calls == [] and fake_host.snapshot() == before


def test_mount_failure_restores_pools(fake_host, kernel, commands, run_module):
    commands.provide('mount', 'umount')
    commands.on(['/usr/bin/mount', '**'], rc=32, err='mount: permission denied')
    result = run_module(hugepages, {'pools': [{'size': '2M', 'count': 32, 'node': 0}],
                                    'mounts': [{'path': '/dev/hugepages-2M', 'size': '2M'}]})
    assert result.failed and 'permission denied' in result['msg'] and 'previous pools were restored' in result['msg']
    assert node_pages(fake_host, M2, 0) == 0


def test_mount_point_that_cannot_be_created_restores_pools(fake_host, kernel, commands, run_module):
    commands.provide('mount', 'umount')
    fake_host.file('/srv/file', 'not a directory')
    result = run_module(hugepages, {'pools': [{'size': '2M', 'count': 16, 'node': 1}],
                                    'mounts': [{'path': '/srv/file/huge', 'size': '2M'}]})
    assert result.failed and 'cannot create the mount point /srv/file/huge' in result['msg']
    assert 'previous pools were restored' in result['msg'] and node_pages(fake_host, M2, 1) == 0
    assert commands.calls == []


# -- boot ---------------------------------------------------------------------------------------

def test_boot_per_node_pools_and_default_size(fake_host, kernel, commands, run_module):
    debian_boot(fake_host, commands)
    args = {'runtime': False, 'boot': True, 'default_size': '1G',
            'pools': [{'size': '1G', 'count': 2, 'node': 1}, {'size': '1G', 'count': 4, 'node': 0},
                      {'size': '2M', 'count': 512}]}
    result = run_module(hugepages, args, diff=True)
    assert not result.failed, result.get('msg')
    want = 'default_hugepagesz=1G hugepagesz=2M hugepages=512 hugepagesz=1G hugepages=0:4,1:2'
    assert result.changed and result['reboot_required'] and result['cmdline'] == want
    assert grub_cmdline(fake_host) == 'GRUB_CMDLINE_LINUX="console=ttyS0,115200n8 %s"' % want
    assert commands.calls == [UPDATE] and kernel.writes == []
    assert result['backup_file'] and result['configured_cmdline'] == 'console=ttyS0,115200n8 %s quiet' % want
    assert result['diff'][0]['before_header'] == '/etc/default/grub'
    second = run_module(hugepages, args)
    assert not second.changed and second['reboot_required'] and commands.calls == [UPDATE]
    # After the reboot, /proc/cmdline holds them: nothing more to do.
    fake_host.cmdline(BOOT + ' ' + want)
    assert run_module(hugepages, args)['reboot_required'] is False


def test_boot_check_mode_changes_nothing(fake_host, kernel, commands, run_module):
    debian_boot(fake_host, commands)
    before = fake_host.snapshot()
    result = run_module(hugepages, {'boot': True, 'pools': [{'size': '2M', 'count': 64}]}, check_mode=True, diff=True)
    assert result.changed and result['cmdline'] == 'hugepagesz=2M hugepages=64'
    assert fake_host.snapshot() == before and commands.calls == []
    assert [d['before_header'] for d in result['diff']] == ['/etc/default/grub', 'hugepage pools']


def test_boot_absent_removes_every_hugepage_parameter(fake_host, kernel, commands, run_module):
    debian_boot(fake_host, commands, grub=GRUB.replace('115200n8"', '115200n8 hugepagesz=1G hugepages=8 default_hugepagesz=1G"'))
    result = run_module(hugepages, {'state': 'absent', 'boot': True, 'runtime': False})
    assert result.changed and result['cmdline'] == ''
    assert grub_cmdline(fake_host) == 'GRUB_CMDLINE_LINUX="console=ttyS0,115200n8"'


def test_boot_and_runtime_failure_puts_the_command_line_back(fake_host, monkeypatch, commands, run_module):
    numa_host(fake_host)
    FakeHugetlb(fake_host, monkeypatch, limits={(G, 0): 0})
    old = GRUB.replace('115200n8"', '115200n8 hugepagesz=1G hugepages=0:1"')
    debian_boot(fake_host, commands, grub=old)
    result = run_module(hugepages, {'boot': True, 'pools': [{'size': '1G', 'count': 2, 'node': 0}]})
    assert result.failed and 'requested 2 pages, obtained 0' in result['msg']
    assert 'reserve them at boot with boot=true and runtime=false' in result['msg']
    assert 'boot configuration put back: /etc/default/grub restored byte for byte' in result['msg']
    assert fake_host.read('/etc/default/grub') == old
    assert commands.calls == [UPDATE, UPDATE]


def test_boot_update_grub_failure_changes_nothing_else(fake_host, kernel, commands, run_module):
    debian_boot(fake_host, commands)
    commands.on(UPDATE, rc=1, err='grub-mkconfig: error')
    result = run_module(hugepages, {'boot': True, 'pools': [{'size': '2M', 'count': 64, 'node': 0}]})
    assert result.failed and 'grub-mkconfig: error' in result['msg']
    assert kernel.writes == [] and fake_host.read('/etc/default/grub') == GRUB


def test_per_node_boot_cmdline_refused_on_old_kernels(fake_host, monkeypatch, commands, run_module):
    numa_host(fake_host, kernel='5.15.0-91-generic')
    FakeHugetlb(fake_host, monkeypatch)
    debian_boot(fake_host, commands)
    before = fake_host.snapshot()
    result = run_module(hugepages, {'boot': True, 'per_node_boot': 'cmdline', 'pools': [{'size': '1G', 'count': 2, 'node': 1}]})
    assert result.failed and 'Linux 5.16 and later' in result['msg'] and '5.15.0-91-generic' in result['msg']
    assert 'per_node_boot=systemd' in result['msg']
    assert fake_host.snapshot() == before and commands.calls == []
    # A global pool at boot is fine there.
    assert run_module(hugepages, {'boot': True, 'runtime': False, 'pools': [{'size': '1G', 'count': 2}]}).changed


def systemd_boot(fake_host, commands):
    commands.provide('systemctl')
    wants = '/etc/systemd/system/sysinit.target.wants/' + UNIT_NAME

    def enable(argv):
        if argv[1] == 'enable':
            fake_host.link(wants, UNIT_PATH)
        else:
            os.unlink(fake_host.path(wants))
    commands.on(['/usr/bin/systemctl', '*', UNIT_NAME], effect=enable)
    return wants


def test_per_node_boot_falls_back_to_a_unit_on_old_kernels(fake_host, monkeypatch, commands, run_module):
    numa_host(fake_host, kernel='5.15.0-91-generic')
    kernel = FakeHugetlb(fake_host, monkeypatch)
    debian_boot(fake_host, commands)
    wants = systemd_boot(fake_host, commands)
    args = {'boot': True, 'runtime': False, 'default_size': '1G',
            'pools': [{'size': '1G', 'count': 2, 'node': 1}, {'size': '2M', 'count': 64}]}
    before = fake_host.snapshot()
    checked = run_module(hugepages, args, check_mode=True, diff=True)
    assert checked.changed and fake_host.snapshot() == before and commands.calls == []
    assert [d['before_header'] for d in checked['diff']] == ['/etc/default/grub', UNIT_PATH]

    result = run_module(hugepages, args, diff=True)
    assert not result.failed, result.get('msg')
    assert result['boot_method'] == 'systemd' and result['boot_unit'] == UNIT_PATH
    assert result['cmdline'] == 'default_hugepagesz=1G hugepagesz=2M hugepages=64'
    unit = fake_host.read(UNIT_PATH)
    node1 = '/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages'
    assert "ExecStart=/bin/sh -c 'echo 2 > %s'" % node1 in unit
    assert 'ExecStart=/bin/sh -c \'test "$$(cat %s)" -ge 2\'' % node1 in unit
    assert 'Before=sysinit.target kubelet.service' in unit and 'WantedBy=sysinit.target' in unit
    assert commands.calls == [UPDATE, ['/usr/bin/systemctl', 'enable', UNIT_NAME]]
    assert fake_host.exists(wants) and kernel.writes == []
    assert not run_module(hugepages, args).changed

    # The kernel got upgraded: the per-node pools move to the command line and the unit goes.
    fake_host.file('/proc/sys/kernel/osrelease', '6.1.0-28-amd64')
    moved = run_module(hugepages, args)
    assert moved.changed and moved['boot_method'] == 'cmdline' and moved['boot_unit'] is None
    assert 'hugepagesz=1G hugepages=1:2' in grub_cmdline(fake_host)
    assert not fake_host.exists(UNIT_PATH) and not fake_host.exists(wants)
    assert commands.calls[-1] == ['/usr/bin/systemctl', 'disable', UNIT_NAME]
    assert not run_module(hugepages, args).changed


def test_per_node_boot_unit_removed_with_state_absent(fake_host, kernel, commands, run_module):
    debian_boot(fake_host, commands)
    wants = systemd_boot(fake_host, commands)
    args = {'boot': True, 'runtime': False, 'per_node_boot': 'systemd', 'pools': [{'size': '2M', 'count': 8, 'node': 0}]}
    assert run_module(hugepages, args).changed and fake_host.exists(wants)
    gone = run_module(hugepages, {'boot': True, 'runtime': False, 'state': 'absent'})
    assert gone.changed and not fake_host.exists(UNIT_PATH) and not fake_host.exists(wants)
    assert not run_module(hugepages, {'boot': True, 'runtime': False, 'state': 'absent'}).changed


def test_runtime_failure_puts_the_unit_back(fake_host, monkeypatch, commands, run_module):
    numa_host(fake_host)
    FakeHugetlb(fake_host, monkeypatch, limits={(M2, 0): 3})
    debian_boot(fake_host, commands)
    wants = systemd_boot(fake_host, commands)
    before = fake_host.snapshot()
    result = run_module(hugepages, {'boot': True, 'per_node_boot': 'systemd', 'pools': [{'size': '2M', 'count': 8, 'node': 0}]})
    assert result.failed and 'requested 8 pages, obtained 3' in result['msg']
    assert UNIT_PATH + ' removed again' in result['msg']
    assert not fake_host.exists(UNIT_PATH) and not fake_host.exists(wants)
    assert commands.calls[-1] == ['/usr/bin/systemctl', 'disable', UNIT_NAME]
    after = fake_host.snapshot()
    # Every file is as it was (directories /etc/systemd/system/... exist on real hosts anyway;
    # compact_memory is a trigger, not state).

    def files(snapshot):
        return dict((path, entry) for path, entry in snapshot.items() if entry[0] != 'dir' and path != COMPACT_MEMORY)
    assert files(after) == files(before)
    assert node_pages(fake_host, M2, 0) == 0


# -- bad input ------------------------------------------------------------------------------------

BAD = [
    ({'pools': [{'size': 'banana', 'count': 1}]}, "pools[0].size: 'banana' is not a page size"),
    ({'pools': [{'size': '4M', 'count': 1}]}, 'pools[0].size: 4M is not a hugepage size of this kernel; supported sizes: 2M, 1G'),
    ({'pools': [{'size': '2M', 'count': -1}]}, 'pools[0].count must be 0 or more, got -1'),
    ({'pools': [{'size': '2M'}]}, 'pools[0].count is required with state=present'),
    ({'pools': [{'size': '2M', 'count': 1, 'node': 5}]}, 'pools[0].node: NUMA node 5 does not exist; nodes with hugepage pools: 0, 1'),
    ({'pools': [{'size': '2M', 'count': 1, 'node': 0}, {'size': '2048kB', 'count': 2, 'node': 0}]},
     'pools[1]: the 2M pool on node 0 is already given in pools[0]'),
    ({'pools': [{'size': '2M', 'count': 1, 'node': 0}, {'size': '2M', 'count': 2}]},
     'pools[1]: give either the global 2M pool (no node) or per-node 2M pools, not both'),
    ({'pools': [{'size': '1G', 'count': 8, 'node': 0}]}, 'hugepages on NUMA node 0 would take 8200 MiB, more than the node can spare'),
    ({'pools': [{'size': '2M', 'count': 8000}]}, 'hugepages on this host would take 16000 MiB, more than this host can spare'),
    ({'pools': [{'size': '2M', 'count': 64}], 'min_free_memory': 'plenty'}, "min_free_memory: 'plenty' is not a page size"),
    ({'pools': [{'size': '1G', 'count': 4}], 'min_free_memory': '90%'}, 'min_free_memory keeps 14745 MiB free'),
    ({'boot': True, 'runtime': False, 'pools': [{'size': '1G', 'count': 8, 'node': 1}]},
     'the boot reservation on NUMA node 1 would take 8192 MiB, more than the node can spare'),
    ({'boot': True, 'runtime': False, 'pools': [{'size': '2M', 'count': 7600}]},
     'the boot reservation on this host would take 15200 MiB, more than this host can spare'),
    ({'default_size': '1G'}, 'default_size: the default hugepage size can only change at boot'),
    ({'default_size': '16G', 'boot': True}, 'default_size: 16G is not a hugepage size of this kernel'),
    ({'state': 'absent', 'default_size': '2M'}, 'default_size cannot be used with state=absent'),
    ({'state': 'absent', 'pools': [{'size': '2M', 'count': 3}]}, 'pools[0].count must be omitted or 0 with state=absent, got 3'),
    ({'mounts': [{'path': 'dev/huge'}]}, "mounts[0].path must be an absolute path"),
    ({'mounts': [{'path': '/mnt/h', 'size': '3G'}]}, 'mounts[0].size: 3G is not a hugepage size of this kernel'),
    ({'mounts': [{'path': '/dev/hugepages', 'size': '1G'}]},
     'mounts[0]: /dev/hugepages is mounted with page size 2M, not 1G; hugetlbfs cannot change its page size'),
    ({'mounts': [{'path': '/run'}]}, 'mounts[0].path: /run is already a tmpfs mount, not hugetlbfs'),
    ({'mounts': [{'path': '/mnt/h'}, {'path': '/mnt/h/'}]}, 'mounts[1].path: /mnt/h is given twice'),
    ({'pools': [{'count': 1}]}, 'missing required arguments: size'),
    ({'pools': [{'size': '2M', 'count': 1}], 'state': 'gone'}, 'value of state must be one of: present, absent'),
    ({'pools': [{'size': '2M', 'count': 'many'}]}, "cannot be converted to an int"),
]


@pytest.mark.parametrize('args, message', BAD, ids=[m[:40] for _a, m in BAD])
def test_bad_input_is_refused_and_nothing_changes(fake_host, kernel, commands, run_module, args, message):
    debian_boot(fake_host, commands)
    commands.provide('mount', 'umount')
    fake_host.mounts('hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0', 'tmpfs /run tmpfs rw 0 0')
    fake_host.hugepages(M2, node=0, total=4)
    before = fake_host.snapshot()
    result = run_module(hugepages, args)
    assert result.failed, result
    assert message in result['msg']
    assert fake_host.snapshot() == before
    assert kernel.writes == [] and commands.calls == []


def test_1g_refused_without_pdpe1gb(fake_host, monkeypatch, commands, run_module):
    numa_host(fake_host, flags='fpu sse4_2 pse')
    kernel = FakeHugetlb(fake_host, monkeypatch)
    before = fake_host.snapshot()
    result = run_module(hugepages, {'pools': [{'size': '2M', 'count': 1}, {'size': '1G', 'count': 1, 'node': 0}]})
    assert result.failed and result['msg'].startswith('pools[1].size: this CPU cannot map 1G pages (no pdpe1gb')
    assert fake_host.snapshot() == before and kernel.writes == []
    # Releasing 1G pages is always allowed.
    assert not run_module(hugepages, {'pools': [{'size': '1G', 'count': 0}]}).failed


def test_memoryless_node_is_refused(fake_host, monkeypatch, run_module):
    numa_host(fake_host)
    fake_host.numa_node(2, '', mem_total_kb=0)
    fake_host.hugepages(M2, node=2)
    kernel = FakeHugetlb(fake_host, monkeypatch)
    before = fake_host.snapshot()
    no_pool = run_module(hugepages, {'pools': [{'size': '1G', 'count': 1, 'node': 2}]})
    assert no_pool.failed and 'NUMA node 2 has no 1G pool' in no_pool['msg']
    no_memory = run_module(hugepages, {'pools': [{'size': '2M', 'count': 1, 'node': 2}]})
    assert no_memory.failed and 'its memory is 0 MiB' in no_memory['msg']
    assert fake_host.snapshot() == before and kernel.writes == []


def test_boot_memory_check_counts_only_the_boot_reservation(fake_host, monkeypatch, commands, run_module):
    # Found on the lab VM (2 GiB nodes): 64 2M pages allocated at runtime on node 1 do not exist at the
    # next boot, so they do not count against a 1G boot reservation there.
    numa_host(fake_host, n1_m=3000)
    FakeHugetlb(fake_host, monkeypatch)
    debian_boot(fake_host, commands)
    args = {'boot': True, 'runtime': False, 'pools': [{'size': '1G', 'count': 6, 'node': 1}]}
    assert run_module(hugepages, args).changed
    # At runtime the 2M pages are there: the same pool does not fit now.
    result = run_module(hugepages, dict(args, runtime=True))
    assert result.failed and 'hugepages on NUMA node 1 would take 12144 MiB' in result['msg']


def test_kernel_without_hugetlb_is_refused(fake_host, run_module):
    fake_host.topology()
    result = run_module(hugepages, {'pools': [{'size': '2M', 'count': 1}]})
    assert result.failed and 'no hugepage pools' in result['msg']


def test_memory_check_allows_shrinking_and_honours_min_free_memory(fake_host, monkeypatch, run_module):
    # 8 GiB of 1G pages on node 0 (8 GiB): over the default margin (1 GiB), but shrinking is fine.
    numa_host(fake_host, n0_g=8)
    FakeHugetlb(fake_host, monkeypatch)
    assert run_module(hugepages, {'pools': [{'size': '1G', 'count': 6, 'node': 0}]}).changed
    assert run_module(hugepages, {'pools': [{'size': '1G', 'count': 7, 'node': 0}]}).changed
    refused = run_module(hugepages, {'pools': [{'size': '1G', 'count': 8, 'node': 0}], 'min_free_memory': '512M'})
    assert refused.failed and 'at most 7680 MiB of hugepages' in refused['msg']
    assert run_module(hugepages, {'pools': [{'size': '1G', 'count': 8, 'node': 0}], 'min_free_memory': '0'}).changed
    assert run_module(hugepages, {'pools': [{'size': '1G', 'count': 8, 'node': 0}], 'min_free_memory': '0%'}).changed is False


# -- putting the boot configuration back exactly (issue 17) ------------------------------------

# Owned parameters spread over both variables and between foreign ones: ensure_kernel_args with the
# old tokens would regroup them (and drop them from GRUB_CMDLINE_LINUX_DEFAULT); restore must not.
SCATTERED = ('GRUB_DEFAULT=0\n# keep this comment\nGRUB_CMDLINE_LINUX_DEFAULT="quiet hugepages=0:1  splash"\n'
             "GRUB_CMDLINE_LINUX='hugepagesz=1G console=ttyS0,115200n8'\n")


def grub_cfg_generator(fake_host):
    """update-grub's effect: a grub.cfg whose 10_linux kernel lines carry the GRUB defaults' command line
    (the normal entry both variables, the recovery entry GRUB_CMDLINE_LINUX only, as 10_linux writes them)."""
    from ansible_collections.nfv.dpdk.plugins.module_utils.bootloader import GrubDefaults, cmdline_words

    def generate(argv):
        defaults = GrubDefaults.read(HostFS())
        recovery = ' '.join(cmdline_words(defaults.value('GRUB_CMDLINE_LINUX')))
        fake_host.file('/boot/grub/grub.cfg', '### BEGIN /etc/grub.d/10_linux ###\n'
                       '\tlinux\t/boot/vmlinuz-6.1.0-28-amd64 root=UUID=5b12f430 ro %s\n'
                       '\tlinux\t/boot/vmlinuz-6.1.0-28-amd64 root=UUID=5b12f430 ro single %s\n'
                       '### END /etc/grub.d/10_linux ###\n' % (defaults.cmdline(), recovery))
    return generate


def test_rollback_restores_the_grub_files_byte_for_byte(fake_host, monkeypatch, commands, run_module):
    numa_host(fake_host)
    FakeHugetlb(fake_host, monkeypatch, limits={(G, 0): 0})
    debian_boot(fake_host, commands, grub=SCATTERED)
    os.chmod(fake_host.path('/etc/default/grub'), 0o600)
    commands.on(UPDATE, effect=grub_cfg_generator(fake_host))
    result = run_module(hugepages, {'boot': True, 'pools': [{'size': '1G', 'count': 2, 'node': 0}]})
    assert result.failed and 'requested 2 pages, obtained 0' in result['msg']
    assert fake_host.read('/etc/default/grub') == SCATTERED
    assert os.stat(fake_host.path('/etc/default/grub')).st_mode & 0o777 == 0o600
    assert '/boot/grub/grub.cfg regenerated (its kernel lines hold the previous parameters: checked)' in result['msg']
    cfg = fake_host.read('/boot/grub/grub.cfg')
    assert 'ro hugepagesz=1G console=ttyS0,115200n8 quiet hugepages=0:1 splash\n' in cfg
    assert 'ro single hugepagesz=1G console=ttyS0,115200n8\n' in cfg
    # The backup of the original survives next to it.
    backups = [name for name in os.listdir(fake_host.path('/etc/default')) if name.startswith('grub.') and name.endswith('~')]
    assert len(backups) == 1 and fake_host.read('/etc/default/' + backups[0]) == SCATTERED
    assert commands.calls == [UPDATE, UPDATE]


def test_double_fault_keeps_the_first_error_and_says_what_was_not_put_back(fake_host, monkeypatch, commands, run_module):
    numa_host(fake_host)
    FakeHugetlb(fake_host, monkeypatch, limits={(G, 0): 0})
    debian_boot(fake_host, commands, grub=SCATTERED)
    generate = grub_cfg_generator(fake_host)
    runs = []

    def update_grub(argv):
        runs.append(argv)
        if len(runs) == 1:
            generate(argv)
    commands.on(UPDATE, effect=update_grub)
    # The second update-grub (the put-back) fails: /boot is full now.
    original_run = commands.run

    def run(args, **kwargs):
        if list(args) == UPDATE and runs:
            commands.calls.append(list(args))
            runs.append(args)
            return 1, '', 'grub-mkconfig: error: cannot write /boot/grub/grub.cfg.new: No space left on device'
        return original_run(args, **kwargs)
    monkeypatch.setattr(commands, 'run', run)
    result = run_module(hugepages, {'boot': True, 'pools': [{'size': '1G', 'count': 2, 'node': 0}]})
    msg = result['msg']
    assert result.failed and result['requested'] == 2 and result['obtained'] == 0
    assert msg.startswith('pools[0]: 1G pool on node 0: requested 2 pages, obtained 0'), msg
    assert 'boot configuration NOT fully put back' in msg
    assert 'put back: /etc/default/grub restored byte for byte' in msg
    assert ('NOT put back: /boot/grub/grub.cfg NOT regenerated: /usr/bin/update-grub failed (rc=1): grub-mkconfig: error: '
            'cannot write /boot/grub/grub.cfg.new: No space left on device') in msg
    assert '(its kernel lines hold hugepagesz=1G hugepages=0:2: checked)' in msg
    assert 'the configured kernel command line may still hold hugepagesz=1G hugepages=0:2' in msg
    assert msg.endswith('fix that and run update-grub'), msg
    assert fake_host.read('/etc/default/grub') == SCATTERED
    assert 'hugepages=0:2' in fake_host.read('/boot/grub/grub.cfg')


def _rhel_boot(fake_host, monkeypatch, commands, entries):
    from ansible_collections.nfv.dpdk.tests.unit.plugins.module_utils.bootloader_hosts import RHEL_GRUB, rhel_host
    grubby = rhel_host(fake_host, commands, entries=entries)
    numa_host(fake_host)
    FakeHugetlb(fake_host, monkeypatch, limits={(G, 0): 0})
    return grubby, RHEL_GRUB


RHEL_ENTRIES = [
    {'kernel': '/boot/vmlinuz-5.14.0-427.el9.x86_64', 'args': 'ro hugepagesz=1G crashkernel=1G-4G:192M hugepages=0:1 rhgb quiet $tuned_params'},
    {'kernel': '/boot/vmlinuz-0-rescue-0123456789abcdef', 'args': 'ro crashkernel=1G-4G:192M rhgb quiet'},
]


def test_rhel_rollback_gives_each_entry_its_exact_old_options(fake_host, monkeypatch, commands, run_module):
    grubby, grub = _rhel_boot(fake_host, monkeypatch, commands, RHEL_ENTRIES)
    fake_host.file('/etc/kernel/cmdline', 'root=UUID=5b12f430 ro  hugepagesz=1G hugepages=0:1 quiet\n')
    result = run_module(hugepages, {'boot': True, 'pools': [{'size': '1G', 'count': 2, 'node': 0}]})
    msg = result['msg']
    assert result.failed and 'requested 2 pages, obtained 0' in msg
    assert [entry['args'] for entry in grubby.entries] == [entry['args'] for entry in RHEL_ENTRIES]
    assert fake_host.read('/etc/kernel/cmdline') == 'root=UUID=5b12f430 ro  hugepagesz=1G hugepages=0:1 quiet\n'
    assert fake_host.read('/etc/default/grub') == grub
    assert ('options of boot entry /boot/vmlinuz-5.14.0-427.el9.x86_64 restored exactly (checked with grubby --info=ALL)'
            in msg)
    assert 'options of boot entry /boot/vmlinuz-0-rescue-0123456789abcdef restored exactly' in msg
    assert '/etc/kernel/cmdline restored byte for byte' in msg
    # The first entry was put back with the words after the common prefix, in their old order.
    assert commands.ran(['/usr/bin/grubby', '--update-kernel=/boot/vmlinuz-5.14.0-427.el9.x86_64', '**']) == [[
        '/usr/bin/grubby', '--update-kernel=/boot/vmlinuz-5.14.0-427.el9.x86_64',
        '--remove-args=crashkernel=1G-4G:192M rhgb quiet $tuned_params hugepagesz=1G hugepages=0:2',
        '--args=hugepagesz=1G crashkernel=1G-4G:192M hugepages=0:1 rhgb quiet $tuned_params']]


def test_rhel_double_fault_names_the_entries_not_put_back(fake_host, monkeypatch, commands, run_module):
    grubby, grub = _rhel_boot(fake_host, monkeypatch, commands, RHEL_ENTRIES)
    commands.on(['/usr/bin/grubby', '--update-kernel=/boot/*', '**'], rc=1, err='grubby: /boot is read-only')
    result = run_module(hugepages, {'boot': True, 'pools': [{'size': '1G', 'count': 2, 'node': 0}]})
    msg = result['msg']
    assert result.failed and msg.startswith('pools[0]: 1G pool on node 0: requested 2 pages, obtained 0'), msg
    assert 'boot configuration NOT fully put back' in msg
    assert 'NOT put back: boot entry /boot/vmlinuz-5.14.0-427.el9.x86_64 NOT put back: ' in msg
    assert 'grubby: /boot is read-only' in msg and 'restored exactly' not in msg
    assert '/etc/default/grub restored byte for byte' in msg and fake_host.read('/etc/default/grub') == grub
    assert 'the configured kernel command line may still hold hugepagesz=1G hugepages=0:2' in msg
    assert 'hugepages=0:2' in grubby.args(0)


def test_boot_unit_written_but_not_loaded_is_reloaded_on_the_rerun(fake_host, monkeypatch, commands, run_module):
    """A run killed during daemon-reload: the unit file is right, systemd has not loaded it."""
    numa_host(fake_host, kernel='5.15.0-91-generic')
    FakeHugetlb(fake_host, monkeypatch)
    debian_boot(fake_host, commands)
    systemd_boot(fake_host, commands)
    fake_host.mkdir('/run/systemd/system')
    reload_ = ['/usr/bin/systemctl', 'daemon-reload']
    show = ['/usr/bin/systemctl', 'show', '--property=NeedDaemonReload', '--property=LoadState', UNIT_NAME]
    commands.on(reload_)
    args = {'boot': True, 'runtime': False, 'pools': [{'size': '2M', 'count': 8, 'node': 0}], 'per_node_boot': 'systemd'}
    assert run_module(hugepages, args).changed
    assert commands.ran(reload_) == [reload_]
    # systemd says the loaded definition is stale, e.g. the earlier reload never ran.
    commands.on(show, out='LoadState=loaded\nNeedDaemonReload=yes\n')
    del commands.calls[:]
    checked = run_module(hugepages, args, check_mode=True)
    assert checked.changed and commands.ran(reload_) == []
    rerun = run_module(hugepages, args)
    assert rerun.changed and commands.ran(reload_) == [reload_]
    commands.on(show, out='LoadState=loaded\nNeedDaemonReload=no\n')
    del commands.calls[:]
    again = run_module(hugepages, args)
    assert not again.changed and commands.ran(reload_) == []
