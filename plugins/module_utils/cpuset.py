# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CPU sets in the kernel's cpu-list syntax (``0-3,8,10-11``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_RANGE = re.compile(r'^(\d+)(?:-(\d+)(?::(\d+)/(\d+))?)?$')

# A sanity bound: the kernel's NR_CPUS tops out at 8192 on common distributions.
MAX_CPU = 8191


class CpuSetError(ValueError):
    """A cpu-list that the kernel would reject."""


class CpuSet(frozenset):
    """An immutable set of CPU numbers that parses and formats cpu-lists."""

    def __new__(cls, cpus=()):
        cpus = list(cpus)
        for cpu in cpus:
            if isinstance(cpu, bool) or not isinstance(cpu, int) or cpu < 0 or cpu > MAX_CPU:
                raise CpuSetError('CPU number %r is not an integer between 0 and %d' % (cpu, MAX_CPU))
        return super(CpuSet, cls).__new__(cls, cpus)

    @classmethod
    def parse(cls, text):
        """Parse ``0-3,8,10-11`` (and the kernel's ``0-15:2/4`` stride form).

        An empty string or None is the empty set, as in an empty sysfs cpulist.
        """
        if text is None:
            return cls()
        if isinstance(text, int) and not isinstance(text, bool):
            return cls([text])
        if isinstance(text, (list, tuple, set, frozenset)):
            cpus = set()
            for item in text:
                cpus.update(cls.parse(item))
            return cls(cpus)
        text = str(text).strip()
        if not text:
            return cls()
        cpus = set()
        for part in text.split(','):
            part = part.strip()
            match = _RANGE.match(part)
            if not match:
                raise CpuSetError("'%s' is not a valid cpu-list: use forms like 0-3,8,10-11" % text)
            first = int(match.group(1))
            last = int(match.group(2)) if match.group(2) is not None else first
            if last < first:
                raise CpuSetError("'%s' is not a valid cpu-list: range %d-%d runs backwards" % (text, first, last))
            if last > MAX_CPU:
                raise CpuSetError("'%s' is not a valid cpu-list: CPU %d is above %d" % (text, last, MAX_CPU))
            if match.group(3) is not None:
                used, group = int(match.group(3)), int(match.group(4))
                if group == 0 or used == 0 or used > group:
                    raise CpuSetError("'%s' is not a valid cpu-list: bad stride %d/%d" % (text, used, group))
                for base in range(first, last + 1, group):
                    cpus.update(cpu for cpu in range(base, min(base + used, last + 1)))
            else:
                cpus.update(range(first, last + 1))
        return cls(cpus)

    @classmethod
    def from_mask(cls, text):
        """Parse a hexadecimal CPU mask as in ``/proc/irq/*/smp_affinity`` (``ff,00000000``)."""
        digits = str(text).strip().replace(',', '')
        if digits.lower().startswith('0x'):
            digits = digits[2:]
        try:
            value = int(digits, 16) if digits else 0
        except ValueError:
            raise CpuSetError("'%s' is not a hexadecimal CPU mask" % text)
        return cls(bit for bit in range(value.bit_length()) if value >> bit & 1)

    def to_mask(self):
        """Hexadecimal mask with 32-bit groups separated by commas, as the kernel prints it."""
        value = 0
        for cpu in self:
            value |= 1 << cpu
        digits = '%x' % value
        groups = []
        while digits:
            groups.insert(0, digits[-8:])
            digits = digits[:-8]
        if not groups:
            return '0'
        return ','.join([groups[0]] + [group.rjust(8, '0') for group in groups[1:]])

    def ranges(self):
        """Consecutive runs as (first, last) pairs, in order."""
        runs = []
        for cpu in sorted(self):
            if runs and cpu == runs[-1][1] + 1:
                runs[-1][1] = cpu
            else:
                runs.append([cpu, cpu])
        return [tuple(run) for run in runs]

    def format(self):
        """The canonical cpu-list: ``0-3,8,10-11``; empty string for the empty set."""
        return ','.join('%d' % first if first == last else '%d-%d' % (first, last)
                        for first, last in self.ranges())

    def sorted(self):
        return sorted(self)

    def __str__(self):
        return self.format()

    def __repr__(self):
        return 'CpuSet(%r)' % self.format()

    # Set operations keep the type, so results format as cpu-lists.
    def __or__(self, other):
        return CpuSet(frozenset.__or__(self, other))

    def __and__(self, other):
        return CpuSet(frozenset.__and__(self, other))

    def __sub__(self, other):
        return CpuSet(frozenset.__sub__(self, other))

    def __xor__(self, other):
        return CpuSet(frozenset.__xor__(self, other))

    union = __or__
    intersection = __and__
    difference = __sub__
