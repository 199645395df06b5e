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

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.nfv.dpdk.plugins.module_utils.bootloader import ensure_kernel_args
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.kernel_cmdline import KernelArg, KernelCmdlineError, normalize_key

ARGUMENT_SPEC = dict(
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    vendor=dict(type='str', choices=['auto', 'intel', 'amd'], default='auto'),
    passthrough=dict(type='bool', default=True),
    extra_args=dict(type='list', elements='str', default=[]),
)

IOMMU_KEYS = ['intel_iommu', 'amd_iommu', 'iommu']
# Keys other modules of this collection own (docs/DEVELOPING.md).
FOREIGN_KEYS = {
    'isolcpus': 'nfv.dpdk.cpu_isolation', 'nohz_full': 'nfv.dpdk.cpu_isolation',
    'rcu_nocbs': 'nfv.dpdk.cpu_isolation', 'irqaffinity': 'nfv.dpdk.cpu_isolation',
    'default_hugepagesz': 'nfv.dpdk.hugepages', 'hugepagesz': 'nfv.dpdk.hugepages', 'hugepages': 'nfv.dpdk.hugepages',
}
VENDORS = {'GenuineIntel': 'intel', 'AuthenticAMD': 'amd', 'HygonGenuine': 'amd'}
_EXTRA_ARG = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.\-]*(=[^\s"\'=][^\s"\']*)?$')
IOMMU_CLASS = '/sys/class/iommu'
ACPI_TABLES = (('DMAR', 'intel'), ('IVRS', 'amd'))


def acpi_iommu_vendor(fs):
    """``intel`` (DMAR table), ``amd`` (IVRS table) or None, from the firmware's ACPI tables."""
    for table, vendor in ACPI_TABLES:
        if fs.exists('/sys/firmware/acpi/tables/' + table):
            return vendor
    return None


def cpu_vendor(fs):
    """``vendor_id`` of the first processor in /proc/cpuinfo, or None."""
    for line in (fs.read('/proc/cpuinfo', '') or '').splitlines():
        key, sep, value = line.partition(':')
        if sep and key.strip() == 'vendor_id':
            return value.strip()
    return None


class IommuGrub:
    """Plan and apply the IOMMU kernel parameters; ``run()`` returns the module result."""

    def __init__(self, module, fs=None):
        self.module = module
        self.params = module.params
        self.fs = fs or HostFS()

    def fail(self, msg):
        self.module.fail_json(msg=msg)

    def extra_args(self):
        """The validated O(extra_args) as KernelArg objects."""
        parsed, seen = [], set()
        for index, text in enumerate(self.params['extra_args']):
            where = 'extra_args[%d] %r' % (index, text)
            if not isinstance(text, str) or not text.strip():
                self.fail('%s: an empty parameter is not allowed; give key or key=value' % where)
            if not _EXTRA_ARG.match(text):
                self.fail('%s is not a kernel parameter: use key or key=value, where the key has letters, digits, '
                          "'_', '-', '.' (starting with a letter or digit) and the value is not empty and has no "
                          'whitespace or quotes' % where)
            try:
                arg = KernelArg.parse(text)
            except KernelCmdlineError as exc:
                self.fail('%s: %s' % (where, exc))
            owner = FOREIGN_KEYS.get(arg.name)
            if owner:
                self.fail('%s: the key %s is owned by %s; set it there, not in extra_args' % (where, arg.key, owner))
            if arg.name in IOMMU_KEYS:
                self.fail('%s: the key %s is set by this module from vendor and passthrough; '
                          'it is not allowed in extra_args' % (where, arg.key))
            if arg in seen:
                self.fail('%s is listed twice' % where)
            seen.add(arg)
            parsed.append(arg)
        return parsed

    def vendor(self):
        vendor = self.params['vendor']
        acpi = acpi_iommu_vendor(self.fs)
        detected = cpu_vendor(self.fs)
        if vendor != 'auto':
            if acpi and acpi != vendor:
                self.module.warn('vendor=%s but the firmware describes an %s IOMMU (ACPI %s table)'
                                 % (vendor, acpi, dict((v, t) for t, v in ACPI_TABLES)[acpi]))
            elif not acpi and detected in VENDORS and VENDORS[detected] != vendor:
                self.module.warn('vendor=%s but /proc/cpuinfo says vendor_id %s' % (vendor, detected))
            return vendor
        if acpi:
            return acpi
        if detected not in VENDORS:
            self.fail("vendor=auto cannot tell the IOMMU from /proc/cpuinfo vendor_id %r (known: %s); "
                      'set vendor to intel or amd' % (detected, ', '.join(sorted(VENDORS))))
        return VENDORS[detected]

    def run(self):
        extra = self.extra_args()
        owned = list(IOMMU_KEYS)
        for arg in extra:
            if arg.name not in [normalize_key(key) for key in owned]:
                owned.append(arg.key)
        vendor, desired = None, []
        if self.params['state'] == 'present':
            vendor = self.vendor()
            if vendor == 'intel':
                desired.append(KernelArg('intel_iommu', 'on'))
            if self.params['passthrough']:
                desired.append(KernelArg('iommu', 'pt'))
            desired.extend(extra)
        outcome = ensure_kernel_args(self.module, owned_keys=owned, desired=desired, fs=self.fs)
        result = {
            'changed': outcome['changed'],
            'args': [str(arg) for arg in desired],
            'owned_keys': owned,
            'vendor': vendor,
            'cmdline': outcome['configured_cmdline'],
            'running_cmdline': outcome['running_cmdline'],
            'reboot_required': outcome['reboot_required'],
            'iommu_active': bool(self.fs.listdir(IOMMU_CLASS)),
            'platform': outcome['platform'],
            'backup_file': outcome['backup_file'],
            'backup_files': outcome['backup_files'],
        }
        if self.module._diff and outcome['changed'] and outcome.get('diff'):
            result['diff'] = outcome['diff']
        return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.exit_json(**IommuGrub(module).run())


if __name__ == '__main__':
    main()
