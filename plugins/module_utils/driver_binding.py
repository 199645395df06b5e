# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Binding PCI devices to drivers without cutting the node off.

- Bind: ``driver_override`` = driver, ``drivers/<old>/unbind``, ``drivers_probe``,
  then read the ``driver`` link back; on any failure every device changed in
  the run goes back to its previous driver and override.
- Refusals: devices whose interfaces carry a route, are up with addresses or
  carry the SSH connection (``ConnectionGuard``); vfio-pci when the IOMMU group
  has members on other drivers or there is no IOMMU; bifurcated NICs (mlx4/mlx5)
  to userspace drivers; igb_uio/uio under kernel lockdown (Secure Boot).
- Persistence: one oneshot unit per device, ``nfv-dpdk-bind-<address>.service``,
  run after the PF's ``nfv-dpdk-sriov-*`` unit. Not a udev rule: when
  ``sriov_numvfs`` is written the kernel probes the new VFs synchronously,
  before udev sees their ``add`` event, so an ``ATTR{driver_override}`` rule
  comes too late for VFs (and for devices whose driver is built in).

The PCI model is ``pci.py``; the reads it lacks (lockdown, SSH sessions, block
devices below a function) are here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import socket
import struct

from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.pci import (
    PciAddress, PciDevice, canonical_address, is_bifurcated, route_interfaces,
)
from ansible_collections.nfv.dpdk.plugins.module_utils.sriov import (
    HELPER_DIR, UNIT_DIR, BootUnits, SriovError, key_of, resolve_device, sriov_unit_name, vfio_group_users,
)
from ansible_collections.nfv.dpdk.plugins.module_utils.yaml_numbers import PCI_ID, unquoted_number_error
from ansible_collections.nfv.dpdk.plugins.module_utils.sriov_device_plugin import (
    InvalidSriovPlan, format_vf_range, parse_vf_range)

USERSPACE_DRIVERS = ('vfio-pci', 'uio_pci_generic', 'igb_uio')
DRIVER_CHOICES = USERSPACE_DRIVERS + ('kernel',)
# Drivers that leave a device to userspace (and that vfio accepts beside vfio-pci in one group).
NOT_KERNEL = USERSPACE_DRIVERS + ('pci-stub',)
VFIO_GROUP_OK = ('vfio-pci', 'pci-stub')

BIND_HELPER = HELPER_DIR + '/driver-bind'
BIND_UNIT_PREFIX = 'nfv-dpdk-bind-'
PROBE = '/sys/bus/pci/drivers_probe'
DRIVERS_DIR = '/sys/bus/pci/drivers'
NOIOMMU_PARAM = '/sys/module/vfio/parameters/enable_unsafe_noiommu_mode'
SECURE_BOOT_VAR = '/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c'
_HEX4 = re.compile(r'^(0x)?[0-9a-fA-F]{4}$')

BIND_HELPER_CONTENT = r'''#!/bin/sh
# Installed by the Ansible module nfv.dpdk.driver_bind; run at boot by
# nfv-dpdk-bind-*.service units (see systemctl cat nfv-dpdk-bind-*):
#   driver-bind ADDRESS VENDOR:DEVICE DRIVER [noiommu]
# Binds the PCI function to DRIVER through driver_override, unless the address
# now holds another device (vendor:device differ), e.g. after a hardware change.
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin
addr=$1
ids=$2
drv=$3
mode=${4:-}
dev=/sys/bus/pci/devices/$addr

tries=0
while [ ! -e "$dev" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ]; then
        echo "driver-bind: no PCI device $addr" >&2
        exit 1
    fi
    sleep 0.1
done
found=$(sed 's/^0x//' "$dev/vendor"):$(sed 's/^0x//' "$dev/device")
if [ "$found" != "$ids" ]; then
    echo "driver-bind: $addr is $found, not $ids: left alone" >&2
    exit 1
fi
if [ "$mode" = noiommu ]; then
    modprobe vfio enable_unsafe_noiommu_mode=1
    echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode
fi
modprobe "$drv"
echo "$drv" > "$dev/driver_override"
if [ -e "$dev/driver" ]; then
    current=$(basename "$(readlink -f "$dev/driver")")
    if [ "$current" = "$drv" ]; then
        exit 0
    fi
    echo "$addr" > "$dev/driver/unbind"
fi
echo "$addr" > /sys/bus/pci/drivers_probe
current=
if [ -e "$dev/driver" ]; then
    current=$(basename "$(readlink -f "$dev/driver")")
fi
if [ "$current" != "$drv" ]; then
    echo "driver-bind: $addr is bound to '${current:-nothing}', not $drv" >&2
    exit 1
fi
'''


class BindError(Exception):
    """A step of a binding failed; the message is for the user."""


def bind_unit_name(address):
    return '%s%s.service' % (BIND_UNIT_PREFIX, key_of(address))


def bind_unit_content(device, driver, noiommu=False, helper=BIND_HELPER):
    """The oneshot unit that binds ``device`` to ``driver`` at boot, after its PF's VF unit."""
    after = ['local-fs.target', 'systemd-modules-load.service', 'systemd-udev-trigger.service']
    physfn = device.physfn
    if physfn:
        after.append(sriov_unit_name(physfn))
    argv = [helper, device.address, '%s:%s' % (device.vendor_id, device.device_id), driver]
    if noiommu:
        argv.append('noiommu')
    lines = [
        '# Managed by Ansible (nfv.dpdk.driver_bind). Binds PCI %s to %s at boot.' % (device.address, driver),
        '[Unit]',
        'Description=nfv.dpdk: bind PCI %s (%s:%s) to %s' % (
            device.address, device.vendor_id, device.device_id, driver),
        'DefaultDependencies=no',
        'After=%s' % ' '.join(after),
        'Before=network-pre.target kubelet.service shutdown.target',
        'Wants=network-pre.target',
        'Conflicts=shutdown.target',
        '',
        '[Service]',
        'Type=oneshot',
        'RemainAfterExit=yes',
        'ExecStart=%s' % ' '.join(argv),
        '',
        '[Install]',
        'WantedBy=multi-user.target',
        '',
    ]
    return '\n'.join(lines)


# -- host state that pci.py does not model -------------------------------------------------
def lockdown_mode(fs):
    """Kernel lockdown mode (``none``, ``integrity``, ``confidentiality``), None when unknown."""
    text = fs.read('/sys/kernel/security/lockdown')
    if not text:
        return None
    match = re.search(r'\[(\w+)\]', text)
    return match.group(1) if match else None


def secure_boot_enabled(fs):
    """True/False from the EFI SecureBoot variable (4 attribute bytes, then the value); None without EFI."""
    try:
        with open(fs.path(SECURE_BOOT_VAR), 'rb') as handle:
            data = handle.read()
    except (IOError, OSError):
        return None
    return bool(len(data) >= 5 and bytearray(data)[4] == 1)


def is_bridge(device):
    code = device.class_code or ''
    return code.startswith('0604') or code.startswith('0600')


def block_devices(fs, device, depth=3):
    """Block devices below a PCI function (virtio-blk ``virtio1/block/vda``, ``nvme/nvme0/nvme0n1``)."""
    found = []
    nvme_namespace = re.compile(r'^nvme\d+n\d+$')

    def walk(path, level):
        for name in fs.listdir(path):
            child = '%s/%s' % (path, name)
            if fs.islink(child) or not fs.isdir(child):
                continue
            if name == 'block':
                found.extend(fs.listdir(child))
            elif nvme_namespace.match(name):
                found.append(name)
            elif level < depth:
                walk(child, level + 1)
    walk(device.path, 1)
    return sorted(set(found))


def mounted_block_devices(fs, names):
    """Which of the block devices ``names`` (or their partitions) are mounted or used as swap."""
    used = set()
    sources = []
    for line in (fs.read('/proc/mounts', '') or '').splitlines():
        fields = line.split()
        if fields:
            sources.append(fields[0])
    for line in (fs.read('/proc/swaps', '') or '').splitlines()[1:]:
        fields = line.split()
        if fields:
            sources.append(fields[0])
    for source in sources:
        if not source.startswith('/dev/'):
            continue
        base = source[len('/dev/'):]
        for name in names:
            if base == name or (base.startswith(name) and re.match(r'^p?\d+$', base[len(name):])):
                used.add(name)
    # Device-mapper/LVM/md on top: a holder of the disk or of a partition is in use too.
    for name in names:
        holders = fs.listdir('/sys/class/block/%s/holders' % name)
        for part in fs.listdir('/sys/class/block/%s' % name):
            if part.startswith(name):
                holders += fs.listdir('/sys/class/block/%s/%s/holders' % (name, part))
        if holders:
            used.add(name)
    return sorted(used)


def _hex_ip(text):
    """An address from /proc/net/tcp(6) (host byte order words) as a string."""
    raw = bytes(bytearray.fromhex(text))
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, struct.pack('<I', struct.unpack('>I', raw)[0]))
    words = struct.unpack('>4I', raw)
    packed = struct.pack('<4I', *words)
    address = socket.inet_ntop(socket.AF_INET6, packed)
    if address.startswith('::ffff:') and '.' in address:
        return address[len('::ffff:'):]
    return address


def ssh_sessions(fs, environ=None):
    """(server addresses, client addresses) of SSH sessions into this host.

    From ``SSH_CONNECTION`` (``client cport server sport``, set for the Ansible
    connection) and, because sudo may drop that variable, from established TCP
    connections on the SSH port in /proc/net/tcp and tcp6.
    """
    environ = os.environ if environ is None else environ
    servers, clients = set(), set()
    port = 22
    fields = (environ.get('SSH_CONNECTION') or '').split()
    if len(fields) == 4:
        clients.add(fields[0])
        servers.add(fields[2])
        try:
            port = int(fields[3])
        except ValueError:
            pass
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        for line in (fs.read(table, '') or '').splitlines()[1:]:
            parts = line.split()
            if len(parts) < 4 or parts[3] != '01':
                continue
            try:
                local, local_port = parts[1].split(':')
                remote = parts[2].split(':')[0]
                if int(local_port, 16) != port:
                    continue
                servers.add(_hex_ip(local))
                clients.add(_hex_ip(remote))
            except (ValueError, TypeError, socket.error):
                continue
    return servers, clients


class ConnectionGuard:
    """Why unbinding a device's driver would cut the node off (empty when it would not)."""

    def __init__(self, module, fs, ip=None, environ=None):
        self.module = module
        self.fs = fs
        self.ip = ip
        self.environ = environ
        self._links = None
        self._ssh_ifs = None
        self.routes = route_interfaces(fs)

    def links(self):
        """{ifname: entry of ``ip -j addr show``}; sysfs only when ip is missing."""
        if self._links is None:
            self._links = {}
            if self.ip:
                rc, out, err = self.module.run_command([self.ip, '-j', 'addr', 'show'])
                if rc != 0:
                    raise BindError('ip -j addr show failed: %s' % (err or out).strip())
                try:
                    for entry in json.loads(out or '[]'):
                        self._links[entry.get('ifname')] = entry
                except ValueError:
                    raise BindError('cannot parse the output of ip -j addr show')
        return self._links

    def ssh_interfaces(self):
        """{ifname: reason} for the interfaces that carry SSH sessions (the Ansible connection)."""
        if self._ssh_ifs is not None:
            return self._ssh_ifs
        self._ssh_ifs = {}
        servers, clients = ssh_sessions(self.fs, self.environ)
        for ifname, entry in self.links().items():
            for info in entry.get('addr_info') or []:
                if info.get('local') in servers:
                    self._ssh_ifs[ifname] = 'holds %s, the address of an SSH session (the Ansible connection)' % info['local']
        if self.ip:
            for client in sorted(clients)[:8]:
                rc, out, _err = self.module.run_command([self.ip, '-j', 'route', 'get', client])
                if rc != 0:
                    continue
                try:
                    routes = json.loads(out or '[]')
                except ValueError:
                    continue
                for route in routes:
                    dev = route.get('dev')
                    if dev and dev != 'lo':
                        self._ssh_ifs.setdefault(dev, 'is the way to SSH client %s (the Ansible connection)' % client)
        return self._ssh_ifs

    def _addresses(self, ifname):
        entry = self.links().get(ifname) or {}
        up = 'UP' in (entry.get('flags') or []) or entry.get('operstate') == 'UP'
        addrs = ['%s/%s' % (info.get('local'), info.get('prefixlen')) for info in entry.get('addr_info') or []
                 if info.get('scope') != 'link' and info.get('local')]
        return addrs if up else []

    def reasons(self, device):
        found = []
        interfaces = list(device.netdevs)
        for ifname in list(interfaces):
            master = self.fs.link_name('/sys/class/net/%s/master' % ifname) or (self.links().get(ifname) or {}).get('master')
            if master and master not in interfaces:
                interfaces.append(master)
        for ifname in interfaces:
            label = 'interface %s' % ifname
            if ifname not in device.netdevs:
                label = 'interface %s (master of %s)' % (ifname, ', '.join(device.netdevs))
            if ifname in self.routes:
                found.append('%s carries a route' % label)
            ssh = self.ssh_interfaces().get(ifname)
            if ssh:
                found.append('%s %s' % (label, ssh))
            addrs = self._addresses(ifname)
            if addrs:
                found.append('%s is up with addresses %s' % (label, ', '.join(addrs)))
        blocks = block_devices(self.fs, device)
        if blocks:
            found.append('it has block devices %s (storage may hold the root filesystem)' % ', '.join(blocks))
        return found


# -- VFs that nfv.dpdk.sriov_vfs plans in the same run (check mode) ------------------------
class PlannedVf:
    """One ``sriov_plan[i].vfs[j]`` entry, validated."""

    def __init__(self, where, pf_address, index, address, planned, vendor_id, device_id):
        self.where = where
        self.pf_address = pf_address
        self.index = index
        self.address = address
        self.planned = planned
        self.vendor_id = vendor_id
        self.device_id = device_id


def _plan_id(vf, name, where, problems):
    value = vf.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not _HEX4.match(value):
        problems.append("%s.%s: %r is not a 4-digit hexadecimal PCI id (e.g. 10ca)" % (where, name, value))
        return None
    return _normal_id(value)


def parse_sriov_plan(plan):
    """``sriov_plan`` (the ``pfs`` result of nfv.dpdk.sriov_vfs) -> ({PF address: [PlannedVf]}, problems).

    Only the keys planning needs are read (``address``; ``vfs[].index``,
    ``address``, ``planned``, ``vendor_id``, ``device_id``); the others of the
    sriov_vfs result are ignored. Every problem names its field.
    """
    problems = []
    pfs = {}
    vf_seen = {}
    for position, entry in enumerate(plan or []):
        where = 'sriov_plan[%d]' % position
        if not isinstance(entry, dict):
            problems.append('%s: must be a dict (an element of the pfs result of nfv.dpdk.sriov_vfs), got %s'
                            % (where, type(entry).__name__))
            continue
        try:
            pf_address = canonical_address(entry.get('address'))
        except ValueError as exc:
            problems.append('%s.address: the PF address is required: %s' % (where, exc))
            continue
        if pf_address in pfs:
            problems.append('%s.address: PF %s is listed twice' % (where, pf_address))
            continue
        vfs = entry.get('vfs')
        if not isinstance(vfs, list):
            problems.append('%s.vfs: must be a list (the vfs of the sriov_vfs result), got %s'
                            % (where, 'nothing' if vfs is None else type(vfs).__name__))
            continue
        planned_vfs = []
        indexes = set()
        for vf_position, vf in enumerate(vfs):
            vf_where = '%s.vfs[%d]' % (where, vf_position)
            if not isinstance(vf, dict):
                problems.append('%s: must be a dict, got %s' % (vf_where, type(vf).__name__))
                continue
            index, planned, address = vf.get('index'), vf.get('planned', False), vf.get('address')
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                problems.append('%s.index: %r is not a VF number (an integer 0 or more)' % (vf_where, index))
                continue
            if index in indexes:
                problems.append('%s.index: VF %d is listed twice' % (vf_where, index))
                continue
            indexes.add(index)
            if not isinstance(planned, bool):
                problems.append('%s.planned: %r is not a boolean' % (vf_where, planned))
                continue
            if address is not None:
                try:
                    address = canonical_address(address)
                except ValueError as exc:
                    problems.append('%s.address: %s' % (vf_where, exc))
                    continue
                if address == pf_address:
                    problems.append('%s.address: %s is the PF itself, not one of its VFs' % (vf_where, address))
                    continue
                if address in vf_seen:
                    problems.append('%s.address: %s is also %s' % (vf_where, address, vf_seen[address]))
                    continue
                vf_seen[address] = vf_where
            elif not planned:
                problems.append('%s.address: an existing VF (planned: false) needs its PCI address' % vf_where)
                continue
            vendor_id = _plan_id(vf, 'vendor_id', vf_where, problems)
            device_id = _plan_id(vf, 'device_id', vf_where, problems)
            if planned and address is not None and device_id is None and vf.get('device_id') is None:
                problems.append('%s.device_id: a planned VF with an address needs its device id (the VF Device ID '
                                'nfv.dpdk.sriov_vfs returns), for its boot unit' % vf_where)
                continue
            planned_vfs.append(PlannedVf(vf_where, pf_address, index, address, planned, vendor_id, device_id))
        pfs[pf_address] = planned_vfs
    return pfs, problems


class PlannedDevice:
    """A VF that does not exist yet and that nfv.dpdk.sriov_vfs would create in this run (check mode only).

    It offers the attributes of ``PciDevice`` that driver_bind reads, as they
    will be when the kernel creates the VF: no driver (or the VF driver, which
    driver_bind unbinds: a new VF carries no routes, addresses or sessions), no
    override, the PF's NUMA node and vendor, the plan's device id. Its IOMMU
    group is not known until the VF exists.
    """

    exists = False
    driver = None
    driver_override = None
    iommu_group = None
    iommu_group_devices = ()
    class_code = None
    sriov_numvfs = 0
    netdevs = ()

    def __init__(self, planned_vf, pf):
        self.planned_vf = planned_vf
        self.address = planned_vf.address
        self.path = '/sys/bus/pci/devices/%s' % self.address
        self.pf = pf
        self.physfn = pf.address
        self.vf_index = planned_vf.index
        self.vendor_id = planned_vf.vendor_id or pf.vendor_id
        self.device_id = planned_vf.device_id
        self.numa_node = pf.numa_node

    def __repr__(self):
        return 'PlannedDevice(%r)' % self.address

    @property
    def is_bifurcated(self):
        # A VF of a mlx4/mlx5 PF is bifurcated like its PF.
        return is_bifurcated(driver=self.pf.driver, vendor_id=self.vendor_id)


# -- bind / unbind / restore ----------------------------------------------------------------
class Binding:
    """One device's binding change, with what to put back."""

    def __init__(self, device, target):
        self.device = device
        self.address = device.address
        self.target = target
        self.driver_before = device.driver
        self.override_before = device.driver_override
        self.touched = False

    @property
    def needs_change(self):
        driver, override = self.device.driver, self.device.driver_override
        if self.target == 'kernel':
            return override is not None or driver is None or driver in NOT_KERNEL
        return driver != self.target or override != self.target

    @property
    def will_unbind(self):
        driver = self.driver_before
        if driver is None:
            return False
        if self.target == 'kernel':
            return driver in NOT_KERNEL
        return driver != self.target


class Binder:
    """Writes the sysfs sequence; every write goes through HostFS (faked in unit tests)."""

    def __init__(self, fs):
        self.fs = fs

    def _write(self, path, value):
        try:
            self.fs.write(path, value)
        except (IOError, OSError) as exc:
            raise BindError('writing %s to %s failed: %s' % (value.strip() or 'a newline', path, exc.strerror or exc))

    def set_override(self, device, driver):
        self._write('%s/driver_override' % device.path, driver if driver else '\n')

    def unbind(self, device):
        driver = device.driver
        if driver:
            self._write('%s/%s/unbind' % (DRIVERS_DIR, driver), device.address)

    def probe(self, device):
        self._write(PROBE, device.address)

    def prepare(self, binding):
        """First half of a binding: ``driver_override`` and unbind (no probe yet)."""
        device, target = binding.device, binding.target
        binding.touched = True
        if target == 'kernel':
            if device.driver_override is not None:
                self.set_override(device, None)
            if device.driver in NOT_KERNEL:
                self.unbind(device)
            return
        if device.driver_override != target:
            self.set_override(device, target)
        if device.driver != target:
            self.unbind(device)

    def finish(self, binding):
        """Second half: ``drivers_probe`` when unbound, then verify the ``driver`` link."""
        device, target = binding.device, binding.target
        if device.driver is None:
            self.probe(device)
        after = device.driver
        if target == 'kernel':
            if after is None or after in NOT_KERNEL:
                raise BindError('%s: after drivers_probe it is bound to %s, not to a kernel driver (is the driver '
                                'module available? see dmesg)' % (device.address, after or 'nothing'))
        elif after != target:
            raise BindError('%s: after drivers_probe it is bound to %s, not %s (see dmesg for the probe error)'
                            % (device.address, after or 'nothing', target))

    def bind_group(self, bindings):
        """Bind devices that share an IOMMU group together: all unbound first, then probed.

        vfio-pci accepts a device only when the other members of its group are
        unbound or on vfio-pci, so the group is emptied before any probe.
        """
        for binding in bindings:
            self.prepare(binding)
        for binding in bindings:
            self.finish(binding)

    def restore(self, binding):
        """Put the previous driver and override back; returns an error text or None."""
        device = binding.device
        try:
            if device.driver != binding.driver_before:
                self.unbind(device)
                self.set_override(device, binding.override_before)
                if binding.driver_before:
                    try:
                        self._write('%s/%s/bind' % (DRIVERS_DIR, binding.driver_before), device.address)
                    except BindError:
                        self.probe(device)
            elif device.driver_override != binding.override_before:
                self.set_override(device, binding.override_before)
        except BindError as exc:
            return str(exc)
        if device.driver != binding.driver_before:
            return '%s is bound to %s, not back to %s' % (
                device.address, device.driver or 'nothing', binding.driver_before or 'nothing')
        return None


# -- the module ------------------------------------------------------------------------------
def _normal_id(text):
    return text.lower()[2:] if text.lower().startswith('0x') else text.lower()


def split_vfs_of(entry):
    """``"ens1f0#0-7"`` -> ('ens1f0', {0..7}, None); ``"ens1f0"`` -> ('ens1f0', None, None); a bad range -> problem.

    The range after ``#`` is the SR-IOV network device plugin's syntax for pfNames/rootDevices
    (``first-last``, single indexes, comma-separated), so that a split PF binds only its DPDK range.
    """
    if not isinstance(entry, str) or '#' not in entry:
        return entry, None, None
    text, _sep, vf_range = entry.rpartition('#')
    if not text.strip():
        return None, None, "'%s' has no PF before '#': use PF#first-last (e.g. \"ens1f0#0-7\")" % entry
    try:
        indexes = set(parse_vf_range(vf_range, "VF range of '%s'" % entry))
    except InvalidSriovPlan as exc:
        return None, None, str(exc)
    return text.strip(), indexes, None


def _range_problem(position, entry, pf_address, indexes, have, problems):
    """A ``PF#range`` that names VFs the PF does not have (will not have, in check mode with a plan)."""
    missing = sorted(set(indexes) - set(have))
    if missing:
        problems.append('vfs_of[%d]: %s names VFs %s but %s has %s' % (
            position, entry, format_vf_range(missing), pf_address,
            ('VFs %s' % format_vf_range(have)) if have else 'no VFs'))


# The options of nfv.dpdk.driver_bind (mirrored by its DOCUMENTATION); nfv.dpdk.node_check validates with them too.
DRIVER_BIND_ARGUMENT_SPEC = dict(
    devices=dict(type='list', elements='str'),
    vfs_of=dict(type='list', elements='str'),
    match=dict(type='dict', options=dict(
        vendor=dict(type='str', required=True),
        device=dict(type='str'),
    )),
    driver=dict(type='str', default='vfio-pci', choices=list(DRIVER_CHOICES)),
    noiommu=dict(type='bool', default=False),
    force=dict(type='bool', default=False),
    persist=dict(type='bool', default=True),
    sriov_plan=dict(type='list', elements='dict', default=[]),
    iommu_planned=dict(type='bool', default=False),
)
DRIVER_BIND_REQUIRED_ONE_OF = [('devices', 'vfs_of', 'match')]


class DriverBind:
    """The ``nfv.dpdk.driver_bind`` module: select, validate everything, load the driver, bind, persist."""

    def __init__(self, module, fs=None, environ=None):
        self.module = module
        self.fs = fs or HostFS()
        self.params = module.params
        self.environ = environ
        self.target = module.params['driver']
        self.plan = {}              # PF address -> [PlannedVf], from sriov_plan
        self.unplaceable = []       # planned VFs of vfs_of PFs whose address sriov_vfs could not compute
        self.iommu_deferred = []    # devices whose IOMMU check waits for the reboot (iommu_planned)

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    # -- selection and validation ------------------------------------------------------------
    def _planned_by_address(self):
        return dict((vf.address, vf) for vfs in self.plan.values() for vf in vfs if vf.address is not None)

    def _planned_device(self, planned_vf, problems):
        """Check mode: the device a ``sriov_plan`` VF stands for (a PciDevice when it exists), or None (a problem)."""
        existing = PciDevice(planned_vf.address, self.fs)
        if existing.exists:
            if existing.physfn == planned_vf.pf_address:
                return existing
            # Never plan a binding of a device the plan mistakes for a VF (it may be the NIC of this connection).
            problems.append('%s.address: %s exists and is not a VF of %s but %s:%s (%s): the plan is not from '
                            'nfv.dpdk.sriov_vfs of this run; it is not bound' % (
                                planned_vf.where, existing.address, planned_vf.pf_address, existing.vendor_id,
                                existing.device_id, existing.driver or 'no driver'))
            return None
        if not planned_vf.planned:
            problems.append('%s: VF %s is listed as existing (planned: false) but there is no such device: pass the '
                            'pfs result of nfv.dpdk.sriov_vfs from this run' % (planned_vf.where, planned_vf.address))
            return None
        pf = PciDevice(planned_vf.pf_address, self.fs)
        if not pf.exists:
            problems.append('%s: its PF %s does not exist on this host' % (planned_vf.where, planned_vf.pf_address))
            return None
        return PlannedDevice(planned_vf, pf)

    def select(self, problems):
        selected = {}
        check = self.module.check_mode
        planned = self._planned_by_address()
        for position, text in enumerate(self.params.get('devices') or []):
            address = canonical_address(text) if PciAddress.is_valid(text) else None
            if check and address in planned and not PciDevice(address, self.fs).exists:
                device = self._planned_device(planned[address], problems)
                if device is not None:
                    selected.setdefault(device.address, device)
                continue
            try:
                device = resolve_device(text, self.fs)
            except ValueError as exc:
                hint = ''
                if address in planned:
                    hint = ' (%s plans it: nfv.dpdk.sriov_vfs did not create it)' % planned[address].where
                problems.append('devices[%d]: %s%s' % (position, exc, hint))
                continue
            selected.setdefault(device.address, device)
        for position, entry in enumerate(self.params.get('vfs_of') or []):
            text, indexes, problem = split_vfs_of(entry)
            if problem:
                problems.append('vfs_of[%d]: %s' % (position, problem))
                continue
            try:
                pf = resolve_device(text, self.fs)
            except ValueError as exc:
                problems.append('vfs_of[%d]: %s' % (position, exc))
                continue
            if not pf.is_sriov_pf:
                problems.append('vfs_of[%d]: %s is not an SR-IOV physical function' % (position, pf.address))
                continue
            plan_vfs = self.plan.get(pf.address)
            if check and plan_vfs is not None:
                # The PF's VFs as sriov_vfs leaves them: those it keeps and those it would create.
                if not plan_vfs:
                    problems.append('vfs_of[%d]: %s will have no VFs: its sriov_plan entry lists none (num_vfs 0)'
                                    % (position, pf.address))
                elif indexes is not None:
                    _range_problem(position, entry, pf.address, indexes, [vf.index for vf in plan_vfs], problems)
                for planned_vf in plan_vfs:
                    if indexes is not None and planned_vf.index not in indexes:
                        continue
                    if planned_vf.address is None:
                        self.unplaceable.append(planned_vf)
                        continue
                    device = self._planned_device(planned_vf, problems)
                    if device is not None:
                        selected.setdefault(device.address, device)
                continue
            vf_indexes = pf.vf_indexes()
            vfs = [address for address in pf.vfs if indexes is None or vf_indexes[address] in indexes]
            if not vf_indexes:
                hint = ' (in check mode, pass its result as sriov_plan)' if check else ''
                problems.append('vfs_of[%d]: %s has no VFs (sriov_numvfs is 0); create them with nfv.dpdk.sriov_vfs '
                                'first%s' % (position, pf.address, hint))
            elif indexes is not None:
                _range_problem(position, entry, pf.address, indexes, list(vf_indexes.values()), problems)
            for address in vfs:
                selected.setdefault(address, PciDevice(address, self.fs))
            for planned_vf in plan_vfs or []:
                if indexes is not None and planned_vf.index not in indexes:
                    continue
                # Outside check mode sriov_vfs has run: every VF it planned must exist now.
                if planned_vf.address is not None and planned_vf.address not in vfs:
                    problems.append('vfs_of[%d]: VF %d of %s at %s (%s) is not there: nfv.dpdk.sriov_vfs did not '
                                    'create it' % (position, planned_vf.index, pf.address, planned_vf.address,
                                                   planned_vf.where))
        match = self.params.get('match')
        if match:
            vendor, device_id = match.get('vendor'), match.get('device')
            bad = False
            for name, value in (('vendor', vendor), ('device', device_id)):
                if value is not None and not _HEX4.match(value):
                    # Digits only: YAML's reading of an unquoted 0x8086 (hex) or 0100 (octal).
                    problems.append(unquoted_number_error('match.%s' % name, value, PCI_ID)
                                    or "match.%s: '%s' is not a 4-digit hexadecimal PCI id (e.g. 8086)" % (name, value))
                    bad = True
            if not bad:
                found = [dev for dev in PciDevice.all(self.fs) if dev.vendor_id == _normal_id(vendor)
                         and (device_id is None or dev.device_id == _normal_id(device_id))]
                if check:
                    existing = set(dev.address for dev in found)
                    for address in sorted(planned):
                        planned_vf = planned[address]
                        if address in existing or not planned_vf.planned:
                            continue
                        pf = PciDevice(planned_vf.pf_address, self.fs)
                        if (planned_vf.vendor_id or pf.vendor_id) == _normal_id(vendor) and (
                                device_id is None or planned_vf.device_id == _normal_id(device_id)):
                            device = self._planned_device(planned_vf, problems)
                            if device is not None:
                                found.append(device)
                if not found:
                    problems.append('match: no PCI device has vendor %s%s' % (
                        vendor, (' and device %s' % device_id) if device_id else ''))
                for dev in found:
                    selected.setdefault(dev.address, dev)
        return [selected[address] for address in sorted(selected)]

    def validate(self):
        self.plan, problems = parse_sriov_plan(self.params.get('sriov_plan'))
        if self.params['noiommu'] and self.target != 'vfio-pci':
            problems.append('noiommu: only applies to driver vfio-pci (got driver %s)' % self.target)
        devices = self.select(problems)
        if not problems and not devices and not self.unplaceable:
            problems.append('devices, vfs_of, match: select at least one device')
        bindings = [Binding(device, self.target) for device in devices]
        addresses = set(device.address for device in devices)
        guard = None
        lockdown = lockdown_mode(self.fs)
        secure_boot = secure_boot_enabled(self.fs)
        for binding in bindings:
            if not binding.needs_change:
                continue
            device = binding.device
            name = '%s (%s:%s, %s)' % (device.address, device.vendor_id, device.device_id,
                                       device.driver or 'no driver')
            if is_bridge(device):
                problems.append('%s is a PCI bridge; bridges are never rebound' % name)
                continue
            problems.extend(self._target_problems(device, name, addresses, lockdown, secure_boot))
            if binding.will_unbind:
                mounted = mounted_block_devices(self.fs, block_devices(self.fs, device))
                if mounted:
                    problems.append('%s holds block devices in use (%s: mounted, swap or under LVM/md); it is never '
                                    'unbound, not even with force' % (name, ', '.join(mounted)))
                    continue
                if binding.driver_before == 'vfio-pci':
                    users = vfio_group_users(self.fs, [device.iommu_group]).get(device.iommu_group)
                    if users:
                        problems.append('%s is in use through vfio by process %s (a DPDK application); unbinding '
                                        'it would block until it exits: stop it first' % (name, ', '.join(users)))
                if (device.sriov_numvfs or 0) > 0:
                    problems.append('%s has %d VFs: unbinding a PF destroys them; set num_vfs: 0 with '
                                    'nfv.dpdk.sriov_vfs first' % (name, device.sriov_numvfs))
                if guard is None:
                    guard = ConnectionGuard(self.module, self.fs, self.module.get_bin_path('ip'), self.environ)
                    if not guard.ip:
                        self.module.warn('ip (iproute2) not found: only routes are checked before unbinding')
                try:
                    reasons = guard.reasons(device)
                except BindError as exc:
                    reasons = ['cannot check its interfaces: %s' % exc]
                if reasons and not self.params['force']:
                    problems.append('%s: unbinding it could cut this node off: %s (force: true overrides)'
                                    % (name, '; '.join(reasons)))
                elif reasons:
                    self.module.warn('%s: forced although %s' % (name, '; '.join(reasons)))
        for planned_vf in self.unplaceable:
            # Without an address, the checks that need none still run: the PF's driver/vendor, lockdown, the IOMMU.
            device = PlannedDevice(planned_vf, PciDevice(planned_vf.pf_address, self.fs))
            name = 'VF %d of %s (address unknown, %s:%s)' % (
                planned_vf.index, planned_vf.pf_address, device.vendor_id, device.device_id or '?')
            problems.extend(self._target_problems(device, name, addresses, lockdown, secure_boot))
        if problems:
            self.fail('%d problem(s), nothing was changed: %s' % (len(problems), '; '.join(problems)),
                      problems=problems)
        if self.iommu_deferred:
            self.module.warn('iommu_planned: the IOMMU is off now; vfio-pci for %s is planned for after the reboot that '
                             'turns it on (IOMMU groups are checked when the real run binds them)'
                             % ', '.join(self.iommu_deferred))
        for planned_vf in self.unplaceable:
            self.module.warn('%s: VF %d of %s would be created and bound to %s, but its PCI address is unknown (see '
                             "nfv.dpdk.sriov_vfs's warning): only the checks that need no address were made"
                             % (planned_vf.where, planned_vf.index, planned_vf.pf_address, self.target))
        return bindings

    def _target_problems(self, device, name, addresses, lockdown, secure_boot):
        """Refusals that depend on the target driver and the device's kind, not on its current binding."""
        problems = []
        if self.target != 'kernel' and device.is_bifurcated:
            problems.append('%s is a bifurcated Mellanox/NVIDIA NIC: DPDK (mlx4/mlx5 PMD) uses it with its kernel '
                            'driver bound; binding it to %s breaks it (use driver: kernel)' % (name, self.target))
        if self.target in ('igb_uio', 'uio_pci_generic') and lockdown not in (None, 'none'):
            problems.append('%s: %s is refused: kernel lockdown is %s (Secure Boot), which forbids the PCI BAR '
                            'access uio drivers need%s; use vfio-pci' % (
                                name, self.target, lockdown,
                                ' and unsigned modules like igb_uio' if self.target == 'igb_uio' else ''))
        elif self.target == 'igb_uio' and secure_boot:
            problems.append('%s: igb_uio is refused: Secure Boot is on and igb_uio is an unsigned out-of-tree '
                            'module; use vfio-pci' % name)
        if self.target == 'vfio-pci':
            problems.extend(self._iommu_problems(device, name, addresses))
        return problems

    def _iommu_problems(self, device, name, addresses):
        group = device.iommu_group
        if group is None:
            if self.params['noiommu']:
                return []
            if isinstance(device, PlannedDevice) and device.pf.iommu_group is not None:
                # The IOMMU is on (the PF has a group): the kernel gives the VF a group when it creates it.
                return []
            if self.module.check_mode and self.params['iommu_planned']:
                self.iommu_deferred.append(device.address or name)
                return []
            return ['%s has no IOMMU group: the IOMMU is off or absent, and vfio-pci needs it (enable it with '
                    'nfv.dpdk.iommu_grub: intel_iommu=on or amd_iommu=on, iommu=pt, then reboot), or set '
                    'noiommu: true for unsafe no-IOMMU mode (no DMA isolation)%s' % (
                        name, '' if self.params['iommu_planned'] else
                        '; in check mode, iommu_planned: true when this run turns the IOMMU on')]
        blockers = []
        for member in device.iommu_group_devices:
            if member == device.address or member in addresses:
                continue
            other = PciDevice(member, self.fs)
            if is_bridge(other) or other.driver in (None,) + VFIO_GROUP_OK:
                continue
            blockers.append('%s (%s)' % (member, other.driver))
        if blockers:
            return ['%s: its IOMMU group %d also holds %s; vfio-pci needs every device of the group on vfio-pci or '
                    'unbound: list them in devices too, or use another slot/ACS' % (name, group, ', '.join(blockers))]
        return []

    # -- changes ------------------------------------------------------------------------
    def load_driver(self, changes):
        """modprobe the userspace driver (and vfio's no-IOMMU switch); returns modules loaded."""
        if self.target == 'kernel':
            return []
        loaded = []
        check = self.module.check_mode
        modprobe = None
        if self.params['noiommu']:
            if self.fs.exists(NOIOMMU_PARAM):
                if self.fs.read(NOIOMMU_PARAM) not in ('Y', '1'):
                    changes.append('vfio enable_unsafe_noiommu_mode=1')
                    if not check:
                        try:
                            self.fs.write(NOIOMMU_PARAM, '1')
                        except (IOError, OSError) as exc:
                            self.fail('writing 1 to %s failed: %s' % (NOIOMMU_PARAM, exc))
            else:
                modprobe = self.module.get_bin_path('modprobe', required=True)
                self._modprobe(modprobe, ['vfio', 'enable_unsafe_noiommu_mode=1'], check)
                loaded.append('vfio')
        if not self.fs.isdir('%s/%s' % (DRIVERS_DIR, self.target)):
            modprobe = modprobe or self.module.get_bin_path('modprobe', required=True)
            self._modprobe(modprobe, [self.target], check)
            loaded.append(self.target)
        changes.extend('modprobe %s' % name for name in loaded)
        return loaded

    def _modprobe(self, modprobe, args, check):
        argv = [modprobe] + (['-n'] if check else []) + args
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            hint = ''
            if args[0] == 'igb_uio':
                hint = ' (igb_uio is out of tree: build it from dpdk-kmods, or use vfio-pci)'
            self.fail('%s failed, nothing was changed: %s%s' % (' '.join(argv), (err or out).strip(), hint))

    def run(self):
        bindings = self.validate()
        changes = []
        loaded = self.load_driver(changes)
        check = self.module.check_mode
        binder = Binder(self.fs)
        done = []
        lines_before, lines_after = [], []
        groups = {}
        for binding in bindings:
            if binding.needs_change:
                group = binding.device.iommu_group
                groups.setdefault(binding.address if group is None else group, []).append(binding)
        try:
            after_text = 'driver %s, driver_override %s' % (
                self.target if self.target != 'kernel' else '(kernel default)',
                self.target if self.target != 'kernel' else '(null)')
            for planned_vf in self.unplaceable:
                lines_before.append('VF %d of %s: not created yet, PCI address unknown' % (
                    planned_vf.index, planned_vf.pf_address))
                lines_after.append('VF %d of %s: %s' % (planned_vf.index, planned_vf.pf_address, after_text))
            for binding in bindings:
                if not binding.needs_change:
                    continue
                if isinstance(binding.device, PlannedDevice):
                    lines_before.append('%s: not created yet (VF %d of %s, planned by nfv.dpdk.sriov_vfs)' % (
                        binding.address, binding.device.vf_index, binding.device.physfn))
                    lines_after.append('%s: %s' % (binding.address, after_text))
                    continue
                lines_before.append('%s: driver %s, driver_override %s' % (
                    binding.address, binding.driver_before or '(none)', binding.override_before or '(null)'))
                lines_after.append('%s: %s' % (binding.address, after_text))
            for batch in sorted(groups.values(), key=lambda items: items[0].address):
                if check:
                    break
                done.extend(batch)
                binder.bind_group(batch)
            units = BootUnits(self.module, self.fs, BIND_UNIT_PREFIX, BIND_HELPER, BIND_HELPER_CONTENT)
            desired = {}
            for binding in bindings:
                content = None
                if self.params['persist'] and self.target != 'kernel':
                    content = bind_unit_content(binding.device, self.target, self.params['noiommu'])
                desired[bind_unit_name(binding.address)] = content
            try:
                outcome = units.apply(desired)
            except SriovError as exc:
                units.restore()
                raise BindError('persistence failed, unit files restored: %s' % exc)
        except BindError as exc:
            undo = []
            for binding in reversed(done):
                error = binder.restore(binding)
                undo.append('%s back to %s%s' % (binding.address, binding.driver_before or 'no driver',
                                                 (' FAILED: %s' % error) if error else ''))
            self.fail('%s; restored: %s' % (exc, ', '.join(undo) or 'nothing to restore'),
                      devices=self.describe(bindings), changed=bool(loaded))
        result = {'changed': bool(changes or lines_after or outcome['changed']), 'devices': self.describe(bindings),
                  'loaded_modules': loaded, 'units': outcome['units']}
        if self.module._diff:
            diffs = []
            if lines_after:
                diffs.append({'before_header': 'PCI driver bindings', 'after_header': 'PCI driver bindings',
                              'before': ''.join(line + '\n' for line in lines_before),
                              'after': ''.join(line + '\n' for line in lines_after)})
            diffs.extend(outcome['diff'])
            result['diff'] = diffs
        self.module.exit_json(**result)

    def describe(self, bindings):
        out = []
        for binding in bindings:
            device = binding.device
            unit = '%s/%s' % (UNIT_DIR, bind_unit_name(device.address))
            out.append({
                'address': device.address, 'vendor_id': device.vendor_id, 'device_id': device.device_id,
                'driver_before': binding.driver_before, 'driver_after': device.driver,
                'driver_override': device.driver_override, 'iommu_group': device.iommu_group,
                'numa_node': device.numa_node, 'physfn': device.physfn, 'interfaces': list(device.netdevs),
                'planned': isinstance(device, PlannedDevice),
                'changed': binding.needs_change if self.module.check_mode else binding.touched,
                'unit': unit if self.fs.exists(unit) else None,
            })
        return out
