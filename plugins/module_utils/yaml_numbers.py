# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values that YAML 1.1 reads as numbers when they are not quoted, and the "quote it" error.

Ansible loads playbooks, inventories and vars files as YAML 1.1, which reads a colon-separated
run of decimal digits as a base-60 ("sexagesimal") number:

- a PCI address whose digits are all decimal: ``0000:41:00.0`` and ``41:00.0`` both become the
  float ``2460.0`` (``0000:3b:00.0`` stays text: ``b`` is not a digit);
- a MAC address whose first octet starts with 1-9 and whose other octets are decimal and at most
  59: ``52:54:00:12:34:56`` becomes the int ``41135085296`` (``02:00:...`` stays text);
- a PCI id written ``0x8086`` is read as hexadecimal (``32902``), ``0100`` as octal (``64``).

ansible-core then turns the number given to a ``type: str`` option into its text (``"2460.0"``),
so a module cannot tell from the type that YAML got it wrong. It can tell from the shape: a plain
number where a PCI address or MAC address needs ``:``. The helpers here recognise that shape and
build the message that names the field and says to quote the value. Every place that validates a
PCI address, a MAC address or a PCI id given by the user calls them (``pci.py``, ``sriov.py``,
``driver_binding.py``, ``testpmd.py``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# The text ansible-core makes of the int or float (str(41135085296), str(2460.0)).
_INT_TEXT = re.compile(r'^[0-9]+$')
_FLOAT_TEXT = re.compile(r'^[0-9]+\.[0-9]*$')

PCI_ADDRESS = 'PCI address'
MAC_ADDRESS = 'MAC address'
PCI_ID = 'PCI id'

KINDS = (PCI_ADDRESS, MAC_ADDRESS, PCI_ID)

# kind -> what YAML makes of it: an address's ".F" makes a float, a MAC or an id an int.
_SHAPES = {
    PCI_ADDRESS: (float, _FLOAT_TEXT),
    MAC_ADDRESS: (int, _INT_TEXT),
    PCI_ID: (int, _INT_TEXT),
}

# kind -> (what YAML read as a number, the value to show quoted)
_EXAMPLES = {
    PCI_ADDRESS: ('an unquoted PCI address such as 0000:41:00.0', '0000:41:00.0'),
    MAC_ADDRESS: ('an unquoted MAC address such as 52:54:00:12:34:56', '52:54:00:12:34:56'),
    PCI_ID: ('an unquoted PCI id written as 0x8086 (hexadecimal) or with a leading 0 such as 0100 (octal)', '8086'),
}


def is_yaml_number_of(value, kind):
    """True when ``value`` has the shape YAML 1.1 gives an unquoted ``kind`` it reads as a number.

    A PCI address becomes a float (``2460.0``), a MAC address or a PCI id an int:
    a bare ``3`` given for a PCI address is a plain mistake, not YAML's doing.
    A PCI id such as 8086 is digits too: ask only about an id its own check refused.
    """
    if kind not in _SHAPES:
        raise ValueError('kind must be one of %s, got %r' % (', '.join(KINDS), kind))
    number_type, text_shape = _SHAPES[kind]
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return isinstance(value, number_type)
    return isinstance(value, str) and bool(text_shape.match(value.strip()))


def unquoted_number_reason(value, kind):
    """``got 2460.0, which is what YAML makes of ... - quote it: "..."`` when ``value`` is such a number, else None.

    ``kind`` is one of PCI_ADDRESS, MAC_ADDRESS, PCI_ID: what the field takes. Callers
    put the field name in front (see unquoted_number_error).
    """
    if not is_yaml_number_of(value, kind):
        return None
    what, example = _EXAMPLES[kind]
    text = value.strip() if isinstance(value, str) else str(value)
    return 'got %s, which is what YAML makes of %s - quote it: "%s"' % (text, what, example)


def unquoted_number_error(field, value, kind):
    """``field: got 2460.0, which is what YAML makes of ... - quote it: "..."``, or None when ``value`` is no number."""
    reason = unquoted_number_reason(value, kind)
    return None if reason is None else '%s: %s' % (field, reason)
