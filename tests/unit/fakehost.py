# -*- coding: utf-8 -*-
"""Fake kernel trees (/sys, /proc, /etc) for unit tests, built from compact calls.

``FakeHost(root)`` writes files below ``root`` that look like the real kernel's:
CPUs and their topology, NUMA nodes, hugepage pools, PCI devices with drivers,
IOMMU groups and network interfaces, the kernel command line and cpuinfo.
``FakeHost.from_spec(root, spec)`` builds a whole host from a dict (or a YAML
fixture in tests/unit/fixtures/hosts/), so a layout reads like a description.

It only writes plain files and symlinks; behaviour on write (a VF appearing
when sriov_numvfs is written, a driver binding when bind is written) belongs to
the tests of the module that needs it.
"""

import os

import yaml

from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures', 'hosts')

# A few PCI class codes: Ethernet controller, virtio block, host bridge.
PCI_CLASS_ETHERNET = '0x020000'
PCI_CLASS_STORAGE = '0x010000'

# PF (vendor, device) -> VF device id (the VF Device ID of the PF's SR-IOV capability).
VF_DEVICE_IDS = {
    ('8086', '10c9'): '10ca',   # 82576 -> 82576 VF (igb -> igbvf)
    ('8086', '1521'): '1520',   # I350 -> I350 VF
    ('8086', '1572'): '154c',   # X710 -> XL710/X710 VF (i40e -> iavf)
    ('8086', '1583'): '154c',   # XL710
    ('8086', '159b'): '1889',   # E810 -> E810 VF (ice -> iavf)
    ('15b3', '1017'): '1018',   # ConnectX-5 -> CX-5 VF (mlx5_core)
    ('15b3', '101d'): '101e',   # ConnectX-6 Dx
}

# Where the fake config space puts its extended capabilities: AER first, then SR-IOV,
# so that readers must walk the list (real NICs have several before SR-IOV).
AER_CAP_POSITION = 0x100
SRIOV_CAP_POSITION = 0x160


def _put16(data, position, value):
    data[position] = value & 0xff
    data[position + 1] = (value >> 8) & 0xff


def _put32(data, position, value):
    _put16(data, position, value & 0xffff)
    _put16(data, position + 2, value >> 16)


def _id_or_ffff(text):
    """A hex id as a number; 0xffff (what an absent function reads as) for tests' malformed ids."""
    try:
        return int(str(text), 16) & 0xffff
    except ValueError:
        return 0xffff


def pci_config_space(vendor, device, total_vfs=None, num_vfs=0, vf_offset=0x80, vf_stride=2, vf_device=None,
                     size=4096):
    """PCI config space bytes: ids in the header and, with ``total_vfs``, an SR-IOV extended capability.

    The layout is the PCIe spec's: extended capability headers are
    id (16 bits) | version (4) | next (12); in the SR-IOV capability TotalVFs
    is at +0x0e, NumVFs +0x10, First VF Offset +0x14, VF Stride +0x16, VF
    Device ID +0x1a. The defaults are the 82576's (offset 0x80, stride 2).
    """
    data = bytearray(size)
    _put16(data, 0, _id_or_ffff(vendor))
    _put16(data, 2, _id_or_ffff(device))
    if total_vfs is not None and size >= SRIOV_CAP_POSITION + 0x40:
        _put32(data, AER_CAP_POSITION, 0x0001 | (1 << 16) | (SRIOV_CAP_POSITION << 20))
        _put32(data, SRIOV_CAP_POSITION, 0x0010 | (1 << 16))
        _put16(data, SRIOV_CAP_POSITION + 0x0c, total_vfs)      # InitialVFs
        _put16(data, SRIOV_CAP_POSITION + 0x0e, total_vfs)
        _put16(data, SRIOV_CAP_POSITION + 0x10, num_vfs)
        _put16(data, SRIOV_CAP_POSITION + 0x14, vf_offset)
        _put16(data, SRIOV_CAP_POSITION + 0x16, vf_stride)
        _put16(data, SRIOV_CAP_POSITION + 0x1a, _id_or_ffff(vf_device))
    return bytes(data)


class FakeHost:
    def __init__(self, root):
        self.root = str(root)
        os.makedirs(self.root, exist_ok=True)

    # -- plain files -----------------------------------------------------
    def path(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def file(self, path, content=''):
        real = self.path(path)
        os.makedirs(os.path.dirname(real), exist_ok=True)
        with open(real, 'w') as handle:
            handle.write(content if content.endswith('\n') or content == '' else content + '\n')
        return real

    def binary_file(self, path, data):
        real = self.path(path)
        os.makedirs(os.path.dirname(real), exist_ok=True)
        with open(real, 'wb') as handle:
            handle.write(data)
        return real

    def read(self, path):
        with open(self.path(path)) as handle:
            return handle.read()

    def exists(self, path):
        return os.path.lexists(self.path(path))

    def mkdir(self, path):
        os.makedirs(self.path(path), exist_ok=True)
        return self.path(path)

    def link(self, path, target):
        """Symlink host path ``path`` to host path ``target`` (a relative link, as sysfs uses)."""
        real, real_target = self.path(path), self.path(target)
        os.makedirs(os.path.dirname(real), exist_ok=True)
        if os.path.lexists(real):
            os.unlink(real)
        os.symlink(os.path.relpath(real_target, os.path.dirname(real)), real)
        return real

    def snapshot(self):
        """Every file, link and its content below the root: compare two to prove nothing changed."""
        state = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in dirnames + filenames:
                real = os.path.join(dirpath, name)
                rel = '/' + os.path.relpath(real, self.root)
                if os.path.islink(real):
                    state[rel] = ('link', os.readlink(real))
                elif os.path.isfile(real):
                    with open(real, 'rb') as handle:
                        state[rel] = ('file', handle.read(), os.stat(real).st_mode)
                else:
                    state[rel] = ('dir',)
        return state

    # -- /proc -------------------------------------------------------------
    def cmdline(self, text):
        self.file('/proc/cmdline', text)
        return self

    def cpuinfo(self, cpus=1, vendor='GenuineIntel', flags='fpu sse4_2 avx2 pse pdpe1gb'):
        blocks = ['processor\t: %d\nvendor_id\t: %s\nflags\t\t: %s\n' % (n, vendor, flags) for n in range(cpus)]
        self.file('/proc/cpuinfo', '\n'.join(blocks))
        return self

    def meminfo(self, total_kb=16 * 1024 * 1024, free_kb=None, hugepagesize_kb=2048, hugepages_total=0):
        free_kb = total_kb // 2 if free_kb is None else free_kb
        self.file('/proc/meminfo', (
            'MemTotal:       %d kB\nMemFree:        %d kB\nMemAvailable:   %d kB\n'
            'HugePages_Total:   %d\nHugePages_Free:    %d\nHugePages_Rsvd:        0\n'
            'HugePages_Surp:        0\nHugepagesize:       %d kB\n'
        ) % (total_kb, free_kb, free_kb, hugepages_total, hugepages_total, hugepagesize_kb))
        return self

    def mounts(self, *lines):
        base = ['sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0',
                'proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0']
        self.file('/proc/mounts', '\n'.join(base + list(lines)))
        return self

    def routes(self, *ifnames):
        """/proc/net/route with a default route through each interface named."""
        lines = ['Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT']
        for ifname in ifnames:
            lines.append('%s\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0' % ifname)
        self.file('/proc/net/route', '\n'.join(lines))
        return self

    def kernel_module(self, name, parameters=None):
        self.mkdir('/sys/module/%s' % name)
        for key, value in (parameters or {}).items():
            self.file('/sys/module/%s/parameters/%s' % (name, key), str(value))
        return self

    # -- CPUs and NUMA -------------------------------------------------------
    def topology(self, sockets=1, cores_per_socket=2, threads_per_core=1, offline=(), mem_per_node_kb=8 * 1024 * 1024,
                 numa=True, vendor='GenuineIntel', flags='fpu sse4_2 avx2 pse pdpe1gb'):
        """CPUs numbered as Linux does on most x86 servers: all first threads, then all second threads."""
        total_cores = sockets * cores_per_socket
        total = total_cores * threads_per_core
        offline = CpuSet.parse(offline)
        nodes = {}
        for cpu in range(total):
            core_index = cpu % total_cores
            socket = core_index // cores_per_socket
            siblings = CpuSet(core_index + t * total_cores for t in range(threads_per_core))
            package_cpus = CpuSet(c for c in range(total) if (c % total_cores) // cores_per_socket == socket)
            base = '/sys/devices/system/cpu/cpu%d' % cpu
            if cpu != 0:
                self.file(base + '/online', '0' if cpu in offline else '1')
            if cpu in offline:
                # The kernel removes topology/ for an offline CPU.
                self.mkdir(base)
            else:
                self.file(base + '/topology/core_id', str(core_index % cores_per_socket))
                self.file(base + '/topology/physical_package_id', str(socket))
                self.file(base + '/topology/thread_siblings_list', siblings.format())
                self.file(base + '/topology/core_cpus_list', siblings.format())
                self.file(base + '/topology/package_cpus_list', package_cpus.format())
            node = socket if numa else 0
            nodes.setdefault(node, set()).add(cpu)
            self.link(base + '/node%d' % node, '/sys/devices/system/node/node%d' % node)
        every = CpuSet(range(total))
        self.file('/sys/devices/system/cpu/possible', every.format())
        self.file('/sys/devices/system/cpu/present', every.format())
        self.file('/sys/devices/system/cpu/online', (every - offline).format())
        self.file('/sys/devices/system/cpu/offline', offline.format())
        for node, cpus in sorted(nodes.items()):
            self.numa_node(node, CpuSet(cpus) - offline, mem_per_node_kb)
        self.file('/sys/devices/system/node/online', CpuSet(nodes).format())
        self.file('/sys/devices/system/node/possible', CpuSet(nodes).format())
        self.file('/sys/devices/system/node/has_memory', CpuSet(nodes).format())
        self.cpuinfo(cpus=total, vendor=vendor, flags=flags)
        self.meminfo(total_kb=mem_per_node_kb * len(nodes))
        return self

    def numa_node(self, node, cpus, mem_total_kb=8 * 1024 * 1024, mem_free_kb=None):
        base = '/sys/devices/system/node/node%d' % node
        self.file(base + '/cpulist', CpuSet.parse(cpus).format())
        mem_free_kb = mem_total_kb // 2 if mem_free_kb is None else mem_free_kb
        self.file(base + '/meminfo', (
            'Node %d MemTotal:       %d kB\nNode %d MemFree:        %d kB\nNode %d MemUsed:        %d kB\n'
        ) % (node, mem_total_kb, node, mem_free_kb, node, mem_total_kb - mem_free_kb))
        return self

    # -- hugepages ---------------------------------------------------------
    def hugepages(self, size_kb, total=0, free=None, surplus=0, reserved=0, node=None, overcommit=0):
        """A hugepage pool, global (node=None) or on one NUMA node."""
        free = total if free is None else free
        if node is None:
            base = '/sys/kernel/mm/hugepages/hugepages-%dkB' % size_kb
            self.file(base + '/resv_hugepages', str(reserved))
            self.file(base + '/nr_overcommit_hugepages', str(overcommit))
            self.file(base + '/nr_hugepages_mempolicy', str(total))
        else:
            base = '/sys/devices/system/node/node%d/hugepages/hugepages-%dkB' % (node, size_kb)
        self.file(base + '/nr_hugepages', str(total))
        self.file(base + '/free_hugepages', str(free))
        self.file(base + '/surplus_hugepages', str(surplus))
        return self

    # -- PCI -------------------------------------------------------------------
    def pci_driver(self, name):
        base = '/sys/bus/pci/drivers/%s' % name
        for attr in ('bind', 'unbind', 'new_id', 'remove_id'):
            if not self.exists(base + '/' + attr):
                self.file(base + '/' + attr, '')
        self.mkdir('/sys/module/%s' % name.replace('-', '_'))
        return self

    def pci_device(self, address, vendor='0x8086', device='0x1572', pci_class=PCI_CLASS_ETHERNET, driver=None,
                   numa_node=-1, iommu_group=None, sriov_totalvfs=None, sriov_numvfs=0, netdevs=(),
                   subsystem_vendor=None, subsystem_device=None, parent='/sys/devices/pci0000:00',
                   sriov_vf_offset=0x80, sriov_vf_stride=2, sriov_vf_device=None, config_size=4096):
        """A PCI function, linked from /sys/bus/pci/devices like the kernel does.

        Its ``config`` file holds the ids and, for an SR-IOV PF, the SR-IOV capability with
        ``sriov_vf_offset``/``sriov_vf_stride``/``sriov_vf_device`` (default: the VF id of
        VF_DEVICE_IDS); ``config_size`` 64 is what an unprivileged reader gets.
        """
        base = '%s/%s' % (parent, address)
        vendor_hex, device_hex = str(vendor).lower().replace('0x', ''), str(device).lower().replace('0x', '')
        vf_device = sriov_vf_device or VF_DEVICE_IDS.get((vendor_hex, device_hex), device_hex)
        self.binary_file(base + '/config', pci_config_space(
            vendor_hex, device_hex, sriov_totalvfs, sriov_numvfs, sriov_vf_offset, sriov_vf_stride,
            str(vf_device).lower().replace('0x', ''), size=config_size))
        self.file(base + '/vendor', vendor)
        self.file(base + '/device', device)
        self.file(base + '/class', pci_class)
        self.file(base + '/subsystem_vendor', subsystem_vendor or vendor)
        self.file(base + '/subsystem_device', subsystem_device or device)
        self.file(base + '/numa_node', str(numa_node))
        self.file(base + '/driver_override', '(null)')
        self.file(base + '/uevent', 'PCI_SLOT_NAME=%s' % address)
        self.link('/sys/bus/pci/devices/%s' % address, base)
        if driver:
            self.pci_driver(driver)
            self.link(base + '/driver', '/sys/bus/pci/drivers/%s' % driver)
            self.link('/sys/bus/pci/drivers/%s/%s' % (driver, address), base)
        if iommu_group is not None:
            group = '/sys/kernel/iommu_groups/%s' % iommu_group
            self.mkdir(group + '/devices')
            self.link(group + '/devices/%s' % address, base)
            self.link(base + '/iommu_group', group)
        if sriov_totalvfs is not None:
            self.file(base + '/sriov_totalvfs', str(sriov_totalvfs))
            self.file(base + '/sriov_numvfs', str(sriov_numvfs))
            self.file(base + '/sriov_drivers_autoprobe', '1')
        for ifname in netdevs:
            self.netdev(ifname, device_path=base)
        return base

    def netdev(self, ifname, device_path=None, operstate='up', mac='52:54:00:12:34:56', carrier=1):
        """A network interface, under its PCI device when given, linked from /sys/class/net."""
        base = (device_path + '/net/' + ifname) if device_path else '/sys/devices/virtual/net/' + ifname
        self.file(base + '/operstate', operstate)
        self.file(base + '/address', mac)
        self.file(base + '/carrier', str(carrier))
        self.file(base + '/ifindex', str(2 + len(self.listdir('/sys/class/net'))))
        if device_path:
            self.link(base + '/device', device_path)
        self.link('/sys/class/net/' + ifname, base)
        return base

    def listdir(self, path):
        try:
            return sorted(os.listdir(self.path(path)))
        except OSError:
            return []

    # -- whole hosts from a description ------------------------------------------
    @classmethod
    def from_spec(cls, root, spec):
        """Build a host from a dict: topology, hugepages, pci, cmdline, modules, files, routes."""
        host = cls(root)
        if 'topology' in spec:
            host.topology(**spec['topology'])
        for pool in spec.get('hugepages', []):
            host.hugepages(**pool)
        for device in spec.get('pci', []):
            device = dict(device)
            host.pci_device(device.pop('address'), **device)
        if 'cmdline' in spec:
            host.cmdline(spec['cmdline'])
        for name in spec.get('modules', []):
            host.kernel_module(name)
        if 'routes' in spec:
            host.routes(*spec['routes'])
        if 'mounts' in spec:
            host.mounts(*spec['mounts'])
        for path, content in spec.get('files', {}).items():
            host.file(path, content)
        return host

    @classmethod
    def from_fixture(cls, root, name):
        """Build a host from tests/unit/fixtures/hosts/<name>.yml."""
        with open(os.path.join(FIXTURES, name + '.yml')) as handle:
            return cls.from_spec(root, yaml.safe_load(handle))
