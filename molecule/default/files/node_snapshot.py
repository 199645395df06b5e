# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print, as JSON, what nfv.dpdk may change on a node: the files it manages and the kernel state it sets.

Molecule's plan step runs this before and after `ansible-playbook --check --diff playbooks/site.yml`
and asserts both snapshots are identical. Files are given by their sha256 (null when absent);
the runtime state is read from /proc and /sys. Read-only.
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
    '/etc/systemd/system.conf.d/*',
    '/etc/systemd/system/nfv-dpdk-*',
    '/etc/systemd/system/*.wants/nfv-dpdk-*',
    '/etc/modprobe.d/*',
    '/etc/modules-load.d/*',
    '/usr/local/libexec/nfv-dpdk',
    '/usr/local/libexec/nfv-dpdk/*',
]
# Always listed, so that a file the plan would create shows up as null -> sha256.
MUST_LIST = ['/etc/default/grub', '/boot/grub/grub.cfg', '/etc/fstab', '/usr/local/libexec/nfv-dpdk']
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
    for path in sorted(glob.glob('/sys/devices/system/node/node*/hugepages/hugepages-*/nr_hugepages')):
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
    }, indent=1, sort_keys=True))


if __name__ == '__main__':
    main()
