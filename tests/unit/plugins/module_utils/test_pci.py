# -*- coding: utf-8 -*-
import json
import os

import pytest

from ansible_collections.nfv.dpdk.plugins.module_utils import pci
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.pci import (
    PciAddress, PciAddressError, PciDevice, is_bifurcated, known_vendors, route_interfaces)
from ansible_collections.nfv.dpdk.tests.unit.plugins.module_utils.pcihost import add_vfs, load_host


# -- addresses -------------------------------------------------------------------------

@pytest.mark.parametrize('text, canonical', [
    ('0000:3b:00.0', '0000:3b:00.0'),
    ('3b:00.0', '0000:3b:00.0'),
    ('0000:3B:00.1', '0000:3b:00.1'),
    ('  af:1F.7 ', '0000:af:1f.7'),
    ('0001:00:02.3', '0001:00:02.3'),
    ('10000:e0:17.0', '10000:e0:17.0'),
    ('FFFF:FF:1f.7', 'ffff:ff:1f.7'),
])
def test_address_good_forms(text, canonical):
    address = PciAddress.parse(text)
    assert str(address) == canonical
    assert PciAddress.is_valid(text)
    assert PciAddress.parse(canonical) == address
    assert hash(PciAddress.parse(canonical)) == hash(address)


@pytest.mark.parametrize('text', [
    '', '3b:00', '3b.00.0', '0000:3b:00:0', '0000:3b:00.8', '0000:3b:20.0', '3b:0.0', '000:3b:00.0',
    '0000:3g:00.0', 'eth0', '0x3b:00.0', '0000:3b:00.0.1', '0000 :3b:00.0', None, 3,
])
def test_address_bad_forms(text):
    assert not PciAddress.is_valid(text)
    with pytest.raises(PciAddressError) as exc:
        PciAddress.parse(text)
    assert 'DDDD:BB:DD.F' in str(exc.value) and 'BB:DD.F' in str(exc.value)
    assert isinstance(exc.value, ValueError)


def test_address_fields_order_and_set():
    address = PciAddress.parse('0000:af:01.2')
    assert (address.domain, address.bus, address.device, address.function) == (0, 0xaf, 1, 2)
    assert len({PciAddress.parse('af:01.2'), address, PciAddress.parse('0000:AF:01.2')}) == 1
    assert sorted([PciAddress.parse('af:00.1'), PciAddress.parse('18:00.0'), PciAddress.parse('af:00.0')]) == [
        PciAddress.parse('18:00.0'), PciAddress.parse('af:00.0'), PciAddress.parse('af:00.1')]
    assert address != PciAddress.parse('af:01.3')
    assert PciAddress.parse(address) is address
    assert repr(address) == "PciAddress('0000:af:01.2')"


# -- the X710 host ------------------------------------------------------------------------

@pytest.fixture
def x710(fake_host):
    return load_host(fake_host, 'x710-2socket')


def test_x710_pf(x710):
    dev = PciDevice('af:00.0')
    assert dev.address == '0000:af:00.0'
    assert dev.path == '/sys/bus/pci/devices/0000:af:00.0'
    assert dev.exists
    assert (dev.vendor_id, dev.device_id, dev.class_code) == ('8086', '1572', '020000')
    assert dev.vendor_name == 'Intel'
    assert dev.is_network
    assert dev.driver == 'i40e'
    assert dev.driver_override is None
    assert dev.numa_node == 1
    assert dev.iommu_group == 60
    assert dev.iommu_group_devices == ['0000:af:00.0']
    assert (dev.sriov_totalvfs, dev.sriov_numvfs) == (64, 0)
    assert dev.is_sriov_pf and not dev.is_vf
    assert dev.vfs == [] and dev.physfn is None and dev.vf_index is None
    assert dev.netdevs == ['ens1f0']
    assert dev.link_state('ens1f0') == 'up'
    assert not dev.is_bifurcated and not dev.is_dpdk_bound


def test_x710_all_and_classes(x710):
    devices = PciDevice.all()
    assert [d.address for d in devices] == ['0000:00:00.0', '0000:18:00.0', '0000:af:00.0', '0000:af:00.1',
                                            '0000:b0:00.0']
    assert [d.address for d in devices if d.is_network] == ['0000:18:00.0', '0000:af:00.0', '0000:af:00.1']
    bridge = devices[0]
    assert bridge.class_code == '060000' and not bridge.is_network and bridge.driver is None
    assert bridge.sriov_totalvfs is None and not bridge.is_sriov_pf
    nvme = PciDevice('0000:b0:00.0')
    assert nvme.vendor_name is None and nvme.netdevs == []


def test_x710_driver_override_and_shared_group(x710):
    base = '/sys/devices/pci0000:00/0000:af:00.1'
    x710.file(base + '/driver_override', 'vfio-pci')
    # Put both PFs into group 60, as on a board without ACS.
    x710.link('/sys/kernel/iommu_groups/60/devices/0000:af:00.1', base)
    x710.link(base + '/iommu_group', '/sys/kernel/iommu_groups/60')
    dev = PciDevice('0000:af:00.1')
    assert dev.driver_override == 'vfio-pci'
    assert dev.iommu_group == 60
    assert dev.iommu_group_devices == ['0000:af:00.0', '0000:af:00.1']
    x710.file(base + '/driver_override', '')
    assert dev.driver_override is None


def test_vf_and_pf_links(x710):
    vfs = add_vfs(x710, '0000:af:00.0', 10, driver='iavf', iommu_group_base=100, netdev_prefix='ens1f0')
    pf = PciDevice('0000:af:00.0')
    assert pf.sriov_numvfs == 10
    # virtfn10 sorts before virtfn2 as text; VFs are ordered by N.
    assert pf.vfs == vfs
    assert pf.vfs[:3] == ['0000:af:02.0', '0000:af:02.1', '0000:af:02.2']
    assert pf.vfs[9] == '0000:af:03.1'
    vf = PciDevice('af:03.1')
    assert vf.is_vf and not vf.is_sriov_pf
    assert vf.physfn == '0000:af:00.0'
    assert vf.vf_index == 9
    assert vf.driver == 'iavf'
    assert vf.numa_node == 1
    assert vf.iommu_group == 109
    assert vf.netdevs == ['ens1f0v9']
    assert vf.device_id == '154c'
    data = vf.to_dict()
    assert data['physfn'] == '0000:af:00.0' and data['vf_index'] == 9 and data['is_vf']
    assert len(PciDevice.all()) == 15


def test_to_dict_is_json_and_complete(x710):
    data = PciDevice('0000:18:00.0').to_dict()
    json.dumps(data)
    assert data == {
        'address': '0000:18:00.0', 'vendor_id': '8086', 'device_id': '1521', 'subsystem_vendor_id': '8086',
        'subsystem_device_id': '1521', 'vendor_name': 'Intel', 'class_code': '020000', 'is_network': True,
        'driver': 'igb', 'driver_override': None, 'is_dpdk_bound': False, 'is_bifurcated': False, 'numa_node': 0,
        'iommu_group': 30, 'iommu_group_devices': ['0000:18:00.0'], 'sriov_totalvfs': 7, 'sriov_numvfs': 0,
        'is_sriov_pf': True, 'vfs': [], 'physfn': None, 'is_vf': False, 'vf_index': None, 'netdevs': ['eno1'],
        'link_states': {'eno1': 'up'},
    }


def test_from_netdev(x710):
    assert PciDevice.from_netdev('ens1f1').address == '0000:af:00.1'
    assert PciDevice.from_netdev('eno1').address == '0000:18:00.0'
    x710.netdev('br0')
    assert PciDevice.from_netdev('br0') is None
    assert PciDevice.from_netdev('nosuch') is None
    assert PciDevice.from_netdev('../../../etc') is None


def test_routes(x710):
    # eno1 has the IPv4 default route; ens1f0 only the link-local fe80::/64 every IPv6 interface has.
    assert route_interfaces() == {'eno1'}
    assert route_interfaces(default_only=True) == {'eno1'}
    x710.file('/proc/net/ipv6_route', '\n'.join([
        '20010db8000000000000000000000000 40 00000000000000000000000000000000 00 '
        '00000000000000000000000000000000 00000100 00000001 00000000 00000001   ens1f1',
        'ff000000000000000000000000000000 08 00000000000000000000000000000000 00 '
        '00000000000000000000000000000000 00000100 00000001 00000000 00000001   ens1f0',
        '20010db8000000000000000000000001 80 00000000000000000000000000000000 00 '
        '00000000000000000000000000000000 00000000 00000003 00000000 80200001       lo',
        '00000000000000000000000000000000 00 00000000000000000000000000000000 00 '
        'fe800000000000000000000000000001 00000400 00000001 00000000 00000003    ens1f1',
    ]))
    assert route_interfaces() == {'eno1', 'ens1f1'}
    assert route_interfaces(default_only=True) == {'eno1', 'ens1f1'}
    routes = pci.routes()
    assert {'interface': 'ens1f1', 'family': 'ipv6', 'default': True} in routes


def test_ipv4_routes_skip_down_reject_and_lo(fake_host):
    fake_host.file('/proc/net/route', '\n'.join([
        'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
        'eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
        'eth1\t0000A8C0\t00000000\t0000\t0\t0\t0\t00FFFFFF\t0\t0\t0',
        'eth2\t0000000A\t00000000\t0201\t0\t0\t0\t000000FF\t0\t0\t0',
        'lo\t0000007F\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0',
        'garbage line',
    ]))
    assert route_interfaces() == {'eth0'}
    assert route_interfaces(default_only=True) == set()


def test_no_route_files(fake_host):
    assert route_interfaces() == set()
    assert pci.routes(HostFS()) == []


# -- the ConnectX-5 host ----------------------------------------------------------------

def test_cx5_bifurcated(fake_host):
    load_host(fake_host, 'cx5-bifurcated')
    dev = PciDevice('41:00.1')
    assert (dev.vendor_id, dev.device_id, dev.driver) == ('15b3', '1017', 'mlx5_core')
    assert dev.vendor_name == known_vendors['15b3']
    assert dev.is_bifurcated and is_bifurcated(dev)
    assert dev.netdevs == ['ens2f1np1']
    assert dev.numa_node == 0 and dev.iommu_group == 41
    assert not PciDevice('42:00.0').is_bifurcated
    assert PciDevice('42:00.0').vendor_name == 'Broadcom'


@pytest.mark.parametrize('kwargs, expected', [
    ({'driver': 'mlx5_core'}, True),
    ({'driver': 'mlx4_core'}, True),
    ({'vendor_id': '15b3'}, True),
    ({'vendor_id': '0x15B3', 'driver': None}, True),
    ({'vendor_id': '8086', 'driver': 'i40e'}, False),
    ({}, False),
])
def test_is_bifurcated_helper(kwargs, expected):
    assert is_bifurcated(**kwargs) is expected


def test_known_vendors_table():
    for vendor_id, name in {'8086': 'Intel', '15b3': 'Mellanox', '14e4': 'Broadcom', '1af4': 'virtio',
                            '1077': 'QLogic', '1924': 'Solarflare', '19e5': 'Huawei'}.items():
        assert name in known_vendors[vendor_id]


# -- the VM ------------------------------------------------------------------------------

def test_vm_virtio_and_older_kernel(fake_host):
    load_host(fake_host, 'vm-virtio')
    net = PciDevice('00:03.0')
    assert net.is_network and net.driver == 'virtio-pci'
    assert net.iommu_group is None and net.iommu_group_devices == []
    assert net.numa_node == -1
    assert net.sriov_totalvfs is None and net.sriov_numvfs is None and not net.is_sriov_pf
    # virtio-net keeps its interface below virtio0/net, not net/.
    assert net.netdevs == ['eth0']
    assert PciDevice.from_netdev('eth0') == net
    blk = PciDevice('0000:00:04.0')
    assert not blk.is_network and blk.class_code == '010000'
    # numa_node and driver_override are absent on this older kernel: None, not a traceback.
    assert blk.numa_node is None and blk.driver_override is None
    assert blk.to_dict()['numa_node'] is None
    assert not os.path.exists(fake_host.path('/sys/kernel/iommu_groups'))


def test_missing_device_reads_none(fake_host):
    dev = PciDevice('0000:5e:00.0')
    assert not dev.exists
    data = dev.to_dict()
    assert data['vendor_id'] is None and data['class_code'] is None and data['numa_node'] is None
    assert data['netdevs'] == [] and data['vfs'] == [] and not data['is_network']
    assert dev.link_state('eth9') is None
    assert PciDevice.all() == []


def test_malformed_attributes(fake_host):
    fake_host.pci_device('0000:3b:00.0', vendor='garbage', numa_node='x')
    fake_host.file('/sys/devices/pci0000:00/0000:3b:00.0/iommu_group', 'not a link')
    dev = PciDevice('3b:00.0')
    assert dev.vendor_id is None and dev.numa_node is None and dev.iommu_group is None


def test_device_identity(x710):
    assert PciDevice('af:00.0') == PciDevice('0000:AF:00.0')
    assert len({PciDevice('af:00.0'), PciDevice('0000:af:00.0')}) == 1
    with pytest.raises(PciAddressError):
        PciDevice('eth0')


def test_address_does_not_equal_strings():
    assert PciAddress.parse('3b:00.0') != '0000:3b:00.0'
    assert str(PciAddress.parse('3b:00.0')) == '0000:3b:00.0'


def test_routes_through_a_bond_or_vlan_protect_the_lower_nics(x710):
    # bond0 (slaves ens1f0, ens1f1) carries the route through VLAN bond0.100.
    x710.netdev('bond0')
    x710.netdev('bond0.100')
    x710.link('/sys/devices/virtual/net/bond0.100/lower_bond0', '/sys/devices/virtual/net/bond0')
    for port in ('ens1f0', 'ens1f1'):
        x710.link('/sys/devices/virtual/net/bond0/lower_%s' % port, os.path.realpath(
            x710.path('/sys/class/net/' + port))[len(x710.root):])
    x710.routes('eno1', 'bond0.100')
    assert pci.lower_interfaces('bond0.100') == {'bond0', 'ens1f0', 'ens1f1'}
    assert pci.lower_interfaces('eno1') == set()
    assert route_interfaces() == {'eno1', 'bond0.100', 'bond0', 'ens1f0', 'ens1f1'}
    assert PciDevice.from_netdev('bond0') is None
