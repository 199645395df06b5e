#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: node_check
short_description: Plan several of the collection's node modules at once, in check mode, in one round trip
version_added: 0.1.0
author:
  - nfv.dpdk maintainers (@nfv-dpdk)
description:
  - Runs the plan of M(nfv.dpdk.iommu_grub), M(nfv.dpdk.cpu_isolation), M(nfv.dpdk.hugepages),
    M(nfv.dpdk.sriov_vfs) and M(nfv.dpdk.driver_bind) (once per entry) in check mode, in one module execution
    on the node instead of one per module. On a far-edge node each module execution is a round trip over the WAN.
  - Each option holds exactly the options of the module of the same name. They are validated against that
    module's own argument spec and constraints (choices, types, required options, mutually exclusive options,
    one of O(nfv.dpdk.driver_bind#module:devices), O(nfv.dpdk.driver_bind#module:vfs_of) or
    O(nfv.dpdk.driver_bind#module:match)), all of them before anything is
    planned, and each resource is then planned by that module's own code in check mode, with that module's own
    checks of the node. RV(plans) holds, per resource, exactly what that module returns in check mode for the
    same options.
  - 'Resources are planned in the order iommu_grub, cpu_isolation, hugepages, sriov_vfs, driver_bind. A plan that
    fails ends the run; the message starts with the resource and the module''s own message, which names the field
    (for example C(cpu_isolation: isolated_cpus: CPUs 64 do not exist on this host)).'
  - With O(sriov_vfs), the planned PFs (RV(nfv.dpdk.sriov_vfs#module:pfs), including the VFs it would create with
    C(planned=true)) are given to every O(driver_bind) entry as O(nfv.dpdk.driver_bind#module:sriov_plan), so that
    the binding of VFs that do not exist yet is planned too; an entry that sets O(nfv.dpdk.driver_bind#module:sriov_plan)
    itself keeps its own.
  - The module never changes the node; C(changed) is always false. Each result's own C(changed) means
    "would change", and RV(would_change) lists them.
options:
  iommu_grub:
    description:
      - The options of M(nfv.dpdk.iommu_grub) (O(nfv.dpdk.iommu_grub#module:state),
        O(nfv.dpdk.iommu_grub#module:vendor), ...). Omit it to leave iommu_grub out.
    type: dict
  cpu_isolation:
    description:
      - The options of M(nfv.dpdk.cpu_isolation) (O(nfv.dpdk.cpu_isolation#module:isolated_cpus),
        O(nfv.dpdk.cpu_isolation#module:reserved_cpus), ...). Omit it to leave cpu_isolation out.
    type: dict
  hugepages:
    description:
      - The options of M(nfv.dpdk.hugepages) (O(nfv.dpdk.hugepages#module:pools),
        O(nfv.dpdk.hugepages#module:boot), ...). Omit it to leave hugepages out.
    type: dict
  sriov_vfs:
    description:
      - The options of M(nfv.dpdk.sriov_vfs) (O(nfv.dpdk.sriov_vfs#module:pfs), O(nfv.dpdk.sriov_vfs#module:persist)).
        Omit it to leave sriov_vfs out.
    type: dict
  driver_bind:
    description:
      - One dict of options of M(nfv.dpdk.driver_bind) per binding to plan (O(nfv.dpdk.driver_bind#module:devices),
        O(nfv.dpdk.driver_bind#module:vfs_of) or O(nfv.dpdk.driver_bind#module:match),
        O(nfv.dpdk.driver_bind#module:driver), ...), planned in this order. Omit it (or give an empty list) to
        plan no binding.
    type: list
    elements: dict
attributes:
  check_mode:
    support: full
    description: The module plans in check mode whether or not the task runs in check mode; it changes nothing.
  diff_mode:
    support: partial
    description: With C(--diff) each result in RV(plans) has the C(diff) its module returns; the task shows no diff of its own.
  platform:
    support: full
    platforms: posix
    description: The platforms of the modules planned (Linux with sysfs; GRUB for the kernel command line).
notes:
  - The plans are the modules' check mode, so they are what those modules would do now. A plan is stale once
    something on the node changes (a run of one of the modules, a reboot).
  - 'Warnings of a module are in its result''s C(warnings) and, prefixed with the resource (for example
    C(cpu_isolation: the isolated CPUs ...)), in the task''s warnings.'
seealso:
  - module: nfv.dpdk.iommu_grub
  - module: nfv.dpdk.cpu_isolation
  - module: nfv.dpdk.hugepages
  - module: nfv.dpdk.sriov_vfs
  - module: nfv.dpdk.driver_bind
'''

EXAMPLES = r'''
- name: Pre-flight - plan CPUs, hugepages, VFs and their drivers in one round trip
  nfv.dpdk.node_check:
    cpu_isolation:
      isolated_cpus: 2-7,10-15
      reserved_cpus: 0-1,8-9
    hugepages:
      default_size: 1G
      pools:
        - size: 1G
          count: 4
          node: 1
      boot: true
      runtime: false
    sriov_vfs:
      pfs:
        - device: "0000:af:00.0"
          num_vfs: 2
    driver_bind:
      - vfs_of: ["0000:af:00.0"]
        driver: vfio-pci
  register: preflight

- name: Say what the pre-flight found
  ansible.builtin.debug:
    msg: "{{ preflight.msg }}"

- name: Isolate the CPUs only when the plan says something would change
  nfv.dpdk.cpu_isolation:
    isolated_cpus: 2-7,10-15
    reserved_cpus: 0-1,8-9
  when: preflight.plans.cpu_isolation.changed or preflight.plans.cpu_isolation.reboot_required

- name: After the reboot, fail when a kernel argument is still missing, naming the module
  nfv.dpdk.node_check:
    iommu_grub:
      vendor: intel
    cpu_isolation:
      isolated_cpus: 2-7,10-15
      reserved_cpus: 0-1,8-9
  register: verify
  failed_when: verify is failed or verify.would_change | length > 0 or verify.reboot_required | length > 0
'''

RETURN = r'''
plans:
  description:
    - One key per resource given, each exactly the result that module returns in check mode for those options
      (see the RETURN of each module); its C(changed) means "would change". C(warnings) when the module warned.
    - When the module fails, the results of the resources planned before the failing one, and the failing one's
      result (with its C(failed) and C(msg)); empty when an option was wrong (nothing was planned).
    - Not called C(results), which Ansible reserves for the items of a loop.
  returned: always
  type: dict
  contains:
    iommu_grub:
      description: What M(nfv.dpdk.iommu_grub) returns in check mode.
      returned: when O(iommu_grub) is given
      type: dict
      sample: {changed: false, args: [intel_iommu=on, iommu=pt], reboot_required: false}
    cpu_isolation:
      description: What M(nfv.dpdk.cpu_isolation) returns in check mode.
      returned: when O(cpu_isolation) is given
      type: dict
      sample: {changed: true, isolated_cpus: 2-7,10-15, reserved_cpus: 0-1,8-9, reboot_required: true}
    hugepages:
      description: What M(nfv.dpdk.hugepages) returns in check mode.
      returned: when O(hugepages) is given
      type: dict
      sample: {changed: false, pools: [], mounts: [], reboot_required: false, default_size: 1G}
    sriov_vfs:
      description: What M(nfv.dpdk.sriov_vfs) returns in check mode.
      returned: when O(sriov_vfs) is given
      type: dict
      sample: {changed: true, pfs: [], units: []}
    driver_bind:
      description: What M(nfv.dpdk.driver_bind) returns in check mode, one per entry of O(driver_bind), in order.
      returned: when O(driver_bind) is given
      type: list
      elements: dict
      sample: [{changed: true, devices: [], loaded_modules: [vfio-pci], units: []}]
would_change:
  description:
    - The resources whose plan would change something (their result's C(changed) is true), in the order planned;
      driver_bind entries as C(driver_bind[N]).
  returned: success
  type: list
  elements: str
  sample: [hugepages, "driver_bind[0]"]
reboot_required:
  description: The resources whose result says C(reboot_required) (the running kernel lacks arguments they own).
  returned: success
  type: list
  elements: str
  sample: [cpu_isolation]
resource:
  description: The resource whose options or plan failed (C(driver_bind[N]) for an entry).
  returned: failure
  type: str
  sample: cpu_isolation
msg:
  description:
    - On success, what was planned, what would change and what waits for a reboot.
    - On failure, the resource, then the module's own message, which names the field.
  returned: always
  type: str
  sample: 'planned cpu_isolation, hugepages; would change: hugepages; no reboot is required'
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nfv.dpdk.plugins.module_utils.node_check import NodeCheck, NodeCheckError

ARGUMENT_SPEC = dict(
    iommu_grub=dict(type='dict'),
    cpu_isolation=dict(type='dict'),
    hugepages=dict(type='dict'),
    sriov_vfs=dict(type='dict'),
    driver_bind=dict(type='list', elements='dict'),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = NodeCheck(module).run()
    except NodeCheckError as exc:
        module.fail_json(msg=str(exc), resource=exc.resource, plans=exc.plans)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
