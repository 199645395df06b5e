# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PCI devices as sysfs shows them: addresses, ids, driver, NUMA node, IOMMU group, SR-IOV, netdevs.

Everything is read through ``HostFS`` on each access (no caching), so a module
that writes ``sriov_numvfs`` or binds a driver sees the new state on the next
read. Attributes that older kernels or some devices do not expose read as
None; nothing here raises for a missing file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.yaml_numbers import PCI_ADDRESS, unquoted_number_reason

PCI_DEVICES_DIR = '/sys/bus/pci/devices'
PCI_DRIVERS_DIR = '/sys/bus/pci/drivers'
IOMMU_GROUPS_DIR = '/sys/kernel/iommu_groups'
NET_CLASS_DIR = '/sys/class/net'

# Domain: 4 hex digits as the kernel prints it (%04x); VMD domains have 5 (10000:e0:17.0).
_ADDRESS = re.compile(r'^(?:([0-9a-f]{4,8}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$')
_VIRTFN = re.compile(r'^virtfn(\d+)$')
_VIRTIO = re.compile(r'^virtio\d+$')

ACCEPTED_FORMS = 'DDDD:BB:DD.F (e.g. 0000:3b:00.0) or BB:DD.F (e.g. 3b:00.0, domain 0000); ' \
                 'hexadecimal, device 00-1f, function 0-7'

# Drivers that hand a device to DPDK (userspace I/O).
DPDK_DRIVERS = ('vfio-pci', 'igb_uio', 'uio_pci_generic')

# Drivers of bifurcated NICs: DPDK runs on them with the kernel driver bound.
BIFURCATED_DRIVERS = ('mlx4_core', 'mlx5_core')
BIFURCATED_VENDORS = ('15b3',)

known_vendors = {
    '8086': 'Intel',
    '15b3': 'Mellanox/NVIDIA',
    '14e4': 'Broadcom',
    '1af4': 'Red Hat (virtio)',
    '1077': 'QLogic/Marvell',
    '1924': 'Solarflare/AMD',
    '19e5': 'Huawei',
    '1d0f': 'Amazon (ENA)',
    '177d': 'Cavium/Marvell',
    '1137': 'Cisco',
    '10ee': 'Xilinx/AMD',
    '1dd8': 'Pensando/AMD',
    '8088': 'Wangxun',
    '15ad': 'VMware',
    '1022': 'AMD',
}


class PciAddressError(ValueError):
    """Text that is not a PCI address."""


class PciAddress:
    """A PCI function address: domain, bus, device, function (ints)."""

    __slots__ = ('domain', 'bus', 'device', 'function')

    def __init__(self, domain, bus, device, function):
        for name, value, top in (('domain', domain, 0xffffffff), ('bus', bus, 0xff),
                                 ('device', device, 0x1f), ('function', function, 7)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > top:
                raise PciAddressError('PCI address %s %r is out of range 0-%#x' % (name, value, top))
        self.domain = domain
        self.bus = bus
        self.device = device
        self.function = function

    @classmethod
    def parse(cls, text):
        """Parse ``0000:3b:00.0`` or ``3b:00.0`` (any case, surrounding spaces allowed)."""
        if isinstance(text, PciAddress):
            return text
        if not isinstance(text, str):
            raise PciAddressError(unquoted_number_reason(text, PCI_ADDRESS)
                                  or '%r is not a PCI address: use %s' % (text, ACCEPTED_FORMS))
        match = _ADDRESS.match(text.strip().lower())
        if not match:
            # A number here is YAML's reading of an unquoted 0000:41:00.0 (base 60, 2460.0).
            raise PciAddressError(unquoted_number_reason(text, PCI_ADDRESS)
                                  or "'%s' is not a PCI address: use %s" % (text, ACCEPTED_FORMS))
        domain = int(match.group(1), 16) if match.group(1) else 0
        device = int(match.group(3), 16)
        if device > 0x1f:
            raise PciAddressError("'%s' is not a PCI address: device %02x is above 1f; use %s"
                                  % (text, device, ACCEPTED_FORMS))
        return cls(domain, int(match.group(2), 16), device, int(match.group(4)))

    @classmethod
    def is_valid(cls, text):
        try:
            cls.parse(text)
        except PciAddressError:
            return False
        return True

    def _key(self):
        return (self.domain, self.bus, self.device, self.function)

    def __str__(self):
        return '%04x:%02x:%02x.%x' % self._key()

    def __repr__(self):
        return 'PciAddress(%r)' % str(self)

    def __eq__(self, other):
        # Only addresses compare equal: a string would need the same hash, and
        # '3b:00.0' and '0000:3b:00.0' cannot both have it. Compare str(address).
        if not isinstance(other, PciAddress):
            return NotImplemented
        return self._key() == other._key()

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __lt__(self, other):
        return self._key() < PciAddress.parse(other)._key()

    def __hash__(self):
        return hash(self._key())


def canonical_address(text):
    """``3B:00.0`` -> ``0000:3b:00.0``; raises PciAddressError."""
    return str(PciAddress.parse(text))


def _address_key(text):
    try:
        return (0,) + PciAddress.parse(text)._key()
    except PciAddressError:
        return (1, str(text))


def _hex_id(value, width):
    if value is None:
        return None
    value = value.strip().lower()
    if value.startswith('0x'):
        value = value[2:]
    if not value or any(char not in '0123456789abcdef' for char in value):
        return None
    return value.rjust(width, '0')


def is_bifurcated(device=None, driver=None, vendor_id=None):
    """Whether DPDK uses the NIC with its kernel driver bound (Mellanox/NVIDIA mlx4/mlx5).

    Such a device must never be bound to vfio-pci. Pass a ``PciDevice`` or a
    driver name and/or vendor id.
    """
    if device is not None:
        driver = device.driver if driver is None else driver
        vendor_id = device.vendor_id if vendor_id is None else vendor_id
    if driver in BIFURCATED_DRIVERS:
        return True
    return _hex_id(vendor_id, 4) in BIFURCATED_VENDORS if vendor_id else False


class PciDevice:
    """One PCI function below ``/sys/bus/pci/devices``; every property reads sysfs."""

    def __init__(self, address, fs=None):
        self.pci_address = PciAddress.parse(address)
        self.address = str(self.pci_address)
        self.fs = fs or HostFS()
        self.path = '%s/%s' % (PCI_DEVICES_DIR, self.address)

    def __repr__(self):
        return 'PciDevice(%r)' % self.address

    def __eq__(self, other):
        if not isinstance(other, PciDevice):
            return NotImplemented
        return self.address == other.address and self.fs.root == other.fs.root

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self):
        return hash(self.address)

    def _attr(self, name):
        return '%s/%s' % (self.path, name)

    # -- identity ----------------------------------------------------------------
    @property
    def exists(self):
        return self.fs.exists(self.path)

    @property
    def vendor_id(self):
        return _hex_id(self.fs.read(self._attr('vendor')), 4)

    @property
    def device_id(self):
        return _hex_id(self.fs.read(self._attr('device')), 4)

    @property
    def subsystem_vendor_id(self):
        return _hex_id(self.fs.read(self._attr('subsystem_vendor')), 4)

    @property
    def subsystem_device_id(self):
        return _hex_id(self.fs.read(self._attr('subsystem_device')), 4)

    @property
    def vendor_name(self):
        return known_vendors.get(self.vendor_id)

    @property
    def class_code(self):
        return _hex_id(self.fs.read(self._attr('class')), 6)

    @property
    def is_network(self):
        code = self.class_code
        return bool(code) and code.startswith('02')

    # -- driver --------------------------------------------------------------------
    @property
    def driver(self):
        return self.fs.link_name(self._attr('driver'))

    @property
    def driver_override(self):
        value = self.fs.read(self._attr('driver_override'))
        if not value or value == '(null)':
            return None
        return value

    @property
    def is_dpdk_bound(self):
        """Bound to a userspace I/O driver (vfio-pci, igb_uio, uio_pci_generic)."""
        return self.driver in DPDK_DRIVERS

    @property
    def is_bifurcated(self):
        return is_bifurcated(self)

    # -- locality --------------------------------------------------------------
    @property
    def numa_node(self):
        """NUMA node of the device; -1 means no affinity; None when the kernel has no such file."""
        value = self.fs.read(self._attr('numa_node'))
        try:
            return int(value) if value else None
        except ValueError:
            return None

    @property
    def iommu_group(self):
        name = self.fs.link_name(self._attr('iommu_group'))
        try:
            return int(name) if name is not None else None
        except ValueError:
            return None

    @property
    def iommu_group_devices(self):
        """Canonical addresses of every device in my IOMMU group (me included), sorted."""
        group = self.iommu_group
        if group is None:
            return []
        names = self.fs.listdir('%s/%d/devices' % (IOMMU_GROUPS_DIR, group))
        return sorted((canonical_address(n) for n in names if PciAddress.is_valid(n)), key=_address_key)

    # -- SR-IOV ------------------------------------------------------------------
    @property
    def sriov_totalvfs(self):
        return self.fs.read_int(self._attr('sriov_totalvfs'))

    @property
    def sriov_numvfs(self):
        return self.fs.read_int(self._attr('sriov_numvfs'))

    @property
    def is_sriov_pf(self):
        return bool(self.sriov_totalvfs)

    def _virtfns(self):
        """(N, VF address) for each ``virtfnN`` link, ordered by N."""
        found = []
        for name in self.fs.listdir(self.path):
            match = _VIRTFN.match(name)
            if not match:
                continue
            target = self.fs.link_name('%s/%s' % (self.path, name))
            if target and PciAddress.is_valid(target):
                found.append((int(match.group(1)), canonical_address(target)))
        return sorted(found)

    def vf_indexes(self):
        """{VF address: N} from this PF's ``virtfnN`` links (empty for other devices)."""
        return dict((address, index) for index, address in self._virtfns())

    @property
    def vfs(self):
        return [address for _index, address in self._virtfns()]

    def config_space(self):
        """The device's PCI config space bytes as this process may read them (None when unreadable).

        sysfs returns 4096 bytes (PCIe) to root and only the first 64 to other users.
        """
        try:
            with open(self.fs.path(self._attr('config')), 'rb') as handle:
                return handle.read(PCI_CONFIG_SIZE)
        except (IOError, OSError):
            return None

    def sriov_capability(self):
        """``parse_sriov_capability`` of this device's config space; raises SriovCapabilityError."""
        data = self.config_space()
        if data is None:
            raise SriovCapabilityError('%s/config cannot be read' % self.path)
        return parse_sriov_capability(data)

    def planned_vfs(self, count):
        """[(index, address)] of the first ``count`` VFs this PF would get, from its SR-IOV capability.

        First VF Offset and VF Stride are read as the device shows them now,
        that is for its current NumVFs: the PCIe spec lets a device change them
        when NumVFs changes (most NICs keep them constant), so the addresses of
        VFs still to be created are a plan that the kernel confirms when it
        creates them. Raises SriovCapabilityError.
        """
        capability = self.sriov_capability()
        return [(index, vf_routing_address(self.address, capability['vf_offset'], capability['vf_stride'], index))
                for index in range(count)]

    @property
    def physfn(self):
        target = self.fs.link_name(self._attr('physfn'))
        if target and PciAddress.is_valid(target):
            return canonical_address(target)
        return None

    @property
    def is_vf(self):
        return self.physfn is not None

    @property
    def vf_index(self):
        physfn = self.physfn
        if physfn is None:
            return None
        for index, address in PciDevice(physfn, self.fs)._virtfns():
            if address == self.address:
                return index
        return None

    # -- network interfaces ---------------------------------------------------------
    @property
    def netdevs(self):
        """Interface names of this function, sorted (virtio-net keeps them under virtioN/net)."""
        names = set(self.fs.listdir(self._attr('net')))
        for child in self.fs.listdir(self.path):
            if _VIRTIO.match(child):
                names.update(self.fs.listdir('%s/%s/net' % (self.path, child)))
        return sorted(names)

    def link_state(self, ifname):
        """The interface's operstate (``up``, ``down``, ``unknown``...), None when it has none."""
        if not _safe_ifname(ifname):
            return None
        return self.fs.read('%s/%s/operstate' % (NET_CLASS_DIR, ifname))

    def to_dict(self, vf_indexes=None):
        """The device as plain data. ``vf_indexes`` ({VF address: index}, from the PFs'
        ``virtfn`` links read once) spares each VF a walk of its PF's links: with it,
        describing every VF of a PF is linear instead of quadratic."""
        netdevs = self.netdevs
        vfs = self.vfs
        physfn = self.physfn
        if physfn is None:
            vf_index = None
        elif vf_indexes is not None and self.address in vf_indexes:
            vf_index = vf_indexes[self.address]
        else:
            vf_index = self.vf_index
        return {
            'address': self.address,
            'vendor_id': self.vendor_id,
            'device_id': self.device_id,
            'subsystem_vendor_id': self.subsystem_vendor_id,
            'subsystem_device_id': self.subsystem_device_id,
            'vendor_name': self.vendor_name,
            'class_code': self.class_code,
            'is_network': self.is_network,
            'driver': self.driver,
            'driver_override': self.driver_override,
            'is_dpdk_bound': self.is_dpdk_bound,
            'is_bifurcated': self.is_bifurcated,
            'numa_node': self.numa_node,
            'iommu_group': self.iommu_group,
            'iommu_group_devices': self.iommu_group_devices,
            'sriov_totalvfs': self.sriov_totalvfs,
            'sriov_numvfs': self.sriov_numvfs,
            'is_sriov_pf': self.is_sriov_pf,
            'vfs': vfs,
            'physfn': physfn,
            'is_vf': physfn is not None,
            'vf_index': vf_index,
            'netdevs': netdevs,
            'link_states': dict((name, self.link_state(name)) for name in netdevs),
        }

    # -- finding devices ------------------------------------------------------------
    @classmethod
    def all(cls, fs=None):
        """Every PCI function under /sys/bus/pci/devices, sorted by address."""
        fs = fs or HostFS()
        names = [name for name in fs.listdir(PCI_DEVICES_DIR) if PciAddress.is_valid(name)]
        return [cls(name, fs) for name in sorted(names, key=_address_key)]

    @classmethod
    def from_netdev(cls, ifname, fs=None):
        """The PCI function behind interface ``ifname``; None for virtual or unknown interfaces."""
        fs = fs or HostFS()
        if not _safe_ifname(ifname):
            return None
        target = fs.readlink('%s/%s/device' % (NET_CLASS_DIR, ifname))
        if target is None:
            return None
        name = target.rstrip('/').rsplit('/', 1)[-1]
        if _VIRTIO.match(name):
            # virtio-net: /sys/devices/pci0000:00/0000:00:03.0/virtio2 -> the PCI function above.
            name = target.rstrip('/').rsplit('/', 2)[-2]
        if not PciAddress.is_valid(name):
            return None
        device = cls(name, fs)
        return device if device.exists else None


# -- SR-IOV extended capability (PCIe base spec, "Single Root I/O Virtualization") --------
PCI_CONFIG_EXTENDED = 0x100         # extended capabilities start here; the list walks 4 KiB at most
PCI_CONFIG_SIZE = 0x1000
PCI_EXT_CAP_ID_SRIOV = 0x0010
SRIOV_TOTAL_VFS = 0x0e              # offsets inside the capability
SRIOV_NUM_VFS = 0x10
SRIOV_VF_OFFSET = 0x14
SRIOV_VF_STRIDE = 0x16
SRIOV_VF_DEVICE_ID = 0x1a
_SRIOV_CAP_SIZE = 0x40


class SriovCapabilityError(ValueError):
    """The SR-IOV capability cannot be read; the message says why (for a warning)."""


def _le16(data, position):
    return data[position] | (data[position + 1] << 8)


def parse_sriov_capability(data):
    """The SR-IOV extended capability from PCI config space bytes.

    Returns {'position', 'total_vfs', 'num_vfs', 'vf_offset', 'vf_stride', 'vf_device_id'}
    (``vf_device_id`` as 4 hex digits). Raises SriovCapabilityError when the
    bytes stop before the extended capabilities (sysfs gives unprivileged
    readers only the first 64 bytes), the list is broken, or it has no SR-IOV
    capability.
    """
    data = bytearray(data or b'')
    if len(data) < PCI_CONFIG_EXTENDED + 4:
        raise SriovCapabilityError('the PCI config space shows only %d bytes, not the extended capabilities '
                                   '(reading them needs root)' % len(data))
    position = PCI_CONFIG_EXTENDED
    seen = set()
    while position and position not in seen:
        seen.add(position)
        if position < PCI_CONFIG_EXTENDED or position + 4 > len(data):
            raise SriovCapabilityError('the extended capability list points at %#x, outside the %d bytes read'
                                       % (position, len(data)))
        header = _le16(data, position) | (_le16(data, position + 2) << 16)
        if header in (0, 0xffffffff):
            break
        if header & 0xffff == PCI_EXT_CAP_ID_SRIOV:
            if position + _SRIOV_CAP_SIZE > len(data):
                raise SriovCapabilityError('the SR-IOV capability at %#x is cut off at %d bytes' % (position, len(data)))
            return {
                'position': position,
                'total_vfs': _le16(data, position + SRIOV_TOTAL_VFS),
                'num_vfs': _le16(data, position + SRIOV_NUM_VFS),
                'vf_offset': _le16(data, position + SRIOV_VF_OFFSET),
                'vf_stride': _le16(data, position + SRIOV_VF_STRIDE),
                'vf_device_id': '%04x' % _le16(data, position + SRIOV_VF_DEVICE_ID),
            }
        position = (header >> 20) & 0xffc
    raise SriovCapabilityError('the PCI config space has no SR-IOV extended capability (id %#06x)'
                               % PCI_EXT_CAP_ID_SRIOV)


def vf_routing_address(pf_address, vf_offset, vf_stride, index):
    """PCI address of VF ``index`` (0-based) of a PF: RID = PF RID + First VF Offset + index * VF Stride.

    The routing ID is bus << 8 | device << 3 | function; VFs stay in the PF's
    domain and may land on higher bus numbers. Raises SriovCapabilityError when
    the result leaves bus 0xff or the capability holds no offset (the device
    reports 0 for an unusable configuration).
    """
    pf = PciAddress.parse(pf_address)
    if not vf_offset or (index > 0 and not vf_stride):
        raise SriovCapabilityError('the SR-IOV capability reports First VF Offset %d and VF Stride %d, which '
                                   'give no VF routing ID' % (vf_offset, vf_stride))
    rid = (pf.bus << 8 | pf.device << 3 | pf.function) + vf_offset + index * vf_stride
    if rid > 0xffff:
        raise SriovCapabilityError('VF %d would be beyond bus ff (routing ID %#x)' % (index, rid))
    return str(PciAddress(pf.domain, rid >> 8, (rid >> 3) & 0x1f, rid & 7))


def _safe_ifname(ifname):
    return isinstance(ifname, str) and bool(ifname) and '/' not in ifname and ifname not in ('.', '..')


# /proc/net/route flags (include/uapi/linux/route.h) and IPv6 RTF_* (ipv6_route.h).
_RTF_UP = 0x0001
_RTF_REJECT = 0x0200
_RTF_LOCAL = 0x80000000


def _ipv4_routes(fs):
    routes = []
    lines = (fs.read('/proc/net/route', '') or '').splitlines()
    for line in lines[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        try:
            flags = int(fields[3], 16)
        except ValueError:
            continue
        if not flags & _RTF_UP or flags & _RTF_REJECT:
            continue
        routes.append({'interface': fields[0], 'family': 'ipv4',
                       'default': fields[1] == '00000000' and fields[7] == '00000000'})
    return routes


def _ipv6_routes(fs):
    routes = []
    for line in (fs.read('/proc/net/ipv6_route', '') or '').splitlines():
        fields = line.split()
        if len(fields) < 10:
            continue
        dest, prefix = fields[0].lower(), fields[1]
        try:
            flags = int(fields[8], 16)
            prefix_len = int(prefix, 16)
        except ValueError:
            continue
        if not flags & _RTF_UP or flags & (_RTF_REJECT | _RTF_LOCAL):
            continue
        # The kernel adds fe80::/64 and ff00::/8 to every IPv6 interface; they carry nothing.
        if dest.startswith('fe80') or dest.startswith('ff'):
            continue
        routes.append({'interface': fields[9], 'family': 'ipv6', 'default': prefix_len == 0})
    return routes


def routes(fs=None):
    """Routes as ``{'interface', 'family', 'default'}`` (IPv4 and IPv6, ``lo`` excluded)."""
    fs = fs or HostFS()
    return [route for route in _ipv4_routes(fs) + _ipv6_routes(fs) if route['interface'] != 'lo']


def lower_interfaces(ifname, fs=None):
    """Interfaces below ``ifname``, recursively: bond slaves, bridge ports, the parent of a VLAN or macvlan.

    Read from the kernel's ``/sys/class/net/<if>/lower_<name>`` adjacency links.
    """
    fs = fs or HostFS()
    found, todo = set(), [ifname]
    while todo:
        current = todo.pop()
        if not _safe_ifname(current):
            continue
        for name in fs.listdir('%s/%s' % (NET_CLASS_DIR, current)):
            if name.startswith('lower_'):
                lower = name[len('lower_'):]
                if lower not in found and lower != ifname:
                    found.add(lower)
                    todo.append(lower)
    return found


def route_interfaces(fs=None, default_only=False):
    """Names of interfaces that carry a route (IPv4 or IPv6), without ``lo``.

    Link-local (fe80::/64) and multicast IPv6 routes, which every IPv6
    interface has, and reject/local routes do not count. The interfaces
    below a routed one count too (the slaves of a routed bond, the ports of a
    routed bridge, the parent of a routed VLAN): taking them away cuts the
    route just the same.
    """
    fs = fs or HostFS()
    names = set(route['interface'] for route in routes(fs) if route['default'] or not default_only)
    for name in list(names):
        names.update(lower_interfaces(name, fs))
    return names
