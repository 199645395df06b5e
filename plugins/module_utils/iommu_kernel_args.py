# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nfv.dpdk.iommu_grub module: its options and the IOMMU kernel arguments it plans and sets
through the boot loader backend (``bootloader.py``). ``plugins/modules/iommu_grub.py`` is the thin
module over it; ``nfv.dpdk.node_check`` plans it in check mode with other modules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

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
