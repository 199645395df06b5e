from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_topology import CpuTopology, parse_meminfo
from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet


def test_two_sockets_with_hyperthreads(fake_host):
    fake_host.topology(sockets=2, cores_per_socket=4, threads_per_core=2)
    topo = CpuTopology.read()
    assert topo.online.format() == '0-15'
    assert sorted(topo.nodes) == [0, 1]
    assert topo.node_cpus(0).format() == '0-3,8-11'
    assert topo.node_cpus(1).format() == '4-7,12-15'
    assert topo.siblings[1].format() == '1,9'
    assert topo.cores()[0].format() == '0,8'
    assert len(topo.cores()) == 8
    assert topo.threads_per_core() == 2
    assert topo.nodes_of('2,5') == [0, 1]
    assert [c.format() for c in topo.split_cores('1-3')] == ['1,9', '2,10', '3,11']
    assert topo.split_cores('1-3,9-11') == []


def test_offline_cpus_and_gaps(fake_host):
    fake_host.topology(sockets=1, cores_per_socket=4, threads_per_core=1, offline='2')
    topo = CpuTopology.read()
    assert topo.online.format() == '0-1,3'
    assert topo.offline.format() == '2'
    assert topo.node_cpus(0).format() == '0-1,3'
    assert 2 not in topo.siblings


def test_no_numa_directory_is_one_node(fake_host):
    fake_host.file('/sys/devices/system/cpu/online', '0-1')
    fake_host.meminfo(total_kb=4096000)
    topo = CpuTopology.read()
    assert list(topo.nodes) == [0]
    assert topo.nodes[0].cpus == CpuSet([0, 1])
    assert topo.nodes[0].mem_total_kb == 4096000
    # Missing topology files (old kernels, containers) fall back to one thread per core.
    assert topo.siblings[1] == CpuSet([1])
    assert topo.to_dict()['threads_per_core'] == 1


def test_parse_meminfo_node_and_global_forms():
    assert parse_meminfo('Node 1 MemTotal:  100 kB\nNode 1 MemFree: 5 kB') == {'MemTotal': 100, 'MemFree': 5}
    assert parse_meminfo('HugePages_Total:   4\nHugepagesize:    2048 kB')['HugePages_Total'] == 4
