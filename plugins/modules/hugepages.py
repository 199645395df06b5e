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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.nfv.dpdk.plugins.module_utils.hugepage_reservation import ARGUMENT_SPEC, Hugepages


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.exit_json(**Hugepages(module).run())


if __name__ == '__main__':
    main()
