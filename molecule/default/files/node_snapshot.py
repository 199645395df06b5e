# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print, as JSON, what nfv.dpdk may change on a node: the files it manages and the kernel state it sets.

Molecule's plan step runs this before and after `ansible-playbook --check --diff playbooks/site.yml`
and asserts both snapshots are identical; prepare also keeps the first one as the pristine record,
which undo_cycle.yml compares with the node after playbooks/undo.yml. Files are given by their
sha256 (null when absent); the runtime state is read from /proc and /sys, the unit files from
systemd's unit directories (transient units, such as the SSH session's scope, left out). Read-only.
"""

import glob
import hashlib
import json
import os

FILE_PATTERNS = [
    '/etc/default/grub',
    '/etc/default/grub.d/*',
    '/boot/grub/grub.cfg',
    '/etc/fstab',
    '/etc/default/irqbalance',
    '/etc/kernel/cmdline',
    '/boot/loader/entries/*',
    '/etc/systemd/system.conf.d/*',
    # units, their enablement links and drop-ins (slices' AllowedCPUs=) that the modules write
    '/etc/systemd/system/*',
    '/etc/systemd/system/*.wants/*',
    '/etc/systemd/system/*.d/*',
    '/etc/udev/rules.d/*',
    '/etc/modprobe.d/*',
    '/etc/modules-load.d/*',
    '/usr/local/libexec/nfv-dpdk',
    '/usr/local/libexec/nfv-dpdk/*',
    # the kubelet and the standalone device plugin (absent on the lab node: then listed as null)
    '/var/lib/kubelet/config.yaml',
    '/var/lib/kubelet/config.yaml.*',
    '/var/lib/kubelet/cpu_manager_state',
    '/var/lib/kubelet/memory_manager_state',
    '/etc/pcidp/*',
]
# Always listed, so that a file the plan would create shows up as null -> sha256.
MUST_LIST = ['/etc/default/grub', '/boot/grub/grub.cfg', '/etc/fstab', '/usr/local/libexec/nfv-dpdk',
             '/var/lib/kubelet/config.yaml', '/etc/pcidp/config.json']
PCI = '/sys/bus/pci/devices'


def read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def file_digest(path):
    if os.path.islink(path):
        return 'symlink:' + os.readlink(path)
    if os.path.isdir(path):
        return 'directory'
    if not os.path.exists(path):
        return None
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def link_name(path):
    return os.path.basename(os.readlink(path)) if os.path.islink(path) else None


# systemd's unit search path, highest precedence first (systemd-analyze unit-paths, without the
# transient and per-user directories). Read from disk: systemctl list-unit-files asks PID 1 over
# D-Bus, which times out ("Connection timed out") on a loaded TCG guest.
UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/run/systemd/generator.early',
             '/run/systemd/generator', '/usr/local/lib/systemd/system', '/lib/systemd/system',
             '/usr/lib/systemd/system', '/run/systemd/generator.late']
UNIT_SUFFIXES = ('.service', '.socket', '.target', '.timer', '.mount', '.automount', '.swap', '.path',
                 '.slice', '.scope', '.device')


def unit_files():
    """Every unit file systemd can load, as {unit: where} (the directory that wins, or masked)."""
    units = {}
    for directory in UNIT_DIRS:
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if name in units or not name.endswith(UNIT_SUFFIXES) or os.path.isdir(path):
                continue
            units[name] = 'masked' if os.path.realpath(path) == '/dev/null' else directory
    return units


def pid1_cpus():
    for line in (read('/proc/1/status') or '').splitlines():
        if line.startswith('Cpus_allowed_list:'):
            return line.split(':', 1)[1].strip()
    return None


def main():
    paths = set(MUST_LIST)
    for pattern in FILE_PATTERNS:
        paths.update(glob.glob(pattern))
    files = {path: file_digest(path) for path in sorted(paths)}

    devices = {}
    for address in sorted(os.listdir(PCI)):
        base = os.path.join(PCI, address)
        is_pf = os.path.exists(os.path.join(base, 'sriov_totalvfs'))
        is_nic = (read(os.path.join(base, 'class')) or '').startswith('0x02')
        if not (is_pf or is_nic):
            continue
        net = os.path.join(base, 'net')
        interfaces = sorted(os.listdir(net)) if os.path.isdir(net) else []
        devices[address] = {
            'driver': link_name(os.path.join(base, 'driver')),
            'driver_override': read(os.path.join(base, 'driver_override')),
            'sriov_numvfs': read(os.path.join(base, 'sriov_numvfs')),
            'sriov_drivers_autoprobe': read(os.path.join(base, 'sriov_drivers_autoprobe')),
            'interfaces': {name: read(os.path.join(net, name, 'flags')) for name in interfaces},
        }

    hugepages = {}
    for path in sorted(glob.glob('/sys/devices/system/node/node*/hugepages/hugepages-*/nr_hugepages')
                       + glob.glob('/sys/kernel/mm/hugepages/hugepages-*/nr_hugepages')):
        hugepages[path] = read(path)
    with open('/proc/mounts') as handle:
        hugetlbfs = sorted(line.strip() for line in handle if ' hugetlbfs ' in line)

    print(json.dumps({
        'files': files,
        'cmdline': read('/proc/cmdline'),
        'isolated_cpus': read('/sys/devices/system/cpu/isolated'),
        'devices': devices,
        'hugepages': hugepages,
        'hugetlbfs_mounts': hugetlbfs,
        'unit_files': unit_files(),
        'pid1_cpus': pid1_cpus(),
    }, indent=1, sort_keys=True))


if __name__ == '__main__':
    main()
