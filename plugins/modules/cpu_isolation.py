#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cpu_isolation
short_description: Isolate CPUs for DPDK and keep reserved (housekeeping) CPUs for the system
version_added: 0.1.0
author:
  - nfv.dpdk maintainers (@nfv-dpdk)
description:
  - Splits the online CPUs of a Linux host into I(isolated) CPUs for DPDK poll-mode threads and
    I(reserved) (housekeeping) CPUs for the kernel, interrupts and system services, and makes the host use them.
  - The sets are given as cpu-lists (O(isolated_cpus), O(reserved_cpus)) or computed from counts
    (O(isolated_count), O(reserved_per_node)). Computed sets are made of whole cores (all sibling threads
    together), reserve the lowest cores of every NUMA node first (so CPU 0 is always a housekeeping CPU)
    and spread the isolated CPUs evenly over the NUMA nodes.
  - Every set is checked against the CPU topology in sysfs before anything changes. A CPU that does not
    exist or is offline, overlapping sets, isolating every CPU or CPU 0, a NUMA node with isolated CPUs but
    no reserved CPU, and (unless O(allow_split_cores=true)) a core whose sibling threads are split between
    isolated and other CPUs are rejected and the host is left as it was.
  - 'Kernel command line: C(isolcpus=<flags>,<isolated>), C(nohz_full=<isolated>), C(rcu_nocbs=<isolated>) and
    C(irqaffinity=<reserved>), set through the collection''s boot loader backend (C(/etc/default/grub) and
    C(update-grub) on Debian, grubby on RHEL). This module owns these four parameters and leaves every other
    parameter alone. They take effect after a reboot, which this module never does; see RV(reboot_required).'
  - 'systemd: C(CPUAffinity=<reserved>) for the service manager in
    C(/etc/systemd/system.conf.d/50-nfv-dpdk-cpu-affinity.conf), so that system services and every process
    they start run on the reserved CPUs, and C(AllowedCPUs=<reserved>) in a drop-in
    C(/etc/systemd/system/<slice>.d/50-nfv-dpdk-cpu-isolation.conf) for each slice in O(slices).
    C(systemctl daemon-reload) runs only when one of these files changed, or when they need no change but systemd
    has not applied them (the drop-in was written after systemd started and PID 1''s affinity is not the online CPUs
    of the C(CPUAffinity=) systemd reads from system.conf and all its drop-ins, or C(systemctl show) says a slice
    has C(NeedDaemonReload=yes)), as after a run killed during the reload. After a boot PID 1 may run on every CPU
    although systemd read C(CPUAffinity=) (the kernel resets it when the cpuset controller is turned on for the
    slices); that is not reported. Such a run reports C(changed) with no file in RV(files); RV(systemd_stale) and RV(msg)
    (and the diff) say what systemd had not applied.'
  - systemd applies C(CPUAffinity=) on C(daemon-reload) but does not widen its own affinity again when the setting
    goes away. So when the drop-in is removed (O(state=absent), O(systemd_cpu_affinity=false), or a rollback) and no
    other C(CPUAffinity=) is configured, PID 1 gets every online CPU (on rollback, the CPUs it had) back through
    C(taskset --pid --cpu-list). Services already running keep their affinity until they restart.
  - Likewise a slice whose C(AllowedCPUs=) drop-in goes away keeps the reserved CPUs after C(daemon-reload)
    (systemd writes an empty C(cpuset.cpus), which the kernel refuses for a populated cgroup), so its
    C(/sys/fs/cgroup/<slice>/cpuset.cpus) is reset (to the value before this run on rollback, otherwise empty or
    every online CPU) unless another drop-in sets C(AllowedCPUs=).
  - 'irqbalance, when installed: C(IRQBALANCE_BANNED_CPULIST=<isolated>) (irqbalance 1.8 and later) or the
    hexadecimal C(IRQBALANCE_BANNED_CPUS=<mask>) (older irqbalance) in C(/etc/default/irqbalance) (Debian, Ubuntu)
    or C(/etc/sysconfig/irqbalance) (RHEL family). Only that assignment is edited, with a marker comment above
    it; the rest of the file is kept. C(systemctl try-restart irqbalance.service) runs only when the file changed.'
  - Every file edited is backed up first. When a later step fails (for example C(update-grub)), the files
    this run changed are restored, systemd and irqbalance are reloaded again, and the task fails.
  - O(state=absent) removes the kernel parameters, the systemd drop-ins and the marked irqbalance assignment.
  - Ordering of the steps is files, C(daemon-reload), irqbalance restart, kernel command line.
options:
  state:
    description:
      - V(present) isolates the CPUs; V(absent) removes everything this module configures.
    type: str
    choices: [present, absent]
    default: present
  isolated_cpus:
    description:
      - CPUs to isolate, in the kernel's cpu-list syntax, for example V(2-7,10-15).
      - When O(reserved_cpus) is not given, every other online CPU is reserved.
      - Mutually exclusive with O(isolated_count) and O(reserved_per_node).
    type: str
  reserved_cpus:
    description:
      - Housekeeping CPUs in cpu-list syntax, for example V(0-1,8-9). Kubernetes' C(reservedSystemCPUs).
      - When O(isolated_cpus) is not given, every other online CPU is isolated. When both are given, CPUs in
        neither set stay ordinary shared CPUs.
      - Mutually exclusive with O(isolated_count) and O(reserved_per_node).
    type: str
  isolated_count:
    description:
      - Number of logical CPUs to isolate, taken as whole cores (all sibling threads of a core together), so it
        must be a multiple of the threads per core. Spread evenly over the NUMA nodes, lowest free cores first.
      - When not given (and O(reserved_per_node) is), every CPU that is not reserved is isolated.
      - Mutually exclusive with O(isolated_cpus) and O(reserved_cpus).
    type: int
  reserved_per_node:
    description:
      - Number of logical CPUs of every NUMA node to reserve for housekeeping, taken as whole cores from the
        lowest-numbered CPUs of the node, so CPU 0 is always reserved.
      - When not given (and O(isolated_count) is), the first core of every NUMA node is reserved.
      - Mutually exclusive with O(isolated_cpus) and O(reserved_cpus).
    type: int
  allow_split_cores:
    description:
      - Whether a core may have isolated and non-isolated sibling threads. A housekeeping thread on the same core
        as a DPDK poll-mode thread steals its execution resources, so this is rejected by default.
      - With V(true) such a split is accepted with a warning.
    type: bool
    default: false
  isolcpus:
    description:
      - Whether to put C(isolcpus=<flags>,<isolated>) on the kernel command line (removes it when V(false)).
    type: bool
    default: true
  isolcpus_flags:
    description:
      - Flags of C(isolcpus=). V(domain) removes the CPUs from scheduler load balancing, V(managed_irq) keeps
        managed (driver-affined) interrupts off them where possible, V(nohz) stops the tick on them.
      - An empty list writes C(isolcpus=<isolated>), which the kernel reads as V(domain).
    type: list
    elements: str
    choices: [domain, managed_irq, nohz]
    default: [managed_irq, domain]
  nohz_full:
    description:
      - Whether to put C(nohz_full=<isolated>) on the kernel command line (removes it when V(false)).
    type: bool
    default: true
  rcu_nocbs:
    description:
      - Whether to put C(rcu_nocbs=<isolated>) on the kernel command line (removes it when V(false)).
    type: bool
    default: true
  irqaffinity:
    description:
      - Whether to put C(irqaffinity=<reserved>) on the kernel command line (removes it when V(false)).
    type: bool
    default: true
  systemd_cpu_affinity:
    description:
      - Whether to write C(CPUAffinity=<reserved>) for the systemd service manager (removes the drop-in when
        V(false)). Processes started before C(daemon-reload) keep their affinity until they restart.
    type: bool
    default: true
  slices:
    description:
      - systemd slices that get C(AllowedCPUs=<reserved>). Our drop-in is removed from slices not listed.
      - C(AllowedCPUs=) is a cgroup v2 cpuset setting; on hosts with the legacy cgroup v1 hierarchy it has no
        effect (a warning says so) and only C(CPUAffinity=) confines system services.
      - Never list C(-.slice) or a C(kubepods) slice, pods must be able to run on the isolated CPUs.
      - An empty list confines no slice.
    type: list
    elements: str
    default: [system.slice, user.slice]
  irqbalance:
    description:
      - Whether to ban the isolated CPUs in the irqbalance configuration when irqbalance is installed
        (its configuration file or program exists). Nothing happens on hosts without irqbalance.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Reports what would change, with C(--diff) the changes of every file and of the kernel command line.
  diff_mode:
    support: full
    description: Returns a diff for every file changed and for the kernel command line.
  platform:
    support: full
    platforms: posix
    description: Linux with GRUB (Debian family, RHEL family), systemd and sysfs.
notes:
  - The kernel parameters take effect after the next reboot; RV(reboot_required) tells when one is due.
  - Use RV(reserved_cpus) as the kubelet's C(reservedSystemCPUs) and give pods the isolated CPUs with the
    static CPU manager policy.
  - Warnings (split cores, cgroup v1, no running systemd) are returned in the usual C(warnings) key.
  - C(CPUAffinity=) is inherited by the container runtime. Since Linux 6.2 moving a process into a cpuset cgroup
    keeps the affinity it inherited where the two overlap, so unless the runtime resets it (crun, recent runc)
    containers of non-guaranteed pods run only on the reserved CPUs. Pods with exclusive isolated CPUs are not
    affected (their cpuset does not overlap the reserved CPUs). Set O(systemd_cpu_affinity=false) if that is unwanted.
seealso:
  - name: Kernel parameters (isolcpus, nohz_full, rcu_nocbs, irqaffinity)
    description: The kernel's documentation of the parameters this module sets.
    link: https://docs.kernel.org/admin-guide/kernel-parameters.html
  - name: systemd-system.conf CPUAffinity
    description: The service manager's CPU affinity.
    link: https://www.freedesktop.org/software/systemd/man/latest/systemd-system.conf.html
"""

EXAMPLES = r"""
- name: Isolate CPUs 2-7 and 10-15 for DPDK, keep 0-1 and 8-9 for the system
  nfv.dpdk.cpu_isolation:
    isolated_cpus: 2-7,10-15
    reserved_cpus: 0-1,8-9
  register: cpus

- name: Reserve one core per NUMA node and isolate every other CPU
  nfv.dpdk.cpu_isolation:
    reserved_per_node: 2
  register: cpus

- name: Isolate 8 CPUs in whole cores, balanced over the NUMA nodes, without nohz_full
  nfv.dpdk.cpu_isolation:
    isolated_count: 8
    nohz_full: false
    isolcpus_flags: [domain]

- name: Reboot when the kernel command line changed
  ansible.builtin.reboot:
  when: cpus.reboot_required

- name: Hand the housekeeping CPUs to the kubelet
  ansible.builtin.set_fact:
    kubelet_reserved_system_cpus: "{{ cpus.reserved_cpus }}"

- name: Undo the CPU isolation
  nfv.dpdk.cpu_isolation:
    state: absent
"""

RETURN = r"""
isolated_cpus:
  description: The isolated CPUs as a cpu-list; empty with O(state=absent).
  returned: always
  type: str
  sample: 2-7,10-15
reserved_cpus:
  description: The reserved (housekeeping) CPUs as a cpu-list, for the kubelet's C(reservedSystemCPUs); empty with O(state=absent).
  returned: always
  type: str
  sample: 0-1,8-9
kernel_args:
  description: The kernel parameters this module wants on the command line, in order (empty with O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [isolcpus=managed_irq,domain,2-7,10-15, nohz_full=2-7,10-15, rcu_nocbs=2-7,10-15, irqaffinity=0-1,8-9]
cmdline:
  description: The configured kernel command line (as the boot loader will pass it) after this run.
  returned: always
  type: str
  sample: quiet isolcpus=managed_irq,domain,2-7,10-15 nohz_full=2-7,10-15 rcu_nocbs=2-7,10-15 irqaffinity=0-1,8-9
running_cmdline:
  description: The command line of the running kernel (C(/proc/cmdline)).
  returned: always
  type: str
  sample: BOOT_IMAGE=/vmlinuz-6.1.0-27-amd64 root=UUID=0b2c ro quiet
reboot_required:
  description: Whether the running kernel's parameters owned by this module differ from the configured ones.
  returned: always
  type: bool
  sample: true
files:
  description:
    - Host paths of the files this run changed (or would change in check mode).
    - When the task fails after changing files, the files that were changed and then restored.
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/system.conf.d/50-nfv-dpdk-cpu-affinity.conf, /etc/default/irqbalance]
backup_files:
  description: Backups of the files this run replaced or edited.
  returned: always
  type: list
  elements: str
  sample: [/etc/default/irqbalance.12345.2026-11-23@10:00:00.123456~]
irqbalance_file:
  description: The irqbalance configuration file managed, or null when irqbalance is not installed or O(irqbalance=false).
  returned: always
  type: str
  sample: /etc/default/irqbalance
systemd_stale:
  description:
    - What systemd had not applied although the drop-ins on disk needed no change (as after a run killed during
      C(daemon-reload)), one sentence each; this run reloaded systemd (would reload, in check mode) for them.
    - Empty when the drop-ins changed (they are in RV(files)) or systemd runs on what they say.
  returned: always
  type: list
  elements: str
  sample:
    - 'systemd (PID 1) runs on CPUs 0-3, not on CPUAffinity=0 2 of /etc/systemd/system.conf.d/50-nfv-dpdk-cpu-affinity.conf,
      written after systemd started: systemd has not applied it'
msg:
  description: Why the task reports C(changed) when no file changed, from RV(systemd_stale).
  returned: when RV(systemd_stale) is not empty
  type: str
  sample: 'systemd reloaded: systemd has not loaded the current drop-ins of system.slice (systemctl show system.slice: NeedDaemonReload=yes or unreadable)'
diff:
  description:
    - One before/after pair per file changed and for the kernel command line.
    - When systemd is reloaded for drop-ins it had not applied (RV(systemd_stale)), one more pair with the header
      C(systemd (running)) listing them.
  returned: when changed and in diff mode
  type: list
  elements: dict
  sample: [{before_header: /etc/default/irqbalance, after_header: /etc/default/irqbalance, before: '', after: ''}]
"""

import os
import re
import time
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.nfv.dpdk.plugins.module_utils.bootloader import ensure_kernel_args, os_release, read_configured_cmdline
from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_partition import CpuPartitionError, plan_partition
from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_topology import CpuTopology
from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet, CpuSetError
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.managed_file import (
    ManagedFile, systemd_daemon_reload, systemd_running, systemd_stale_units,
)

OWNED_KEYS = ['isolcpus', 'nohz_full', 'rcu_nocbs', 'irqaffinity']
ISOLCPUS_FLAGS = ['domain', 'managed_irq', 'nohz']
SET_OPTIONS = ['isolated_cpus', 'reserved_cpus', 'isolated_count', 'reserved_per_node']

MANAGER_DROPIN = '/etc/systemd/system.conf.d/50-nfv-dpdk-cpu-affinity.conf'
# Where systemd reads system.conf and its drop-ins, lowest precedence first.
MANAGER_CONF_DIRS = ['/usr/lib/systemd', '/usr/local/lib/systemd', '/run/systemd', '/etc/systemd']
_CPU_AFFINITY = re.compile(r'^\s*CPUAffinity\s*=\s*(.*?)\s*$')
_ALLOWED_CPUS = re.compile(r'^\s*AllowedCPUs\s*=\s*(.*?)\s*$')
# Where systemd reads a unit's drop-ins, lowest precedence first (system.control is systemctl set-property's).
UNIT_DROPIN_DIRS = ['/usr/lib/systemd/system', '/usr/local/lib/systemd/system', '/run/systemd/system',
                    '/etc/systemd/system', '/run/systemd/system.control', '/etc/systemd/system.control']
CGROUP_ROOT = '/sys/fs/cgroup'
UNIT_DIR = '/etc/systemd/system'
SLICE_DROPIN_NAME = '50-nfv-dpdk-cpu-isolation.conf'
IRQBALANCE_FILES = ['/etc/default/irqbalance', '/etc/sysconfig/irqbalance']
IRQBALANCE_SERVICE = 'irqbalance.service'
IRQBALANCE_MARKER = '# nfv.dpdk.cpu_isolation: isolated CPUs are banned from IRQ balancing'
CPULIST_KEY = 'IRQBALANCE_BANNED_CPULIST'
MASK_KEY = 'IRQBALANCE_BANNED_CPUS'
_IRQBALANCE_ASSIGN = re.compile(r'^\s*(?:export\s+)?(%s|%s)\s*=' % (CPULIST_KEY, MASK_KEY))
_SLICE_NAME = re.compile(r'^[A-Za-z0-9:_.\\-]+\.slice$')
_RHEL_LIKE = ('rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'ol', 'suse', 'sles', 'opensuse')

ARGUMENT_SPEC = dict(
    state=dict(type='str', default='present', choices=['present', 'absent']),
    isolated_cpus=dict(type='str'),
    reserved_cpus=dict(type='str'),
    isolated_count=dict(type='int'),
    reserved_per_node=dict(type='int'),
    allow_split_cores=dict(type='bool', default=False),
    isolcpus=dict(type='bool', default=True),
    isolcpus_flags=dict(type='list', elements='str', choices=ISOLCPUS_FLAGS, default=['managed_irq', 'domain']),
    nohz_full=dict(type='bool', default=True),
    rcu_nocbs=dict(type='bool', default=True),
    irqaffinity=dict(type='bool', default=True),
    systemd_cpu_affinity=dict(type='bool', default=True),
    slices=dict(type='list', elements='str', default=['system.slice', 'user.slice']),
    irqbalance=dict(type='bool', default=True),
)

MUTUALLY_EXCLUSIVE = [
    ['isolated_cpus', 'isolated_count'],
    ['isolated_cpus', 'reserved_per_node'],
    ['reserved_cpus', 'isolated_count'],
    ['reserved_cpus', 'reserved_per_node'],
]

REQUIRED_IF = [
    ['state', 'present', SET_OPTIONS, True],
]


def systemd_cpus(cpus):
    """systemd's spelling of a cpu-list: ranges separated by spaces (``0-1 8-9``)."""
    return cpus.format().replace(',', ' ')


def manager_dropin(reserved):
    return ('# Managed by nfv.dpdk.cpu_isolation: the service manager and the processes it starts\n'
            '# run on the reserved (housekeeping) CPUs.\n'
            '[Manager]\nCPUAffinity=%s\n' % systemd_cpus(reserved))


def slice_dropin(reserved):
    return ('# Managed by nfv.dpdk.cpu_isolation: keep this slice on the reserved (housekeeping) CPUs.\n'
            '# AllowedCPUs= needs the unified cgroup hierarchy (cgroup v2).\n'
            '[Slice]\nAllowedCPUs=%s\n' % reserved.format())


def slice_dropin_path(name):
    return '%s/%s.d/%s' % (UNIT_DIR, name, SLICE_DROPIN_NAME)


def kernel_args(params, isolated, reserved):
    """The owned kernel parameters for the options and sets, in command line order."""
    args = []
    if params['isolcpus']:
        args.append('isolcpus=%s' % ','.join(list(params['isolcpus_flags']) + [isolated.format()]))
    if params['nohz_full']:
        args.append('nohz_full=%s' % isolated.format())
    if params['rcu_nocbs']:
        args.append('rcu_nocbs=%s' % isolated.format())
    if params['irqaffinity']:
        args.append('irqaffinity=%s' % reserved.format())
    return args


def irqbalance_version(text):
    """(major, minor) from ``irqbalance --version`` output, or None."""
    match = re.search(r'(\d+)\.(\d+)', text or '')
    return (int(match.group(1)), int(match.group(2))) if match else None


def irqbalance_key(version, current_text):
    """``IRQBALANCE_BANNED_CPULIST`` for irqbalance >= 1.8, else the mask variable.

    With an unknown version, a configuration file that documents the cpu-list
    variable (as 1.8 and later ship it) selects the cpu-list; otherwise the mask,
    which every irqbalance version reads.
    """
    if version is not None:
        return CPULIST_KEY if version >= (1, 8) else MASK_KEY
    return CPULIST_KEY if CPULIST_KEY in (current_text or '') else MASK_KEY


def edit_irqbalance(text, key=None, value=None):
    """The irqbalance environment file with only the banned-CPUs assignment changed.

    With ``key`` the file gets ``<marker>\\n<key>=<value>`` in place of the first
    assignment of ``key`` (or at the end), further assignments of ``key`` are
    dropped and an active assignment of the other banned-CPUs variable is
    commented out (dropped when it was ours). Without ``key`` (state=absent) the
    marked assignment is removed. Every other line stays as it was.
    """
    lines = (text or '').splitlines(True)
    out, placed, after_marker = [], False, False
    for line in lines:
        if line.rstrip('\r\n') == IRQBALANCE_MARKER:
            after_marker = True
            continue
        match = _IRQBALANCE_ASSIGN.match(line)
        ours, after_marker = after_marker, False
        if not match:
            out.append(line)
            continue
        if key is None:
            if not ours:
                out.append(line)
        elif match.group(1) == key:
            if not placed:
                out.extend([IRQBALANCE_MARKER + '\n', '%s=%s\n' % (key, value)])
                placed = True
        elif not ours:
            out.append('#' + line)
    if key is not None and not placed:
        if out and not out[-1].endswith('\n'):
            out[-1] += '\n'
        # Right after the commented-out template line the package ships, or at the end.
        template = re.compile(r'^#\s*%s=' % key)
        where = len(out)
        for index, line in enumerate(out):
            if template.match(line):
                where = index + 1
        out[where:where] = [IRQBALANCE_MARKER + '\n', '%s=%s\n' % (key, value)]
    return ''.join(out)


def manager_cpu_affinity(fs):
    """The service manager's configured ``CPUAffinity=`` as systemd merges it, or None when unset.

    ``system.conf`` first, then the ``system.conf.d/*.conf`` drop-ins in file name
    order (a name in /etc hides the same name in /run and /usr/lib); the last
    assignment wins and an empty one resets it.
    """
    files, dropins = [], {}
    for directory in MANAGER_CONF_DIRS:
        if fs.exists(directory + '/system.conf'):
            files = [directory + '/system.conf']
        for name in fs.listdir(directory + '/system.conf.d'):
            if name.endswith('.conf'):
                dropins[name] = '%s/system.conf.d/%s' % (directory, name)
    value = None
    for path in files + [dropins[name] for name in sorted(dropins)]:
        for line in (fs.read_raw(path) or '').splitlines():
            match = _CPU_AFFINITY.match(line)
            if match:
                value = match.group(1) or None
    return value


def slice_allowed_cpus(fs, name):
    """``AllowedCPUs=`` of a slice as its drop-ins set it (last one wins), or None when unset."""
    dropins = {}
    for directory in UNIT_DROPIN_DIRS:
        for entry in fs.listdir('%s/%s.d' % (directory, name)):
            if entry.endswith('.conf'):
                dropins[entry] = '%s/%s.d/%s' % (directory, name, entry)
    value = None
    for entry in sorted(dropins):
        for line in (fs.read_raw(dropins[entry]) or '').splitlines():
            match = _ALLOWED_CPUS.match(line)
            if match:
                value = match.group(1) or None
    return value


def slice_cgroup(name):
    """The cgroup v2 directory of a slice: ``a-b.slice`` lives in ``a.slice/a-b.slice``."""
    parts = name[:-len('.slice')].split('-')
    chain = ['-'.join(parts[:index]) + '.slice' for index in range(1, len(parts))] + [name]
    return '%s/%s' % (CGROUP_ROOT, '/'.join(chain))


def pid1_affinity(fs):
    """CPUs PID 1 (systemd) may run on, from /proc/1/status, or None when unreadable."""
    for line in (fs.read('/proc/1/status', '') or '').splitlines():
        if line.startswith('Cpus_allowed_list:'):
            return CpuSet.parse(line.split(':', 1)[1])
    return None


class CpuIsolation:
    """Plan (read and validate everything), then apply with rollback on failure."""

    def __init__(self, module, fs=None):
        self.module = module
        self.params = module.params
        self.fs = fs or HostFS()
        self.isolated = CpuSet()
        self.reserved = CpuSet()
        self.irqbalance_file = None
        self.systemd_files = []
        self.slice_files = {}
        self.applied = []
        self.reloaded = False
        self.restarted = False
        self.failing = False
        self.created_dirs = []
        self.pid1_before = None
        self.slices_before = {}
        self.result = {'changed': False, 'isolated_cpus': '', 'reserved_cpus': '', 'kernel_args': [],
                       'cmdline': '', 'running_cmdline': '', 'reboot_required': False, 'files': [],
                       'backup_files': [], 'irqbalance_file': None, 'systemd_stale': []}
        self.diffs = []

    # -- plan: reads only, fails before any change -----------------------------------
    def fail(self, msg, **kwargs):
        result = dict(self.result)
        result.update(kwargs)
        result.pop('changed', None)
        self.module.fail_json(msg=msg, **result)

    def validate_options(self):
        flags = self.params['isolcpus_flags']
        for flag in flags:
            if flags.count(flag) > 1:
                self.fail("isolcpus_flags: '%s' is listed more than once (choices: %s)" % (flag, ', '.join(ISOLCPUS_FLAGS)))
        for name in self.params['slices']:
            if not _SLICE_NAME.match(name or ''):
                self.fail("slices: '%s' is not a systemd slice name (like system.slice or user.slice)" % name)
            if name == '-.slice' or name.startswith('kubepods'):
                self.fail("slices: '%s' must not be confined to the reserved CPUs: Kubernetes pods run below it and "
                          "need the isolated CPUs" % name)
        if len(set(self.params['slices'])) != len(self.params['slices']):
            self.fail('slices: a slice is listed more than once: %s' % ', '.join(self.params['slices']))

    def plan_cpus(self):
        if self.params['state'] == 'absent':
            return
        topology = CpuTopology.read(self.fs)
        try:
            partition = plan_partition(topology, isolated_cpus=self.params['isolated_cpus'],
                                       reserved_cpus=self.params['reserved_cpus'],
                                       isolated_count=self.params['isolated_count'],
                                       reserved_per_node=self.params['reserved_per_node'],
                                       allow_split_cores=self.params['allow_split_cores'])
        except CpuPartitionError as exc:
            self.fail(str(exc))
        self.isolated, self.reserved = partition.isolated, partition.reserved
        if partition.split_cores:
            self.module.warn('the isolated CPUs %s share the cores %s with non-isolated sibling threads; '
                             'isolate whole cores for the lowest latency'
                             % (self.isolated.format(), ' '.join('(%s)' % core.format() for core in partition.split_cores)))
        self.result['isolated_cpus'] = self.isolated.format()
        self.result['reserved_cpus'] = self.reserved.format()

    def plan_systemd(self):
        present = self.params['state'] == 'present'
        content = manager_dropin(self.reserved) if present and self.params['systemd_cpu_affinity'] else None
        # The drop-ins are wholly this module's: removing one needs no backup next to it (it would stay in
        # /etc/systemd/system and keep the slice directory alive); rollback restores from memory anyway.
        self.systemd_files.append(ManagedFile(self.module, MANAGER_DROPIN, content, fs=self.fs, backup=content is not None))
        wanted = self.params['slices'] if present else []
        existing = [name[:-2] for name in self.fs.listdir(UNIT_DIR)
                    if name.endswith('.slice.d') and self.fs.exists(slice_dropin_path(name[:-2]))]
        for name in wanted:
            self.slice_files[name] = ManagedFile(self.module, slice_dropin_path(name), slice_dropin(self.reserved), fs=self.fs)
        for name in existing:
            if name not in wanted:
                self.slice_files[name] = ManagedFile(self.module, slice_dropin_path(name), None, fs=self.fs, backup=False)
        self.systemd_files.extend(self.slice_files[name] for name in wanted + [n for n in existing if n not in wanted])
        if wanted and self.fs.isdir('/sys/fs/cgroup') and not self.fs.exists('/sys/fs/cgroup/cgroup.controllers'):
            self.module.warn('this host uses the legacy cgroup v1 hierarchy: AllowedCPUs= in the drop-ins for %s has no '
                             'effect there; CPUAffinity= still keeps system services on the reserved CPUs'
                             % ', '.join(wanted))

    def _irqbalance_path(self, binary):
        for path in IRQBALANCE_FILES:
            if self.fs.exists(path):
                return path
        if not binary:
            return None
        release = os_release(self.fs) or {}
        ids = set([release.get('ID', '').lower()] + release.get('ID_LIKE', '').lower().split())
        return IRQBALANCE_FILES[1] if ids & set(_RHEL_LIKE) else IRQBALANCE_FILES[0]

    def plan_irqbalance(self):
        if not self.params['irqbalance']:
            return None
        binary = self.module.get_bin_path('irqbalance')
        path = self._irqbalance_path(binary)
        if path is None:
            return None
        current = self.fs.read_raw(path)
        if self.params['state'] == 'absent':
            if current is None:
                return None
            content = edit_irqbalance(current)
        else:
            version = None
            if binary:
                rc, out, err = self.module.run_command([binary, '--version'])
                version = irqbalance_version(out or err) if rc == 0 else None
            key = irqbalance_key(version, current)
            value = self.isolated.format() if key == CPULIST_KEY else self.isolated.to_mask()
            content = edit_irqbalance(current, key, value)
        mode = 0o644
        if current is not None:
            mode = os.stat(self.fs.path(path)).st_mode & 0o7777
        self.irqbalance_file = ManagedFile(self.module, path, content, mode=mode, fs=self.fs)
        self.result['irqbalance_file'] = path
        return self.irqbalance_file

    # -- apply ----------------------------------------------------------------------
    def _record(self, outcome):
        if not outcome['changed']:
            return False
        self.result['changed'] = True
        self.result['files'].append(outcome['path'])
        if outcome.get('backup_file'):
            self.result['backup_files'].append(outcome['backup_file'])
        if outcome.get('diff'):
            self.diffs.append(outcome['diff'])
        return True

    def _missing_dirs(self, path):
        """Parent directories of ``path`` that do not exist yet, deepest first."""
        missing, directory = [], os.path.dirname(path)
        while directory not in ('/', '') and not self.fs.isdir(directory):
            missing.append(directory)
            directory = os.path.dirname(directory)
        return missing

    def _remove_empty(self, directories):
        """Remove the directories that are empty, deepest first."""
        for directory in sorted(set(directories), key=lambda d: d.count('/'), reverse=True):
            try:
                os.rmdir(self.fs.path(directory))
            except OSError:
                pass

    def apply_file(self, managed):
        """Apply one ManagedFile, remembering it (and the directories it created) for rollback."""
        missing = self._missing_dirs(managed.path)
        changed = self._record(managed.apply())
        if changed and not self.module.check_mode:
            self.applied.append(managed)
            for name, slice_file in self.slice_files.items():
                if slice_file is managed:
                    self.slices_before[name] = self.fs.read(slice_cgroup(name) + '/cpuset.cpus')
            self.created_dirs = missing + self.created_dirs
            if managed.content is None:
                # A drop-in removed: its directory goes too when nothing else is left in it.
                self._remove_empty([os.path.dirname(managed.path)])
        return changed

    def rollback(self):
        """Put back every file this run changed and reload what was reloaded; returns problems."""
        problems = []
        for managed in reversed(self.applied):
            try:
                managed.restore()
            except Exception as exc:  # pylint: disable=broad-except
                problems.append('could not restore %s: %s' % (managed.path, exc))
        self.applied = []
        self._remove_empty(self.created_dirs)
        self.created_dirs = []
        original_fail = self.module.fail_json

        def note(msg, **kwargs):
            raise _StepFailed(msg)
        self.module.fail_json = note
        try:
            if self.reloaded:
                systemd_daemon_reload(self.module, self.fs)
                self.widen_manager_affinity(self.pid1_before)
                self.widen_slices(self.slices_before)
            if self.restarted:
                self.restart_irqbalance()
        except _StepFailed as exc:
            problems.append(str(exc))
        finally:
            self.module.fail_json = original_fail
        return problems

    def widen_slices(self, targets):
        """Give slices whose AllowedCPUs= went away their CPUs back: ``{slice: cpuset.cpus before}``.

        systemd writes an empty cpuset.cpus when AllowedCPUs= is unset, which the
        kernel refuses (ENOSPC) for a populated cgroup, so the slice would stay on
        the reserved CPUs until a reboot. An empty (or unknown) target becomes every
        online CPU when the kernel refuses the empty list.
        """
        for name in sorted(targets):
            if slice_allowed_cpus(self.fs, name) is not None:
                continue
            path = slice_cgroup(name) + '/cpuset.cpus'
            current = self.fs.read(path)
            target = targets[name] or ''
            if current is None or current == target:
                continue
            candidates = [target] if target else ['', self.fs.read('/sys/devices/system/cpu/online', '')]
            error = None
            for value in candidates:
                try:
                    self.fs.write(path, value)
                    break
                except (IOError, OSError) as exc:
                    error = exc
            else:
                self.module.warn('could not give %s its CPUs back (%s): %s' % (name, path, error))

    def widen_manager_affinity(self, target):
        """Give PID 1 back ``target`` (default: every online CPU) when no CPUAffinity= is configured.

        systemd applies CPUAffinity= on daemon-reload but leaves its affinity as it
        is when the setting goes away, so after removing (or rolling back) our
        drop-in the services it starts would stay on the reserved CPUs until a reboot.
        """
        if manager_cpu_affinity(self.fs) is not None:
            return False
        current = pid1_affinity(self.fs)
        online = CpuSet.parse(self.fs.read('/sys/devices/system/cpu/online', ''))
        target = target or online
        if current is None or not target or current == target:
            return False
        taskset = self.module.get_bin_path('taskset')
        if not taskset:
            self.module.warn('taskset is missing: systemd keeps running on CPUs %s until the next reboot' % current.format())
            return False
        rc, out, err = self.module.run_command([taskset, '--pid', '--cpu-list', target.format(), '1'])
        if rc != 0:
            self.module.warn('could not give systemd (PID 1) back CPUs %s: %s' % (target.format(), (err or out).strip()))
            return False
        return True

    def restart_irqbalance(self):
        systemctl = self.module.get_bin_path('systemctl')
        if self.module.check_mode or not systemctl or not self.fs.isdir('/run/systemd/system'):
            self.module.warn('systemd is not running here: restart irqbalance to apply %s' % self.irqbalance_file.path)
            return False
        rc, out, err = self.module.run_command([systemctl, 'try-restart', IRQBALANCE_SERVICE])
        if rc != 0:
            self.module.fail_json(msg='systemctl try-restart %s failed: %s' % (IRQBALANCE_SERVICE, (err or out).strip()))
        return True

    def apply(self):
        original_fail = self.module.fail_json
        runner = self

        def fail_and_restore(msg, **kwargs):
            runner.module.fail_json = original_fail
            runner.failing = True
            problems = runner.rollback()
            restored = 'files changed by this run were restored' if not problems else '; '.join(problems)
            kwargs.setdefault('files', runner.result['files'])
            kwargs.pop('changed', None)
            original_fail(msg='%s (%s)' % (msg, restored), **kwargs)

        self.module.fail_json = fail_and_restore
        try:
            systemd_changed = False
            for managed in self.systemd_files:
                systemd_changed = self.apply_file(managed) or systemd_changed
            irqbalance_changed = False
            if self.irqbalance_file is not None:
                irqbalance_changed = self.apply_file(self.irqbalance_file)
            stale = [] if systemd_changed else self.systemd_view_stale()
            if stale:
                # The files are right but systemd has not applied them: a run killed during daemon-reload.
                # No file changes, so the reasons are the diff and the message that says why changed is true.
                self.result['changed'] = systemd_changed = True
                self.result['systemd_stale'] = stale
                action = 'would be reloaded' if self.module.check_mode else 'reloaded'
                self.result['msg'] = 'systemd %s: %s' % (action, '; '.join(stale))
                self.diffs.append({'before_header': 'systemd (running)', 'after_header': 'systemd (after daemon-reload)',
                                   'before': ''.join('not applied: %s\n' % reason for reason in stale),
                                   'after': 'daemon-reload applies the drop-ins on disk\n'})
            if systemd_changed:
                self.pid1_before = pid1_affinity(self.fs)
                self.reloaded = systemd_daemon_reload(self.module, self.fs)
                if self.reloaded:
                    self.widen_manager_affinity(None)
                    self.widen_slices(dict((name, '') for name, managed in self.slice_files.items()
                                           if managed in self.applied and managed.content is None))
            if irqbalance_changed and not self.module.check_mode:
                self.restarted = self.restart_irqbalance()
            self.apply_kernel_args()
        except Exception as exc:  # pylint: disable=broad-except
            if self.failing:
                # fail_json already restored and reported (unit tests see its exit as an exception).
                raise
            fail_and_restore('%s: %s' % (type(exc).__name__, exc), exception=traceback.format_exc())
        finally:
            self.module.fail_json = original_fail

    def systemd_config_read_at(self):
        """When (time.time() seconds) systemd last started up and read system.conf, or None when unknown.

        systemd reports the start of its unit loading at boot (or daemon-reexec) as
        ``UnitsLoadStartTimestampMonotonic`` (CLOCK_MONOTONIC microseconds, after it parsed
        system.conf and its drop-ins); daemon-reload does not move it.
        """
        systemctl = systemd_running(self.module, self.fs)
        if not systemctl:
            return None
        rc, out, err = self.module.run_command([systemctl, 'show', '--property=UnitsLoadStartTimestampMonotonic'])
        match = re.search(r'^UnitsLoadStartTimestampMonotonic=(\d+)\s*$', out or '', re.M)
        if rc != 0 or not match or int(match.group(1)) == 0:
            return None
        return time.time() - time.monotonic() + int(match.group(1)) / 1e6

    def systemd_view_stale(self):
        """What systemd has not applied of the drop-ins that are right on disk: a list of reasons, empty when current.

        A run killed during ``daemon-reload`` leaves the drop-ins written and systemd on the old
        settings; the re-run sees no file to change, so it asks systemd. The slices are asked
        with ``systemctl show`` (NeedDaemonReload, LoadState). CPUAffinity= of the manager is not
        a unit: systemd applies it to itself when it starts and on every daemon-reload, so PID 1's
        affinity tells, but only for a drop-in written after systemd started. After a boot the
        kernel resets PID 1's affinity to its cpuset (every CPU) when systemd turns the cpuset
        controller on for the slices' AllowedCPUs=, which is no sign of a missed reload (seen on
        the lab node: CPUAffinity=0 2 read at boot, PID 1 on 0-3). The CPUs compared are the
        CPUAffinity= systemd reads from system.conf and all its drop-ins (the last one wins, so
        another drop-in that overrides ours is not a reason to reload forever), limited to the
        online CPUs as sched_setaffinity() limits it. When the start time cannot be read, a
        differing affinity counts as stale: a reload too many is harmless, one too few is not.
        """
        if not systemd_running(self.module, self.fs):
            return []
        reasons = []
        for manager in (managed for managed in self.systemd_files if managed.path == MANAGER_DROPIN):
            if manager.content is None or manager.current() != manager.content:
                continue
            configured = manager_cpu_affinity(self.fs)
            affinity = pid1_affinity(self.fs)
            if configured is None or affinity is None:
                continue
            try:
                wanted = CpuSet.parse(configured.replace(' ', ','))
            except CpuSetError:
                continue
            online = CpuSet.parse(self.fs.read('/sys/devices/system/cpu/online', '')) or wanted
            wanted = wanted & online
            if not wanted or affinity == wanted:
                continue
            read_at = self.systemd_config_read_at()
            written_at = os.stat(self.fs.path(MANAGER_DROPIN)).st_mtime
            if read_at is not None and written_at < read_at:
                # systemd read this drop-in when it started; the kernel has moved PID 1 since.
                continue
            reasons.append('systemd (PID 1) runs on CPUs %s, not on CPUAffinity=%s of %s, written after systemd '
                           'started: systemd has not applied it' % (affinity.format(), configured, MANAGER_DROPIN))
        for unit in systemd_stale_units(self.module, sorted(self.slice_files), self.fs):
            reasons.append('systemd has not loaded the current drop-ins of %s (systemctl show %s: NeedDaemonReload=yes '
                           'or unreadable)' % (unit, unit))
        return reasons

    def apply_kernel_args(self):
        desired = [] if self.params['state'] == 'absent' else kernel_args(self.params, self.isolated, self.reserved)
        self.result['kernel_args'] = desired
        outcome = ensure_kernel_args(self.module, owned_keys=list(OWNED_KEYS), desired=desired)
        if outcome.get('changed'):
            self.result['changed'] = True
            diff = outcome.get('diff')
            self.diffs.extend(diff if isinstance(diff, list) else [diff] if diff else [])
            self.result['backup_files'].extend(outcome.get('backup_files') or [])
        self.result['reboot_required'] = bool(outcome.get('reboot_required'))
        self.result['cmdline'] = outcome.get('configured_cmdline') or ''
        self.result['running_cmdline'] = outcome.get('running_cmdline') or ''

    def check_bootloader(self):
        """Fail before any change when the boot configuration cannot be read (no GRUB, unsupported OS)."""
        configured, reason = read_configured_cmdline(self.module, self.fs)
        if configured is None:
            self.fail('cannot manage the kernel command line on this host: %s' % reason)

    def run(self):
        self.validate_options()
        self.plan_cpus()
        self.check_bootloader()
        self.plan_systemd()
        self.plan_irqbalance()
        self.apply()
        if self.module._diff and self.diffs:
            self.result['diff'] = self.diffs
        return self.result


class _StepFailed(Exception):
    """A reload during rollback failed; collected, not raised to the user."""


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE,
                           required_if=REQUIRED_IF, supports_check_mode=True)
    module.exit_json(**CpuIsolation(module).run())


if __name__ == '__main__':
    main()
