#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: sriov_vfs
short_description: Create SR-IOV virtual functions on physical functions and keep them across reboots
version_added: 0.1.0
author:
  - nfv.dpdk maintainers (@nfv-dpdk)
description:
  - Sets the number of SR-IOV virtual functions (VFs) of one or more physical functions (PFs), chosen by PCI address
    or interface name, and the VFs' attributes (MAC, VLAN, QoS, spoof check, trust, link state, rate limits), which
    the PF driver keeps and which are set through the PF's interface with C(ip link set dev PF vf N ...).
  - The kernel refuses to change a non-zero VF count to another non-zero count (C(EBUSY)); the module goes through 0.
    Going through 0 destroys the existing VFs, and with them their attributes and driver bindings.
  - Only the VF attributes that differ from the current values (read from C(ip -j link show dev PF)) are changed.
  - VFs vanish at reboot. With O(persist=true) the module installs a oneshot systemd unit per PF,
    C(/etc/systemd/system/nfv-dpdk-sriov-<DDDD-BB-DD.F>.service), and the helper script
    C(/usr/local/libexec/nfv-dpdk/sriov-vfs) it runs. The unit runs early at boot (C(DefaultDependencies=no),
    C(Before=network-pre.target kubelet.service)), waits for the PF driver, sets C(sriov_numvfs) and replays every
    requested VF attribute; it is enabled for C(multi-user.target). M(nfv.dpdk.driver_bind) units order themselves after it.
  - All input is validated before anything changes; a rejected run leaves the host as it was.
options:
  pfs:
    description:
      - The physical functions to configure, each once.
    type: list
    elements: dict
    required: true
    suboptions:
      device:
        description:
          - The PF, by PCI address (C(0000:41:00.0) or C(41:00.0)) or by the name of its network interface (C(ens1f0)).
          - The persistence unit is keyed by the PCI address, which unlike the interface name does not change at boot.
        type: str
        required: true
      num_vfs:
        description:
          - Number of VFs, from 0 to the PF's C(sriov_totalvfs). V(0) removes all VFs (and the persistence unit).
        type: int
        required: true
      drivers_autoprobe:
        description:
          - Value for the PF's C(sriov_drivers_autoprobe), written before the VFs are created.
          - V(false) leaves new VFs without driver (no VF netdev), which saves a rebind when they all go to
            M(nfv.dpdk.driver_bind) with vfio-pci. Refused for bifurcated PFs (Mellanox mlx4/mlx5), whose VFs
            DPDK uses through the kernel driver.
          - Not set (default) leaves the current value.
        type: bool
      link_up:
        description:
          - When the PF has VFs, set its link administratively up (C(ip link set dev PF up)) if it is down, now and
            in the boot unit. Most PF drivers (igb, ixgbe, i40e) pass no VF traffic while the PF is down, and a PF
            that only carries VFs usually has no network configuration that would set it up.
          - V(false) leaves the PF's link state alone. The module never sets a link down.
        type: bool
        default: true
      vfs:
        description:
          - Attributes of individual VFs. Attributes that are not set are left as they are.
        type: list
        elements: dict
        default: []
        suboptions:
          index:
            description: VF number, 0 to O(pfs[].num_vfs) - 1.
            type: int
            required: true
          mac:
            description: Administrative unicast MAC address of the VF (C(aa:bb:cc:dd:ee:ff)).
            type: str
          vlan:
            description: Port VLAN the PF tags the VF's traffic with; V(0) removes it. 0 to 4095.
            type: int
          qos:
            description: 802.1p priority of the port VLAN, 0 to 7. Needs O(pfs[].vfs[].vlan).
            type: int
          spoofchk:
            description: MAC/VLAN anti-spoofing check of the VF's transmitted frames.
            type: bool
          trust:
            description:
              - Trusted VF (may change its MAC, enable promiscuous/all-multicast). Not every PF driver supports it.
              - A trusted VF's own driver may replace the O(pfs[].vfs[].mac) (igbvf pushes a random MAC when its PF
                link comes up); keep VFs meant for vfio-pci away from the kernel VF driver with
                O(pfs[].drivers_autoprobe=false).
            type: bool
          link_state:
            description: V(auto) follows the PF's link, V(enable) and V(disable) force it.
            type: str
            choices: [auto, enable, disable]
          min_tx_rate:
            description: Minimum transmit bandwidth in Mbit/s, V(0) for none. Not above O(pfs[].vfs[].max_tx_rate).
            type: int
          max_tx_rate:
            description: Maximum transmit bandwidth in Mbit/s, V(0) for no limit.
            type: int
  persist:
    description:
      - V(true) installs and enables the boot-time unit of each PF with VFs; V(false) disables and removes the units
        of the listed PFs (the running VFs are left as configured).
      - The helper script is removed with the last unit.
    type: bool
    default: true
attributes:
  check_mode:
    description:
      - Reports what would change (VF count, attributes, unit files) without changing anything.
      - RV(pfs[].vfs) then also lists the VFs that would be created (RV(pfs[].vfs[].planned=true)) with the PCI
        addresses the PF's SR-IOV capability gives them, for M(nfv.dpdk.driver_bind)'s O(nfv.dpdk.driver_bind#module:sriov_plan).
    support: full
  diff_mode:
    description: Shows the C(sriov_numvfs) change, the VF attribute changes and the unit and helper files.
    support: full
  platform:
    description: Linux with sysfs and iproute2; systemd for O(persist).
    support: full
    platforms: posix
notes:
  - PFs are configured in the order given. When one fails, the PFs before it stay configured (the result lists them in
    RV(pfs)) and no unit file is written.
  - Changing the VF count of an Intel X710/E810 PF resets the PF, and its link drops for a moment; the module warns when
    such a PF carries a route.
  - VFs that a running DPDK application holds through vfio-pci would block their removal until it exits, so a count
    change that removes them is refused, naming the process.
seealso:
  - module: nfv.dpdk.driver_bind
'''

EXAMPLES = r'''
- name: Four VFs on the first port, two on the second (by interface name), kept across reboots
  nfv.dpdk.sriov_vfs:
    pfs:
      - device: "0000:41:00.0"
        num_vfs: 4
        vfs:
          - index: 0
            mac: "02:00:00:00:41:00"
            vlan: 100
            spoofchk: true
          - index: 1
            mac: "02:00:00:00:41:01"
            max_tx_rate: 1000
      - device: ens2f0
        num_vfs: 2

- name: VFs for vfio-pci only, without binding them to the VF kernel driver first
  nfv.dpdk.sriov_vfs:
    pfs:
      - device: "0000:81:00.0"
        num_vfs: 7
        drivers_autoprobe: false

- name: Remove all VFs of a PF and its boot unit
  nfv.dpdk.sriov_vfs:
    pfs:
      - device: "0000:41:00.0"
        num_vfs: 0
'''

RETURN = r'''
pfs:
  description: One entry per O(pfs) item, in the same order, as the host is after the run.
  returned: always
  type: list
  elements: dict
  contains:
    device:
      description: The O(pfs[].device) as given.
      type: str
      sample: ens1f0
    address:
      description: PCI address of the PF.
      type: str
      sample: "0000:41:00.0"
    interface:
      description: Network interface of the PF, null when it has none.
      type: str
      sample: ens1f0
    driver:
      description: Kernel driver of the PF.
      type: str
      sample: igb
    numa_node:
      description: NUMA node of the PF (-1 when the platform reports none).
      type: int
      sample: 0
    total_vfs:
      description: The PF's C(sriov_totalvfs).
      type: int
      sample: 7
    num_vfs_before:
      description: VF count before the run.
      type: int
      sample: 2
    num_vfs:
      description: VF count after the run (the requested one in check mode).
      type: int
      sample: 4
    numvfs_writes:
      description: Values written to C(sriov_numvfs), in order (C([0, 4]) for 2 -> 4); empty when unchanged.
      type: list
      elements: int
      sample: [0, 4]
    vf_commands:
      description: The C(ip link set) commands run (or, in check mode, that would run) to change VF attributes.
      type: list
      elements: list
      sample: [["/usr/sbin/ip", "link", "set", "dev", "ens1f0", "vf", "0", "mac", "02:00:00:00:41:00"]]
    link_commands:
      description: The C(ip link set dev PF up) command run (or, in check mode, that would run); empty when the PF was
        already up or O(pfs[].link_up) is false.
      type: list
      elements: list
      sample: [["/usr/sbin/ip", "link", "set", "dev", "ens1f0", "up"]]
    unit:
      description: Path of the PF's boot-time unit; null when the PF has none after the run.
      type: str
      sample: /etc/systemd/system/nfv-dpdk-sriov-0000-41-00.0.service
    changed:
      description: Whether anything of this PF changed.
      type: bool
    vfs:
      description:
        - The PF's VFs after the run, by index.
        - In check mode, the VFs the run would create are listed too, with RV(pfs[].vfs[].planned=true), and VFs
          the new count would remove are left out. Pass this list to M(nfv.dpdk.driver_bind) as
          O(nfv.dpdk.driver_bind#module:sriov_plan) so that its check mode can plan their binding.
      type: list
      elements: dict
      contains:
        index:
          description: VF number.
          type: int
        planned:
          description:
            - V(true) for a VF that does not exist yet and that the run would create (check mode only); V(false)
              for a VF that exists.
          type: bool
        address:
          description:
            - PCI address of the VF.
            - For a planned VF, computed from the PF's SR-IOV extended capability in its PCI config space
              (routing ID = PF routing ID + First VF Offset + index * VF Stride). The device reports offset and
              stride for its current NumVFs, and the PCIe spec lets them change with NumVFs (most NICs keep them
              constant), so the kernel confirms the address when it creates the VF.
            - Null for a planned VF when the config space cannot be read (not root, or a short read); a warning says
              why. The module never guesses an address.
          type: str
          sample: "0000:41:10.0"
        vendor_id:
          description: PCI vendor id of the VF (the PF's for a planned VF).
          type: str
          sample: "8086"
        device_id:
          description: PCI device id of the VF; for a planned VF the VF Device ID of the PF's SR-IOV capability,
            null when the config space cannot be read.
          type: str
          sample: "10ca"
        interfaces:
          description: Network interfaces of the VF (none when bound to vfio-pci or unbound, or planned).
          type: list
          elements: str
        driver:
          description: Driver bound to the VF, null when none (and for a planned VF).
          type: str
          sample: igbvf
        numa_node:
          description: NUMA node of the VF (the PF's for a planned VF).
          type: int
        iommu_group:
          description: IOMMU group of the VF, null without IOMMU (and for a planned VF, whose group the kernel picks
            when it creates it).
          type: int
        mac:
          description: Administrative MAC address the PF holds for the VF (for a planned VF, the requested one or null).
          type: str
        vlan:
          description: Port VLAN (0 = none).
          type: int
        qos:
          description: 802.1p priority of the port VLAN.
          type: int
        spoofchk:
          description: Spoof check state, null when the driver does not report it.
          type: bool
        trust:
          description: Trust state, null when the driver does not report it.
          type: bool
        link_state:
          description: Link state setting, null when the driver does not report it.
          type: str
        max_tx_rate:
          description: Maximum transmit rate in Mbit/s (0 = none).
          type: int
        min_tx_rate:
          description: Minimum transmit rate in Mbit/s (0 = none).
          type: int
units:
  description: Paths of the boot-time units written, removed or (in check mode) that would be.
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/system/nfv-dpdk-sriov-0000-41-00.0.service]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nfv.dpdk.plugins.module_utils.sriov import SRIOV_VFS_ARGUMENT_SPEC as ARGUMENT_SPEC, SriovVfs


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    SriovVfs(module).run()


if __name__ == '__main__':
    main()
