#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: iommu_grub
short_description: Enable the IOMMU (and passthrough mode) on the kernel command line for VFIO/DPDK
version_added: 0.1.0
author:
  - nfv.dpdk maintainers (@nfv-dpdk)
description:
  - Puts the kernel parameters that enable the IOMMU for C(vfio-pci) on the configured kernel command line,
    so that DPDK can drive NICs from user space after the next reboot.
  - 'Intel: C(intel_iommu=on), plus C(iommu=pt) with O(passthrough=true). AMD: the AMD IOMMU (AMD-Vi) is on by
    default when the firmware enables it and C(amd_iommu) has no C(on) value, so only C(iommu=pt) is written
    (with O(passthrough=true)).'
  - This module owns the parameters C(intel_iommu), C(amd_iommu) and C(iommu), plus the keys of O(extra_args).
    Owned parameters that do not belong to the wanted set are removed, for example a stale C(amd_iommu=on) on
    an Intel host, a C(intel_iommu=on,sm_on) that is replaced by C(intel_iommu=on) (never matched as a
    substring), or an C(iommu=soft). Every other parameter is left exactly as it is.
  - Comparisons are token by token (hyphens and underscores in keys are equivalent, as for the kernel) and
    order-sensitive for the owned parameters.
  - 'Debian/Ubuntu: the effective C(GRUB_CMDLINE_LINUX) assignment is edited, in C(/etc/default/grub) or in the
    C(/etc/default/grub.d/*.cfg) file that overrides it; owned parameters are removed from
    C(GRUB_CMDLINE_LINUX_DEFAULT) (which would otherwise win); then C(update-grub) (or
    C(grub-mkconfig -o /boot/grub/grub.cfg)) regenerates the boot configuration. A variable that appends to
    itself (C("$GRUB_CMDLINE_LINUX console=ttyS0"), the C($tuned_params) line of tuned) is understood and kept;
    other shell expansion, command substitution, conditionals or unbalanced quotes are refused, never rewritten.'
  - 'RHEL/CentOS/Fedora/Rocky/AlmaLinux: C(grubby --update-kernel=ALL) edits every BLS boot entry, and
    C(GRUB_CMDLINE_LINUX) in C(/etc/default/grub) is kept in step so a later C(grub2-mkconfig) keeps them, and
    so is C(/etc/kernel/cmdline) where it exists (kernel-install builds the entries of new kernels from it).'
  - Other platforms (SUSE, systemd-boot only, no GRUB) are refused with a message naming what is supported.
  - Every file edited is backed up first and restored when regeneration fails; the task then fails with the
    command's error output. The boot configuration is regenerated only when a file changed, or (Debian) when
    the kernel lines of the generated C(/boot/grub/grub.cfg) lack the configured parameters because an earlier
    regeneration failed or was interrupted.
  - The parameters take effect after a reboot, which this module never does; see RV(reboot_required).
options:
  state:
    description:
      - V(present) makes the IOMMU parameters (and O(extra_args)) exactly the wanted ones.
      - V(absent) removes every C(intel_iommu), C(amd_iommu) and C(iommu) parameter and the parameters listed in
        O(extra_args) (all their values).
    type: str
    choices: [present, absent]
    default: present
  vendor:
    description:
      - Vendor of the IOMMU, which decides the IOMMU parameter.
      - V(auto) looks at the ACPI table the firmware publishes for the IOMMU first (C(DMAR) is Intel VT-d, V(intel);
        C(IVRS) is AMD-Vi, V(amd)), because a virtual machine can have an Intel vIOMMU on an AMD CPU. Without
        either table (for example the IOMMU is disabled in the firmware) it reads C(vendor_id) from
        C(/proc/cpuinfo) (C(GenuineIntel) is V(intel); C(AuthenticAMD) and C(HygonGenuine) are V(amd)) and fails
        when it is anything else. Nothing is read with O(state=absent).
    type: str
    choices: [auto, intel, amd]
    default: auto
  passthrough:
    description:
      - Whether to add C(iommu=pt). In passthrough mode devices that stay on kernel drivers use identity mapping
        and keep their performance, while devices bound to C(vfio-pci) are still translated and isolated.
      - With V(false) no C(iommu=) parameter is written (an existing one is removed).
    type: bool
    default: true
  extra_args:
    description:
      - More kernel parameters this module owns, as C(key) or C(key=value), written after the IOMMU parameters in
        the order given, for example V(vfio_iommu_type1.allow_unsafe_interrupts=1) or V(vfio-pci.ids=8086:154c).
      - Keys may use letters, digits, C(_), C(-) and C(.), and must start with a letter or digit; values must not
        contain whitespace or quotes and must not be empty.
      - Keys owned by other modules of this collection are rejected (C(isolcpus), C(nohz_full), C(rcu_nocbs),
        C(irqaffinity) belong to M(nfv.dpdk.cpu_isolation); C(default_hugepagesz), C(hugepagesz), C(hugepages) to
        M(nfv.dpdk.hugepages)), and so are C(intel_iommu), C(amd_iommu) and C(iommu) (use O(vendor) and
        O(passthrough)).
      - With O(state=absent) every parameter with one of these keys is removed, whatever its value.
      - Keys given here are owned only while listed; to remove one, run with O(state=absent) listing it.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Reports what would change and runs no command that writes (RHEL runs the read-only C(grubby --info)).
  diff_mode:
    support: full
    description: Returns a diff of every GRUB defaults file changed, and of the default entry's arguments on RHEL.
  platform:
    support: full
    platforms: posix
    description: Linux with GRUB, Debian family (C(update-grub)) or RHEL family (C(grubby)).
notes:
  - The host is never rebooted. Reboot when RV(reboot_required) is true, for example with M(ansible.builtin.reboot).
  - After the reboot, RV(iommu_active) tells whether the kernel brought an IOMMU up; when it is false, enable
    VT-d or AMD-Vi in the firmware.
seealso:
  - module: ansible.builtin.reboot
  - name: Linux kernel parameters
    description: The kernel's list of command line parameters.
    link: https://docs.kernel.org/admin-guide/kernel-parameters.html
  - name: VFIO
    description: The kernel's documentation of VFIO and IOMMU groups.
    link: https://docs.kernel.org/driver-api/vfio.html
"""

EXAMPLES = r"""
- name: Enable the IOMMU in passthrough mode (vendor read from /proc/cpuinfo)
  nfv.dpdk.iommu_grub:
  register: iommu

- name: Reboot when the running kernel does not have the parameters yet
  ansible.builtin.reboot:
  when: iommu.reboot_required

- name: Intel host, IOMMU translating every device, with an extra VFIO parameter
  nfv.dpdk.iommu_grub:
    vendor: intel
    passthrough: false
    extra_args:
      - vfio_iommu_type1.allow_unsafe_interrupts=1

- name: Remove the IOMMU parameters and the extra parameter again
  nfv.dpdk.iommu_grub:
    state: absent
    extra_args:
      - vfio_iommu_type1.allow_unsafe_interrupts
"""

RETURN = r"""
args:
  description: The kernel parameters this module wants on the command line, in order (empty with O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [intel_iommu=on, iommu=pt]
owned_keys:
  description: The parameter keys this run managed (the IOMMU keys plus the keys of O(extra_args)).
  returned: always
  type: list
  elements: str
  sample: [intel_iommu, amd_iommu, iommu]
vendor:
  description: The CPU vendor the parameters were chosen for; null with O(state=absent).
  returned: always
  type: str
  sample: intel
cmdline:
  description:
    - The configured kernel command line of the default boot entry after this run (predicted in check mode).
    - 'Debian: C(GRUB_CMDLINE_LINUX) followed by C(GRUB_CMDLINE_LINUX_DEFAULT). RHEL: the default entry''s
      arguments from C(grubby --info=DEFAULT), BLS variables such as C($tuned_params) left out.'
  returned: always
  type: str
  sample: console=ttyS0,115200n8 intel_iommu=on iommu=pt quiet
running_cmdline:
  description: The command line of the running kernel (C(/proc/cmdline)).
  returned: always
  type: str
  sample: BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=UUID=5b12f430 ro quiet
reboot_required:
  description:
    - Whether the owned parameters of the running kernel differ from RV(args) (token by token, in order), so
      that a reboot is needed for them to take effect.
  returned: always
  type: bool
  sample: true
iommu_active:
  description: Whether the running kernel has an IOMMU up (entries in C(/sys/class/iommu)).
  returned: always
  type: bool
  sample: false
platform:
  description: The boot configuration backend used, V(debian) (GRUB defaults and update-grub) or V(rhel) (grubby).
  returned: always
  type: str
  sample: debian
backup_file:
  description: Backup of the GRUB defaults file this run edited (the first one when several), or null.
  returned: always
  type: str
  sample: /etc/default/grub.12345.2026-11-23@10:00:00.123456~
backup_files:
  description: Backups of every GRUB defaults file this run edited.
  returned: always
  type: list
  elements: str
  sample: [/etc/default/grub.12345.2026-11-23@10:00:00.123456~]
diff:
  description:
    - The change of the GRUB defaults file, or a list of changes when more than one file (or, on RHEL, the
      boot entries) changed. Each has C(before_header), C(after_header), C(before), C(after).
  returned: when changed and in diff mode
  type: raw
  sample: {before_header: /etc/default/grub, after_header: /etc/default/grub, before: '...', after: '...'}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.nfv.dpdk.plugins.module_utils.iommu_kernel_args import ARGUMENT_SPEC, IommuGrub


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.exit_json(**IommuGrub(module).run())


if __name__ == '__main__':
    main()
