#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: node_facts
short_description: Report how ready a Linux host is to run DPDK workloads
version_added: 0.1.0
author:
  - nfv.dpdk maintainers (@nfv-dpdk)
description:
  - Reads the host's kernel interfaces (sysfs, procfs) and a few configuration files and returns the facts a
    DPDK worker node depends on, under the fact C(dpdk_node)
    (RV(ansible_facts.dpdk_node)).
  - 'Sections: CPU and NUMA topology, hugepage pools per size and NUMA node, the IOMMU, network-class PCI
    devices (driver, NUMA node, IOMMU group, SR-IOV PF/VF, interfaces and whether they carry a route), the
    kernel command line (running and configured in the boot loader), security (kernel lockdown, Secure Boot),
    vfio/uio kernel modules, and the kubelet CPU manager configuration and checkpoint.'
  - Adds C(findings), a list of problems and hints, each with a severity (V(error), V(warning), V(info)) and a
    C(fix) naming the module of this collection that fixes it, and a C(summary) with C(ready=false) when there
    is an error.
  - Never changes anything on the host. It runs no command on Debian/Ubuntu; on the RHEL family it runs
    C(grubby --info=DEFAULT) to read the configured command line.
  - Missing files (older kernels, containers, VMs without IOMMU) give V(null) values, never a failure.
options:
  gather:
    description:
      - Sections to gather. V(all) gathers every section. Findings are computed only from the sections gathered.
      - V(cpu) is the CPU and NUMA topology and CPU flags; V(hugepages) the pools and hugetlbfs mounts; V(iommu)
        the IOMMU groups and vfio no-IOMMU mode; V(nics) the network-class PCI devices and routes; V(kernel) the
        release, command line, lockdown and Secure Boot; V(modules) the vfio/uio kernel modules; V(kubelet) the
        kubelet CPU manager configuration and state.
    type: list
    elements: str
    choices: [all, cpu, hugepages, iommu, nics, kernel, modules, kubelet]
    default: [all]
  include_vfs:
    description:
      - Also list SR-IOV virtual functions as entries of RV(ansible_facts.dpdk_node.nics). A PF always lists the
        addresses of its VFs and how many are bound to which driver.
    type: bool
    default: false
  kubelet_config_path:
    description:
      - The kubelet configuration file (KubeletConfiguration, YAML or JSON). The kubeadm default.
      - Must be an absolute path. A missing file is not an error; it means the host is not (yet) a kubelet node.
    type: path
    default: /var/lib/kubelet/config.yaml
  kubelet_state_dir:
    description:
      - The kubelet's root directory, holding the CPU manager checkpoint C(cpu_manager_state). The kubeadm default.
      - Must be an absolute path.
    type: path
    default: /var/lib/kubelet
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode returns the same facts.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  platform:
    support: full
    platforms: posix
    description: Linux hosts (x86_64 and aarch64); CPU flag checks apply to x86 only.
notes:
  - Interfaces that carry a route (IPv4 or IPv6, link-local and multicast IPv6 routes excepted), and the
    interfaces below them (bond slaves, bridge ports, the parent of a VLAN), are never counted as free for DPDK
    (C(dpdk_candidate=false)), because binding them would cut the node off.
  - Mellanox/NVIDIA NICs (mlx4/mlx5) are bifurcated. DPDK uses them with the kernel driver bound, so they are
    candidates without vfio-pci.
  - Whether vfio-pci can be loaded is decided from C(/lib/modules/<release>/modules.dep) and C(modules.builtin);
    when neither can be read it is reported as unknown (V(null)).
seealso:
  - module: nfv.dpdk.hugepages
  - module: nfv.dpdk.cpu_isolation
"""

EXAMPLES = r"""
- name: Gather DPDK readiness facts
  nfv.dpdk.node_facts:

- name: Fail when the node is not ready for DPDK
  ansible.builtin.assert:
    that: dpdk_node.summary.ready
    fail_msg: "{{ dpdk_node.findings | selectattr('severity', 'equalto', 'error') | map(attribute='message') | list }}"

- name: Only the NICs and hugepages, with every VF listed
  nfv.dpdk.node_facts:
    gather: [nics, hugepages]
    include_vfs: true

- name: A kubelet with a non-default root directory
  nfv.dpdk.node_facts:
    kubelet_config_path: /etc/kubernetes/kubelet-config.yaml
    kubelet_state_dir: /data/kubelet

- name: Addresses of the NICs free for DPDK on NUMA node 1
  ansible.builtin.debug:
    msg: "{{ dpdk_node.nics | selectattr('dpdk_candidate') | selectattr('numa_node', 'equalto', 1) | map(attribute='address') | list }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set on the host.
  returned: always
  type: dict
  contains:
    dpdk_node:
      description: Everything gathered, the findings and their summary. Sections not gathered are absent.
      returned: always
      type: dict
      contains:
        gathered:
          description: The sections gathered.
          returned: always
          type: list
          elements: str
          sample: [cpu, hugepages, iommu, nics, kernel, modules, kubelet]
        cpu:
          description:
            - CPU and NUMA topology (online and offline cpu-lists, threads per core, cores as sibling cpu-lists, NUMA
              nodes with CPUs and memory), plus C(vendor), C(supports_1g_pages) (V(null) when C(/proc/cpuinfo) has no
              x86 flags), C(hypervisor) (running in a VM), C(isolated) (the CPUs the running kernel isolates with
              C(isolcpus), from C(/sys/devices/system/cpu/isolated)) and C(nohz_full) (its tickless CPUs); both are
              cpu-lists, an empty string for none and V(null) when the kernel has no such file.
          returned: when gathered
          type: dict
          sample:
            online: 0-14
            offline: '15'
            threads_per_core: 2
            cores: ['0,8', '1,9']
            nodes: [{id: 0, cpus: '0-3,8-11', mem_total_kb: 67108864, mem_free_kb: 33554432}]
            vendor: GenuineIntel
            supports_1g_pages: true
            hypervisor: false
            isolated: 2-7,10-15
            nohz_full: 2-7,10-15
        hugepages:
          description:
            - Supported and default page sizes, the global pools, the per-NUMA-node pools and the hugetlbfs mounts. Each
              pool has C(size), C(size_kb), C(node), C(total), C(free), C(surplus), C(reserved) and C(persistent).
          returned: when gathered
          type: dict
          sample:
            sizes: [2M, 1G]
            default_size: 2M
            pools: [{size: 1G, size_kb: 1048576, node: null, total: 4, free: 4, surplus: 0, reserved: 0, persistent: 4}]
            node_pools: [{size: 1G, size_kb: 1048576, node: 0, total: 4, free: 4, surplus: 0, reserved: null,
                          persistent: 4}]
            mounts: [{path: /dev/hugepages, source: hugetlbfs, size: 2M, size_kb: 2048, options: 'rw,relatime'}]
        iommu:
          description:
            - C(enabled) (the kernel created IOMMU groups), C(groups) (how many), C(units) (IOMMU hardware units in
              C(/sys/class/iommu)), C(vfio_noiommu) (vfio's unsafe no-IOMMU mode; V(null) when vfio is not loaded).
          returned: when gathered
          type: dict
          sample: {enabled: true, groups: 112, units: [dmar0, dmar1], vfio_noiommu: false}
        nics:
          description:
            - Network-class PCI functions (PCI class 02), sorted by address. VFs only with O(include_vfs=true).
            - Each has the keys of the PCI device model (C(address), C(vendor_id), C(device_id), C(vendor_name),
              C(class_code), C(driver), C(driver_override), C(numa_node) (-1 is no affinity), C(iommu_group),
              C(iommu_group_devices), C(sriov_totalvfs), C(sriov_numvfs), C(is_sriov_pf), C(vfs), C(physfn),
              C(is_vf), C(vf_index), C(netdevs), C(link_states), C(is_dpdk_bound), C(is_bifurcated)), plus
              C(carries_route) and C(default_route) (one of its interfaces, or a bond, bridge or VLAN above it, carries
              a route or the default route), C(dpdk_candidate) (does not carry a route), C(vf_drivers) (number of
              VFs per driver) and C(iommu_group_conflicts) (other non-bridge devices in its IOMMU group that are bound
              to a driver other than vfio-pci).
          returned: when gathered
          type: list
          elements: dict
          sample:
            - address: '0000:af:00.0'
              vendor_id: '8086'
              device_id: '1572'
              vendor_name: Intel
              driver: i40e
              numa_node: 1
              iommu_group: 60
              sriov_totalvfs: 64
              sriov_numvfs: 0
              netdevs: [ens1f0]
              carries_route: false
              dpdk_candidate: true
        kernel:
          description:
            - C(release), C(cmdline) (running, C(/proc/cmdline)), C(cmdline_configured) (what the boot loader
              configures for the default entry; V(null) when it cannot tell, with the reason in
              C(cmdline_configured_error)), C(lockdown) (V(none), V(integrity), V(confidentiality) or V(null)), C(efi)
              and C(secure_boot) (V(null) when not an EFI boot or not readable).
          returned: when gathered
          type: dict
          sample:
            release: 6.1.0-18-amd64
            cmdline: BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=/dev/sda1 ro intel_iommu=on iommu=pt
            cmdline_configured: quiet intel_iommu=on iommu=pt
            cmdline_configured_error: null
            lockdown: none
            efi: true
            secure_boot: false
        kernel_modules:
          description:
            - C(loaded) (vfio, vfio_pci, vfio_iommu_type1, uio, uio_pci_generic, igb_uio, mlx5_core, mlx5_ib,
              ib_uverbs; true when C(/sys/module/<name>) exists), C(available) (vfio_pci, uio_pci_generic, igb_uio;
              true when in C(modules.dep) or C(modules.builtin), V(null) when unknown), C(kernel_release), C(modules_dir) and
              C(modules_error).
          returned: when O(gather) includes V(modules) or V(all)
          type: dict
          sample:
            loaded: {vfio: true, vfio_pci: true, uio: false}
            available: {vfio_pci: true, uio_pci_generic: true, igb_uio: false}
            modules_dir: /lib/modules/6.1.0-18-amd64
        kubelet:
          description:
            - C(config_path), C(config_found), C(config_error), C(cpu_manager_policy) (effective, V(none) when the file
              does not set it, a C(--cpu-manager-policy) flag wins), C(cpu_manager_policy_source),
              C(topology_manager_policy), C(reserved_system_cpus), C(state_file), C(state_found), C(state_policy),
              C(state_cpus) (CPUs the checkpoint covers), C(state_default_cpus) (its C(defaultCpuSet)), C(state_error),
              C(unreadable) (files that exist but this user may not read; run with become).
          returned: when gathered
          type: dict
          sample:
            config_path: /var/lib/kubelet/config.yaml
            config_found: true
            cpu_manager_policy: static
            state_file: /var/lib/kubelet/cpu_manager_state
            state_policy: none
        findings:
          description:
            - Problems and hints, errors first. C(id) is stable for machines; C(subjects) lists the devices or files
              concerned (may be empty).
          returned: always
          type: list
          elements: dict
          sample:
            - id: iommu_disabled
              severity: error
              message: 'IOMMU is off: the running kernel has no IOMMU groups and intel_iommu=on is not on its command line.'
              fix: nfv.dpdk.iommu_grub (adds intel_iommu=on iommu=pt), then reboot
              subjects: []
        summary:
          description: Number of findings per severity, and C(ready) (no error).
          returned: always
          type: dict
          sample: {errors: 1, warnings: 2, info: 1, ready: false}
"""

import errno
import json
import os
import re

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nfv.dpdk.plugins.module_utils.bootloader import read_configured_cmdline
from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_topology import CPU_DIR, CpuTopology
from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet, CpuSetError
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.hugepage_pool import HugepageState, cpu_flags
from ansible_collections.nfv.dpdk.plugins.module_utils.pci import PciDevice, route_interfaces
from ansible_collections.nfv.dpdk.plugins.module_utils.readiness import evaluate, summarize

SECTIONS = ('cpu', 'hugepages', 'iommu', 'nics', 'kernel', 'modules', 'kubelet')

ARGUMENT_SPEC = dict(
    gather=dict(type='list', elements='str', choices=['all'] + list(SECTIONS), default=['all']),
    include_vfs=dict(type='bool', default=False),
    kubelet_config_path=dict(type='path', default='/var/lib/kubelet/config.yaml'),
    kubelet_state_dir=dict(type='path', default='/var/lib/kubelet'),
)

LOADED_MODULES = ('vfio', 'vfio_pci', 'vfio_iommu_type1', 'uio', 'uio_pci_generic', 'igb_uio',
                  'mlx5_core', 'mlx5_ib', 'ib_uverbs')
AVAILABLE_MODULES = ('vfio_pci', 'uio_pci_generic', 'igb_uio')
KUBELET_FLAG_FILES = ('/var/lib/kubelet/kubeadm-flags.env', '/etc/default/kubelet', '/etc/sysconfig/kubelet')
EFIVARS = '/sys/firmware/efi/efivars'
_MODULE_FILE = re.compile(r'^(.*)\.ko(?:\.(?:xz|zst|gz))?$')
_POLICY_FLAG = re.compile(r'--cpu-manager-policy(?:=|\s+)["\']?([A-Za-z-]+)')
_POLICY_LINE = re.compile(r'^\s*["\']?cpuManagerPolicy["\']?\s*:\s*["\']?([A-Za-z-]+)', re.M)


def _module_name(path):
    match = _MODULE_FILE.match(os.path.basename(path.strip()))
    return match.group(1).replace('-', '_') if match else None


class NodeFacts:
    """Gathers the sections of ``dpdk_node``; only reads."""

    def __init__(self, module, fs=None):
        self.module = module
        self.params = module.params
        self.fs = fs or HostFS()

    def validate(self):
        for name in ('kubelet_config_path', 'kubelet_state_dir'):
            value = self.params[name]
            if not value or not value.startswith('/'):
                self.module.fail_json(msg='%s must be an absolute path, got %r' % (name, value))
        gather = self.params['gather'] or []
        if not gather:
            self.module.fail_json(msg='gather must name at least one of: %s' % ', '.join(['all'] + list(SECTIONS)))
        return list(SECTIONS) if 'all' in gather else [s for s in SECTIONS if s in gather]

    def run(self):
        sections = self.validate()
        facts = {'gathered': sections}
        topology = None
        if 'cpu' in sections or 'hugepages' in sections:
            topology = CpuTopology.read(self.fs)
        if 'cpu' in sections:
            facts['cpu'] = self.cpu(topology)
        if 'hugepages' in sections:
            facts['hugepages'] = HugepageState.read(self.fs, topology).to_dict()
        if 'iommu' in sections:
            facts['iommu'] = self.iommu()
        if 'nics' in sections:
            facts['nics'] = self.nics()
        if 'kernel' in sections:
            facts['kernel'] = self.kernel()
        if 'modules' in sections:
            facts['kernel_modules'] = self.kernel_modules()
        if 'kubelet' in sections:
            facts['kubelet'] = self.kubelet()
        facts['findings'] = evaluate(facts)
        facts['summary'] = summarize(facts['findings'])
        return {'changed': False, 'ansible_facts': {'dpdk_node': facts}}

    # -- sections ------------------------------------------------------------------
    def cpu(self, topology):
        data = topology.to_dict()
        flags = cpu_flags(self.fs)
        vendor = None
        for line in (self.fs.read('/proc/cpuinfo', '') or '').splitlines():
            key, sep, value = line.partition(':')
            if sep and key.strip() == 'vendor_id':
                vendor = value.strip()
                break
        data['vendor'] = vendor
        data['supports_1g_pages'] = None if flags is None else 'pdpe1gb' in flags
        data['hypervisor'] = None if flags is None else 'hypervisor' in flags
        data['isolated'] = self.kernel_cpu_list(CPU_DIR + '/isolated')
        data['nohz_full'] = self.kernel_cpu_list(CPU_DIR + '/nohz_full')
        return data

    def kernel_cpu_list(self, path):
        """A cpu-list the kernel publishes, normalized; '' when empty, None when the kernel has no such file."""
        text = self.fs.read(path)
        if text is None:
            return None
        # nohz_full reads "(null)" on kernels built with NO_HZ_FULL but booted without it.
        text = text.strip()
        if text in ('', '(null)'):
            return ''
        try:
            return CpuSet.parse(text).format()
        except CpuSetError:
            return text

    def iommu(self):
        groups = [name for name in self.fs.listdir('/sys/kernel/iommu_groups') if name.isdigit()]
        noiommu = self.fs.read('/sys/module/vfio/parameters/enable_unsafe_noiommu_mode')
        return {
            'enabled': bool(groups),
            'groups': len(groups),
            'units': self.fs.listdir('/sys/class/iommu'),
            'vfio_noiommu': None if noiommu is None else noiommu.upper() in ('Y', '1'),
        }

    def nics(self):
        routed = route_interfaces(self.fs)
        default = route_interfaces(self.fs, default_only=True)
        devices = PciDevice.all(self.fs)
        by_address = dict((device.address, device) for device in devices)
        vf_indexes = {}
        if self.params['include_vfs']:
            for device in devices:
                if device.is_network and device.is_sriov_pf:
                    vf_indexes.update(device.vf_indexes())
        nics = []
        for device in devices:
            if not device.is_network or (not self.params['include_vfs'] and device.is_vf):
                continue
            data = device.to_dict(vf_indexes)
            data['carries_route'] = bool(routed & set(data['netdevs']))
            data['default_route'] = bool(default & set(data['netdevs']))
            data['dpdk_candidate'] = not data['carries_route']
            vf_drivers = {}
            for vf in data['vfs']:
                driver = by_address[vf].driver if vf in by_address else None
                vf_drivers[driver or 'none'] = vf_drivers.get(driver or 'none', 0) + 1
            data['vf_drivers'] = vf_drivers
            conflicts = []
            for member in data['iommu_group_devices']:
                other = by_address.get(member)
                if member == device.address or other is None:
                    continue
                code = other.class_code or ''
                if code.startswith('0604') or other.driver in (None, 'vfio-pci', 'pcieport'):
                    continue
                conflicts.append({'address': member, 'driver': other.driver, 'class_code': code})
            data['iommu_group_conflicts'] = conflicts
            nics.append(data)
        return nics

    def kernel(self):
        configured, error = read_configured_cmdline(self.module, self.fs)
        return {
            'release': self.fs.read('/proc/sys/kernel/osrelease'),
            'cmdline': self.fs.read('/proc/cmdline', ''),
            'cmdline_configured': configured if configured is None else str(configured),
            'cmdline_configured_error': error,
            'lockdown': self.lockdown(),
            'efi': self.fs.isdir('/sys/firmware/efi'),
            'secure_boot': self.secure_boot(),
        }

    def lockdown(self):
        text = self.fs.read('/sys/kernel/security/lockdown')
        if not text:
            return None
        match = re.search(r'\[(\w+)\]', text)
        return match.group(1) if match else None

    def secure_boot(self):
        for name in self.fs.listdir(EFIVARS):
            if not name.startswith('SecureBoot-'):
                continue
            try:
                with open(self.fs.path('%s/%s' % (EFIVARS, name)), 'rb') as handle:
                    data = handle.read()
            except (IOError, OSError):
                return None
            # 4 bytes of attributes, then the value: 1 = Secure Boot enforced.
            return bytearray(data)[4] == 1 if len(data) >= 5 else None
        return None

    def kernel_modules(self):
        release = self.fs.read('/proc/sys/kernel/osrelease')
        loaded = dict((name, self.fs.isdir('/sys/module/%s' % name)) for name in LOADED_MODULES)
        result = {'loaded': loaded, 'available': dict((name, None) for name in AVAILABLE_MODULES),
                  'kernel_release': release, 'module_loading': None, 'modules_dir': None, 'modules_error': None}
        if not release:
            result['modules_error'] = 'the kernel release is unknown (/proc/sys/kernel/osrelease is unreadable)'
            return result
        # A kernel built without CONFIG_MODULES has no modules_disabled sysctl (nor /proc/modules).
        disabled = self.fs.read('/proc/sys/kernel/modules_disabled')
        if disabled is None:
            result['module_loading'] = 'unsupported'
        else:
            result['module_loading'] = 'disabled' if disabled.strip() == '1' else 'enabled'
        if result['module_loading'] != 'enabled':
            # Only what is built in (or already loaded) can be used.
            result['modules_error'] = ('the kernel cannot load modules (%s)' % (
                'built without loadable module support' if result['module_loading'] == 'unsupported'
                else 'kernel.modules_disabled=1'))
            for name in AVAILABLE_MODULES:
                result['available'][name] = loaded.get(name, False)
            return result
        base = '/lib/modules/%s' % release
        result['modules_dir'] = base
        known, found_index = set(), False
        for index in ('modules.dep', 'modules.builtin'):
            text = self.fs.read(base + '/' + index)
            if text is None:
                continue
            found_index = True
            for line in text.splitlines():
                name = _module_name(line.split(':', 1)[0])
                if name:
                    known.add(name)
        if not found_index:
            result['modules_error'] = '%s/modules.dep and modules.builtin are missing' % base
            return result
        for name in AVAILABLE_MODULES:
            result['available'][name] = name in known or loaded.get(name, False)
        return result

    def kubelet(self):
        path = self.params['kubelet_config_path']
        state_file = os.path.join(self.params['kubelet_state_dir'], 'cpu_manager_state')
        data = {'config_path': path, 'config_found': False, 'config_error': None, 'cpu_manager_policy': None,
                'cpu_manager_policy_source': None, 'topology_manager_policy': None, 'reserved_system_cpus': None,
                'state_file': state_file, 'state_found': False, 'state_policy': None, 'state_cpus': None,
                'state_default_cpus': None,
                'state_error': None, 'unreadable': []}
        text = self.fs.read_raw(path)
        if text is None and self._denied(path):
            data['unreadable'].append(path)
        if text is not None:
            data['config_found'] = True
            config = self._load_config(text, data)
            data['cpu_manager_policy'] = str(config.get('cpuManagerPolicy') or 'none')
            data['cpu_manager_policy_source'] = path
            for key, name in (('topologyManagerPolicy', 'topology_manager_policy'),
                              ('reservedSystemCPUs', 'reserved_system_cpus')):
                if config.get(key) is not None:
                    data[name] = str(config[key])
        for flag_file in KUBELET_FLAG_FILES:
            match = _POLICY_FLAG.search(self.fs.read_raw(flag_file) or '')
            if match:
                data['cpu_manager_policy'] = match.group(1)
                data['cpu_manager_policy_source'] = flag_file
        state = self.fs.read_raw(state_file)
        if state is None and self._denied(state_file):
            data['unreadable'].append(state_file)
        if state is not None:
            data['state_found'] = True
            try:
                checkpoint = json.loads(state)
                if not isinstance(checkpoint, dict):
                    raise ValueError('not a JSON object')
                data['state_policy'] = checkpoint.get('policyName')
                cpus = CpuSet.parse(checkpoint.get('defaultCpuSet') or '')
                data['state_default_cpus'] = cpus.format()
                for containers in (checkpoint.get('entries') or {}).values():
                    for cpuset in (containers or {}).values():
                        cpus = cpus | CpuSet.parse(cpuset)
                data['state_cpus'] = cpus.format()
            except (ValueError, CpuSetError, AttributeError, TypeError) as exc:
                data['state_error'] = str(exc)
        return data

    def _denied(self, path):
        """Whether ``path`` exists but this user may not read it (or look into its directory)."""
        real = self.fs.path(path)
        try:
            os.stat(real)
        except OSError as exc:
            return exc.errno == errno.EACCES
        return not os.access(real, os.R_OK)

    @staticmethod
    def _load_config(text, data):
        if HAS_YAML:
            try:
                config = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                data['config_error'] = 'not valid YAML: %s' % str(exc).replace('\n', ' ')
                return {}
            if config is None:
                return {}
            if not isinstance(config, dict):
                data['config_error'] = 'not a mapping (KubeletConfiguration)'
                return {}
            return config
        # Without PyYAML on the target, the one key that matters most is read line-wise.
        match = _POLICY_LINE.search(text)
        return {'cpuManagerPolicy': match.group(1)} if match else {}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.exit_json(**NodeFacts(module).run())


if __name__ == '__main__':
    main()
