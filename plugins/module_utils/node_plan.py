# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One consistent node plan from the live topology: CPUs, hugepages, kubelet settings, VFs.

``NodePlan(params, fs).build()`` reads the node through ``HostFS`` (CPUs and NUMA
nodes, PCI devices and their SR-IOV capability, hugepage pools, /etc/machine-id)
and returns the plan as plain data in the forms the collection's modules and roles
take (``nfv.dpdk.hugepages`` pools, ``nfv.dpdk.sriov_vfs`` pfs, ``nfv.dpdk.driver_bind``
items, the kubelet's KubeletConfiguration keys, the sriov_device_plugin role's
resources). It never changes anything. Every problem raises ``NodePlanError`` with
a message that starts with the option at fault.

Rules: whole cores only; CPU 0's core and at least one core of every NUMA node stay
reserved unless explicit lists say otherwise; isolated CPUs and hugepages go to the
NICs' NUMA nodes first; reservedMemory adds up exactly to kube + system reserved +
the eviction threshold (the kubelet's memory manager refuses to start otherwise).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_partition import CpuPartitionError, plan_node_partition
from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_topology import CpuTopology
from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.hugepage_pool import (
    KB_PER_GB, HugepageSizeError, HugepageState, format_size, parse_memory,
)
from ansible_collections.nfv.dpdk.plugins.module_utils.kubelet import (
    Machine, Quantity, QuantityError, format_quantity, validate as validate_kubelet,
)
from ansible_collections.nfv.dpdk.plugins.module_utils.pci import SriovCapabilityError, is_bifurcated, route_interfaces
from ansible_collections.nfv.dpdk.plugins.module_utils.sriov import resolve_device
from ansible_collections.nfv.dpdk.plugins.module_utils.sriov_device_plugin import (
    InvalidSriovPlan, format_vf_range, validate_resources,
)

HUGEPAGE_SIZES = {'2M': 2048, '1G': KB_PER_GB}
TOPOLOGY_POLICIES = ('none', 'best-effort', 'restricted', 'single-numa-node')
MACHINE_ID_FILES = ('/etc/machine-id', '/var/lib/dbus/machine-id')
# Memory a NIC node keeps outside hugepages for the kernel and the node's processes.
NODE_MEMORY_MARGIN_KB = KB_PER_GB
DEFAULT_VFS_PER_PF = 4
MIB = 1024 * 1024
KIB = 1024
_MACHINE_ID = re.compile(r'^[0-9a-f]{32}$')

# Which option a kubelet validation error comes from (the plan builds these settings from them).
_KUBELET_FIELD_OPTIONS = (
    ('kubeReserved', 'kube_reserved_memory'),
    ('systemReserved', 'system_reserved_memory'),
    ('evictionHard', 'eviction_hard_memory'),
    ('reservedMemory', 'kube_reserved_memory, system_reserved_memory, eviction_hard_memory'),
    ('reservedSystemCPUs', 'reserved_cpus'),
    ('topologyManagerPolicy', 'topology_manager_policy'),
)


class NodePlanError(ValueError):
    """A plan that cannot hold on this node; the message starts with the option at fault."""


def vf_mac(machine_id, pf_address, index):
    """The VF's MAC: 02 (locally administered, unicast) and 5 bytes of sha256("<machine-id>/<pf>/<index>").

    Stable across runs on one node, different across nodes (their machine ids differ).
    """
    digest = hashlib.sha256(('%s/%s/%d' % (machine_id, pf_address, index)).encode('ascii')).digest()
    return ':'.join(['02'] + ['%02x' % byte for byte in bytearray(digest[:5])])


def read_machine_id(fs):
    """The node's machine id (32 hex digits), or None when neither file holds one."""
    for path in MACHINE_ID_FILES:
        value = (fs.read(path) or '').strip().lower()
        if _MACHINE_ID.match(value):
            return value
    return None


def _quantity_unit(total_bytes):
    for suffix, unit in (('Mi', MIB), ('Ki', KIB)):
        if total_bytes % unit == 0:
            return suffix, unit
    return '', 1


def spread_reserved_memory(total_bytes, nodes):
    """reservedMemory entries that add up exactly to ``total_bytes``, evenly over ``nodes``, remainder on the first.

    Amounts are in Mi when the total is a whole number of MiB (Ki, else bytes), so
    the per-node entries sum to the total without rounding.
    """
    nodes = sorted(nodes)
    suffix, unit = _quantity_unit(total_bytes)
    units = total_bytes // unit
    share = units // len(nodes)
    entries = []
    for position, node in enumerate(nodes):
        amount = share + (units - share * len(nodes) if position == 0 else 0)
        if amount:
            entries.append({'numaNode': node, 'limits': {'memory': '%d%s' % (amount, suffix)}})
    return entries


class NodePlan:
    """The plan of one node from the module's parameters; ``build()`` returns the result dict."""

    def __init__(self, params, fs=None):
        self.params = params
        self.fs = fs or HostFS()
        self.warnings = []
        self.summary = []

    # -- input -----------------------------------------------------------------------
    def _int(self, name, minimum):
        value = self.params.get(name)
        if value is not None and value < minimum:
            raise NodePlanError('%s: must be at least %d, got %d' % (name, minimum, value))
        return value

    def _quantity(self, name):
        text = self.params.get(name)
        try:
            quantity = Quantity.parse(text)
        except QuantityError as exc:
            raise NodePlanError('%s: %s' % (name, exc))
        if quantity.value < 0 or quantity.value.denominator != 1:
            raise NodePlanError('%s: %r must be a whole, non-negative number of bytes (e.g. 500Mi, 1Gi)' % (name, text))
        return quantity

    def _check_scalars(self):
        self._int('reserved_cores_per_node', 1)
        self._int('isolated_count', 1)
        self._int('vfs_per_pf', 0)
        self._int('vfio_vfs', 0)
        self._int('proof_pod_cpus', 1)
        policy = self.params.get('topology_manager_policy')
        if policy not in TOPOLOGY_POLICIES:
            raise NodePlanError('topology_manager_policy: %r is not a policy (allowed: %s)'
                                % (policy, ', '.join(TOPOLOGY_POLICIES)))
        size = self.params.get('hugepage_size')
        if size is not None and size not in HUGEPAGE_SIZES:
            raise NodePlanError('hugepage_size: %r is not a page size this plan uses (allowed: %s)'
                                % (size, ', '.join(sorted(HUGEPAGE_SIZES))))
        template = self.params.get('resource_name_template')
        if not isinstance(template, str) or '{node}' not in template:
            raise NodePlanError('resource_name_template: %r must contain {node} (one resource per NUMA node), e.g. '
                                'dpdk_numa{node}' % (template,))
        try:
            template.format(node=0)
        except (IndexError, KeyError, ValueError) as exc:
            raise NodePlanError('resource_name_template: %r is not a template with only {node} in braces: %s'
                                % (template, exc))

    def _resolve_nics(self):
        nics = self.params.get('nics') or []
        if not nics:
            raise NodePlanError('nics: give at least one DPDK NIC (PCI address such as "0000:41:00.0" or interface '
                                'name)')
        devices, seen = [], {}
        for position, text in enumerate(nics):
            field = 'nics[%d]' % position
            try:
                device = resolve_device(text, self.fs)
            except ValueError as exc:
                raise NodePlanError('%s: %s' % (field, exc))
            if device.is_vf:
                raise NodePlanError('%s: %s is a VF of %s: give the physical function; the plan decides its VFs'
                                    % (field, text, device.physfn))
            if device.address in seen:
                raise NodePlanError('%s: %s is %s, which nics[%d] names already' % (field, text, device.address,
                                                                                    seen[device.address]))
            seen[device.address] = position
            devices.append((field, device))
        return devices

    # -- the plan -------------------------------------------------------------------------
    def build(self):
        self._check_scalars()
        kube = self._quantity('kube_reserved_memory')
        system = self._quantity('system_reserved_memory')
        eviction = self._quantity('eviction_hard_memory')
        nic_devices = self._resolve_nics()
        topology = CpuTopology.read(self.fs)
        node_ids = sorted(topology.nodes)

        nics = []
        for field, device in nic_devices:
            node = device.numa_node
            known = node is not None and node >= 0 and node in topology.nodes
            if not known:
                if len(node_ids) == 1:
                    node, known = node_ids[0], True
                else:
                    self.warnings.append('%s: %s reports no NUMA node (numa_node %s); the plan counts it on node %d, '
                                         'which may be wrong' % (field, device.address, device.numa_node, node_ids[0]))
                    node = node_ids[0]
            netdevs = device.netdevs
            nics.append({'field': field, 'device': device, 'node': node, 'known_node': known,
                         'interface': netdevs[0] if netdevs else None, 'vendor': device.vendor_id,
                         'bifurcated': is_bifurcated(device)})
        nic_nodes = sorted(set(nic['node'] for nic in nics))

        try:
            partition = plan_node_partition(
                topology, nic_nodes, reserved_cpus=self.params.get('reserved_cpus'),
                isolated_cpus=self.params.get('isolated_cpus'),
                reserved_cores_per_node=self.params.get('reserved_cores_per_node') or 1,
                isolated_count=self.params.get('isolated_count'))
        except CpuPartitionError as exc:
            raise NodePlanError(str(exc))
        reserved, isolated = partition.reserved, partition.isolated

        size_name, size_kb, per_node_kb, pools = self._hugepages(topology, nic_nodes)
        vfs, sriov_pfs, bindings = self._vfs(nics)
        resources, resource_of_pf = self._resources(nics, vfs, sriov_pfs)
        kubelet_settings = self._kubelet(topology, reserved, isolated, kube, system, eviction)
        proof_pods = self._proof_pods(nic_nodes, nics, vfs, resource_of_pf, isolated, topology, size_name, per_node_kb)

        numa_nodes = {}
        for node in node_ids:
            cpus = topology.node_cpus(node)
            mem_kb = topology.nodes[node].mem_total_kb
            numa_nodes[str(node)] = {
                'cpus': cpus.format(),
                'reserved_cpus': (reserved & cpus).format(),
                'isolated_cpus': (isolated & cpus).format(),
                'nics': [nic['device'].address for nic in nics if nic['node'] == node],
                'memory_bytes': mem_kb * 1024 if mem_kb is not None else None,
                'hugepages': [pool for pool in pools if pool['node'] == node],
            }
        aligned = all(nic['known_node'] for nic in nics) and all(
            isolated & topology.node_cpus(node) and any(pool['node'] == node and pool['count'] for pool in pools)
            for node in nic_nodes)

        nic_lines = ['%s (%s) on NUMA node %d' % (nic['device'].address, nic['interface'] or 'no netdev', nic['node'])
                     for nic in nics]
        self.summary[:0] = [
            'NICs: %s' % ', '.join(nic_lines),
            'reserved CPUs %s: %s' % (reserved.format(), self._reserved_reason()),
            'isolated CPUs %s: %s' % (isolated.format(), self._isolated_reason(nic_nodes)),
            'hugepages: %s in %s pages on each NIC node (%s; %s), none planned on the other nodes'
            % (format_size(per_node_kb), size_name, ', '.join('node %d' % n for n in nic_nodes),
               self._size_reason(size_name)),
            'kubelet: static CPU manager with reservedSystemCPUs %s, topology manager %s, memory manager %s with '
            'reservedMemory %s (= kube %s + system %s + eviction %s)'
            % (reserved.format(), kubelet_settings['topologyManagerPolicy'], kubelet_settings['memoryManagerPolicy'],
               ', '.join('node %d %s' % (entry['numaNode'], entry['limits']['memory'])
                         for entry in kubelet_settings['reservedMemory']) or 'none', kube, system, eviction),
        ]
        self.summary.append('NUMA-aligned: %s' % ('yes, every NIC node has isolated CPUs and hugepages of its own'
                                                  if aligned else 'no'))
        return {
            'reserved_cpus': reserved.format(),
            'isolated_cpus': isolated.format(),
            'hugepage_pools': pools,
            'kubelet_settings': kubelet_settings,
            'sriov_pfs': sriov_pfs,
            'bindings': bindings,
            'vfs': vfs,
            'device_plugin_resources': resources,
            'numa_nodes': numa_nodes,
            'proof_pods': proof_pods,
            'aligned': bool(aligned),
            'summary': list(self.summary),
        }

    def _reserved_reason(self):
        if self.params.get('reserved_cpus') is not None:
            return 'as given in reserved_cpus'
        if self.params.get('isolated_cpus') is not None:
            return 'every online CPU that isolated_cpus leaves out'
        return ("CPU 0's core and %d whole core(s) on every NUMA node, lowest cores first (reserved_cores_per_node)"
                % (self.params.get('reserved_cores_per_node') or 1))

    def _isolated_reason(self, nic_nodes):
        if self.params.get('isolated_cpus') is not None:
            return 'as given in isolated_cpus'
        if self.params.get('isolated_count') is not None:
            return ('%d CPUs in whole cores, on the NIC node(s) %s first (isolated_count)'
                    % (self.params['isolated_count'], ', '.join(str(n) for n in nic_nodes)))
        return 'every online CPU not reserved'

    def _size_reason(self, size_name):
        if self.params.get('hugepage_size'):
            return 'as hugepage_size says'
        return '1G pages are supported here' if size_name == '1G' else 'this node has no 1G page pool'

    def _hugepages(self, topology, nic_nodes):
        state = HugepageState.read(self.fs, topology)
        size_name = self.params.get('hugepage_size')
        if size_name is None:
            size_name = '1G' if HUGEPAGE_SIZES['1G'] in state.sizes else '2M'
        size_kb = HUGEPAGE_SIZES[size_name]
        if size_kb not in state.sizes:
            raise NodePlanError('hugepage_size: %s pages are not supported on this node (page sizes: %s)'
                                % (size_name, ', '.join(format_size(s) for s in state.sizes) or 'none'))
        text = self.params.get('hugepages_per_nic_node')
        try:
            amount_kb = parse_memory(text, 0) if not str(text).strip().endswith('%') else None
        except HugepageSizeError as exc:
            raise NodePlanError('hugepages_per_nic_node: %s' % exc)
        if amount_kb is None:
            raise NodePlanError('hugepages_per_nic_node: %r: give an amount such as 1G or 512M, not a percentage'
                                % (text,))
        if amount_kb <= 0 or amount_kb % size_kb:
            raise NodePlanError('hugepages_per_nic_node: %s is not a positive whole number of %s pages'
                                % (text, size_name))
        pools = []
        for node in nic_nodes:
            total_kb = topology.nodes[node].mem_total_kb
            if total_kb is None:
                raise NodePlanError('hugepages_per_nic_node: the memory of NUMA node %d cannot be read, so %s of '
                                    'hugepages there cannot be checked' % (node, text))
            other_kb = sum(pool.memory_kb for (pool_size, pool_node), pool in state.node_pools.items()
                           if pool_node == node and pool_size != size_kb)
            if not state.node_pools and len(topology.nodes) == 1:
                other_kb = sum(pool.memory_kb for pool_size, pool in state.pools.items() if pool_size != size_kb)
            room_kb = total_kb - other_kb - NODE_MEMORY_MARGIN_KB
            if amount_kb > room_kb:
                raise NodePlanError(
                    'hugepages_per_nic_node: %s on NUMA node %d does not fit: the node has %s, %s of it in hugepages '
                    'of other sizes, and %s stays free for the kernel, which leaves %s'
                    % (text, node, format_size(total_kb), format_size(other_kb),
                       format_size(NODE_MEMORY_MARGIN_KB), format_size(max(room_kb, 0))))
            pools.append({'size': size_name, 'count': amount_kb // size_kb, 'node': node})
        return size_name, size_kb, amount_kb, pools

    def _vfs(self, nics):
        vfs_per_pf = self.params.get('vfs_per_pf')
        vfio_vfs = self.params.get('vfio_vfs')
        machine_id = None
        pfs, sriov_pfs, vf_ranges, pf_devices = [], [], [], []
        for nic in nics:
            device, field = nic['device'], nic['field']
            total = device.sriov_totalvfs or 0
            if vfs_per_pf is None:
                count = min(DEFAULT_VFS_PER_PF, total)
            elif vfs_per_pf > total:
                raise NodePlanError('vfs_per_pf: %d is more than the %d VFs %s (%s) supports (sriov_totalvfs)'
                                    % (vfs_per_pf, total, field, device.address))
            else:
                count = vfs_per_pf
            if vfio_vfs is not None and vfio_vfs > count:
                raise NodePlanError('vfio_vfs: %d is more than the %d VFs planned for %s (%s, vfs_per_pf)'
                                    % (vfio_vfs, count, field, device.address))
            if nic['bifurcated'] and vfio_vfs:
                raise NodePlanError('vfio_vfs: %s (%s) is a bifurcated NIC (%s): DPDK drives its VFs with the kernel '
                                    'driver bound and they must not go to vfio-pci; set vfio_vfs: 0'
                                    % (field, device.address, device.driver or 'vendor %s' % device.vendor_id))
            vfio_count = 0 if nic['bifurcated'] else (count if vfio_vfs is None else vfio_vfs)
            if count and machine_id is None:
                machine_id = read_machine_id(self.fs)
                if machine_id is None:
                    raise NodePlanError('vfs_per_pf: the VF MACs are derived from /etc/machine-id, which is missing or '
                                        'not a machine id on this node; create it (systemd-machine-id-setup) or set '
                                        'vfs_per_pf: 0')
            addresses = self._vf_addresses(field, device, count)
            vf_entries = []
            for index in range(count):
                vf_entries.append({'index': index, 'address': addresses.get(index),
                                   'mac': vf_mac(machine_id, device.address, index),
                                   'driver': 'vfio-pci' if index < vfio_count else 'kernel'})
            pfs.append({'pf': device.address, 'interface': nic['interface'], 'numa_node': nic['node'],
                        'vendor': device.vendor_id, 'num_vfs': count, 'vfs': vf_entries})
            if count:
                sriov_pf = {'device': device.address, 'num_vfs': count,
                            'vfs': [{'index': vf['index'], 'mac': vf['mac']} for vf in vf_entries]}
                if vfio_count == count:
                    # Every VF goes to vfio-pci: no kernel VF driver should probe them first, which would
                    # mean a rebind on every boot and, on igb/ixgbe, a VF driver pushing a MAC of its own.
                    sriov_pf['drivers_autoprobe'] = False
                sriov_pfs.append(sriov_pf)
                if vfio_count:
                    vf_ranges.append('%s#%s' % (device.address, format_vf_range(range(vfio_count))))
                if nic['bifurcated']:
                    placement = 'all on %s (bifurcated: DPDK uses them with the kernel driver bound)' % device.driver
                else:
                    placement = '%d on vfio-pci%s' % (vfio_count, ', the rest on the kernel VF driver'
                                                      if vfio_count < count else '')
                self.summary.append('%s: %d of its %d VFs, %s' % (device.address, count, total, placement))
            elif nic['bifurcated']:
                self.summary.append('%s: no VFs; DPDK uses the PF through %s (bifurcated, never vfio-pci)'
                                    % (device.address, device.driver))
            else:
                pf_devices.append(device.address)
                self.summary.append('%s: no VFs (vfs_per_pf 0 or no SR-IOV); the PF itself goes to vfio-pci'
                                    % device.address)
                routed = sorted(set(device.netdevs) & route_interfaces(self.fs))
                if routed:
                    # driver_bind refuses it when it runs; saying so now spares a prepared node that cannot finish.
                    self.warnings.append('%s: %s carries a route (%s): binding the PF to vfio-pci would cut the node '
                                         'off that network, and nfv.dpdk.driver_bind refuses it; give a NIC the node '
                                         'does not reach the network through' % (field, device.address,
                                                                                 ', '.join(routed)))
        macs = [vf['mac'] for pf in pfs for vf in pf['vfs']]
        if len(set(macs)) != len(macs):
            raise NodePlanError('vfs_per_pf: two VFs would get the same derived MAC; this node cannot use derived MACs')
        bindings = []
        if vf_ranges:
            bindings.append({'vfs_of': vf_ranges, 'driver': 'vfio-pci', 'persist': True})
        if pf_devices:
            bindings.append({'devices': pf_devices, 'driver': 'vfio-pci', 'persist': True})
        return pfs, sriov_pfs, bindings

    def _vf_addresses(self, field, device, count):
        """{index: address} for VFs 0..count-1: the existing ones, the others planned as sriov_vfs plans them."""
        existing = dict((index, address) for address, index in device.vf_indexes().items() if index < count)
        missing = [index for index in range(count) if index not in existing]
        if missing:
            try:
                planned = dict(device.planned_vfs(max(missing) + 1))
            except SriovCapabilityError as exc:
                self.warnings.append('%s (%s): the PCI addresses of VFs %s are not known, they are returned with '
                                     'address null: %s' % (field, device.address, format_vf_range(missing), exc))
                planned = {}
            for index in missing:
                existing[index] = planned.get(index)
        return existing

    def _resources(self, nics, pfs, sriov_pfs):
        prefix = self.params.get('resource_prefix')
        template = self.params.get('resource_name_template')
        bifurcated = dict((nic['device'].address, nic['device'].driver or 'mlx5_core')
                          for nic in nics if nic['bifurcated'])
        resources, drivers_by_node, resource_of_pf = [], {}, {}
        for pf in pfs:
            dpdk = [vf['index'] for vf in pf['vfs'] if vf['driver'] == 'vfio-pci']
            driver = 'vfio-pci'
            if pf['pf'] in bifurcated and pf['vfs']:
                dpdk, driver = [vf['index'] for vf in pf['vfs']], bifurcated[pf['pf']]
            if not dpdk:
                continue
            name = template.format(node=pf['numa_node'])
            drivers = drivers_by_node.setdefault(pf['numa_node'], [])
            if driver not in drivers:
                drivers.append(driver)
            if drivers.index(driver) > 0:
                # One resource, one driver: the second driver on a node gets a resource of its own.
                name = '%s_%s' % (name, re.sub(r'[^A-Za-z0-9]+', '_', driver))
            resources.append({'resource_name': name, 'resource_prefix': prefix, 'pf': pf['pf'],
                              'vfs': format_vf_range(dpdk), 'driver': driver})
            resource_of_pf[pf['pf']] = '%s/%s' % (prefix, name)
        try:
            validate_resources(resources, sriov_pfs)
        except InvalidSriovPlan as exc:
            raise NodePlanError('resource_prefix/resource_name_template: the device plugin would refuse the '
                                'resources %s: %s' % (', '.join('%s/%s' % (prefix, r['resource_name']) for r in resources),
                                                      exc))
        for resource in resources:
            self.summary.append('device plugin resource %s/%s: VFs %s of %s (%s)' % (
                prefix, resource['resource_name'], resource['vfs'], resource['pf'], resource['driver']))
        return resources, resource_of_pf

    def _kubelet(self, topology, reserved, isolated, kube, system, eviction):
        policy = self.params.get('topology_manager_policy')
        memory_policy = 'None' if policy == 'none' else 'Static'
        total = kube + system + eviction
        settings = {
            'cpuManagerPolicy': 'static',
            'reservedSystemCPUs': reserved.format(),
            'topologyManagerPolicy': policy,
            'memoryManagerPolicy': memory_policy,
            'reservedMemory': spread_reserved_memory(total.bytes(), topology.nodes) if total.bytes() else [],
            'kubeReserved': {'memory': str(kube)},
            'systemReserved': {'memory': str(system)},
            'evictionHard': {'memory.available': str(eviction)},
        }
        # The kubelet's own start-up checks (module_utils/kubelet.py mirrors them): a plan it would refuse fails here.
        for error in validate_kubelet(settings, Machine.from_topology(topology, isolated)):
            options = [option for key, option in _KUBELET_FIELD_OPTIONS if str(error.field).startswith(key)]
            raise NodePlanError('%s: the kubelet would refuse the planned settings: %s'
                                % (options[0] if options else 'kube_reserved_memory', error))
        return settings

    def _proof_pods(self, nic_nodes, nics, pfs, resource_of_pf, isolated, topology, size_name, per_node_kb):
        count = self.params.get('proof_pod_cpus') or 1
        pods = []
        for node in nic_nodes:
            # Whole cores first, as the kubelet's static CPU manager hands them out.
            node_isolated = [cpu for core in topology.cores() for cpu in sorted(core & isolated)
                             if topology.node_of_cpu.get(cpu) == node]
            if len(node_isolated) < count:
                raise NodePlanError('proof_pod_cpus: %d CPUs asked for the proof pod of NUMA node %d, which has only '
                                    '%d isolated CPUs (%s)' % (count, node, len(node_isolated),
                                                               CpuSet(node_isolated).format() or 'none'))
            device, mac, resource = None, None, None
            for pf in pfs:
                if pf['numa_node'] != node:
                    continue
                nic = [n for n in nics if n['device'].address == pf['pf']][0]
                dpdk = [vf for vf in pf['vfs'] if vf['driver'] == 'vfio-pci' or nic['bifurcated']]
                if dpdk:
                    device, mac, resource = dpdk[0]['address'], dpdk[0]['mac'], resource_of_pf.get(pf['pf'])
                    break
                if not pf['vfs']:
                    device = pf['pf']
                    break
            pods.append({
                'numa_node': node,
                'cpus': CpuSet(node_isolated[:count]).format(),
                'pci_devices': [device] if device else [],
                'macs': [mac] if mac else [],
                'resource': resource,
                'hugepage_size': size_name,
                'hugepages': format_quantity(per_node_kb * 1024, 'binary'),
            })
        return pods
