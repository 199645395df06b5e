#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: hugepages
short_description: Reserve hugepages per page size and NUMA node, now and at boot
description:
  - Makes the host's hugepage pools hold the number of pages given in O(pools), per page size
    and, optionally, per NUMA node, so that DPDK gets its memory on the node of its NIC.
  - With O(runtime=true) the pools are set now through sysfs (C(nr_hugepages) of the global or
    the node's pool). The kernel silently grants fewer pages than asked when memory is short or
    fragmented; this module reads every pool back and, when it obtained fewer pages than
    requested, writes C(1) to C(/proc/sys/vm/compact_memory) and tries once more. If the pool
    is still short it puts every pool it changed back to its previous size and fails with
    C(requested N, obtained M). It never drops caches.
  - With O(boot=true) the pools are reserved on the kernel command line (C(default_hugepagesz),
    C(hugepagesz), C(hugepages)) through the collection's shared bootloader backend, which
    regenerates the boot configuration and reports RV(reboot_required). Per-node pools use the
    kernel's C(hugepages=<node>:<count>,...) syntax, which needs Linux 5.16 or later; on older
    kernels (for example Ubuntu 22.04's 5.15) they are set early at boot by a oneshot systemd unit
    instead, see O(per_node_boot).
  - The boot configuration changes first, so that a platform or GRUB file the backend cannot edit is refused
    before anything changed; when a later runtime step fails, the pools, mounts and boot unit are put back, and so is
    the boot configuration, exactly. The GRUB files edited are restored byte for byte and C(grub.cfg) is regenerated
    from them (Debian/Ubuntu), or each BLS entry gets back the very options, in their order, that C(grubby --info=ALL)
    showed before (RHEL family). Each part is read back before the message calls it restored. When putting the boot
    configuration back fails too (for example C(update-grub) fails again), the message keeps the first error
    (C(requested N, obtained M)) and says what was put back, what was NOT, and what the configured kernel command
    line may still hold.
  - Before it changes anything the module checks every input, including that the requested
    pages fit in the node's (or host's) memory minus O(min_free_memory), that each size is one
    the kernel supports, that each NUMA node exists and that the CPU can map 1G pages
    (C(pdpe1gb)). Bad input fails with a message naming the field and leaves the host as it was.
  - O(mounts) mounts hugetlbfs file systems now (C(mount -t hugetlbfs -o pagesize=<size> nodev <path>)).
    The module does not edit C(/etc/fstab); make mounts persistent with M(ansible.posix.mount)
    (see EXAMPLES). Most systemd hosts already mount C(/dev/hugepages) for the default size.
author:
  - nfv.dpdk maintainers (@nfv-dpdk)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
options:
  pools:
    description:
      - Hugepage pools to manage. Pools not listed are left as they are at runtime.
      - For one page size, give either one pool without O(pools[].node) (the global pool, which the
        kernel spreads over the NUMA nodes) or pools with O(pools[].node), not both.
      - With O(boot=true) this list is the complete boot-time reservation; hugepage parameters for
        sizes not listed are removed from the kernel command line.
    type: list
    elements: dict
    default: []
    suboptions:
      size:
        description:
          - Page size, for example V(2M), V(1G), V(2048kB), V(1Gi), V(2MiB), or a number of kB (V(2048)).
            All units are binary. The size must be one the running kernel lists under
            C(/sys/kernel/mm/hugepages).
        type: str
        required: true
      count:
        description:
          - Number of persistent pages the pool must hold (0 or more).
          - Required when O(state=present); with O(state=absent) it must be omitted or V(0).
        type: int
      node:
        description:
          - NUMA node of the pool. Omit it for the global pool.
          - The node must have a pool in C(/sys/devices/system/node/node<N>/hugepages).
        type: int
  runtime:
    description:
      - Set the pools now through sysfs.
      - With O(runtime=false) and O(boot=false) the module fails when O(pools) is given (the pools would be
        set neither now nor at boot), and when neither O(mounts) nor O(default_size) is given either
        (nothing to do). O(mounts) alone, or O(default_size) as an assertion, are allowed.
    type: bool
    default: true
  boot:
    description:
      - Reserve the pools at boot through the kernel command line (keys C(default_hugepagesz),
        C(hugepagesz) and C(hugepages), which this module owns).
    type: bool
    default: false
  default_size:
    description:
      - Default hugepage size (C(default_hugepagesz=)), the size of C(/dev/hugepages), C(SHM_HUGETLB)
        and C(MAP_HUGETLB) without a size flag.
      - The default size can only change at boot. Without O(boot=true) it must equal the running
        default size (C(Hugepagesize) in C(/proc/meminfo)); use it then as an assertion.
      - Not allowed with O(state=absent).
    type: str
  min_free_memory:
    description:
      - Memory that must stay out of hugepage pools, per NUMA node for pools with a node and for the
        host as a whole. Either a size (V(1G), V(512M)) or a percentage of the node's or host's memory (V(10%)).
      - When omitted, the larger of 10% of the memory and 1 GiB.
      - At runtime the check counts the pools after the change (listed pools as requested, the others as they
        are) and only refuses requests that grow hugepage memory; shrinking is always allowed. At boot the
        listed pools are the whole reservation and must fit.
    type: str
  mounts:
    description:
      - hugetlbfs mount points to mount now (O(state=present)) or unmount (O(state=absent)).
      - A path already mounted with another page size or another file system type is refused.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description:
          - Absolute path of the mount point. It is created (mode 0755) when missing.
        type: path
        required: true
      size:
        description:
          - Page size of the mount (C(pagesize=)). Defaults to O(default_size), or the running default size.
        type: str
  per_node_boot:
    description:
      - How pools with O(pools[].node) are reserved at boot (with O(boot=true)).
      - V(cmdline) puts them on the kernel command line (C(hugepagesz=1G hugepages=0:8,1:2)); it needs
        Linux 5.16 or later and is refused on older running kernels.
      - V(systemd) writes C(/etc/systemd/system/nfv-dpdk-hugepages.service), a oneshot unit ordered before
        C(sysinit.target) and C(kubelet.service) that writes the per-node C(nr_hugepages) early at boot and
        fails (visible in C(systemctl --failed)) when the kernel granted fewer pages; it is enabled with
        C(systemctl enable). Pages allocated that way can fall short on fragmented memory, which the
        command line avoids.
      - V(auto) uses V(cmdline) on Linux 5.16 or later and V(systemd) before.
      - The module removes (and disables) its unit whenever it is not needed.
    type: str
    choices: [auto, cmdline, systemd]
    default: auto
  compact:
    description:
      - When a runtime allocation obtains fewer pages than requested, write C(1) to
        C(/proc/sys/vm/compact_memory) and retry once before giving up.
    type: bool
    default: true
  state:
    description:
      - V(present) makes the pools hold O(pools[].count) pages and mounts O(mounts).
      - V(absent) releases the pools listed (0 pages), unmounts O(mounts) and, with O(boot=true),
        removes every hugepage parameter from the kernel command line.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Pages counted are persistent pages (C(nr_hugepages - surplus_hugepages)), the number a write to
    C(nr_hugepages) sets. Pages in use cannot be freed; shrinking a pool below its used pages leaves them as surplus
    pages that the kernel frees when they are released.
  - Runtime changes that free memory run before those that need memory.
  - Allocating 1G pages at runtime needs contiguous free memory and often fails on a host that has been up for a
    while; reserve them at boot (O(boot=true)).
seealso:
  - module: ansible.posix.mount
  - name: HugeTLB pages (kernel documentation)
    description: Kernel parameters and sysfs interface of hugepage pools.
    link: https://docs.kernel.org/admin-guide/mm/hugetlbpage.html
'''

EXAMPLES = r'''
- name: 1024 2M pages on NUMA node 0 (the NIC's node), now
  nfv.dpdk.hugepages:
    pools:
      - size: 2M
        count: 1024
        node: 0

- name: 1G pages per node at boot, 1G as the default size, and a 1G mount now
  nfv.dpdk.hugepages:
    default_size: 1G
    pools:
      - size: 1G
        count: 8
        node: 0
      - size: 1G
        count: 2
        node: 1
    runtime: false
    boot: true
    mounts:
      - path: /dev/hugepages-1G
        size: 1G
  register: hugepages

- name: Keep the 1G hugetlbfs mount across reboots
  ansible.posix.mount:
    path: /dev/hugepages-1G
    src: nodev
    fstype: hugetlbfs
    opts: pagesize=1G
    state: mounted

- name: Reboot when the kernel command line changed
  ansible.builtin.reboot:
  when: hugepages.reboot_required

- name: Give the 2M pages of node 0 back and unmount
  nfv.dpdk.hugepages:
    state: absent
    pools:
      - size: 2M
        node: 0
    mounts:
      - path: /dev/hugepages-2M
'''

RETURN = r'''
pools:
  description: The pools in O(pools), before and after the run (after is the prediction in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    size:
      description: Page size in kernel spelling.
      type: str
      sample: 2M
    size_kb:
      description: Page size in kB.
      type: int
      sample: 2048
    node:
      description: NUMA node, or null for the global pool.
      type: int
      sample: 0
    requested:
      description: Persistent pages requested.
      type: int
      sample: 1024
    compacted:
      description: Whether memory was compacted before a retry of this pool's allocation.
      type: bool
      sample: false
    before:
      description: The pool before the run.
      type: dict
      contains:
        total:
          description: C(nr_hugepages), persistent and surplus pages.
          type: int
        free:
          description: C(free_hugepages).
          type: int
        surplus:
          description: C(surplus_hugepages).
          type: int
        persistent:
          description: C(nr_hugepages - surplus_hugepages).
          type: int
      sample: {total: 0, free: 0, surplus: 0, persistent: 0}
    after:
      description: The pool after the run, with the same keys as RV(pools[].before).
      type: dict
      sample: {total: 1024, free: 1024, surplus: 0, persistent: 1024}
  sample:
    - {size: 2M, size_kb: 2048, node: 0, requested: 1024, compacted: false,
       before: {total: 0, free: 0, surplus: 0, persistent: 0}, after: {total: 1024, free: 1024, surplus: 0, persistent: 1024}}
mounts:
  description: The mounts in O(mounts) and what was done to each.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Mount point.
      type: str
      sample: /dev/hugepages-1G
    size:
      description: Page size of the mount.
      type: str
      sample: 1G
    action:
      description: V(mounted), V(unmounted) or V(none) (already as wanted).
      type: str
      sample: mounted
  sample:
    - {path: /dev/hugepages-1G, size: 1G, action: mounted}
cmdline:
  description: The hugepage parameters the module wants on the kernel command line (empty when none).
  returned: when O(boot=true)
  type: str
  sample: default_hugepagesz=1G hugepagesz=1G hugepages=0:8,1:2
boot_method:
  description: How the per-node pools are reserved at boot, V(cmdline) or V(systemd) (see O(per_node_boot)); null with O(state=absent).
  returned: when O(boot=true)
  type: str
  sample: cmdline
boot_unit:
  description: Path of the systemd unit that sets per-node pools at boot, or null when none is needed.
  returned: when O(boot=true)
  type: str
  sample: /etc/systemd/system/nfv-dpdk-hugepages.service
configured_cmdline:
  description: The configured kernel command line after the run, as the bootloader backend reports it.
  returned: when O(boot=true)
  type: str
  sample: quiet default_hugepagesz=1G hugepagesz=1G hugepages=0:8,1:2
reboot_required:
  description: Whether the hugepage parameters of the running kernel (C(/proc/cmdline)) differ from RV(cmdline).
  returned: always
  type: bool
  sample: true
backup_file:
  description: Backup of the boot configuration file edited, when one was edited.
  returned: when O(boot=true) and the boot configuration changed
  type: str
  sample: /etc/default/grub.12345.2026-01-01@00:00:00.123456~
default_size:
  description: The running default hugepage size (C(Hugepagesize) in C(/proc/meminfo)).
  returned: always
  type: str
  sample: 2M
diff:
  description: Before and after of the pools, mounts and kernel command line changed (with C(--diff)).
  returned: when diff mode is on and something changed
  type: list
  elements: dict
  sample: [{before_header: hugepage pools, after_header: hugepage pools, before: "2M node0: 0\n", after: "2M node0: 1024\n"}]
'''

import os
import platform
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nfv.dpdk.plugins.module_utils.bootloader import (
    KernelArgsRollback, KernelArgsRollbackError, ensure_kernel_args,
)
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.hugepage_pool import (
    KB_PER_GB, HugepagePool, HugepageSizeError, HugepageState, cpu_flags, format_size, parse_memory,
    parse_size, pool_dir, pool_label, set_pool,
)
from ansible_collections.nfv.dpdk.plugins.module_utils.managed_file import ManagedFile, systemd_daemon_reload, systemd_stale_units

OWNED_KEYS = ['default_hugepagesz', 'hugepagesz', 'hugepages']
UNIT_NAME = 'nfv-dpdk-hugepages.service'
UNIT_PATH = '/etc/systemd/system/' + UNIT_NAME
UNIT_WANTS = '/etc/systemd/system/sysinit.target.wants/' + UNIT_NAME
# The kernel's hugepages=<node>:<count>,... syntax (commit b5389086ad7b) first shipped in 5.16.
PER_NODE_BOOT_KERNEL = (5, 16)
GIGANTIC_X86_KB = KB_PER_GB
DEFAULT_MIN_FREE_PERCENT = 10
DEFAULT_MIN_FREE_KB = KB_PER_GB

ARGUMENT_SPEC = dict(
    pools=dict(type='list', elements='dict', default=[], options=dict(
        size=dict(type='str', required=True),
        count=dict(type='int'),
        node=dict(type='int'),
    )),
    runtime=dict(type='bool', default=True),
    boot=dict(type='bool', default=False),
    default_size=dict(type='str'),
    min_free_memory=dict(type='str'),
    mounts=dict(type='list', elements='dict', default=[], options=dict(
        path=dict(type='path', required=True),
        size=dict(type='str'),
    )),
    compact=dict(type='bool', default=True),
    per_node_boot=dict(type='str', default='auto', choices=['auto', 'cmdline', 'systemd']),
    state=dict(type='str', default='present', choices=['present', 'absent']),
)


def _mib(kb):
    return '%d MiB' % (kb // 1024)


def kernel_version(fs):
    """(major, minor) of the running kernel, from /proc/sys/kernel/osrelease."""
    release = fs.read('/proc/sys/kernel/osrelease') or platform.release()
    match = re.match(r'^(\d+)\.(\d+)', release or '')
    return (int(match.group(1)), int(match.group(2))) if match else None, release


def unit_text(requests):
    """A oneshot unit that sets per-node pools early at boot and fails when the kernel grants fewer pages."""
    lines = ['# Managed by nfv.dpdk.hugepages: per-NUMA-node hugepage pools at boot for kernels',
             '# without hugepages=<node>:<count> (Linux < 5.16). Do not edit.',
             '[Unit]',
             'Description=Per-NUMA-node hugepage pools (nfv.dpdk.hugepages)',
             'DefaultDependencies=no',
             'After=systemd-sysctl.service',
             'Before=sysinit.target kubelet.service',
             'ConditionPathIsDirectory=/sys/devices/system/node',
             '',
             '[Service]',
             'Type=oneshot',
             'RemainAfterExit=yes']
    for request in requests:
        path = pool_dir(request.size_kb, request.node) + '/nr_hugepages'
        lines.append("ExecStart=/bin/sh -c 'echo %d > %s'" % (request.count, path))
    for request in requests:
        path = pool_dir(request.size_kb, request.node) + '/nr_hugepages'
        # Fail the unit (visible in systemctl --failed) rather than start with fewer pages.
        lines.append("ExecStart=/bin/sh -c 'test \"$$(cat %s)\" -ge %d'" % (path, request.count))
    lines.extend(['', '[Install]', 'WantedBy=sysinit.target', ''])
    return '\n'.join(lines)


class PoolRequest:
    """One validated entry of ``pools``: a pool and the persistent pages wanted."""

    def __init__(self, index, size_kb, node, count):
        self.index = index
        self.size_kb = size_kb
        self.node = node
        self.count = count

    @property
    def key(self):
        return (self.size_kb, self.node)

    @property
    def label(self):
        return pool_label(self.size_kb, self.node)


class Hugepages:
    """The logic of nfv.dpdk.hugepages: validate everything, then change pools, mounts, boot."""

    def __init__(self, module, fs=None):
        self.module = module
        self.params = module.params
        self.fs = fs or HostFS()
        self.state = None
        self.requests = []
        self.default_size_kb = None
        self.mount_plan = []
        self.boot_args = None
        self.boot_method = None
        self.unit = None
        self.unit_content = None
        self.unit_enable = None
        self.bins = {}

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    # -- validation ----------------------------------------------------------
    def _size(self, field, value):
        try:
            size_kb = parse_size(value)
        except HugepageSizeError as exc:
            self.fail('%s: %s' % (field, exc))
        if size_kb not in self.state.sizes:
            self.fail('%s: %s is not a hugepage size of this kernel; supported sizes: %s'
                      % (field, value, ', '.join(format_size(s) for s in self.state.sizes)))
        return size_kb

    def validate(self):
        self.state = HugepageState.read(self.fs)
        if not self.state.sizes:
            self.fail('this kernel has no hugepage pools (%s is missing or empty): it lacks CONFIG_HUGETLBFS'
                      % '/sys/kernel/mm/hugepages')
        present = self.params['state'] == 'present'
        self._validate_scope()
        self._validate_pools(present)
        self._validate_default_size(present)
        self._validate_flags()
        self._validate_boot()
        self._validate_memory()
        self._validate_mounts(present)

    def _validate_scope(self):
        """Refuse a call that would silently do nothing: pools neither set now nor reserved at boot."""
        if self.params['runtime'] or self.params['boot']:
            return
        if self.params['pools']:
            self.fail('runtime and boot are both false: the pools given would be set neither now (runtime=true) nor '
                      'at boot (boot=true); enable one of them, or leave pools out to only manage mounts')
        if not self.params['mounts'] and self.params['default_size'] is None:
            self.fail('runtime and boot are both false and no mounts or default_size are given: nothing to do; '
                      'set runtime=true (pools now) and/or boot=true (pools at boot)')

    def _validate_pools(self, present):
        seen = {}
        nodes = self.state.numa_nodes
        for index, entry in enumerate(self.params['pools']):
            field = 'pools[%d]' % index
            size_kb = self._size(field + '.size', entry['size'])
            count, node = entry.get('count'), entry.get('node')
            if present and count is None:
                self.fail('%s.count is required with state=present (a number of pages, 0 or more)' % field)
            if not present and count not in (None, 0):
                self.fail('%s.count must be omitted or 0 with state=absent, got %d' % (field, count))
            count = count or 0
            if count < 0:
                self.fail('%s.count must be 0 or more, got %d' % (field, count))
            if node is not None and node not in nodes:
                if not nodes:
                    self.fail('%s.node: this host has no per-node hugepage pools (no NUMA in %s); omit node for the '
                              'global pool' % (field, '/sys/devices/system/node'))
                self.fail('%s.node: NUMA node %d does not exist; nodes with hugepage pools: %s'
                          % (field, node, ', '.join(str(n) for n in nodes)))
            if node is not None and self.state.pool(size_kb, node) is None:
                self.fail('%s.node: NUMA node %d has no %s pool (%s is missing; a node without memory has none)'
                          % (field, node, format_size(size_kb), pool_dir(size_kb, node)))
            request = PoolRequest(index, size_kb, node, count)
            if request.key in seen:
                self.fail('%s: the %s is already given in pools[%d]' % (field, request.label, seen[request.key]))
            other = [r for r in self.requests if r.size_kb == size_kb and (r.node is None) != (node is None)]
            if other:
                self.fail('%s: give either the global %s pool (no node) or per-node %s pools, not both (see pools[%d])'
                          % (field, format_size(size_kb), format_size(size_kb), other[0].index))
            seen[request.key] = index
            self.requests.append(request)

    def _validate_default_size(self, present):
        value = self.params['default_size']
        if value is None:
            return
        if not present:
            self.fail('default_size cannot be used with state=absent')
        self.default_size_kb = self._size('default_size', value)
        running = self.state.default_size_kb
        if not self.params['boot'] and running and self.default_size_kb != running:
            self.fail('default_size: the default hugepage size can only change at boot; the running default is %s, '
                      'set boot=true to make it %s' % (format_size(running), format_size(self.default_size_kb)))

    def _validate_flags(self):
        flags = cpu_flags(self.fs)
        if flags is None or 'pdpe1gb' in flags:
            return
        for request in self.requests:
            if request.size_kb >= GIGANTIC_X86_KB and request.count > 0:
                self.fail('pools[%d].size: this CPU cannot map 1G pages (no pdpe1gb in /proc/cpuinfo flags); use 2M'
                          % request.index)
        if self.default_size_kb and self.default_size_kb >= GIGANTIC_X86_KB:
            self.fail('default_size: this CPU cannot map 1G pages (no pdpe1gb in /proc/cpuinfo flags); use 2M')

    def _validate_boot(self):
        if not self.params['boot']:
            return
        if self.params['state'] == 'absent':
            self.boot_args = []
            self.unit_content = None
            self._validate_unit()
            return
        per_node = [r for r in self.requests if r.node is not None]
        method = self.params['per_node_boot']
        if per_node and method != 'systemd':
            version, release = kernel_version(self.fs)
            if version is None or version < PER_NODE_BOOT_KERNEL:
                if method == 'cmdline':
                    self.fail('pools[%d].node: per-node pools at boot need the kernel parameter syntax '
                              'hugepages=<node>:<count>, which Linux %d.%d and later understand; the running kernel is %s. '
                              'Use per_node_boot=systemd (or auto), a global pool at boot, or runtime=true only'
                              % (per_node[0].index, PER_NODE_BOOT_KERNEL[0], PER_NODE_BOOT_KERNEL[1], release))
                method = 'systemd'
            else:
                method = 'cmdline'
        self.boot_method = method if per_node else 'cmdline'
        args = []
        if self.default_size_kb:
            args.append('default_hugepagesz=%s' % format_size(self.default_size_kb))
        unit_pools = []
        for size_kb in sorted(set(r.size_kb for r in self.requests)):
            of_size = sorted((r for r in self.requests if r.size_kb == size_kb), key=lambda r: r.node or 0)
            if of_size[0].node is None:
                args.extend(['hugepagesz=%s' % format_size(size_kb), 'hugepages=%d' % of_size[0].count])
            elif self.boot_method == 'cmdline':
                args.extend(['hugepagesz=%s' % format_size(size_kb),
                             'hugepages=%s' % ','.join('%d:%d' % (r.node, r.count) for r in of_size)])
            else:
                unit_pools.extend(of_size)
        self.boot_args = args
        self.unit_content = unit_text(unit_pools) if unit_pools else None
        self._validate_unit()

    def _validate_unit(self):
        """The boot unit this module owns: needed for per-node pools the kernel command line cannot hold."""
        # The unit is wholly this module's: removing it needs no backup left in /etc/systemd/system.
        self.unit = ManagedFile(self.module, UNIT_PATH, self.unit_content, fs=self.fs, backup=self.unit_content is not None)
        enabled = self.fs.islink(UNIT_WANTS)
        self.unit_enable = None
        if self.unit_content is not None and not enabled:
            self.unit_enable = 'enable'
        elif self.unit_content is None and (enabled or self.fs.exists(UNIT_PATH)):
            self.unit_enable = 'disable' if enabled else None
        if self.unit_enable:
            self.bins['systemctl'] = self.module.get_bin_path('systemctl', required=True)

    def _margin(self, total_kb):
        value = self.params['min_free_memory']
        if value is None:
            return max(total_kb * DEFAULT_MIN_FREE_PERCENT // 100, DEFAULT_MIN_FREE_KB)
        try:
            return parse_memory(value, total_kb)
        except HugepageSizeError as exc:
            self.fail('min_free_memory: %s (use a size such as 1G or 512M, or a percentage such as 10%%)' % exc)

    def _current(self, size_kb, node=None):
        pool = self.state.pool(size_kb, node)
        return pool.persistent if pool else 0

    def _check_fits(self, what, where, before, after, total_kb, grow_only=True):
        margin = self._margin(total_kb)
        if (after > before or not grow_only) and after > total_kb - margin:
            self.fail('pools: %s %s would take %s, more than %s can spare: its memory is %s and min_free_memory '
                      'keeps %s free (at most %s of hugepages)'
                      % (what, where, _mib(after), 'the node' if where.startswith('on NUMA') else 'this host',
                         _mib(total_kb), _mib(margin), _mib(max(total_kb - margin, 0))))

    def _validate_memory(self):
        """Refuse pools that do not fit in a node's or the host's memory minus the margin.

        At runtime the pools after the change count (listed pools as requested, the others as they are)
        and only growing requests are refused. At boot the listed pools are the whole reservation.
        """
        self._margin(0)  # reject a malformed min_free_memory even when no pool grows
        if self.params['state'] == 'absent':
            return
        wanted = dict((r.key, r.count) for r in self.requests)
        nodes = sorted(set(r.node for r in self.requests if r.node is not None))
        if self.params['runtime']:
            for node in nodes:
                total_kb = self.state.node_memory_kb(node)
                if total_kb is not None:
                    before = sum(self._current(size, node) * size for size in self.state.sizes)
                    after = sum(wanted.get((size, node), self._current(size, node)) * size for size in self.state.sizes)
                    self._check_fits('hugepages', 'on NUMA node %d' % node, before, after, total_kb)
            if self.state.mem_total_kb:
                before = after = 0
                for size in self.state.sizes:
                    current = self._current(size)
                    before += current * size
                    if (size, None) in wanted:
                        after += wanted[(size, None)] * size
                    elif any(key[0] == size for key in wanted):
                        after += sum(wanted.get((size, node), self._current(size, node)) for node in self.state.numa_nodes) * size
                    else:
                        after += current * size
                self._check_fits('hugepages', 'on this host', before, after, self.state.mem_total_kb)
        if self.params['boot']:
            for node in nodes:
                total_kb = self.state.node_memory_kb(node)
                if total_kb is not None:
                    after = sum(r.count * r.size_kb for r in self.requests if r.node == node)
                    self._check_fits('the boot reservation', 'on NUMA node %d' % node, 0, after, total_kb, grow_only=False)
            if self.state.mem_total_kb:
                after = sum(r.count * r.size_kb for r in self.requests)
                self._check_fits('the boot reservation', 'on this host', 0, after, self.state.mem_total_kb, grow_only=False)

    def _validate_mounts(self, present):
        seen = set()
        for index, entry in enumerate(self.params['mounts']):
            field = 'mounts[%d]' % index
            path = entry['path']
            if not path or not os.path.isabs(path):
                self.fail('%s.path must be an absolute path, got %r' % (field, path))
            path = os.path.normpath(path)
            if path in seen:
                self.fail('%s.path: %s is given twice' % (field, path))
            seen.add(path)
            if entry.get('size') is not None:
                size_kb = self._size(field + '.size', entry['size'])
            else:
                size_kb = self.default_size_kb or self.state.default_size_kb
            current = self.state.mount_at(path)
            action = 'none'
            if present:
                if current is None:
                    action = 'mounted'
                elif current[1] is None:
                    self.fail('%s.path: %s is already a %s mount, not hugetlbfs; unmount it first' % (field, path, current[0]))
                elif current[1].size_kb != size_kb:
                    self.fail('%s: %s is mounted with page size %s, not %s; hugetlbfs cannot change its page size on '
                              'remount, unmount it first' % (field, path, format_size(current[1].size_kb), format_size(size_kb)))
            elif current is not None:
                if current[1] is None:
                    self.fail('%s.path: %s is a %s mount, not hugetlbfs; this module only unmounts hugetlbfs'
                              % (field, path, current[0]))
                action = 'unmounted'
                size_kb = current[1].size_kb
            self.mount_plan.append({'path': path, 'size_kb': size_kb, 'action': action})
        needed = set('mount' if m['action'] == 'mounted' else 'umount' for m in self.mount_plan if m['action'] != 'none')
        for name in sorted(needed):
            self.bins[name] = self.module.get_bin_path(name, required=True)

    # -- changes -----------------------------------------------------------------
    def _pool_changes(self):
        changes = [r for r in self.requests if self._current(r.size_kb, r.node) != r.count]
        # Free memory before taking it: shrinking pools first.
        return sorted(changes, key=lambda r: (r.count > self._current(r.size_kb, r.node), r.index))

    def _restore_pools(self, done):
        problems = []
        for request, previous in reversed(done):
            try:
                outcome = set_pool(self.fs, request.size_kb, previous, request.node, compact=False)
                if outcome['obtained'] != previous:
                    problems.append('%s restored to %d of %d pages' % (request.label, outcome['obtained'], previous))
            except (IOError, OSError) as exc:
                problems.append('%s not restored: %s' % (request.label, exc))
        if problems:
            return 'restoring the previous pools was incomplete: %s' % '; '.join(problems)
        if done:
            return 'the previous pools were restored'
        return 'no pool was changed'

    def apply_pools(self, compacted, done, failure):
        """Set the pools, shrinking ones first; ``done`` collects (request, previous) for a restore."""
        for request in self._pool_changes():
            previous = self._current(request.size_kb, request.node)
            done.append((request, previous))
            try:
                outcome = set_pool(self.fs, request.size_kb, request.count, request.node, compact=self.params['compact'])
            except (IOError, OSError) as exc:
                failure('pools[%d]: setting the %s to %d pages failed: %s' % (request.index, request.label, request.count, exc))
            compacted[request.key] = outcome['compacted']
            if outcome['obtained'] != request.count:
                failure('pools[%d]: %s: requested %d pages, obtained %d (%s; memory short or fragmented%s)'
                        % (request.index, request.label, request.count, outcome['obtained'],
                           'after compacting memory and one retry' if outcome['compacted'] else 'no retry',
                           ', reserve them at boot with boot=true and runtime=false' if request.size_kb >= GIGANTIC_X86_KB else ''),
                        requested=request.count, obtained=outcome['obtained'])

    def apply_mounts(self, on_failure):
        done = []
        for mount in self.mount_plan:
            if mount['action'] == 'none' or self.module.check_mode:
                continue
            path = mount['path']
            if mount['action'] == 'mounted':
                real = self.fs.path(path)
                try:
                    if not os.path.isdir(real):
                        os.makedirs(real, 0o755)
                except OSError as exc:
                    on_failure('mounts: cannot create the mount point %s: %s%s' % (path, exc, self._undo_mounts(done)))
                argv = [self.bins['mount'], '-t', 'hugetlbfs', '-o', 'pagesize=%s' % format_size(mount['size_kb']), 'nodev', path]
            else:
                argv = [self.bins['umount'], path]
            rc, out, err = self.module.run_command(argv)
            if rc != 0:
                undone = self._undo_mounts(done)
                on_failure('mounts: %s failed (rc %d): %s%s' % (' '.join(argv), rc, (err or out).strip(), undone))
            done.append(mount)
        return done

    def _undo_mounts(self, done):
        problems = []
        for mount in reversed(done):
            if mount['action'] == 'mounted':
                argv = [self.bins['umount'] if 'umount' in self.bins else self.module.get_bin_path('umount', required=True),
                        mount['path']]
            else:
                argv = [self.bins['mount'] if 'mount' in self.bins else self.module.get_bin_path('mount', required=True),
                        '-t', 'hugetlbfs', '-o', 'pagesize=%s' % format_size(mount['size_kb']), 'nodev', mount['path']]
            rc, out, err = self.module.run_command(argv)
            if rc != 0:
                problems.append('%s: %s' % (' '.join(argv), (err or out).strip()))
        if problems:
            return '; undoing the mounts made failed: %s' % '; '.join(problems)
        return ''

    # -- result -------------------------------------------------------------------
    @staticmethod
    def _pool_view(pool):
        if pool is None:
            return {'total': 0, 'free': 0, 'surplus': 0, 'persistent': 0}
        return {'total': pool.total, 'free': pool.free, 'surplus': pool.surplus, 'persistent': pool.persistent}

    def _pools_result(self, changed_keys, compacted):
        result = []
        for request in self.requests:
            before = self.state.pool(request.size_kb, request.node)
            if request.key in changed_keys and not self.module.check_mode:
                after = self._pool_view(HugepagePool.read(self.fs, request.size_kb, request.node))
            elif request.key in changed_keys:
                # Predicted: the persistent pages change by the difference, free pages with them.
                view = self._pool_view(before)
                delta = request.count - view['persistent']
                after = {'total': view['total'] + delta, 'free': max(view['free'] + delta, 0),
                         'surplus': view['surplus'], 'persistent': request.count}
            else:
                after = self._pool_view(before)
            result.append({'size': format_size(request.size_kb), 'size_kb': request.size_kb, 'node': request.node,
                           'requested': request.count, 'compacted': compacted.get(request.key, False),
                           'before': self._pool_view(before), 'after': after})
        return result

    def _pools_diff(self, changes):
        def line(request, count):
            where = '' if request.node is None else ' node%d' % request.node
            return '%s%s: %d\n' % (format_size(request.size_kb), where, count)
        return {'before_header': 'hugepage pools', 'after_header': 'hugepage pools',
                'before': ''.join(line(r, self._current(r.size_kb, r.node)) for r in changes),
                'after': ''.join(line(r, r.count) for r in changes)}

    def _mounts_diff(self, changes):
        def line(mount):
            return '%s hugetlbfs pagesize=%s\n' % (mount['path'], format_size(mount['size_kb']))
        return {'before_header': 'hugetlbfs mounts', 'after_header': 'hugetlbfs mounts',
                'before': ''.join(line(m) for m in changes if m['action'] == 'unmounted'),
                'after': ''.join(line(m) for m in changes if m['action'] == 'mounted')}

    def apply_unit(self, result, diffs, undo, failure):
        """Write (or remove) the per-node boot unit and enable (or disable) it."""
        result['boot_method'] = self.boot_method
        result['boot_unit'] = UNIT_PATH if self.unit_content is not None else None

        def systemctl(verb):
            result['changed'] = True
            if self.module.check_mode:
                return
            argv = [self.bins['systemctl'], verb, UNIT_NAME]
            rc, out, err = self.module.run_command(argv)
            if rc != 0:
                failure('boot: %s failed (rc %d): %s' % (' '.join(argv), rc, (err or out).strip()))
            undo['enable'] = verb

        if self.unit_enable == 'disable':
            systemctl('disable')  # while the unit file still exists
        try:
            unit = self.unit.apply()
        except (IOError, OSError) as exc:
            failure('boot: cannot write %s: %s' % (UNIT_PATH, exc))
        if unit['changed']:
            result['changed'] = True
            undo['unit'] = not self.module.check_mode
            if unit.get('diff'):
                diffs.append(unit['diff'])
            if not self.module.check_mode:
                systemd_daemon_reload(self.module, self.fs)
        elif systemd_stale_units(self.module, [UNIT_NAME], self.fs):
            # The file is right but systemd runs an older definition (a run killed during daemon-reload).
            result['changed'] = True
            if not self.module.check_mode:
                systemd_daemon_reload(self.module, self.fs)
        if self.unit_enable == 'enable':
            systemctl('enable')

    def run(self):
        self.validate()
        result = {'changed': False, 'reboot_required': False, 'mounts': [],
                  'default_size': format_size(self.state.default_size_kb) if self.state.default_size_kb else None}
        diffs = []
        compacted = {}
        undo = {'boot': KernelArgsRollback(), 'pools': [], 'unit': False, 'enable': None}

        def failure(msg, **kwargs):
            notes = [self._restore_pools(undo['pools'])]
            if undo['unit']:
                try:
                    exact = self.unit.restore()
                    done = 'restored byte for byte' if self.unit.existed_before else 'removed again'
                    notes.append('%s %s' % (UNIT_PATH, done if exact else 'NOT restored: it does not read back as before'))
                except (IOError, OSError) as exc:
                    notes.append('%s NOT restored: %s' % (UNIT_PATH, exc))
            if undo['enable']:
                opposite = 'disable' if undo['enable'] == 'enable' else 'enable'
                self.module.run_command([self.bins['systemctl'], opposite, UNIT_NAME])
            if undo['boot'].pending:
                # The files as they were, byte for byte, not the old tokens again (which would regroup them).
                try:
                    notes.append('boot configuration put back: %s' % undo['boot'].restore())
                except KernelArgsRollbackError as exc:
                    notes.append('boot configuration NOT fully put back: %s' % exc)
            self.fail('%s; %s' % (msg, '; '.join(notes)), **kwargs)

        # The boot configuration first: the backend refuses unsupported platforms and files it
        # cannot edit before anything changed. Runtime failures below put it back.
        if self.params['boot']:
            boot = ensure_kernel_args(self.module, owned_keys=OWNED_KEYS, desired=self.boot_args, rollback=undo['boot'])
            result['cmdline'] = ' '.join(self.boot_args)
            result['configured_cmdline'] = boot.get('configured_cmdline')
            result['reboot_required'] = bool(boot.get('reboot_required'))
            if boot.get('backup_file'):
                result['backup_file'] = boot['backup_file']
            if boot.get('changed'):
                result['changed'] = True
                diff = boot.get('diff')
                diffs.extend(diff if isinstance(diff, list) else [diff] if diff else [])
            self.apply_unit(result, diffs, undo, failure)

        pool_changes = self._pool_changes() if self.params['runtime'] else []
        if pool_changes:
            result['changed'] = True
            diffs.append(self._pools_diff(pool_changes))
            if not self.module.check_mode:
                self.apply_pools(compacted, undo['pools'], failure)

        mount_changes = [m for m in self.mount_plan if m['action'] != 'none']
        if mount_changes:
            result['changed'] = True
            diffs.append(self._mounts_diff(mount_changes))
            self.apply_mounts(failure)
        result['mounts'] = [{'path': m['path'], 'size': format_size(m['size_kb']), 'action': m['action']} for m in self.mount_plan]
        result['pools'] = self._pools_result(set(r.key for r in pool_changes), compacted)
        if self.module._diff and diffs:
            result['diff'] = diffs
        return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.exit_json(**Hugepages(module).run())


if __name__ == '__main__':
    main()
