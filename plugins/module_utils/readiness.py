# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DPDK readiness findings, computed from the facts ``nfv.dpdk.node_facts`` gathers.

``evaluate(facts)`` is a pure function of the facts dict (the module's
``dpdk_node``), so every rule is testable without a host. A section that was
not gathered is absent from the dict, and rules that need it are skipped.
Each finding is ``{id, severity, message, fix, subjects}``; ``fix`` names the
module or role of this collection that fixes it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet, CpuSetError
from ansible_collections.nfv.dpdk.plugins.module_utils.kernel_cmdline import KernelCmdline, KernelCmdlineError

ERROR = 'error'
WARNING = 'warning'
INFO = 'info'
SEVERITIES = (ERROR, WARNING, INFO)

# What fixes what. One place, so that renaming a module or role is one edit.
FIX_IOMMU = 'nfv.dpdk.iommu_grub'
FIX_HUGEPAGES = 'nfv.dpdk.hugepages'
FIX_CPU_ISOLATION = 'nfv.dpdk.cpu_isolation'
FIX_SRIOV = 'nfv.dpdk.sriov_vfs'
FIX_DRIVER = 'nfv.dpdk.driver_bind'
FIX_KUBELET = 'role nfv.dpdk.kubelet_cpu_manager (nfv.dpdk.kubelet_config)'
FIX_KUBELET_STATE = 'role nfv.dpdk.kubelet_cpu_manager (stops the kubelet, nfv.dpdk.kubelet_state removes the checkpoint, starts it)'

# Kernel parameters the collection's modules own: configured but not running means a reboot is pending.
BOOT_KEYS = ('intel_iommu', 'amd_iommu', 'iommu', 'default_hugepagesz', 'hugepagesz', 'hugepages',
             'isolcpus', 'nohz_full', 'rcu_nocbs', 'irqaffinity')


def _finding(finding_id, severity, message, fix, subjects=()):
    return {'id': finding_id, 'severity': severity, 'message': message, 'fix': fix, 'subjects': list(subjects)}


def _cmdline(text):
    try:
        return KernelCmdline.parse(text or '')
    except KernelCmdlineError:
        return KernelCmdline()


def _on(value):
    return value is not None and value.split(',')[0].lower() in ('on', '1', 'y', 'yes')


def _iommu_findings(facts):
    iommu = facts.get('iommu')
    kernel = facts.get('kernel') or {}
    cpu = facts.get('cpu') or {}
    if iommu is None:
        return []
    findings = []
    running = _cmdline(kernel.get('cmdline'))
    vendor = cpu.get('vendor')
    if not iommu.get('enabled'):
        vm_hint = ' This is a VM: it also needs a virtual IOMMU (QEMU intel-iommu or virtio-iommu device).' \
            if cpu.get('hypervisor') else ''
        disabled_by = [str(arg) for arg in running.select(['intel_iommu', 'amd_iommu', 'iommu'])
                       if arg.value is not None and arg.value.split(',')[0].lower() in ('off', '0', 'n', 'no')]
        if disabled_by:
            why = 'the kernel command line turns it off (%s)' % ' '.join(disabled_by)
            fix = '%s (removes %s, adds iommu=pt), then reboot' % (FIX_IOMMU, ' '.join(disabled_by))
        elif vendor == 'GenuineIntel' and not _on(running.last_value('intel_iommu')):
            why = 'the running kernel has no IOMMU groups and intel_iommu=on is not on its command line'
            fix = '%s (adds intel_iommu=on iommu=pt), then reboot; enable VT-d in the firmware' % FIX_IOMMU
        elif vendor == 'GenuineIntel':
            why = 'intel_iommu=on is on the command line but the kernel created no IOMMU groups: VT-d is off in the ' \
                  'firmware or the machine has none'
            fix = 'enable VT-d in the firmware, then reboot'
        elif vendor in ('AuthenticAMD', 'HygonGenuine'):
            why = 'the kernel created no IOMMU groups although the AMD IOMMU is on by default: AMD-Vi/IOMMU is off ' \
                  'in the firmware or the machine has none'
            fix = 'enable the IOMMU (AMD-Vi) in the firmware, then reboot; %s sets iommu=pt' % FIX_IOMMU
        else:
            why = 'the kernel created no IOMMU groups (no IOMMU/SMMU, or it is off in the firmware)'
            fix = 'enable the IOMMU/SMMU in the firmware; %s sets the kernel parameters' % FIX_IOMMU
        findings.append(_finding(
            'iommu_disabled', ERROR,
            'IOMMU is off: %s. vfio-pci cannot give devices to DPDK without it.%s' % (why, vm_hint), fix))
    elif running.last_value('iommu') != 'pt':
        findings.append(_finding(
            'iommu_not_passthrough', INFO,
            'IOMMU is on without iommu=pt: devices left on kernel drivers pay for DMA translation.',
            '%s (iommu=pt)' % FIX_IOMMU))
    if iommu.get('vfio_noiommu'):
        findings.append(_finding(
            'vfio_noiommu_mode', WARNING,
            'vfio is in unsafe no-IOMMU mode (enable_unsafe_noiommu_mode=Y): devices can DMA anywhere in memory.',
            '%s, then unload vfio or set enable_unsafe_noiommu_mode=N' % FIX_IOMMU))
    return findings


def _reboot_findings(facts):
    kernel = facts.get('kernel') or {}
    configured = kernel.get('cmdline_configured')
    if configured is None:
        return []
    running, wanted = _cmdline(kernel.get('cmdline')), _cmdline(configured)
    differ = [key for key in BOOT_KEYS if running.select([key]) != wanted.select([key])]
    if not differ:
        return []
    return [_finding(
        'reboot_pending', WARNING,
        'The boot loader configures kernel parameters that the running kernel did not boot with (%s): '
        'configured "%s", running "%s".' % (', '.join(differ), ' '.join(str(a) for a in wanted.select(differ)),
                                            ' '.join(str(a) for a in running.select(differ))),
        'reboot the node (drain it first); nfv.dpdk modules report reboot_required', differ)]


def _module_findings(facts):
    modules = facts.get('kernel_modules')
    if modules is None:
        return []
    loaded, available = modules.get('loaded', {}), modules.get('available', {})
    findings = []
    if not loaded.get('vfio_pci'):
        state = available.get('vfio_pci')
        if state is False and modules.get('module_loading') in ('disabled', 'unsupported'):
            findings.append(_finding(
                'vfio_pci_unavailable', ERROR,
                'vfio-pci is not built into the running kernel and %s.' % (modules.get('modules_error') or
                                                                           'the kernel cannot load modules'),
                'boot a kernel with vfio-pci (CONFIG_VFIO_PCI) and loadable modules'))
        elif state is False:
            findings.append(_finding(
                'vfio_pci_unavailable', ERROR,
                'vfio-pci is neither loaded nor built in, and %s has no vfio-pci module.' % (
                    modules.get('modules_dir') or 'the module directory'),
                'install the kernel\'s modules package (linux-image/kernel-modules) for %s; %s loads it' % (
                    modules.get('kernel_release') or 'the running kernel', FIX_DRIVER)))
        elif state is None:
            findings.append(_finding(
                'vfio_pci_unknown', WARNING,
                'vfio-pci is not loaded and whether it can be loaded is unknown: %s.' % (
                    modules.get('modules_error') or 'no modules.dep/modules.builtin'),
                '%s loads vfio-pci; check that the kernel ships it' % FIX_DRIVER))
        else:
            findings.append(_finding(
                'vfio_pci_not_loaded', INFO,
                'vfio-pci is available but not loaded.', '%s loads it (modprobe vfio-pci)' % FIX_DRIVER))
    return findings


def _security_findings(facts):
    kernel = facts.get('kernel') or {}
    lockdown, secure_boot = kernel.get('lockdown'), kernel.get('secure_boot')
    iommu_on = (facts.get('iommu') or {}).get('enabled')
    if lockdown in ('integrity', 'confidentiality'):
        cause = 'kernel lockdown is "%s"%s' % (lockdown, ' (Secure Boot is on)' if secure_boot else '')
    elif secure_boot and lockdown is None:
        cause = 'Secure Boot is on'
    else:
        return []
    severity = WARNING if iommu_on or iommu_on is None else ERROR
    return [_finding(
        'uio_blocked_by_lockdown', severity,
        '%s: unsigned modules such as igb_uio do not load and uio_pci_generic cannot map device memory; '
        'only vfio-pci with an IOMMU works%s.' % (cause, '' if severity == WARNING else ', and the IOMMU is off'),
        'use vfio-pci (%s) with the IOMMU on (%s); do not use igb_uio/uio_pci_generic' % (FIX_DRIVER, FIX_IOMMU))]


def _pool_pages(pool):
    value = pool.get('persistent')
    return pool.get('total', 0) if value is None else value


def _hugepage_findings(facts):
    hugepages = facts.get('hugepages')
    cpu = facts.get('cpu') or {}
    findings = []
    if cpu.get('supports_1g_pages') is False:
        findings.append(_finding(
            'no_1g_hugepages', WARNING,
            'The CPU does not support 1G pages (no pdpe1gb in /proc/cpuinfo): only 2M hugepages are possible%s.' % (
                '; on a VM, pass the host CPU (-cpu host or pdpe1gb)' if cpu.get('hypervisor') else ''),
            '%s with size 2M' % FIX_HUGEPAGES))
    if hugepages is None:
        return findings
    total_kb = sum(_pool_pages(pool) * pool.get('size_kb', 0) for pool in hugepages.get('pools', []))
    if total_kb == 0:
        findings.append(_finding(
            'no_hugepages', ERROR, 'No hugepages are reserved in any pool: DPDK cannot allocate its memory.',
            FIX_HUGEPAGES))
        return findings
    node_pools = hugepages.get('node_pools', [])
    nodes_with_pages = set(pool['node'] for pool in node_pools if _pool_pages(pool) > 0)
    if node_pools:
        by_node = {}
        for nic in facts.get('nics') or []:
            node = nic.get('numa_node')
            if (nic.get('dpdk_candidate') and not nic.get('is_vf') and node is not None and node >= 0
                    and node not in nodes_with_pages):
                by_node.setdefault(node, []).append(nic['address'])
        for node in sorted(by_node):
            findings.append(_finding(
                'nic_numa_node_without_hugepages', WARNING,
                'NUMA node %d has no hugepages but holds NIC(s) %s: DPDK would allocate their memory on another '
                'node, across the socket interconnect.' % (node, ', '.join(by_node[node])),
                '%s with per-node pages on node %d' % (FIX_HUGEPAGES, node), by_node[node]))
    if not hugepages.get('mounts'):
        findings.append(_finding(
            'no_hugetlbfs_mount', INFO,
            'No hugetlbfs is mounted: DPDK processes on the host need one (Kubernetes pods get theirs from the kubelet).',
            '%s (mounts hugetlbfs)' % FIX_HUGEPAGES))
    return findings


def _nic_findings(facts):
    nics = facts.get('nics')
    if nics is None:
        return []
    findings = []
    physical = [nic for nic in nics if not nic.get('is_vf')]
    candidates = [nic for nic in nics if nic.get('dpdk_candidate')]
    if not candidates:
        routed = ', '.join(sorted(set(n for nic in nics for n in nic.get('netdevs', []) if nic.get('carries_route'))))
        findings.append(_finding(
            'no_dpdk_nic', WARNING,
            'No NIC is free for DPDK: %s.' % (
                'every NIC carries a route (%s); binding it to vfio-pci would cut the node off' % routed
                if physical else 'there is no network-class PCI device'),
            'add a NIC for the data plane; keep the management NIC on its kernel driver'))
    no_vfs = [nic['address'] for nic in candidates if nic.get('is_sriov_pf') and not nic.get('sriov_numvfs')
              and not nic.get('is_dpdk_bound')]
    if no_vfs:
        findings.append(_finding(
            'sriov_no_vfs', INFO,
            'SR-IOV capable NIC(s) %s have no VFs.' % ', '.join(no_vfs),
            '%s creates VFs when pods should get VFs' % FIX_SRIOV, no_vfs))
    for nic in candidates:
        conflicts = nic.get('iommu_group_conflicts') or []
        if conflicts and not nic.get('is_bifurcated'):
            findings.append(_finding(
                'iommu_group_shared', WARNING,
                'NIC %s shares IOMMU group %s with %s: vfio-pci needs every device of the group bound to vfio-pci '
                'or to no driver.' % (nic['address'], nic.get('iommu_group'),
                                      ', '.join('%s (%s)' % (c['address'], c.get('driver') or 'no driver')
                                                for c in conflicts)),
                'bind the whole group with %s, or move the NIC to a slot with ACS' % FIX_DRIVER, [nic['address']]))
    multi_node = len(((facts.get('cpu') or {}).get('nodes')) or []) > 1
    no_affinity = [nic['address'] for nic in candidates if nic.get('numa_node') == -1 and not nic.get('is_vf')]
    if multi_node and no_affinity:
        findings.append(_finding(
            'nic_numa_unknown', INFO,
            'NIC(s) %s report no NUMA node (numa_node -1) on a multi-node host: place DPDK cores and memory '
            'by hand.' % ', '.join(no_affinity), 'check the firmware\'s ACPI _PXM/SRAT settings', no_affinity))
    bifurcated = [nic for nic in nics if nic.get('is_bifurcated') and not nic.get('is_vf')]
    if bifurcated:
        addresses = [nic['address'] for nic in bifurcated]
        findings.append(_finding(
            'bifurcated_nic', INFO,
            'NIC(s) %s (Mellanox/NVIDIA) are used by DPDK with their kernel driver bound; never bind them to '
            'vfio-pci.' % ', '.join(addresses), 'none needed; %s skips them' % FIX_DRIVER, addresses))
        loaded = (facts.get('kernel_modules') or {}).get('loaded') or {}
        if loaded and (not loaded.get('mlx5_ib') or not loaded.get('ib_uverbs')) and any(
                nic.get('driver') == 'mlx5_core' for nic in bifurcated):
            missing = [name for name in ('mlx5_ib', 'ib_uverbs') if not loaded.get(name)]
            findings.append(_finding(
                'rdma_modules_not_loaded', WARNING,
                'The mlx5 PMD needs %s loaded for NIC(s) %s.' % (' and '.join(missing), ', '.join(addresses)),
                '%s loads them (modprobe %s)' % (FIX_DRIVER, ' '.join(missing)), addresses))
    return findings


def _cpu_findings(facts):
    cpu = facts.get('cpu')
    if cpu is None:
        return []
    if cpu.get('offline'):
        return [_finding(
            'cpus_offline', INFO,
            'CPU(s) %s are offline: they are not counted for isolation or by the kubelet.' % cpu['offline'],
            'bring them online (echo 1 > /sys/devices/system/cpu/cpuN/online) before %s' % FIX_CPU_ISOLATION)]
    return []


def _kubelet_findings(facts):
    kubelet = facts.get('kubelet')
    if not kubelet:
        return []
    findings = []
    policy = kubelet.get('cpu_manager_policy')
    if kubelet.get('config_error'):
        findings.append(_finding(
            'kubelet_config_unreadable', WARNING,
            'The kubelet configuration %s cannot be read: %s.' % (kubelet.get('config_path'), kubelet['config_error']),
            FIX_KUBELET))
    if kubelet.get('unreadable'):
        findings.append(_finding(
            'kubelet_files_unreadable', WARNING,
            'Permission denied reading %s: the kubelet checks are incomplete.' % ', '.join(kubelet['unreadable']),
            'run nfv.dpdk.node_facts with become: true', kubelet['unreadable']))
    if kubelet.get('config_found') and policy != 'static':
        findings.append(_finding(
            'kubelet_cpu_manager_not_static', WARNING,
            'The kubelet CPU manager policy is "%s": DPDK pods do not get exclusive CPUs.' % policy,
            '%s (cpuManagerPolicy: static)' % FIX_KUBELET))
    state_policy, state_file = kubelet.get('state_policy'), kubelet.get('state_file')
    if kubelet.get('state_error'):
        findings.append(_finding(
            'kubelet_cpu_manager_state_corrupt', ERROR,
            '%s cannot be parsed (%s): the kubelet refuses to start.' % (state_file, kubelet['state_error']),
            FIX_KUBELET_STATE, [state_file]))
    elif policy is not None and state_policy is not None and state_policy != policy:
        findings.append(_finding(
            'kubelet_cpu_manager_state_stale', ERROR,
            '%s was written by the "%s" policy but the kubelet is configured for "%s": the kubelet will exit with '
            '"could not restore state from checkpoint" and crash-loop.' % (state_file, state_policy, policy),
            FIX_KUBELET_STATE, [state_file]))
    elif policy == 'static' and state_policy == 'static' and kubelet.get('state_cpus'):
        findings.extend(_static_state_findings(facts, kubelet, state_file))
    return findings


def _static_state_findings(facts, kubelet, state_file):
    """The static policy's validateState: reserved CPUs in defaultCpuSet, checkpoint CPUs = online CPUs."""
    findings = []
    try:
        state_cpus = CpuSet.parse(kubelet['state_cpus'])
        default = CpuSet.parse(kubelet.get('state_default_cpus'))
        reserved = CpuSet.parse(kubelet.get('reserved_system_cpus'))
        online = CpuSet.parse(facts['cpu'].get('online')) if facts.get('cpu') else None
    except CpuSetError:
        return findings
    missing = reserved - default
    if missing:
        findings.append(_finding(
            'kubelet_cpu_manager_state_reserved', ERROR,
            '%s has defaultCpuSet %s without the reserved CPUs %s (reservedSystemCPUs): the kubelet will refuse the '
            'checkpoint and crash-loop.' % (state_file, default.format(), missing.format()),
            FIX_KUBELET_STATE, [state_file]))
    if online is not None and state_cpus != online:
        findings.append(_finding(
            'kubelet_cpu_manager_state_cpus', ERROR,
            '%s covers CPUs %s but the online CPUs are %s: the kubelet will refuse the checkpoint '
            '("current set of available CPUs doesn\'t match with CPUs in state") and crash-loop.'
            % (state_file, state_cpus.format(), online.format()),
            FIX_KUBELET_STATE, [state_file]))
    return findings


RULES = (_iommu_findings, _reboot_findings, _module_findings, _security_findings, _hugepage_findings,
         _nic_findings, _cpu_findings, _kubelet_findings)


def evaluate(facts):
    """Findings for the gathered facts, errors first, then warnings, then info."""
    findings = []
    for rule in RULES:
        findings.extend(rule(facts))
    return sorted(findings, key=lambda finding: SEVERITIES.index(finding['severity']))


def summarize(findings):
    counts = dict((severity, 0) for severity in SEVERITIES)
    for finding in findings:
        counts[finding['severity']] += 1
    return {'errors': counts[ERROR], 'warnings': counts[WARNING], 'info': counts[INFO], 'ready': counts[ERROR] == 0}
