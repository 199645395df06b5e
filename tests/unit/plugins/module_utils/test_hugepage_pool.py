import os

import pytest

from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.hugepage_pool import (
    COMPACT_MEMORY, HugepagePool, HugepageSizeError, HugepageState, cpu_flags, format_size, parse_memory,
    parse_size, pool_dir, pool_label, set_pool,
)

G = 1024 * 1024


def two_node_host(fake_host, **pools):
    """2 sockets = 2 NUMA nodes of 8 GiB, 2M and 1G pools, globally and per node."""
    fake_host.topology(sockets=2, cores_per_socket=2)
    for size in (2048, G):
        fake_host.hugepages(size, total=pools.get('total_%d' % size, 0))
        for node in (0, 1):
            fake_host.hugepages(size, node=node, total=pools.get('node%d_%d' % (node, size), 0))
    fake_host.mounts()
    return fake_host


@pytest.mark.parametrize('text, kb', [
    ('2M', 2048), ('2048kB', 2048), ('2048KB', 2048), ('2048k', 2048), ('1G', G), ('1Gi', G), ('1GiB', G),
    ('2Mi', 2048), ('2MiB', 2048), ('2mb', 2048), (2048, 2048), ('2048', 2048), (' 1G ', G), ('64K', 64),
    ('16G', 16 * G), ('1T', 1024 * G),
])
def test_parse_size(text, kb):
    assert parse_size(text) == kb


@pytest.mark.parametrize('text', ['', 'M', '2X', '-2M', '1.5G', '0', 0, '2 M B', True, None, '2Gb extra'])
def test_parse_size_rejects(text):
    with pytest.raises(HugepageSizeError):
        parse_size(text)


@pytest.mark.parametrize('kb, text', [(2048, '2M'), (G, '1G'), (64, '64K'), (16 * G, '16G'), (32768, '32M'), (3000, '3000K')])
def test_format_size(kb, text):
    assert format_size(kb) == text
    assert parse_size(text) == kb


def test_parse_memory_sizes_and_percentages():
    assert parse_memory('10%', 1000) == 100
    assert parse_memory('0', 1000) == 0
    assert parse_memory('0%', 1000) == 0
    assert parse_memory('1G', 1000) == G
    for bad in ('110%', 'x%', 'lots'):
        with pytest.raises(HugepageSizeError):
            parse_memory(bad, 1000)


def test_paths_and_labels():
    assert pool_dir(2048) == '/sys/kernel/mm/hugepages/hugepages-2048kB'
    assert pool_dir(G, 1) == '/sys/devices/system/node/node1/hugepages/hugepages-1048576kB'
    assert pool_label(2048) == '2M pool'
    assert pool_label(G, 1) == '1G pool on node 1'


def test_two_nodes_both_sizes(fake_host):
    two_node_host(fake_host, total_2048=1536, node0_2048=1024, node1_2048=512, total_1048576=2, node1_1048576=2)
    fake_host.hugepages(2048, total=1536, free=1000, surplus=6, reserved=3)
    state = HugepageState.read(HostFS())
    assert state.sizes == [2048, G]
    assert state.default_size_kb == 2048
    assert state.numa_nodes == [0, 1]
    assert state.mem_total_kb == 16 * G
    assert state.node_memory_kb(1) == 8 * G
    pool = state.pool(2048)
    assert (pool.total, pool.free, pool.surplus, pool.reserved, pool.persistent) == (1536, 1000, 6, 3, 1530)
    assert state.pool(2048, 0).total == 1024 and state.pool(2048, 0).reserved is None
    assert state.pool(G, 1).memory_kb == 2 * G
    assert state.pool(G, 2) is None
    data = state.to_dict()
    assert data['sizes'] == ['2M', '1G'] and data['default_size'] == '2M'
    assert data['pools'][0] == {'size': '2M', 'size_kb': 2048, 'node': None, 'total': 1536, 'free': 1000,
                                'surplus': 6, 'reserved': 3, 'persistent': 1530}
    assert [(p['node'], p['size']) for p in data['node_pools']] == [(0, '2M'), (0, '1G'), (1, '2M'), (1, '1G')]
    assert 'HugepagePool(2M pool' in repr(pool)


def test_non_numa_vm_has_no_node_pools(fake_host):
    # A kernel without CONFIG_NUMA: no /sys/devices/system/node at all.
    fake_host.file('/sys/devices/system/cpu/online', '0-1')
    fake_host.meminfo(total_kb=4 * G)
    fake_host.hugepages(2048, total=16)
    state = HugepageState.read(HostFS())
    assert state.sizes == [2048]
    assert state.numa_nodes == []
    assert state.node_pools == {}
    assert state.pool(2048).persistent == 16
    assert state.mem_total_kb == 4 * G
    assert state.mounts == []


def test_missing_files_on_older_kernels(fake_host):
    # Per-node dirs without surplus_hugepages, a global pool without resv_hugepages.
    fake_host.topology(sockets=1, cores_per_socket=2)
    fake_host.file('/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages', '8')
    fake_host.file('/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages', '8')
    fake_host.mkdir('/sys/kernel/mm/hugepages/not-a-pool')
    state = HugepageState.read(HostFS())
    assert state.sizes == [2048]
    pool = state.pool(2048)
    assert (pool.total, pool.free, pool.surplus, pool.reserved) == (8, 0, 0, None)
    assert state.pool(2048, 0).persistent == 8


def test_no_hugetlb_support(fake_host):
    fake_host.topology()
    fake_host.file('/proc/meminfo', 'MemTotal: 1000 kB\n')
    state = HugepageState.read(HostFS())
    assert state.sizes == [] and state.default_size_kb is None
    assert state.to_dict()['default_size'] is None


def test_mounts_with_and_without_pagesize(fake_host):
    two_node_host(fake_host)
    fake_host.mounts('hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0',
                     'nodev /dev/hugepages-1G hugetlbfs rw,relatime,pagesize=1024M 0 0',
                     'none /mnt/huge\\040pages hugetlbfs rw,relatime 0 0',
                     'tmpfs /run tmpfs rw 0 0')
    state = HugepageState.read(HostFS())
    assert [(m.path, m.size_kb, m.explicit_size) for m in state.mounts] == [
        ('/dev/hugepages', 2048, True), ('/dev/hugepages-1G', G, True), ('/mnt/huge pages', 2048, False)]
    assert state.mount_at('/run')[0] == 'tmpfs' and state.mount_at('/run')[1] is None
    assert state.mount_at('/dev/hugepages-1G')[1].to_dict() == {
        'path': '/dev/hugepages-1G', 'source': 'nodev', 'size': '1G', 'size_kb': G, 'options': 'rw,relatime,pagesize=1024M'}
    assert state.mount_at('/nowhere') is None


def test_default_size_1g_applies_to_mount_without_pagesize(fake_host):
    two_node_host(fake_host)
    fake_host.meminfo(hugepagesize_kb=G)
    fake_host.mounts('hugetlbfs /dev/hugepages hugetlbfs rw,relatime 0 0')
    state = HugepageState.read(HostFS())
    assert state.default_size_kb == G
    assert state.mounts[0].size_kb == G


def test_cpu_flags(fake_host):
    fake_host.cpuinfo(flags='fpu pse')
    assert cpu_flags(HostFS()) == set(['fpu', 'pse'])
    fake_host.file('/proc/cpuinfo', 'processor : 0\nFeatures : fp asimd\n')
    assert cpu_flags(HostFS()) is None


class FakeKernel:
    """Writes to nr_hugepages behave like the kernel's: grants at most ``limit`` pages per pool."""

    def __init__(self, monkeypatch, limits=None, limit_after_compaction=None):
        self.limits = limits or {}
        self.after_compaction = limit_after_compaction or {}
        self.compacted = 0
        self.writes = []
        real_write = HostFS.write
        kernel = self

        def write(fs, path, value):
            kernel.writes.append((path, str(value)))
            if path == COMPACT_MEMORY:
                kernel.compacted += 1
                kernel.limits.update(kernel.after_compaction)
                return real_write(fs, path, value)
            if path.endswith('/nr_hugepages'):
                granted = min(int(value), kernel.limits.get(path.rsplit('/', 1)[0], int(value)))
                real_write(fs, path, granted)
                real_write(fs, path.replace('/nr_hugepages', '/free_hugepages'), granted)
                return None
            return real_write(fs, path, value)
        monkeypatch.setattr(HostFS, 'write', write)


def test_set_pool_full_allocation(fake_host, monkeypatch):
    two_node_host(fake_host)
    kernel = FakeKernel(monkeypatch)
    outcome = set_pool(HostFS(), 2048, 64, node=1)
    assert outcome == {'requested': 64, 'previous': 0, 'obtained': 64, 'attempts': 1, 'compacted': False}
    assert fake_host.read(pool_dir(2048, 1) + '/nr_hugepages').strip() == '64'
    assert kernel.compacted == 0


def test_set_pool_partial_compacts_and_retries_once(fake_host, monkeypatch):
    two_node_host(fake_host)
    fake_host.file(COMPACT_MEMORY, '')
    kernel = FakeKernel(monkeypatch, limits={pool_dir(G, 0): 1}, limit_after_compaction={pool_dir(G, 0): 3})
    outcome = set_pool(HostFS(), G, 4, node=0)
    assert outcome == {'requested': 4, 'previous': 0, 'obtained': 3, 'attempts': 2, 'compacted': True}
    assert kernel.compacted == 1
    assert [w for w in kernel.writes if w[0].endswith('nr_hugepages')] == [(pool_dir(G, 0) + '/nr_hugepages', '4')] * 2


def test_set_pool_compaction_can_succeed(fake_host, monkeypatch):
    two_node_host(fake_host)
    fake_host.file(COMPACT_MEMORY, '')
    FakeKernel(monkeypatch, limits={pool_dir(G): 1}, limit_after_compaction={pool_dir(G): 99})
    assert set_pool(HostFS(), G, 4)['obtained'] == 4


def test_set_pool_without_compaction(fake_host, monkeypatch):
    two_node_host(fake_host)
    fake_host.file(COMPACT_MEMORY, '')
    kernel = FakeKernel(monkeypatch, limits={pool_dir(2048): 10})
    outcome = set_pool(HostFS(), 2048, 64, compact=False)
    assert (outcome['obtained'], outcome['attempts'], kernel.compacted) == (10, 1, 0)
    # No compact_memory file (kernel without CONFIG_COMPACTION): no retry either.
    fake_host.file(pool_dir(2048) + '/nr_hugepages', '0')
    os.unlink(fake_host.path(COMPACT_MEMORY))
    outcome = set_pool(HostFS(), 2048, 64)
    assert (outcome['obtained'], outcome['attempts'], kernel.compacted) == (10, 1, 0)


def test_set_pool_missing_pool_raises(fake_host):
    two_node_host(fake_host)
    with pytest.raises(OSError):
        set_pool(HostFS(), 2048, 1, node=7)


def test_pool_read_missing_dir(fake_host):
    assert HugepagePool.read(HostFS(), 2048) is None
