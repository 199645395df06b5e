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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_isolation_config import (
    ARGUMENT_SPEC, MUTUALLY_EXCLUSIVE, REQUIRED_IF, CpuIsolation,
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE,
                           required_if=REQUIRED_IF, supports_check_mode=True)
    module.exit_json(**CpuIsolation(module).run())


if __name__ == '__main__':
    main()
