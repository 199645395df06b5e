# -*- coding: utf-8 -*-
"""Host fixtures with the PCI details FakeHost.from_spec does not build yet.

``load_host(fake_host, name)`` builds tests/unit/fixtures/hosts/<name>.yml into
the ``fake_host`` tree and then applies the keys from_spec ignores:
``vfs`` (SR-IOV VFs linked to their PF), ``netdevs`` (interfaces under a
virtio child device) and ``remove`` (files an older kernel lacks).
``add_vfs`` creates VFs the way the kernel does after a write to sriov_numvfs.
"""

import os
import shutil

import yaml

from ansible_collections.nfv.dpdk.tests.unit.fakehost import FIXTURES, FakeHost


def fixture_spec(name):
    with open(os.path.join(FIXTURES, name + '.yml')) as handle:
        return yaml.safe_load(handle)


def load_host(fake_host, name):
    spec = fixture_spec(name)
    FakeHost.from_spec(fake_host.root, spec)
    for vf_spec in spec.get('vfs', []):
        vf_spec = dict(vf_spec)
        add_vfs(fake_host, vf_spec.pop('pf'), vf_spec.pop('count'), **vf_spec)
    for netdev in spec.get('netdevs', []):
        add_virtio_netdev(fake_host, netdev['device'], netdev['ifname'], netdev.get('virtio', 'virtio0'))
    for path in spec.get('remove', []):
        real = fake_host.path(path)
        if os.path.isdir(real) and not os.path.islink(real):
            shutil.rmtree(real)
        elif os.path.lexists(real):
            os.unlink(real)
    return fake_host


def device_dir(fake_host, address):
    """Host path of the real device directory behind /sys/bus/pci/devices/<address>."""
    real = os.path.realpath(fake_host.path('/sys/bus/pci/devices/' + address))
    return '/' + os.path.relpath(real, fake_host.root)


def add_vfs(fake_host, pf, count, first_address=None, driver=None, device='0x154c', iommu_group_base=None,
            netdev_prefix=None):
    """``count`` VFs of PF ``pf`` with virtfnN and physfn links, as the kernel creates them.

    VF addresses follow the PF's bus: function numbers 0-7 on devices 02, 03...
    (``first_address`` overrides the first one). sriov_numvfs is set to ``count``.
    """
    pf_dir = device_dir(fake_host, pf)
    domain, bus, _rest = pf.split(':')
    vendor = fake_host.read(pf_dir + '/vendor').strip()
    numa_node = int(fake_host.read(pf_dir + '/numa_node').strip()) if fake_host.exists(pf_dir + '/numa_node') else -1
    start = 0x10 if first_address is None else int(first_address.split(':')[2].split('.')[0], 16) * 8 + int(
        first_address.split('.')[-1])
    addresses = []
    for index in range(count):
        slot = start + index
        address = '%s:%s:%02x.%d' % (domain, bus, slot // 8, slot % 8)
        group = None if iommu_group_base is None else iommu_group_base + index
        netdevs = ['%sv%d' % (netdev_prefix, index)] if netdev_prefix else ()
        vf_dir = fake_host.pci_device(address, vendor=vendor, device=device, driver=driver, numa_node=numa_node,
                                      iommu_group=group, netdevs=netdevs, parent=os.path.dirname(pf_dir))
        fake_host.link(pf_dir + '/virtfn%d' % index, vf_dir)
        fake_host.link(vf_dir + '/physfn', pf_dir)
        addresses.append(address)
    fake_host.file(pf_dir + '/sriov_numvfs', str(count))
    return addresses


def add_virtio_netdev(fake_host, address, ifname, virtio='virtio0'):
    """A virtio-net interface: /sys/class/net/<if>/device points at the virtio child, not the PCI function."""
    child = device_dir(fake_host, address) + '/' + virtio
    fake_host.mkdir(child)
    fake_host.netdev(ifname, device_path=child)
    return child
