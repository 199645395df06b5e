# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SR-IOV operations on a physical function: VF count, VF attributes, boot-time persistence.

The PCI model (addresses, ``sriov_totalvfs``, ``virtfnN``...) is ``pci.py``;
this file only changes things:

- ``set_num_vfs``: the kernel refuses a non-zero count while VFs exist
  (``EBUSY``), so N -> M writes 0 then M.
- VF attributes live in the PF driver and are changed through the PF's
  interface: ``ip link set dev PF vf N mac ...``; current values come from
  ``ip -j link show dev PF`` (``vfinfo_list``).
- Persistence: VFs vanish at reboot. A oneshot systemd unit per PF
  (``nfv-dpdk-sriov-<address>.service``) recreates the count and the attributes
  early at boot, before ``network-pre.target`` and ``kubelet.service``, with a
  small helper script; ``driver_bind`` units order themselves after it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import re

from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.managed_file import ManagedFile, systemd_running, systemd_stale_units
from ansible_collections.nfv.dpdk.plugins.module_utils.pci import PciAddress, PciDevice, SriovCapabilityError, route_interfaces
from ansible_collections.nfv.dpdk.plugins.module_utils.yaml_numbers import (
    MAC_ADDRESS, PCI_ADDRESS, unquoted_number_error, unquoted_number_reason,
)

LINK_STATES = ('auto', 'enable', 'disable')
VF_ATTRIBUTES = ('mac', 'vlan', 'qos', 'spoofchk', 'trust', 'link_state', 'min_tx_rate', 'max_tx_rate')

UNIT_DIR = '/etc/systemd/system'
WANTS_DIR = '/etc/systemd/system/multi-user.target.wants'
HELPER_DIR = '/usr/local/libexec/nfv-dpdk'
SRIOV_HELPER = HELPER_DIR + '/sriov-vfs'
SRIOV_UNIT_PREFIX = 'nfv-dpdk-sriov-'

# First-line markers of the files the collection generates (units, helper scripts).
GENERATED_MARKERS = ('# Managed by Ansible (nfv.dpdk.', '# Installed by the Ansible module nfv.dpdk.')

_MAC = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')

SRIOV_HELPER_CONTENT = r'''#!/bin/sh
# Installed by the Ansible module nfv.dpdk.sriov_vfs; run at boot by
# nfv-dpdk-sriov-*.service units (see systemctl cat nfv-dpdk-sriov-*):
#   sriov-vfs numvfs PF_ADDRESS COUNT [AUTOPROBE]   set sriov_numvfs (through 0)
#   sriov-vfs vf PF_ADDRESS INDEX ARGS...           ip link set dev <PF netdev> vf INDEX ARGS...
#   sriov-vfs link PF_ADDRESS up                    ip link set dev <PF netdev> up
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin
dev=/sys/bus/pci/devices/$2

# Run "$@" every 0.1 s until it succeeds; give up (status 1) after 60 s.
poll() {
    tries=0
    until "$@"; do
        tries=$((tries + 1))
        if [ "$tries" -gt 600 ]; then
            return 1
        fi
        sleep 0.1
    done
}

wait_for() {
    poll test -e "$1" || { echo "sriov-vfs: gave up waiting for $1" >&2; exit 1; }
}

# udev renames the PF's interface (eth1 -> enp129s0) while this early unit runs,
# and cannot rename an interface that is up: wait until udev has processed it
# (its database entry exists), unless udev is not running at all.
udev_db=/run/udev/data
udev_done() {
    name=$(ls "$dev/net" | head -n 1)
    index=$(cat "$dev/net/$name/ifindex" 2>/dev/null || true)
    [ -n "$index" ] && [ -e "$udev_db/n$index" ]
}
wait_for_udev() {
    [ -d "$udev_db" ] || return 0
    poll udev_done || echo "sriov-vfs: udev did not process the interface of $dev in 60 s; going on" >&2
}

# ip link set dev <the PF's interface> ARGS...  When the name vanished under us
# (renamed), look it up again and retry (bounded); a real refusal fails at once.
pf_ip() {
    attempt=0
    wait_for "$dev/net"
    wait_for_udev
    while :; do
        wait_for "$dev/net"
        ifname=$(ls "$dev/net" | head -n 1)
        if [ -n "$ifname" ] && ip link set dev "$ifname" "$@"; then
            return 0
        fi
        attempt=$((attempt + 1))
        if { [ -n "$ifname" ] && [ -e "$dev/net/$ifname" ]; } || [ "$attempt" -ge 50 ]; then
            echo "sriov-vfs: ip link set dev $ifname $* failed" >&2
            exit 1
        fi
        sleep 0.2
    done
}

case "$1" in
numvfs)
    # sriov_numvfs needs the PF's driver: wait for it to bind.
    wait_for "$dev/driver"
    if [ $# -ge 4 ]; then
        echo "$4" > "$dev/sriov_drivers_autoprobe"
    fi
    current=$(cat "$dev/sriov_numvfs")
    if [ "$current" != "$3" ]; then
        if [ "$current" != 0 ]; then
            echo 0 > "$dev/sriov_numvfs"
        fi
        echo "$3" > "$dev/sriov_numvfs"
    fi
    ;;
vf)
    index=$3
    shift 3
    pf_ip vf "$index" "$@"
    ;;
link)
    # Most PF drivers (igb, ixgbe, i40e) pass no VF traffic while the PF is down.
    [ "$3" = up ] || { echo "sriov-vfs: link only sets a PF up" >&2; exit 2; }
    pf_ip up
    ;;
*)
    echo "usage: sriov-vfs numvfs PF COUNT [AUTOPROBE] | sriov-vfs vf PF INDEX ARGS... | sriov-vfs link PF up" >&2
    exit 2
    ;;
esac
'''


class SriovError(Exception):
    """An operation the kernel or a command refused; the message is for the user."""


def normalize_mac(text):
    """``AA-BB-cc:dd:ee:ff`` -> ``aa:bb:cc:dd:ee:ff``; None when it is not a MAC address."""
    if not isinstance(text, str):
        return None
    value = text.strip().lower().replace('-', ':')
    return value if _MAC.match(value) else None


def is_multicast_mac(mac):
    return bool(int(mac.split(':')[0], 16) & 1)


def key_of(address):
    """``0000:41:00.0`` -> ``0000-41-00.0`` (for unit and file names)."""
    return str(address).replace(':', '-')


def sriov_unit_name(address):
    return '%s%s.service' % (SRIOV_UNIT_PREFIX, key_of(address))


def resolve_device(text, fs):
    """A ``PciDevice`` for a PCI address or an interface name, or raise ValueError with the reason."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError('is empty: give a PCI address (0000:41:00.0) or an interface name')
    text = text.strip()
    if PciAddress.is_valid(text):
        device = PciDevice(text, fs)
        if not device.exists:
            raise ValueError("'%s': no such PCI device on this host" % text)
        return device
    if ':' in text or '/' in text:
        # Looks like an address, but is not one (PciAddressError explains why).
        try:
            PciAddress.parse(text)
        except ValueError as exc:
            raise ValueError(str(exc))
    unquoted = unquoted_number_reason(text, PCI_ADDRESS)
    if unquoted and not fs.exists('/sys/class/net/%s' % text):
        # YAML read an unquoted 0000:41:00.0 as 2460.0 (an interface may have such a name: checked first).
        raise ValueError(unquoted)
    device = PciDevice.from_netdev(text, fs)
    if device is None:
        if fs.exists('/sys/class/net/%s' % text):
            raise ValueError("'%s' is an interface without a PCI device (virtual)" % text)
        raise ValueError("'%s' is neither a PCI address (DDDD:BB:DD.F) nor a network interface of this host" % text)
    return device


def vfio_group_users(fs, groups):
    """{group: ['1234 (dpdk-testpmd)', ...]} for the IOMMU groups whose /dev/vfio file a process holds open.

    Removing or unbinding a vfio-pci device that a process (a DPDK pod) holds
    blocks in the kernel until the process lets go, so callers refuse instead.
    """
    wanted = {}
    for group in groups:
        if group is not None:
            wanted['/dev/vfio/%s' % group] = group
            wanted['/dev/vfio/noiommu-%s' % group] = group
    users = {}
    if not wanted:
        return users
    for pid in fs.listdir('/proc'):
        if not pid.isdigit():
            continue
        for fd in fs.listdir('/proc/%s/fd' % pid):
            target = fs.readlink('/proc/%s/fd/%s' % (pid, fd))
            if target in wanted:
                name = fs.read('/proc/%s/comm' % pid) or '?'
                users.setdefault(wanted[target], []).append('%s (%s)' % (pid, name))
                break
    return users


# -- VF attributes ---------------------------------------------------------------------
def _links(link_json):
    """``ip -j link show`` output (text or parsed) -> list of link dicts."""
    try:
        links = json.loads(link_json) if isinstance(link_json, str) else link_json
    except ValueError:
        raise SriovError('cannot parse the output of ip -j link show: %r' % (link_json[:200],))
    if isinstance(links, dict):
        links = [links]
    return links or []


def parse_vfinfo(link_json):
    """``ip -j link show dev PF`` output -> {index: {attribute: value}} (VF_ATTRIBUTES keys)."""
    result = {}
    for link in _links(link_json):
        for entry in link.get('vfinfo_list') or []:
            if 'vf' not in entry:
                continue
            vlan = qos = 0
            if entry.get('vlan_list'):
                vlan = entry['vlan_list'][0].get('vlan', 0) or 0
                qos = entry['vlan_list'][0].get('qos', 0) or 0
            else:
                vlan = entry.get('vlan', 0) or 0
                qos = entry.get('qos', 0) or 0
            rate = entry.get('rate') or {}
            result[int(entry['vf'])] = {
                'mac': normalize_mac(entry.get('address') or '') or entry.get('address'),
                'vlan': int(vlan),
                'qos': int(qos),
                'spoofchk': entry.get('spoofchk'),
                'trust': entry.get('trust'),
                'link_state': entry.get('link_state'),
                'max_tx_rate': int(rate.get('max_tx', entry.get('tx_rate', 0)) or 0),
                'min_tx_rate': int(rate.get('min_tx', 0) or 0),
            }
    return result


def link_is_up(link_json):
    """Whether ``ip -j link show dev IF`` reports the interface administratively up (the UP flag)."""
    return any('UP' in (link.get('flags') or []) for link in _links(link_json))


def _onoff(value):
    return 'on' if value else 'off'


def vf_attribute_args(wanted, current=None):
    """ip-link ``vf N`` argument groups that make ``current`` what ``wanted`` asks.

    ``wanted`` holds the user's attributes (None = leave as is). With
    ``current=None`` every wanted attribute is returned (boot-time replay).
    Each group is one ``ip link set`` call so that an unsupported attribute
    (igb has no ``trust``) fails with its own message.
    """
    current = current or {}
    full = not current
    groups = []

    def differs(name, value):
        return full or current.get(name) != value

    mac = wanted.get('mac')
    if mac is not None and differs('mac', normalize_mac(mac)):
        groups.append(['mac', normalize_mac(mac)])
    vlan, qos = wanted.get('vlan'), wanted.get('qos')
    if vlan is not None:
        qos = qos or 0
        if differs('vlan', vlan) or differs('qos', qos):
            groups.append(['vlan', str(vlan), 'qos', str(qos)])
    max_rate, min_rate = wanted.get('max_tx_rate'), wanted.get('min_tx_rate')
    if max_rate is not None or min_rate is not None:
        rate = []
        if max_rate is not None and differs('max_tx_rate', max_rate):
            rate += ['max_tx_rate', str(max_rate)]
        if min_rate is not None and differs('min_tx_rate', min_rate):
            rate += ['min_tx_rate', str(min_rate)]
        if rate:
            # The kernel checks min <= max on the pair: send both when one changes.
            if max_rate is not None and 'max_tx_rate' not in rate:
                rate += ['max_tx_rate', str(max_rate)]
            if min_rate is not None and 'min_tx_rate' not in rate:
                rate += ['min_tx_rate', str(min_rate)]
            groups.append(rate)
    for name, keyword in (('spoofchk', 'spoofchk'), ('trust', 'trust')):
        value = wanted.get(name)
        if value is not None and differs(name, value):
            groups.append([keyword, _onoff(value)])
    state = wanted.get('link_state')
    if state is not None and differs('link_state', state):
        groups.append(['state', state])
    return groups


def validate_vf(vf, num_vfs, where):
    """Problems (strings) with one ``vfs`` entry; ``where`` names it (``pfs[0].vfs[1]``)."""
    problems = []
    index = vf.get('index')
    if index is None or index < 0 or index >= max(num_vfs, 0):
        allowed = ('0-%d' % (num_vfs - 1)) if num_vfs > 0 else 'none: num_vfs is 0'
        problems.append('%s.index: %s is not a VF of this PF (allowed %s)' % (where, index, allowed))
    mac = vf.get('mac')
    if mac is not None:
        normal = normalize_mac(mac)
        if normal is None:
            problems.append(unquoted_number_error('%s.mac' % where, mac, MAC_ADDRESS)
                            or "%s.mac: '%s' is not a MAC address (use aa:bb:cc:dd:ee:ff)" % (where, mac))
        elif is_multicast_mac(normal):
            problems.append("%s.mac: '%s' is a multicast address; a VF needs a unicast MAC "
                            "(first octet even, e.g. 02:...)" % (where, mac))
    vlan = vf.get('vlan')
    if vlan is not None and not 0 <= vlan <= 4095:
        problems.append('%s.vlan: %s is out of range (allowed 0-4095, 0 = no VLAN)' % (where, vlan))
    qos = vf.get('qos')
    if qos is not None:
        if not 0 <= qos <= 7:
            problems.append('%s.qos: %s is out of range (allowed 0-7)' % (where, qos))
        if vlan is None:
            problems.append('%s.qos: needs vlan (the 802.1p priority is set with the VLAN)' % where)
    for name in ('min_tx_rate', 'max_tx_rate'):
        value = vf.get(name)
        if value is not None and value < 0:
            problems.append('%s.%s: %s is negative (Mbit/s, 0 = no limit)' % (where, name, value))
    low, high = vf.get('min_tx_rate'), vf.get('max_tx_rate')
    if low and high and low > high:
        problems.append('%s.min_tx_rate: %s is above max_tx_rate %s' % (where, low, high))
    return problems


# -- VF count ---------------------------------------------------------------------------
def set_num_vfs(fs, device, wanted):
    """Make ``sriov_numvfs`` of ``device`` ``wanted``; returns the values written, in order.

    The kernel refuses a non-zero count while VFs exist (``EBUSY``), so a
    change between two non-zero counts goes through 0. Raises SriovError with
    the kernel's reason.
    """
    path = '%s/sriov_numvfs' % device.path
    current = device.sriov_numvfs or 0
    written = []
    if current == wanted:
        return written
    sequence = [wanted] if current == 0 or wanted == 0 else [0, wanted]
    for value in sequence:
        try:
            fs.write(path, '%d' % value)
        except (IOError, OSError) as exc:
            if exc.errno == errno.EBUSY and value != 0 and 0 not in written:
                # VFs appeared between our read and our write: pass through 0 once.
                written.append(0)
                fs.write(path, '0')
                try:
                    fs.write(path, '%d' % value)
                except (IOError, OSError) as again:
                    raise SriovError(_write_error(path, value, again))
            else:
                raise SriovError(_write_error(path, value, exc))
        written.append(value)
    return written


def _write_error(path, value, exc):
    reasons = {
        errno.EBUSY: 'VFs are enabled; the count must go to 0 first',
        errno.ERANGE: 'above sriov_totalvfs',
        errno.ENOENT: 'no driver bound to the PF, or its driver cannot configure SR-IOV',
        errno.ENOMEM: 'out of MMIO/bus space for that many VFs (check BIOS SR-IOV and pci=realloc)',
        errno.EINVAL: 'invalid value',
    }
    reason = reasons.get(exc.errno, exc.strerror or str(exc))
    return 'writing %s to %s failed: %s (%s)' % (value, path, reason, exc.strerror or exc)


# -- persistence ------------------------------------------------------------------------
def sriov_unit_content(address, num_vfs, vfs, drivers_autoprobe=None, helper=SRIOV_HELPER, link_up=False):
    """The oneshot unit that recreates ``num_vfs`` VFs and their attributes at boot (and sets the PF up)."""
    numvfs = [helper, 'numvfs', address, str(num_vfs)]
    if drivers_autoprobe is not None:
        numvfs.append('1' if drivers_autoprobe else '0')
    lines = [
        '# Managed by Ansible (nfv.dpdk.sriov_vfs). Recreates the SR-IOV VFs of PCI %s at boot.' % address,
        '[Unit]',
        'Description=nfv.dpdk SR-IOV: %d VFs on PCI %s' % (num_vfs, address),
        # Early boot: before interfaces are configured and before kubelet and the
        # SR-IOV device plugin enumerate VFs. No default dependencies, so it can
        # run before network-pre.target; the helper waits for the PF driver.
        'DefaultDependencies=no',
        'After=local-fs.target systemd-modules-load.service systemd-udev-trigger.service',
        'Before=network-pre.target kubelet.service shutdown.target',
        'Wants=network-pre.target',
        'Conflicts=shutdown.target',
        'ConditionPathExists=/sys/bus/pci/devices/%s/sriov_numvfs' % address,
        '',
        '[Service]',
        'Type=oneshot',
        'RemainAfterExit=yes',
        'ExecStart=%s' % ' '.join(numvfs),
    ]
    if link_up:
        lines.append('ExecStart=%s' % ' '.join([helper, 'link', address, 'up']))
    for vf in sorted(vfs, key=lambda item: item['index']):
        for group in vf_attribute_args(vf):
            lines.append('ExecStart=%s' % ' '.join([helper, 'vf', address, str(vf['index'])] + group))
    lines += ['', '[Install]', 'WantedBy=multi-user.target', '']
    return '\n'.join(lines)


class BootUnits:
    """Oneshot units named ``<prefix>*.service`` plus the helper script they run.

    ``apply({unit_name: content or None})`` writes (through ``ManagedFile``:
    diff, check mode, backup) or removes the units, enables or disables them,
    keeps the helper while any unit of the prefix remains, and reloads systemd.
    ``restore()`` puts the files back when a later step fails. Raises
    SriovError; the caller restores and fails.
    """

    def __init__(self, module, fs, prefix, helper_path, helper_content):
        self.module = module
        self.fs = fs
        self.prefix = prefix
        self.helper_path = helper_path
        self.helper_content = helper_content
        self.removed_helper_dir = None
        self.files = []
        self.enabled = []
        self.disabled = []

    def existing(self):
        return set(name for name in self.fs.listdir(UNIT_DIR)
                   if name.startswith(self.prefix) and name.endswith('.service'))

    def is_enabled(self, name):
        return self.fs.islink('%s/%s' % (WANTS_DIR, name))

    def systemctl(self):
        return self.module.get_bin_path('systemctl')

    def _systemctl(self, *args):
        argv = [self.systemctl()] + list(args)
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            raise SriovError('%s failed: %s' % (' '.join(argv), (err or out).strip()))

    def _managed(self, path, content, mode):
        # Removing a file this collection generated needs no backup next to it (it would
        # stay in /etc/systemd/system forever); restore() works from memory anyway.
        current = self.fs.read_raw(path) or ''
        generated = current.startswith(GENERATED_MARKERS) or any(
            marker in current[:200] for marker in GENERATED_MARKERS)
        return ManagedFile(self.module, path, content, mode=mode, fs=self.fs,
                           backup=not (content is None and generated))

    def apply(self, desired):
        result = {'changed': False, 'units': [], 'diff': []}
        remaining = set(self.existing())
        for name, content in desired.items():
            if content is None:
                remaining.discard(name)
            else:
                remaining.add(name)
        check = self.module.check_mode
        for name in sorted(desired):
            if desired[name] is None and self.is_enabled(name):
                result['changed'] = True
                result['units'].append('%s/%s' % (UNIT_DIR, name))
                if not check:
                    # --now also stops it (no ExecStop: nothing changes on the device), so that
                    # systemd does not keep an active unit whose file is gone.
                    self._systemctl('disable', '--now', name)
                    self.disabled.append(name)
        files_changed = False
        managed = [(name, self._managed('%s/%s' % (UNIT_DIR, name), desired[name], 0o644)) for name in sorted(desired)]
        managed.append((None, self._managed(self.helper_path, self.helper_content if remaining else None, 0o755)))
        for name, handle in managed:
            try:
                outcome = handle.apply()
            except (IOError, OSError) as exc:
                raise SriovError('writing %s failed: %s' % (handle.path, exc))
            self.files.append(handle)
            if name is None and handle.content is not None and not check and self.fs.exists(handle.path):
                # ManagedFile's atomic_move gives a new file 0644; the helper must be executable.
                os.chmod(self.fs.path(handle.path), 0o755)
            if outcome['changed']:
                files_changed = result['changed'] = True
                if name and handle.path not in result['units']:
                    result['units'].append(handle.path)
                if 'diff' in outcome:
                    result['diff'].append(outcome['diff'])
        helper_dir = os.path.dirname(self.helper_path)
        if not remaining and not check and self.fs.isdir(helper_dir) and not self.fs.listdir(helper_dir):
            # The last helper script went with the last unit: its directory (created for it) goes too,
            # so that an undone node has no trace of the collection.
            try:
                os.rmdir(self.fs.path(helper_dir))
                self.removed_helper_dir = helper_dir
            except OSError:
                pass
        # Also reload when systemd still runs an older definition of these units although the
        # files need no change: a run killed during daemon-reload left them written, not loaded.
        stale = [] if files_changed else systemd_stale_units(self.module, sorted(desired), self.fs)
        if stale:
            result['changed'] = True
            result['stale_units'] = stale
        if (files_changed or stale) and not check and systemd_running(self.module, self.fs):
            self._systemctl('daemon-reload')
        for name in sorted(desired):
            if desired[name] is not None and not self.is_enabled(name):
                result['changed'] = True
                path = '%s/%s' % (UNIT_DIR, name)
                if path not in result['units']:
                    result['units'].append(path)
                if not check:
                    self._systemctl('enable', name)
                    self.enabled.append(name)
        return result

    def restore(self):
        """Undo what apply() did, best effort (called before failing)."""
        for name in self.enabled:
            try:
                self._systemctl('disable', name)
            except SriovError:
                pass
        if self.removed_helper_dir and not self.fs.isdir(self.removed_helper_dir):
            os.makedirs(self.fs.path(self.removed_helper_dir))
        for handle in reversed(self.files):
            handle.restore()
        for name in self.disabled:
            try:
                self._systemctl('enable', name)
            except SriovError:
                pass


class PfPlan:
    """One validated ``pfs`` entry."""

    def __init__(self, where, entry, device):
        self.where = where
        self.entry = entry
        self.device = device
        self.num_vfs = entry['num_vfs']
        self.autoprobe = entry.get('drivers_autoprobe')
        # The PF is set up only when it has VFs; it is never set down.
        self.link_up = bool(entry.get('link_up', True)) and self.num_vfs > 0
        self.vfs = [dict(vf) for vf in entry.get('vfs') or []]

    @property
    def has_attributes(self):
        return any(vf.get(name) is not None for vf in self.vfs for name in VF_ATTRIBUTES)


VF_OPTIONS = dict(
    index=dict(type='int', required=True),
    mac=dict(type='str'),
    vlan=dict(type='int'),
    qos=dict(type='int'),
    spoofchk=dict(type='bool'),
    trust=dict(type='bool'),
    link_state=dict(type='str', choices=list(LINK_STATES)),
    min_tx_rate=dict(type='int'),
    max_tx_rate=dict(type='int'),
)

# The options of nfv.dpdk.sriov_vfs (mirrored by its DOCUMENTATION); nfv.dpdk.node_check validates with them too.
SRIOV_VFS_ARGUMENT_SPEC = dict(
    pfs=dict(type='list', elements='dict', required=True, options=dict(
        device=dict(type='str', required=True),
        num_vfs=dict(type='int', required=True),
        drivers_autoprobe=dict(type='bool'),
        link_up=dict(type='bool', default=True),
        vfs=dict(type='list', elements='dict', default=[], options=VF_OPTIONS),
    )),
    persist=dict(type='bool', default=True),
)


class SriovVfs:
    """The ``nfv.dpdk.sriov_vfs`` module: validate everything, then VF counts, VF attributes, boot units."""

    def __init__(self, module, fs=None):
        self.module = module
        self.fs = fs or HostFS()
        self.params = module.params
        self.diffs = []
        self.ip = None

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    # -- validation ---------------------------------------------------------------------
    def validate(self):
        problems = []
        plans = []
        seen = {}
        if not self.params['pfs']:
            problems.append('pfs: give at least one PF')
        for position, entry in enumerate(self.params['pfs'] or []):
            where = 'pfs[%d]' % position
            try:
                device = resolve_device(entry['device'], self.fs)
            except ValueError as exc:
                problems.append('%s.device: %s' % (where, exc))
                continue
            if device.address in seen:
                problems.append('%s.device: %s is the same PF as %s; list each PF once'
                                % (where, device.address, seen[device.address]))
                continue
            seen[device.address] = where
            problems.extend(self._validate_pf(where, entry, device))
            plans.append(PfPlan(where, entry, device))
        self.ip = self.module.get_bin_path('ip')
        if not self.ip:
            if any(plan.has_attributes for plan in plans):
                problems.append('pfs[].vfs: setting VF attributes needs the ip command (iproute2), which is not installed')
            if any(plan.link_up and plan.device.netdevs for plan in plans):
                problems.append('pfs[].link_up: setting the PF link up needs the ip command (iproute2), which is not '
                                'installed (or set link_up: false)')
        if self.params['persist'] and any(plan.num_vfs > 0 for plan in plans) and not self.module.get_bin_path('systemctl'):
            problems.append('persist: systemctl not found; keeping VFs across reboots needs systemd (or set persist: false)')
        if problems:
            self.fail('%d problem(s) in the input, nothing was changed: %s' % (len(problems), '; '.join(problems)),
                      problems=problems)
        return plans

    def _validate_pf(self, where, entry, device):
        problems = []
        if device.is_vf:
            return ['%s.device: %s is a virtual function (of %s), not a physical function'
                    % (where, device.address, device.physfn)]
        total = device.sriov_totalvfs
        if not total:
            return ['%s.device: %s is not SR-IOV capable (no sriov_totalvfs: the device has no SR-IOV capability, '
                    'or SR-IOV is disabled in the firmware)' % (where, device.address)]
        wanted = entry['num_vfs']
        if wanted < 0 or wanted > total:
            problems.append('%s.num_vfs: %d is out of range for %s (allowed 0-%d, its sriov_totalvfs)'
                            % (where, wanted, device.address, total))
        current = device.sriov_numvfs or 0
        if wanted != current and device.driver is None:
            problems.append('%s.device: %s has no driver bound; the kernel changes the VF count through the PF '
                            'driver (bind it back with nfv.dpdk.driver_bind driver=kernel)' % (where, device.address))
        if wanted != current and current:
            vfs = [PciDevice(address, self.fs) for address in device.vfs]
            users = vfio_group_users(self.fs, [vf.iommu_group for vf in vfs if vf.driver == 'vfio-pci'])
            for vf in vfs:
                if vf.iommu_group in users and vf.driver == 'vfio-pci':
                    problems.append('%s.num_vfs: changing %d to %d removes VF %s, which process %s holds through '
                                    'vfio (a DPDK application); stop it first'
                                    % (where, current, wanted, vf.address, ', '.join(users[vf.iommu_group])))
        autoprobe = entry.get('drivers_autoprobe')
        if autoprobe is not None:
            if not self.fs.exists('%s/sriov_drivers_autoprobe' % device.path):
                problems.append('%s.drivers_autoprobe: %s has no sriov_drivers_autoprobe (kernel too old); '
                                'leave it unset' % (where, device.address))
            elif autoprobe is False and device.is_bifurcated:
                problems.append('%s.drivers_autoprobe: false is refused for %s: it is bifurcated (%s), DPDK uses its '
                                'VFs through the kernel driver' % (where, device.address, device.driver or 'mlx'))
        indexes = set()
        limit = wanted if 0 <= wanted <= total else total
        for position, vf in enumerate(entry.get('vfs') or []):
            vf_where = '%s.vfs[%d]' % (where, position)
            problems.extend(validate_vf(vf, limit, vf_where))
            if vf['index'] in indexes:
                problems.append('%s.index: VF %d is listed twice' % (vf_where, vf['index']))
            indexes.add(vf['index'])
        plan = PfPlan(where, entry, device)
        if plan.has_attributes and not device.netdevs:
            problems.append('%s.vfs: %s has no network interface (driver %s); VF attributes are set through the '
                            "PF's interface" % (where, device.address, device.driver or 'none'))
        return problems

    # -- changes --------------------------------------------------------------------------
    def run(self):
        plans = self.validate()
        results = []
        changed = False
        for plan in plans:
            try:
                result = self.apply(plan)
            except SriovError as exc:
                self.fail('%s (%s): %s' % (plan.where, plan.device.address, exc), pfs=results, changed=changed)
            results.append(result)
            changed = changed or result['changed']
        units = BootUnits(self.module, self.fs, SRIOV_UNIT_PREFIX, SRIOV_HELPER, SRIOV_HELPER_CONTENT)
        desired = {}
        for plan, result in zip(plans, results):
            address = plan.device.address
            content = None
            if self.params['persist'] and plan.num_vfs > 0:
                content = sriov_unit_content(address, plan.num_vfs, plan.vfs, plan.autoprobe,
                                             link_up=plan.link_up and bool(result['interface']))
            desired[sriov_unit_name(address)] = content
            result['unit'] = '%s/%s' % (UNIT_DIR, sriov_unit_name(address)) if content else None
        try:
            outcome = units.apply(desired)
        except SriovError as exc:
            units.restore()
            self.fail('persistence failed, unit files restored (the running VFs stay as configured): %s' % exc,
                      pfs=results, changed=changed)
        self.diffs.extend(outcome['diff'])
        kwargs = {'changed': changed or outcome['changed'], 'pfs': results, 'units': outcome['units']}
        if self.module._diff:
            kwargs['diff'] = self.diffs
        self.module.exit_json(**kwargs)

    def _show_link(self, ifname):
        rc, out, err = self.module.run_command([self.ip, '-j', 'link', 'show', 'dev', ifname])
        if rc != 0:
            raise SriovError('ip -j link show dev %s failed: %s' % (ifname, (err or out).strip()))
        return out

    def _read_vfinfo(self, ifname):
        return parse_vfinfo(self._show_link(ifname))

    def _set_link_up(self, plan, ifname, link, result):
        """``ip link set dev PF up`` when ``link`` (the PF's ``ip -j link show``) is administratively down."""
        if not plan.link_up:
            return
        if not ifname:
            self.module.warn('%s.link_up: %s has no network interface (driver %s); its link state was left alone'
                             % (plan.where, plan.device.address, plan.device.driver or 'none'))
            return
        if link_is_up(link):
            return
        argv = [self.ip, 'link', 'set', 'dev', ifname, 'up']
        result['link_commands'].append(argv)
        result['changed'] = True
        header = '%s (%s) link' % (plan.device.address, ifname)
        self.diffs.append({'before_header': header, 'after_header': header, 'before': 'down\n', 'after': 'up\n'})
        if not self.module.check_mode:
            rc, out, err = self.module.run_command(argv)
            if rc != 0:
                raise SriovError('%s failed: %s' % (' '.join(argv), (err or out).strip()))

    def apply(self, plan):
        pf = plan.device
        check = self.module.check_mode
        ifname = pf.netdevs[0] if pf.netdevs else None
        before = pf.sriov_numvfs or 0
        old_vfs = pf.vfs
        result = {'device': plan.entry['device'], 'address': pf.address, 'interface': ifname, 'driver': pf.driver,
                  'numa_node': pf.numa_node, 'total_vfs': pf.sriov_totalvfs, 'num_vfs_before': before,
                  'num_vfs': plan.num_vfs, 'numvfs_writes': [], 'vf_commands': [], 'link_commands': [],
                  'changed': False}
        if plan.autoprobe is not None:
            path = '%s/sriov_drivers_autoprobe' % pf.path
            current, wanted = self.fs.read(path), '1' if plan.autoprobe else '0'
            if current != wanted:
                result['changed'] = True
                self.diffs.append({'before_header': path, 'after_header': path,
                                   'before': '%s\n' % current, 'after': '%s\n' % wanted})
                if not check:
                    try:
                        self.fs.write(path, wanted)
                    except (IOError, OSError) as exc:
                        raise SriovError('writing %s to %s failed: %s' % (wanted, path, exc))
        if before != plan.num_vfs:
            result['changed'] = True
            path = '%s/sriov_numvfs' % pf.path
            self.diffs.append({'before_header': path, 'after_header': path,
                               'before': '%d\n' % before, 'after': '%d\n' % plan.num_vfs})
            if before and plan.num_vfs and ifname in route_interfaces(self.fs):
                self.module.warn('%s (%s) carries a route; some PF drivers (i40e, ice) reset the PF when the VF '
                                 'count changes and its link drops for a moment' % (pf.address, ifname))
            if check:
                result['numvfs_writes'] = [plan.num_vfs] if not before or not plan.num_vfs else [0, plan.num_vfs]
            else:
                result['numvfs_writes'] = set_num_vfs(self.fs, pf, plan.num_vfs)
        # The PF's link and its VFs' attributes from one `ip -j link show`, read after the
        # VF count is set (in check mode, VFs that are still to be created have none).
        recreated = before != plan.num_vfs
        vfinfo_wanted = plan.has_attributes and not (check and recreated)
        link = self._show_link(ifname) if ifname and (plan.link_up or vfinfo_wanted) else None
        self._set_link_up(plan, ifname, link, result)
        if plan.has_attributes:
            current = parse_vfinfo(link) if vfinfo_wanted else {}
            lines_before, lines_after = [], []
            for vf in sorted(plan.vfs, key=lambda item: item['index']):
                now = current.get(vf['index']) or {}
                for group in vf_attribute_args(vf, now or None):
                    argv = [self.ip, 'link', 'set', 'dev', ifname, 'vf', str(vf['index'])] + group
                    result['vf_commands'].append(argv)
                    keys = group[0::2]
                    lines_before.append('vf %d %s' % (vf['index'], ' '.join(
                        '%s %s' % (key, _show(now.get(_ATTR_OF[key]))) for key in keys)))
                    lines_after.append('vf %d %s' % (vf['index'], ' '.join(group)))
                    if not check:
                        rc, out, err = self.module.run_command(argv)
                        if rc != 0:
                            raise SriovError('%s failed: %s' % (' '.join(argv), (err or out).strip()))
            if result['vf_commands']:
                result['changed'] = True
                header = '%s (%s) VF attributes' % (pf.address, ifname)
                self.diffs.append({'before_header': header, 'after_header': header,
                                   'before': ''.join(line + '\n' for line in lines_before),
                                   'after': ''.join(line + '\n' for line in lines_after)})
        result['vfs'] = self.describe_vfs(pf, ifname, plan)
        if not check:
            remaining = set(pf.vfs)
            for address in old_vfs:
                unit = '%s/nfv-dpdk-bind-%s.service' % (UNIT_DIR, key_of(address))
                if address not in remaining and self.fs.exists(unit):
                    self.module.warn('VF %s is gone but %s still binds it at boot; remove it with nfv.dpdk.driver_bind '
                                     '(persist: false) or create the VF again' % (address, unit))
        return result

    def describe_vfs(self, pf, ifname, plan=None):
        """The PF's VFs as they are (``planned: false``) and, in check mode, those the run would create.

        In check mode ``plan.num_vfs`` VFs are what the host has after the run:
        existing VFs beyond it would be removed (left out), missing ones would
        be created (``planned: true``) at the addresses the PF's SR-IOV
        capability gives (``PciDevice.planned_vfs``), so that driver_bind can
        plan their binding before they exist.
        """
        attributes = {}
        existing = dict((index, address) for address, index in pf.vf_indexes().items())
        count = plan.num_vfs if plan is not None and self.module.check_mode else None
        if count is not None:
            existing = dict((index, address) for index, address in existing.items() if index < count)
        if existing and ifname and self.ip:
            try:
                attributes = self._read_vfinfo(ifname)
            except SriovError as exc:
                self.module.warn(str(exc))
        described = []
        for index in sorted(existing):
            vf = PciDevice(existing[index], self.fs)
            entry = {'index': index, 'address': vf.address, 'planned': False, 'vendor_id': vf.vendor_id,
                     'device_id': vf.device_id, 'interfaces': vf.netdevs, 'driver': vf.driver,
                     'numa_node': vf.numa_node, 'iommu_group': vf.iommu_group}
            values = attributes.get(index, {})
            for name in VF_ATTRIBUTES:
                entry[name] = values.get(name)
            described.append(entry)
        missing = [index for index in range(count or 0) if index not in existing]
        if missing:
            described.extend(self._planned_vfs(pf, plan, missing))
        return described

    def _planned_vfs(self, pf, plan, indexes):
        """Entries for the VFs ``indexes`` that check mode would create (``planned: true``)."""
        addresses, vf_device = {}, None
        try:
            capability = pf.sriov_capability()
            vf_device = capability['vf_device_id']
            addresses = dict(pf.planned_vfs(max(indexes) + 1))
        except SriovCapabilityError as exc:
            # Guessing (e.g. "the next functions on the PF's bus") would hand driver_bind
            # addresses that may belong to other devices: no address is safer than a wrong one.
            self.module.warn('%s (%s): the PCI addresses of the %d VF(s) that would be created are not known, '
                             'they are returned with address null (planned: true): %s'
                             % (plan.where, pf.address, len(indexes), exc))
            addresses, vf_device = {}, None
        wanted = dict((vf['index'], vf) for vf in plan.vfs)
        numa_node = pf.numa_node
        vendor = pf.vendor_id
        planned = []
        for index in indexes:
            entry = {'index': index, 'address': addresses.get(index), 'planned': True, 'vendor_id': vendor,
                     'device_id': vf_device, 'interfaces': [], 'driver': None, 'numa_node': numa_node,
                     'iommu_group': None}
            for name in VF_ATTRIBUTES:
                entry[name] = wanted.get(index, {}).get(name)
            if entry['mac'] is not None:
                entry['mac'] = normalize_mac(entry['mac'])
            planned.append(entry)
        return planned


_ATTR_OF = {'mac': 'mac', 'vlan': 'vlan', 'qos': 'qos', 'max_tx_rate': 'max_tx_rate', 'min_tx_rate': 'min_tx_rate',
            'spoofchk': 'spoofchk', 'trust': 'trust', 'state': 'link_state'}


def _show(value):
    if value is True:
        return 'on'
    if value is False:
        return 'off'
    return '-' if value is None else str(value)
