#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: node_plan
short_description: Plan CPUs, hugepages, kubelet settings and VFs of a DPDK node from its live topology
version_added: 0.1.0
author:
  - nfv.dpdk maintainers (@nfv-dpdk)
description:
  - Reads the node (online CPUs and their SMT siblings, NUMA nodes and their memory, the DPDK NICs and their SR-IOV
    capability, hugepage pools, C(/etc/machine-id)) and returns one consistent plan in the forms the other modules
    and roles of the collection take - M(nfv.dpdk.cpu_isolation) CPU lists, M(nfv.dpdk.hugepages) pools,
    M(nfv.dpdk.sriov_vfs) PFs, M(nfv.dpdk.driver_bind) items, the kubelet's KubeletConfiguration keys
    (M(nfv.dpdk.kubelet_config)) and the P(nfv.dpdk.sriov_device_plugin#role) role's resources.
  - Called with only O(nics) it decides everything with the defaults below; every choice can be overridden.
  - "Rules: whole cores only (SMT siblings are never split); CPU 0's core and at least one core of every NUMA node
    stay reserved unless explicit lists say otherwise; isolated CPUs and hugepages go to the NICs' NUMA nodes first;
    C(reservedMemory) adds up exactly to kube reserved + system reserved + the eviction threshold, as the kubelet's
    memory manager requires."
  - The module never changes anything (C(changed) is always false). A plan that cannot hold on this node is refused
    with a message that starts with the option at fault.
  - The planned settings are checked with the same start-up checks as M(nfv.dpdk.kubelet_config) makes, so a plan
    the kubelet would refuse fails here.
options:
  nics:
    description:
      - The DPDK NICs (physical functions), by PCI address (quoted, V("0000:af:00.0")) or interface name (V(ens1f0),
        resolved through C(/sys/class/net/<name>/device)). Each once; a VF is refused.
    type: list
    elements: str
    required: true
  reserved_cpus:
    description:
      - Explicit housekeeping CPUs (cpu-list such as V(0,8)), the kubelet's C(reservedSystemCPUs). Whole cores only.
      - Default - CPU 0's whole core plus O(reserved_cores_per_node) whole cores on every NUMA node that has online
        CPUs (CPU 0's core counts for its node), lowest cores first. When only O(isolated_cpus) is given, every online
        CPU it leaves out.
    type: str
  reserved_cores_per_node:
    description:
      - Whole cores reserved on every NUMA node when O(reserved_cpus) is not given. Ignored with O(reserved_cpus) or
        O(isolated_cpus).
    type: int
    default: 1
  isolated_cpus:
    description:
      - Explicit isolated CPUs (cpu-list) for DPDK poll-mode threads. Whole cores only. Only an explicit list may
        hold CPU 0.
      - Default - every online CPU not reserved, or O(isolated_count) of them.
    type: str
  isolated_count:
    description:
      - Number of CPUs to isolate, in whole cores (a count that would split a core is refused); taken on the NICs'
        NUMA nodes first, balanced across them, then on the other nodes. Mutually exclusive with O(isolated_cpus).
    type: int
  hugepage_size:
    description:
      - Hugepage size. Default V(1G) when the node has a 1G pool (C(/sys/kernel/mm/hugepages/hugepages-1048576kB)),
        else V(2M).
    type: str
    choices: [2M, 1G]
  hugepages_per_nic_node:
    description:
      - Hugepage memory on every NUMA node that has a NIC (V(1G), V(512M)); a whole number of pages. No hugepages are
        planned on the other nodes (their pools are left as they are).
      - Refused when it does not fit in the node's memory minus the hugepages of other sizes already reserved there
        minus 1 GiB kept for the kernel.
    type: str
    default: 1G
  vfs_per_pf:
    description:
      - VFs per PF. Default the smaller of 4 and the PF's C(sriov_totalvfs). V(0) plans no VFs - the PF itself is the
        DPDK device (bound to vfio-pci, or left on its driver when bifurcated).
    type: int
  vfio_vfs:
    description:
      - How many VFs of each PF (lowest indexes first) go to vfio-pci; the rest stay on the kernel VF driver.
      - Default all of them, except on bifurcated NICs (Mellanox/NVIDIA mlx5, vendor 15b3), whose VFs stay on
        mlx5_core, which DPDK uses; a value above 0 is refused for those.
    type: int
  topology_manager_policy:
    description:
      - The kubelet's C(topologyManagerPolicy). With V(none) the memory manager policy is V(None), else V(Static).
    type: str
    choices: [none, best-effort, restricted, single-numa-node]
    default: single-numa-node
  kube_reserved_memory:
    description: The kubelet's C(kubeReserved) memory (a Kubernetes quantity).
    type: str
    default: 500Mi
  system_reserved_memory:
    description: The kubelet's C(systemReserved) memory (a Kubernetes quantity).
    type: str
    default: 500Mi
  eviction_hard_memory:
    description: The kubelet's C(evictionHard) C(memory.available) threshold (a Kubernetes quantity).
    type: str
    default: 100Mi
  resource_prefix:
    description: Device plugin resource prefix (a DNS subdomain).
    type: str
    default: nfv.dpdk
  resource_name_template:
    description:
      - Device plugin resource name per NUMA node; C({node}) is replaced with the node id. A node with VFs of two
        drivers (vfio-pci and mlx5_core) gets a second resource named after the driver (C(dpdk_numa0_mlx5_core)).
    type: str
    default: dpdk_numa{node}
  proof_pod_cpus:
    description: CPUs each NUMA-aligned proof pod gets (from its node's isolated CPUs).
    type: int
    default: 1
attributes:
  check_mode:
    description: The module only reads; it runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: none
  platform:
    description: Linux with sysfs.
    support: full
    platforms: posix
notes:
  - Planned VF addresses come from the PF's SR-IOV capability in its PCI config space (First VF Offset, VF Stride), as
    M(nfv.dpdk.sriov_vfs) computes them in check mode; existing VFs keep their addresses. Reading the config space
    needs root; without it the address is null and a warning says why.
  - VF MACs are C(02) followed by 5 bytes of sha256 over C(<machine-id>/<PF address>/<VF index>) - locally
    administered, unicast, stable across runs and different across nodes.
seealso:
  - module: nfv.dpdk.cpu_isolation
  - module: nfv.dpdk.hugepages
  - module: nfv.dpdk.sriov_vfs
  - module: nfv.dpdk.driver_bind
  - module: nfv.dpdk.kubelet_config
'''

EXAMPLES = r'''
- name: Plan the node from its DPDK NICs alone
  nfv.dpdk.node_plan:
    nics:
      - "0000:af:00.0"
      - ens1f1
  register: plan

- name: Show what was decided and why
  ansible.builtin.debug:
    msg: "{{ plan.summary }}"

- name: Four isolated CPUs, 2M hugepages, two VFs per PF of which one goes to vfio-pci
  nfv.dpdk.node_plan:
    nics:
      - "0000:af:00.0"
    isolated_count: 4
    hugepage_size: 2M
    hugepages_per_nic_node: 512M
    vfs_per_pf: 2
    vfio_vfs: 1
    topology_manager_policy: restricted

- name: Explicit CPU lists
  nfv.dpdk.node_plan:
    nics:
      - ens1f0
    reserved_cpus: "0,8"
    isolated_cpus: "4-7,12-14"
'''

RETURN = r'''
reserved_cpus:
  description: Housekeeping CPUs (cpu-list), the kubelet's C(reservedSystemCPUs).
  returned: success
  type: str
  sample: "0,4,8,12"
isolated_cpus:
  description: Isolated CPUs (cpu-list), for M(nfv.dpdk.cpu_isolation).
  returned: success
  type: str
  sample: "1-3,5-7,9-11,13-14"
hugepage_pools:
  description: The hugepage pools, as M(nfv.dpdk.hugepages) O(nfv.dpdk.hugepages#module:pools) takes them.
  returned: success
  type: list
  elements: dict
  contains:
    size:
      description: Page size.
      type: str
      sample: 1G
    count:
      description: Number of pages.
      type: int
      sample: 1
    node:
      description: NUMA node.
      type: int
      sample: 1
kubelet_settings:
  description:
    - Kubelet settings in KubeletConfiguration key names (C(cpuManagerPolicy), C(reservedSystemCPUs),
      C(topologyManagerPolicy), C(memoryManagerPolicy), C(reservedMemory), C(kubeReserved), C(systemReserved),
      C(evictionHard)).
    - C(reservedMemory) lists one entry per NUMA node (C(numaNode) and C(limits.memory)); they add up exactly to
      C(kubeReserved) + C(systemReserved) + C(evictionHard) C(memory.available), spread evenly, the remainder on the
      first node.
  returned: success
  type: dict
  sample:
    cpuManagerPolicy: static
    reservedSystemCPUs: "0,4,8,12"
    topologyManagerPolicy: single-numa-node
    memoryManagerPolicy: Static
    reservedMemory: [{numaNode: 0, limits: {memory: 550Mi}}, {numaNode: 1, limits: {memory: 550Mi}}]
    kubeReserved: {memory: 500Mi}
    systemReserved: {memory: 500Mi}
    evictionHard: {memory.available: 100Mi}
sriov_pfs:
  description: The PFs with VFs, as M(nfv.dpdk.sriov_vfs) O(nfv.dpdk.sriov_vfs#module:pfs) takes them.
  returned: success
  type: list
  elements: dict
  contains:
    device:
      description: PCI address of the PF.
      type: str
      sample: "0000:af:00.0"
    num_vfs:
      description: Number of VFs.
      type: int
      sample: 4
    vfs:
      description: C({index, mac}) of every VF, with the derived MAC.
      type: list
      elements: dict
      sample: [{index: 0, mac: "02:5e:1c:9a:03:7f"}]
    drivers_autoprobe:
      description:
        - V(false) when every VF of the PF goes to vfio-pci, so that no kernel VF driver probes them before
          M(nfv.dpdk.driver_bind) binds them (no rebind at boot, no MAC pushed by the kernel VF driver).
        - Absent when some VFs stay on the kernel VF driver.
      type: bool
      returned: when every VF goes to vfio-pci
      sample: false
bindings:
  description:
    - Items for M(nfv.dpdk.driver_bind) (one task per item) - C({vfs_of, driver, persist}) for the vfio-pci VF range
      of every PF, C({devices, driver, persist}) for PFs without VFs that go to vfio-pci themselves.
  returned: success
  type: list
  elements: dict
  sample: [{vfs_of: ["0000:af:00.0#0-3"], driver: vfio-pci, persist: true}]
vfs:
  description: Per PF, its VFs as planned.
  returned: success
  type: list
  elements: dict
  contains:
    pf:
      description: PCI address of the PF.
      type: str
    interface:
      description: The PF's network interface, null when it has none.
      type: str
    numa_node:
      description: NUMA node of the PF.
      type: int
    vendor:
      description: PCI vendor id of the PF.
      type: str
      sample: "8086"
    num_vfs:
      description: Number of VFs planned.
      type: int
    vfs:
      description: The VFs.
      type: list
      elements: dict
      contains:
        index:
          description: VF index.
          type: int
        address:
          description: PCI address (existing, or planned from the SR-IOV capability); null when it cannot be known.
          type: str
          sample: "0000:af:02.0"
        mac:
          description: Derived MAC.
          type: str
        driver:
          description: V(vfio-pci) or V(kernel) (the kernel VF driver).
          type: str
device_plugin_resources:
  description:
    - The P(nfv.dpdk.sriov_device_plugin#role) role's resources (C(sriov_device_plugin_resources)) - one resource per
      NIC NUMA node (an entry per PF), selecting that node's DPDK VFs (vfio-pci, or mlx5_core for bifurcated NICs).
  returned: success
  type: list
  elements: dict
  sample: [{resource_name: dpdk_numa1, resource_prefix: nfv.dpdk, pf: "0000:af:00.0", vfs: "0-3", driver: vfio-pci}]
numa_nodes:
  description: Per NUMA node (keyed by its id as a string) - C(cpus), C(reserved_cpus), C(isolated_cpus), C(nics),
    C(memory_bytes) and C(hugepages) (the pools planned there).
  returned: success
  type: dict
  sample: {"1": {cpus: "4-7,12-14", reserved_cpus: "4,12", isolated_cpus: "5-7,13-14", nics: ["0000:af:00.0"],
                 memory_bytes: 68719476736, hugepages: [{size: 1G, count: 1, node: 1}]}}
proof_pods:
  description:
    - One NUMA-aligned proof pod per NIC NUMA node - C(numa_node), C(cpus) (the first O(proof_pod_cpus) isolated CPUs
      of that node), C(pci_devices) (the first DPDK VF of a PF on that node, or the PF without VFs), C(macs), C(resource)
      (C(<prefix>/<name>), null for a PF), C(hugepage_size) and C(hugepages) (a quantity such as C(1Gi)).
  returned: success
  type: list
  elements: dict
  sample: [{numa_node: 1, cpus: "5", pci_devices: ["0000:af:10.0"], macs: ["02:5e:1c:9a:03:7f"],
            resource: nfv.dpdk/dpdk_numa1, hugepage_size: 1G, hugepages: 1Gi}]
aligned:
  description: True when every NIC's NUMA node is known and has isolated CPUs and hugepages of its own.
  returned: success
  type: bool
summary:
  description: One line per decision, saying what was decided and why.
  returned: success
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nfv.dpdk.plugins.module_utils.node_plan import NodePlan, NodePlanError

ARGUMENT_SPEC = dict(
    nics=dict(type='list', elements='str', required=True),
    reserved_cpus=dict(type='str'),
    reserved_cores_per_node=dict(type='int', default=1),
    isolated_cpus=dict(type='str'),
    isolated_count=dict(type='int'),
    hugepage_size=dict(type='str', choices=['2M', '1G']),
    hugepages_per_nic_node=dict(type='str', default='1G'),
    vfs_per_pf=dict(type='int'),
    vfio_vfs=dict(type='int'),
    topology_manager_policy=dict(type='str', default='single-numa-node',
                                 choices=['none', 'best-effort', 'restricted', 'single-numa-node']),
    kube_reserved_memory=dict(type='str', default='500Mi'),
    system_reserved_memory=dict(type='str', default='500Mi'),
    eviction_hard_memory=dict(type='str', default='100Mi'),
    resource_prefix=dict(type='str', default='nfv.dpdk'),
    resource_name_template=dict(type='str', default='dpdk_numa{node}'),
    proof_pod_cpus=dict(type='int', default=1),
)

MUTUALLY_EXCLUSIVE = [['isolated_cpus', 'isolated_count']]


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE,
                           supports_check_mode=True)
    plan = NodePlan(module.params)
    try:
        result = plan.build()
    except NodePlanError as exc:
        for warning in plan.warnings:
            module.warn(warning)
        module.fail_json(msg=str(exc))
    for warning in plan.warnings:
        module.warn(warning)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
