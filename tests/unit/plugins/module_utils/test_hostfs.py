from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS


def test_reads_below_the_test_root(fake_host):
    fake_host.file('/sys/bus/pci/devices/x/numa_node', '1')
    fs = HostFS()
    assert fs.root == fake_host.root
    assert fs.read('/sys/bus/pci/devices/x/numa_node') == '1'
    assert fs.read_int('/sys/bus/pci/devices/x/numa_node') == 1
    assert fs.read('/missing', default='n/a') == 'n/a'
    assert fs.read_int('/missing') is None
    assert fs.listdir('/missing') == []


def test_links_resolve_to_host_paths(fake_host):
    fake_host.pci_device('0000:3b:00.0', driver='i40e', iommu_group=12)
    fs = HostFS()
    assert fs.link_name('/sys/bus/pci/devices/0000:3b:00.0/driver') == 'i40e'
    assert fs.readlink('/sys/bus/pci/devices/0000:3b:00.0/iommu_group') == '/sys/kernel/iommu_groups/12'
    assert fs.readlink('/sys/bus/pci/devices/0000:3b:00.0/vendor') is None


def test_write_and_read_int_of_hex(fake_host):
    fake_host.file('/sys/x/vendor', '0x8086')
    fs = HostFS()
    assert fs.read_int('/sys/x/vendor') == 0x8086
    fs.write('/sys/x/vendor', 'abc')
    assert fake_host.read('/sys/x/vendor') == 'abc'


def test_real_root_is_slash(monkeypatch):
    monkeypatch.delenv('NFV_DPDK_TEST_ROOT', raising=False)
    fs = HostFS()
    assert fs.path('/proc/cmdline') == '/proc/cmdline'
