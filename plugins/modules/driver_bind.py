#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: driver_bind
short_description: Bind PCI devices (VFs, NICs) to vfio-pci, uio or their kernel driver, safely and persistently
version_added: 0.1.0
author:
  - nfv.dpdk maintainers (@nfv-dpdk)
description:
  - Binds the selected PCI functions to O(driver) the way the kernel intends it, through C(driver_override).
    It writes the driver name to C(driver_override), unbinds the current driver, writes the address to
    C(/sys/bus/pci/drivers_probe), and reads the C(driver) link back to verify.
  - Devices of one IOMMU group are unbound together before any of them is probed, since vfio-pci wants the whole
    group free.
  - Loads the driver module first with C(modprobe). With O(noiommu=true) it turns on vfio's unsafe no-IOMMU mode.
  - When a step fails, every device changed in the run is put back on its previous driver and C(driver_override),
    and the module fails.
  - Refuses, before changing anything, to unbind a device whose interface (or its bond/bridge master) carries a route,
    is up with IP addresses or carries an SSH session (the Ansible connection, from C(SSH_CONNECTION) and the
    established SSH connections of the host), or that has block devices, unless O(force=true). A device whose block
    devices are mounted, used as swap or under LVM/md is refused even with O(force=true).
  - Always refuses PCI bridges; vfio-pci when the device has no IOMMU group (unless O(noiommu=true)) or its IOMMU group
    holds other devices bound to other drivers; userspace drivers for bifurcated Mellanox/NVIDIA NICs (mlx4/mlx5,
    which DPDK uses with the kernel driver bound); uio drivers under kernel lockdown, and igb_uio under Secure Boot;
    unbinding a PF that has VFs (it would destroy them); unbinding a vfio-pci device that a process (a DPDK
    application) holds open (the unbind would block until it exits).
  - With O(persist=true) each device gets a oneshot systemd unit, C(/etc/systemd/system/nfv-dpdk-bind-<DDDD-BB-DD.F>.service),
    running the helper C(/usr/local/libexec/nfv-dpdk/driver-bind) early at boot, after the
    M(nfv.dpdk.sriov_vfs) unit of the device's PF. It is a unit and not a udev rule setting C(driver_override) because
    the kernel probes new VFs synchronously while C(sriov_numvfs) is written, before udev handles their C(add) event.
    The helper refuses to bind when the address holds a different vendor:device than when the unit was written.
options:
  devices:
    description:
      - PCI addresses (C(0000:41:10.0) or C(41:10.0)) or interface names of the devices to bind.
    type: list
    elements: str
  vfs_of:
    description:
      - Physical functions (PCI address or interface name) whose current VFs are all bound. Create the VFs first with
        M(nfv.dpdk.sriov_vfs).
      - C(PF#range) binds only the VFs of the range, in the SR-IOV network device plugin's syntax for C(pfNames) and
        C(rootDevices) (C(first-last), single indexes, comma-separated; C("ens1f0#0-7"), C("0000:86:00.0#0-3,8")), so
        that a PF split between a DPDK pool and a kernel pool binds only the DPDK range and leaves the other VFs on their
        driver (see the P(nfv.dpdk.sriov_device_plugin#role) role). A range naming a VF the PF does not have (in check
        mode with O(sriov_plan), will not have) is refused.
    type: list
    elements: str
  match:
    description:
      - Bind every PCI device with these ids.
    type: dict
    suboptions:
      vendor:
        description: PCI vendor id, 4 hex digits (C(8086)).
        type: str
        required: true
      device:
        description: PCI device id, 4 hex digits (C(10ca)); any device of the vendor when not set.
        type: str
  driver:
    description:
      - V(vfio-pci) (recommended; needs the IOMMU), V(uio_pci_generic), V(igb_uio) (out of tree, from dpdk-kmods), or
        V(kernel) for the driver the kernel picks by itself (C(driver_override) cleared).
    type: str
    choices: [vfio-pci, uio_pci_generic, igb_uio, kernel]
    default: vfio-pci
  noiommu:
    description:
      - Allow vfio-pci without an IOMMU by turning on C(enable_unsafe_noiommu_mode) of the vfio module. This is unsafe, the
        device can DMA anywhere in memory. Only with O(driver=vfio-pci).
    type: bool
    default: false
  force:
    description:
      - Unbind even devices whose interfaces carry a route, addresses or the SSH connection, or that have block devices.
        The other refusals stay.
    type: bool
    default: false
  persist:
    description:
      - V(true) keeps the binding across reboots with a boot-time unit per device; V(false) removes the units of the
        selected devices (the running binding is left). O(driver=kernel) removes them too, since the kernel default
        needs no unit.
    type: bool
    default: true
  sriov_plan:
    description:
      - Pass the M(nfv.dpdk.sriov_vfs) result so that check mode can plan bindings of VFs that do not exist yet,
        that is the RV(nfv.dpdk.sriov_vfs#module:pfs) list it returned in the same run (in check mode it lists the VFs it would
        create with RV(nfv.dpdk.sriov_vfs#module:pfs[].vfs[].planned=true) and their computed PCI addresses).
      - In check mode, the VFs of a O(vfs_of) PF are then the VFs of its plan entry (VFs the new count would remove are
        left out), and planned VFs named in O(devices) or matching O(match) are selected too. A planned VF is
        reported as to be bound (RV(devices[].planned=true), in C(--diff) and with its unit file) after every check
        that can be made before it exists (the driver exists, C(modprobe -n); the bifurcated and lockdown/Secure
        Boot refusals; the IOMMU, see O(iommu_planned); its address is not another existing device). Its IOMMU
        group is checked when the real run binds it.
      - A planned VF whose address is unknown (M(nfv.dpdk.sriov_vfs) could not read the PF's config space) counts as
        a change with a warning; only the checks that need no address are made (bifurcated PF, lockdown, IOMMU).
      - Outside check mode the plan does not change what is bound (the VFs exist by then); a VF of the plan with an
        address that does not exist is an error (M(nfv.dpdk.sriov_vfs) did not create it).
      - Only the keys C(address) and C(vfs) (with C(index), C(address), C(planned), C(vendor_id), C(device_id)) of each
        element are read; they are validated before anything else and an error names the field
        (C(sriov_plan[0].vfs[1].address)).
    type: list
    elements: dict
    default: []
  iommu_planned:
    description:
      - Check mode only. V(true) when the IOMMU is off now and the same run turns it on for the next boot (the
        M(nfv.dpdk.iommu_grub) task before it reports RV(nfv.dpdk.iommu_grub#module:reboot_required) in check mode,
        and the run reboots before binding). vfio-pci for devices without an IOMMU group is then planned with a
        warning instead of refused.
      - Ignored outside check mode, where vfio-pci needs the IOMMU on.
    type: bool
    default: false
attributes:
  check_mode:
    description:
      - Reports what would change; runs C(modprobe -n) to check that the driver exists.
      - With O(sriov_plan), also plans the binding of VFs that M(nfv.dpdk.sriov_vfs) would create in the same run.
    support: full
  diff_mode:
    description: Shows the driver and C(driver_override) of each device before and after, and the unit files.
    support: full
  platform:
    description: Linux with sysfs; systemd for O(persist).
    support: full
    platforms: posix
seealso:
  - module: nfv.dpdk.sriov_vfs
notes:
  - At least one of O(devices), O(vfs_of) and O(match) is required; they are combined.
'''

EXAMPLES = r'''
- name: Bind all VFs of two PFs to vfio-pci, across reboots
  nfv.dpdk.driver_bind:
    vfs_of: ["0000:41:00.0", ens2f0]
    driver: vfio-pci

- name: Split PF - VFs 0-1 of ens1f0 to vfio-pci for DPDK, its other VFs stay on their kernel driver (iavf...)
  nfv.dpdk.driver_bind:
    vfs_of: ["ens1f0#0-1"]
    driver: vfio-pci

- name: Bind two functions
  nfv.dpdk.driver_bind:
    devices: ["0000:41:10.0", "0000:41:10.2"]

- name: Every 82576 VF to vfio-pci
  nfv.dpdk.driver_bind:
    match:
      vendor: '8086'
      device: '10ca'

- name: Give VFs back to the kernel driver (igbvf, iavf...) and drop their boot units
  nfv.dpdk.driver_bind:
    vfs_of: ["0000:41:00.0"]
    driver: kernel

- name: No IOMMU (a VM without vIOMMU), vfio-pci in unsafe no-IOMMU mode
  nfv.dpdk.driver_bind:
    devices: ["0000:00:05.0"]
    noiommu: true
'''

RETURN = r'''
devices:
  description: Every selected device, sorted by address.
  returned: always
  type: list
  elements: dict
  contains:
    address:
      description: PCI address.
      type: str
      sample: "0000:41:10.0"
    vendor_id:
      description: PCI vendor id.
      type: str
      sample: "8086"
    device_id:
      description: PCI device id.
      type: str
      sample: "10ca"
    driver_before:
      description: Driver bound before the run, null when none.
      type: str
      sample: igbvf
    driver_after:
      description: Driver bound after the run (unchanged in check mode).
      type: str
      sample: vfio-pci
    driver_override:
      description: The device's C(driver_override) after the run, null when cleared.
      type: str
      sample: vfio-pci
    iommu_group:
      description: IOMMU group, null without IOMMU.
      type: int
      sample: 100
    numa_node:
      description: NUMA node of the device.
      type: int
      sample: 0
    physfn:
      description: PCI address of the PF when the device is a VF, else null.
      type: str
      sample: "0000:41:00.0"
    interfaces:
      description: Network interfaces of the device after the run.
      type: list
      elements: str
    planned:
      description:
        - V(true) for a VF that does not exist yet and that M(nfv.dpdk.sriov_vfs) would create in this run (check mode
          with O(sriov_plan) only); its RV(devices[].driver_before), RV(devices[].driver_after) and
          RV(devices[].iommu_group) are null. V(false) for a device that exists.
      type: bool
    changed:
      description: Whether the binding of this device changed (would change in check mode).
      type: bool
    unit:
      description: The device's boot-time unit, null when it has none.
      type: str
      sample: /etc/systemd/system/nfv-dpdk-bind-0000-41-10.0.service
loaded_modules:
  description: Kernel modules loaded with modprobe (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: [vfio-pci]
units:
  description: Boot-time unit files written, removed, enabled or disabled (or that would be in check mode).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nfv.dpdk.plugins.module_utils.driver_binding import (
    DRIVER_BIND_ARGUMENT_SPEC as ARGUMENT_SPEC, DRIVER_BIND_REQUIRED_ONE_OF as REQUIRED_ONE_OF, DriverBind,
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_one_of=REQUIRED_ONE_OF)
    DriverBind(module).run()


if __name__ == '__main__':
    main()
