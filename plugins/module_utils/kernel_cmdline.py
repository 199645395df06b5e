# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel command line as tokens, parsed the way the kernel parses it.

Tools that look for ``intel_iommu=on`` as a substring of ``/proc/cmdline`` find
it in ``intel_iommu=on,sm_on`` and loop reboots. Here every comparison is token
by token: a token is ``key`` or ``key=value``, values may be double-quoted, and
hyphens and underscores in keys are equivalent (the kernel's ``parameq``).
Everything after a lone ``--`` belongs to init and is kept untouched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_KEY = re.compile(r'^[A-Za-z0-9_.\-]+$')


class KernelCmdlineError(ValueError):
    """A token the kernel would not parse as one parameter."""


def normalize_key(key):
    return key.replace('-', '_')


class KernelArg:
    """One parameter: ``key`` alone or ``key=value`` (value without quotes)."""

    __slots__ = ('key', 'value')

    def __init__(self, key, value=None):
        if not key or not _KEY.match(key):
            raise KernelCmdlineError("'%s' is not a kernel parameter name (letters, digits, '_', '-', '.')" % key)
        if value is not None and '"' in value:
            raise KernelCmdlineError("the value of '%s' must not contain a double quote" % key)
        self.key = key
        self.value = value

    @classmethod
    def parse(cls, text):
        """Parse one token such as ``hugepagesz=1G`` or ``foo="a b"``."""
        tokens = split_cmdline(text)
        if len(tokens) != 1:
            raise KernelCmdlineError("'%s' is not exactly one kernel parameter" % text)
        return tokens[0]

    @property
    def name(self):
        """Key in the kernel's canonical spelling (hyphens as underscores)."""
        return normalize_key(self.key)

    def __eq__(self, other):
        if not isinstance(other, KernelArg):
            return NotImplemented
        return self.name == other.name and self.value == other.value

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self):
        return hash((self.name, self.value))

    def __str__(self):
        if self.value is None:
            return self.key
        if self.value == '' or any(char.isspace() for char in self.value):
            return '%s="%s"' % (self.key, self.value)
        return '%s=%s' % (self.key, self.value)

    def __repr__(self):
        return 'KernelArg(%r)' % str(self)


def split_words(text):
    """Words of a command line as written (quotes kept), split on whitespace outside double quotes.

    The kernel's next_arg() splits the same way; callers that must keep foreign
    words byte for byte (a GRUB file) work on these words.
    """
    words, current, quoted, started = [], [], False, False
    for char in text:
        if char == '"':
            quoted = not quoted
            current.append(char)
            started = True
        elif char.isspace() and not quoted:
            if started:
                words.append(''.join(current))
                current, started = [], False
        else:
            current.append(char)
            started = True
    if quoted:
        raise KernelCmdlineError('unbalanced double quote in kernel command line: %s' % text)
    if started:
        words.append(''.join(current))
    return words


def _parse_word(word):
    # The kernel accepts quotes around the value (key="a b") or the whole
    # parameter ("key=a b"); both mean the same parameter.
    if word.startswith('"') and word.endswith('"') and len(word) >= 2:
        word = word[1:-1]
    key, sep, value = word.partition('=')
    key = key.replace('"', '')
    if not sep:
        return KernelArg(key)
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        value = value[1:-1]
    return KernelArg(key, value)


def split_cmdline(text):
    """Kernel parameters of ``text`` as KernelArg objects (init arguments excluded)."""
    return KernelCmdline.parse(text).args


class KernelCmdline:
    """An ordered list of kernel parameters plus the init arguments after ``--``."""

    def __init__(self, args=(), init_args=''):
        self.args = list(args)
        self.init_args = init_args

    @classmethod
    def parse(cls, text):
        text = (text or '').strip()
        words = split_words(text)
        args, init_words = [], []
        for index, word in enumerate(words):
            if word == '--':
                init_words = words[index + 1:]
                break
            args.append(_parse_word(word))
        return cls(args, ' '.join(init_words))

    @staticmethod
    def _names(keys):
        return set(normalize_key(key) for key in keys)

    def values(self, key):
        """Values of every occurrence of ``key``, in order (None for a bare flag)."""
        name = normalize_key(key)
        return [arg.value for arg in self.args if arg.name == name]

    def last_value(self, key, default=None):
        """The value that takes effect for single-valued parameters: the last one."""
        values = self.values(key)
        return values[-1] if values else default

    def has_key(self, key):
        return bool(self.values(key))

    def contains(self, arg):
        """Whether the exact parameter ``arg`` (KernelArg or text) is present."""
        if not isinstance(arg, KernelArg):
            arg = KernelArg.parse(arg)
        return arg in self.args

    def select(self, keys):
        """Parameters whose key is one of ``keys``, in command line order."""
        names = self._names(keys)
        return [arg for arg in self.args if arg.name in names]

    def matches(self, keys, desired):
        """Whether the parameters with ``keys`` are exactly ``desired``, in order.

        Order matters because ``hugepagesz=``/``hugepages=`` pairs bind by position.
        """
        return self.select(keys) == [a if isinstance(a, KernelArg) else KernelArg.parse(a) for a in desired]

    def replace(self, keys, desired):
        """A new command line where the parameters with ``keys`` are ``desired``.

        Parameters with other keys keep their place and spelling. The desired
        parameters go where the first owned parameter stood, or at the end.
        """
        names = self._names(keys)
        desired = [a if isinstance(a, KernelArg) else KernelArg.parse(a) for a in desired]
        for arg in desired:
            if arg.name not in names:
                raise KernelCmdlineError("parameter '%s' is not among the keys this change owns (%s)"
                                         % (arg, ', '.join(sorted(names))))
        result, inserted = [], False
        for arg in self.args:
            if arg.name in names:
                if not inserted:
                    result.extend(desired)
                    inserted = True
                continue
            result.append(arg)
        if not inserted:
            result.extend(desired)
        return KernelCmdline(result, self.init_args)

    def __eq__(self, other):
        if not isinstance(other, KernelCmdline):
            return NotImplemented
        return self.args == other.args and self.init_args == other.init_args

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None

    def __str__(self):
        text = ' '.join(str(arg) for arg in self.args)
        if self.init_args:
            text = (text + ' -- ' + self.init_args).strip()
        return text

    def __repr__(self):
        return 'KernelCmdline(%r)' % str(self)
