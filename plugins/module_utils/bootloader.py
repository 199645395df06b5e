# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The configured kernel command line, per platform: the one backend for kernel arguments.

Modules that put parameters on the kernel command line (``iommu_grub``,
``cpu_isolation``, ``hugepages``) each own a set of parameter keys and call
``ensure_kernel_args(module, owned_keys, desired)``. Nothing else in the
collection edits GRUB.

Platforms:

* Debian/Ubuntu (``/etc/os-release`` ID or ID_LIKE ``debian``/``ubuntu``) with
  GRUB: the ``GRUB_CMDLINE_LINUX`` assignment that takes effect is edited, that is
  the last one in ``/etc/default/grub`` then ``/etc/default/grub.d/*.cfg`` (the
  order ``grub-mkconfig`` sources them), so an override in ``grub.d`` is edited
  where it lives rather than silently losing against it. Owned parameters found
  in the effective ``GRUB_CMDLINE_LINUX_DEFAULT`` are removed from it, because it
  comes after ``GRUB_CMDLINE_LINUX`` on the normal boot entry and would win.
  A variable may append to itself (``"$GRUB_CMDLINE_LINUX foo"`` in a ``grub.d``
  snippet, tuned's ``"${GRUB_CMDLINE_LINUX_DEFAULT:+$GRUB_CMDLINE_LINUX_DEFAULT }\\$tuned_params"``):
  the value is evaluated, the plain assignment it builds on is edited, and the
  appending lines are kept as they are (refused if they add owned parameters).
  Anything else this code cannot edit safely (other variables, command
  substitution, unbalanced quotes, conditional assignments, ``+=``, text after
  the value) is refused with the file and line named, never rewritten. The boot configuration is regenerated
  with ``update-grub``, or ``grub-mkconfig -o /boot/grub/grub.cfg`` where
  ``update-grub`` is absent, when a file changed, and also when the files are
  right but the kernel lines of a generated ``grub.cfg`` are not (an earlier
  regeneration failed or was interrupted), so a re-run repairs it.
* RHEL/CentOS/Fedora/Rocky/AlmaLinux (ID or ID_LIKE ``rhel``/``fedora``/``centos``):
  ``grubby --update-kernel=ALL --args=... --remove-args=...`` on the BLS entries
  (each option one argv element), read back with ``grubby --info=ALL`` and
  ``--info=DEFAULT``; ``GRUB_CMDLINE_LINUX`` in ``/etc/default/grub`` is kept in
  step so that a later ``grub2-mkconfig`` keeps the parameters, and so is
  ``/etc/kernel/cmdline`` where it exists (kernel-install builds new kernels' entries from it).
* Anything else (SUSE, systemd-boot only, no GRUB): a clear failure naming what
  is supported.

Every comparison is token by token through ``KernelCmdline`` (never substrings),
so ``intel_iommu=on,sm_on`` is not ``intel_iommu=on``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.kernel_cmdline import (
    KernelArg,
    KernelCmdline,
    KernelCmdlineError,
    split_words,
    normalize_key,
)
from ansible_collections.nfv.dpdk.plugins.module_utils.managed_file import ManagedFile

GRUB_DEFAULT = '/etc/default/grub'
GRUB_DEFAULT_D = '/etc/default/grub.d'
GRUB_CFG = '/boot/grub/grub.cfg'
OS_RELEASE = ('/etc/os-release', '/usr/lib/os-release')
PROC_CMDLINE = '/proc/cmdline'
KERNEL_CMDLINE = '/etc/kernel/cmdline'

CMDLINE_VAR = 'GRUB_CMDLINE_LINUX'
CMDLINE_DEFAULT_VAR = 'GRUB_CMDLINE_LINUX_DEFAULT'

PLATFORM_DEBIAN = 'debian'
PLATFORM_RHEL = 'rhel'

DEBIAN_IDS = ('debian', 'ubuntu')
RHEL_IDS = ('rhel', 'fedora', 'centos', 'rocky', 'almalinux')

SUPPORTED = ('supported: Debian/Ubuntu with GRUB (/etc/default/grub and update-grub or grub-mkconfig), '
             'and RHEL/CentOS/Fedora/Rocky/AlmaLinux with grubby (BLS entries)')

# An assignment at the start of a line, as grub-mkconfig's shell sees it.
_ASSIGNMENT = re.compile(r'^[ \t]*(?:export[ \t]+)?(GRUB_CMDLINE_LINUX(?:_DEFAULT)?)=', re.M)
# Any other assignment of the two variables (conditional, after ';', '+=').
_OTHER_ASSIGNMENT = re.compile(r'\b(GRUB_CMDLINE_LINUX(?:_DEFAULT)?)\+?=')
_WORD_END = ' \t\n;&|<>()'


class BootloaderError(Exception):
    """The boot configuration cannot be read or changed safely; the message says why."""


# -- small readers ------------------------------------------------------------------

def running_cmdline(fs=None):
    """The command line the running kernel booted with (``/proc/cmdline``), '' when unreadable."""
    fs = fs or HostFS()
    return fs.read(PROC_CMDLINE, '') or ''


def parse_os_release(text):
    """``/etc/os-release`` as a dict (shell-style KEY=value, quotes removed)."""
    values = {}
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('#') or '=' not in line:
            continue
        key, value = line.split('=', 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in '"\'':
            if value[0] == '"':
                value = re.sub(r'\\([\\"$`])', r'\1', value[1:-1])
            else:
                value = value[1:-1]
        values[key.strip()] = value
    return values


def os_release(fs=None):
    fs = fs or HostFS()
    for path in OS_RELEASE:
        text = fs.read_raw(path)
        if text is not None:
            return parse_os_release(text)
    return None


def detect_platform(fs=None, module=None):
    """``'debian'`` or ``'rhel'``; raises BootloaderError on anything unsupported.

    With a module the needed tools are checked too (``get_bin_path``); without
    one (read-only callers) only ``/etc/os-release`` decides.
    """
    fs = fs or HostFS()
    release = os_release(fs)
    if release is None:
        raise BootloaderError('cannot tell the Linux distribution: /etc/os-release is missing; ' + SUPPORTED)
    ids = [release.get('ID', '').lower()] + release.get('ID_LIKE', '').lower().split()
    name = release.get('PRETTY_NAME') or release.get('NAME') or release.get('ID') or 'unknown'
    described = "%s (ID=%s, ID_LIKE=%s)" % (name, release.get('ID', ''), release.get('ID_LIKE', ''))
    if any(i in DEBIAN_IDS for i in ids):
        if not fs.exists(GRUB_DEFAULT):
            raise BootloaderError('%s has no %s: GRUB is not installed (systemd-boot or another boot loader?); %s'
                                  % (described, GRUB_DEFAULT, SUPPORTED))
        if module is not None and not (module.get_bin_path('update-grub') or module.get_bin_path('grub-mkconfig')):
            raise BootloaderError('%s has %s but neither update-grub nor grub-mkconfig; install grub2-common; %s'
                                  % (described, GRUB_DEFAULT, SUPPORTED))
        return PLATFORM_DEBIAN
    if any(i in RHEL_IDS for i in ids):
        if module is not None and not module.get_bin_path('grubby'):
            raise BootloaderError('%s needs grubby to edit its boot entries: install the grubby package; %s'
                                  % (described, SUPPORTED))
        return PLATFORM_RHEL
    raise BootloaderError('unsupported platform %s; %s' % (described, SUPPORTED))


# -- /etc/default/grub as shell assignments ------------------------------------------

class Assignment:
    """``VAR=value`` in a GRUB defaults file: where the value is, how it is built and what it means.

    ``nodes`` is the parsed value: ``('lit', text)``, ``('var', name)`` or
    ``('alt', name, op, nodes)`` for ``${name:+word}``-style expansions. Only
    references to the variable being assigned are accepted (``"$V extra"``,
    tuned's ``"${V:+$V }\\$tuned_params"``); ``value`` is the evaluated value.
    """

    def __init__(self, path, var, start, end, nodes, style, line, line_start):
        self.path = path
        self.var = var
        self.start = start
        self.end = end
        self.nodes = nodes
        self.style = style
        self.line = line
        self.line_start = line_start
        self.value = None

    @property
    def expanding(self):
        return any(node[0] != 'lit' for node in self.nodes)

    def literal_text(self):
        """Every literal part of the value (what this assignment itself adds)."""
        return ' '.join(_literals(self.nodes))


def _literals(nodes):
    texts = []
    for node in nodes:
        if node[0] == 'lit':
            texts.append(node[1])
        elif node[0] == 'alt':
            texts.extend(_literals(node[3]))
    return texts


def _evaluate(nodes, env):
    out = []
    for node in nodes:
        if node[0] == 'lit':
            out.append(node[1])
        elif node[0] == 'var':
            out.append(env.get(node[1], ''))
        else:
            name, op, word = node[1], node[2], node[3]
            value = env.get(name)
            is_set = value is not None and (value != '' or ':' not in op)
            if op.endswith('+'):
                out.append(_evaluate(word, env) if is_set else '')
            else:
                out.append(value if is_set else _evaluate(word, env))
    return ''.join(out)


def _line_of(text, offset):
    return text.count('\n', 0, offset) + 1


_NAME = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')


class _ShellValue:
    """Parse the value of one shell assignment at ``pos`` the way ``sh`` reads it (no word splitting)."""

    def __init__(self, path, text, pos, var):
        self.path, self.text, self.var = path, text, var
        self.where = '%s line %d' % (path, _line_of(text, pos))

    def refuse(self, what):
        raise BootloaderError('%s: %s; %s cannot be edited safely, write the parameters literally'
                              % (self.where, what, self.var))

    def word(self, pos):
        """(nodes, end offset, first quote style)."""
        text, size, nodes, style, i = self.text, len(self.text), [], None, pos
        while i < size:
            char = text[i]
            if char == "'":
                close = text.find("'", i + 1)
                if close < 0:
                    raise BootloaderError('%s: unbalanced single quote; fix the file by hand' % self.where)
                nodes.append(('lit', text[i + 1:close]))
                style = style or "'"
                i = close + 1
            elif char == '"':
                inner, i = self.quoted(i + 1, '"')
                nodes.extend(inner)
                style = style or '"'
            elif char == '\\':
                if i + 1 >= size:
                    raise BootloaderError('%s: the value ends with a lone backslash' % self.where)
                if text[i + 1] != '\n':
                    nodes.append(('lit', text[i + 1]))
                i += 2
            elif char in _WORD_END:
                break
            elif char == '$':
                node, i = self.dollar(i)
                nodes.append(node)
            elif char == '`':
                self.refuse('command substitution (`...`)')
            else:
                nodes.append(('lit', char))
                i += 1
        return _merge(nodes), i, style

    def quoted(self, i, terminator):
        """Inside double quotes (or a ``${name:+...}`` word): nodes up to ``terminator``."""
        text, size, nodes = self.text, len(self.text), []
        escapable = '$`"\\\n' + ('}' if terminator == '}' else '')
        while i < size:
            char = text[i]
            if char == '\\' and i + 1 < size and text[i + 1] in escapable:
                if text[i + 1] != '\n':
                    nodes.append(('lit', text[i + 1]))
                i += 2
            elif char == terminator:
                return nodes, i + 1
            elif char == '$':
                node, i = self.dollar(i)
                nodes.append(node)
            elif char == '`':
                self.refuse('command substitution (`...`)')
            elif char == '"':
                self.refuse('quotes inside ${...}')
            else:
                nodes.append(('lit', char))
                i += 1
        if terminator == '"':
            raise BootloaderError('%s: unbalanced double quote; fix the file by hand' % self.where)
        raise BootloaderError('%s: unbalanced ${; fix the file by hand' % self.where)

    def dollar(self, i):
        text = self.text
        if text.startswith('${', i):
            match = _NAME.match(text, i + 2)
            if not match:
                self.refuse('the expansion %r' % text[i:i + 12])
            name, j = match.group(0), match.end()
            self.check_name(name)
            if text.startswith('}', j):
                return ('var', name), j + 1
            for op in (':+', ':-', '+', '-'):
                if text.startswith(op, j):
                    word, j = self.quoted(j + len(op), '}')
                    return ('alt', name, op, _merge(word)), j
            self.refuse('the expansion %r' % text[i:j + 2])
        match = _NAME.match(text, i + 1)
        if not match:
            self.refuse('shell expansion %r' % text[i:i + 3])
        self.check_name(match.group(0))
        return ('var', match.group(0)), match.end()

    def check_name(self, name):
        if name != self.var:
            self.refuse('shell expansion of $%s (only $%s itself is understood)' % (name, self.var))


def _merge(nodes):
    merged = []
    for node in nodes:
        if node[0] == 'lit' and merged and merged[-1][0] == 'lit':
            merged[-1] = ('lit', merged[-1][1] + node[1])
        else:
            merged.append(node)
    return merged


def parse_assignments(path, text):
    """The GRUB_CMDLINE_LINUX(_DEFAULT) assignments of one file, in order (values not yet evaluated).

    Raises BootloaderError for anything that is not a plain top-level assignment.
    """
    found = []
    consumed = 0
    for match in _ASSIGNMENT.finditer(text):
        if match.start() < consumed:
            continue
        # Text between assignments must not assign these variables in other ways.
        _check_other(path, text, consumed, match.start())
        var, start = match.group(1), match.end()
        nodes, end, style = _ShellValue(path, text, start, var).word(start)
        line_end = text.find('\n', end)
        line_end = len(text) if line_end < 0 else line_end
        rest = text[end:line_end].strip()
        if rest and not rest.startswith('#'):
            raise BootloaderError("%s line %d: unexpected text after the value of %s (%r); "
                                  "put one plain assignment per line"
                                  % (path, _line_of(text, match.start()), var, rest))
        found.append(Assignment(path, var, start, end, nodes, style, _line_of(text, match.start()), match.start()))
        consumed = line_end
    _check_other(path, text, consumed, len(text))
    return found


def _check_other(path, text, start, end):
    offset = start
    for line in text[start:end].split('\n'):
        code = line.split('#', 1)[0] if not line.lstrip().startswith('#') else ''
        match = _OTHER_ASSIGNMENT.search(code)
        if match:
            raise BootloaderError('%s line %d: %s is assigned in a way that cannot be edited safely '
                                  '(conditional, after another command, or +=); use one plain top-level assignment'
                                  % (path, _line_of(text, offset), match.group(1)))
        offset += len(line) + 1


def cmdline_words(text):
    """Kernel words of a configured line; ``$tuned_params``-style boot loader variables are not parameters."""
    return [word for word in split_words(text.strip()) if not word.startswith('$')]


class GrubDefaults:
    """``/etc/default/grub`` plus ``/etc/default/grub.d/*.cfg`` in the order grub-mkconfig sources them."""

    def __init__(self, texts, assignments):
        self.texts = texts
        self.assignments = assignments
        env = {}
        for assignment in assignments:
            assignment.value = _evaluate(assignment.nodes, env)
            env[assignment.var] = assignment.value

    @staticmethod
    def paths(names):
        return [GRUB_DEFAULT] + ['%s/%s' % (GRUB_DEFAULT_D, name) for name in sorted(names) if name.endswith('.cfg')]

    @classmethod
    def read(cls, fs=None, required=True):
        fs = fs or HostFS()
        texts = {}
        for path in cls.paths(fs.listdir(GRUB_DEFAULT_D)):
            text = fs.read_raw(path)
            if text is None:
                if path == GRUB_DEFAULT and required:
                    raise BootloaderError('%s is missing or unreadable' % GRUB_DEFAULT)
                continue
            texts[path] = text
        return cls.from_texts(texts)

    @classmethod
    def from_texts(cls, texts):
        assignments = []
        names = [path.rsplit('/', 1)[1] for path in texts if path.startswith(GRUB_DEFAULT_D + '/')]
        for path in cls.paths(names):
            if path in texts:
                assignments.extend(parse_assignments(path, texts[path]))
        return cls(texts, assignments)

    def chain(self, var):
        """(base, tail): the plain assignment the effective value builds on (or None) and the
        self-referencing assignments after it, last first."""
        tail = []
        for assignment in reversed([a for a in self.assignments if a.var == var]):
            if not assignment.expanding:
                return assignment, tail
            tail.append(assignment)
        return None, tail

    def effective(self, var):
        """The assignment of ``var`` that takes effect (the last one sourced), or None."""
        last = None
        for assignment in self.assignments:
            if assignment.var == var:
                last = assignment
        return last

    def value(self, var):
        assignment = self.effective(var)
        return assignment.value if assignment else ''

    def cmdline(self):
        """What the default (non-recovery) entry gets: GRUB_CMDLINE_LINUX then GRUB_CMDLINE_LINUX_DEFAULT."""
        return ' '.join(cmdline_words(self.value(CMDLINE_VAR)) + cmdline_words(self.value(CMDLINE_DEFAULT_VAR)))


def _is_parameter(word):
    try:
        KernelArg.parse(word)
    except KernelCmdlineError:
        return False
    return True


def _parse(text, where):
    """The parameters of a configured or running line; words that are no parameter at all (whatever
    the kernel makes of them) are foreign to every owner and skipped, unbalanced quotes are an error."""
    try:
        return KernelCmdline.parse(' '.join(word for word in cmdline_words(text) if _is_parameter(word)))
    except KernelCmdlineError as exc:
        raise BootloaderError('%s: %s' % (where, exc))


def replace_words(text, owned_keys, desired):
    """``text`` with the owned parameters replaced by ``desired``, every other word kept byte for byte.

    Same placement as ``KernelCmdline.replace``: the desired parameters go where
    the first owned one stood, or at the end (before a ``--``).
    """
    names = set(normalize_key(key) for key in owned_keys)
    desired = [str(arg) for arg in desired]
    out, inserted, init = [], False, False
    for word in split_words(text.strip()):
        if init or word.startswith('$') or not _is_parameter(word):
            out.append(word)
            continue
        if word == '--':
            init = True
            if not inserted:
                out.extend(desired)
                inserted = True
            out.append(word)
            continue
        if KernelArg.parse(word).name in names:
            if not inserted:
                out.extend(desired)
                inserted = True
            continue
        out.append(word)
    if not inserted:
        out.extend(desired)
    return ' '.join(out)


def _shell_quote(value, style):
    if style == "'" and "'" not in value:
        return "'%s'" % value
    return '"%s"' % re.sub(r'([\\"$`])', r'\\\1', value)


def _plan_var(defaults, var, owned_keys, desired, edits):
    """Add to ``edits`` ({path: [(start, end, text)]}) what makes ``var`` carry ``desired`` for the owned keys."""
    effective = defaults.effective(var)
    where = '%s in %s' % (var, effective.path if effective else GRUB_DEFAULT)
    current = _parse(effective.value if effective else '', where)
    if (current.matches(owned_keys, desired) if desired is not None else not current.select(owned_keys)):
        return
    desired = desired or []
    base, tail = defaults.chain(var)
    for assignment in tail:
        if _parse(assignment.literal_text(), where).select(owned_keys):
            raise BootloaderError('%s line %d: %s adds parameters this change owns (%s) in an assignment that '
                                  'uses shell expansion; move them to a plain assignment by hand'
                                  % (assignment.path, assignment.line, var, ', '.join(owned_keys)))
    if base is not None:
        value = replace_words(base.value, owned_keys, desired)
        edits.setdefault(base.path, []).append((base.start, base.end, _shell_quote(value, base.style)))
    elif desired:
        line = '%s=%s\n' % (var, _shell_quote(' '.join(str(arg) for arg in desired), '"'))
        if tail:
            # Before the first self-referencing assignment, so that it appends to ours.
            first = tail[-1]
            edits.setdefault(first.path, []).append((first.line_start, first.line_start, line))
        else:
            text = defaults.texts[GRUB_DEFAULT]
            prefix = '\n' if text and not text.endswith('\n') else ''
            edits.setdefault(GRUB_DEFAULT, []).append((len(text), len(text), prefix + line))


def plan_grub_defaults(defaults, owned_keys, desired):
    """New texts of the GRUB defaults files: {path: new text} for the files that change."""
    edits = {}
    _plan_var(defaults, CMDLINE_VAR, owned_keys, list(desired), edits)
    # GRUB_CMDLINE_LINUX_DEFAULT comes after GRUB_CMDLINE_LINUX on the normal entry: owned parameters go.
    if defaults.effective(CMDLINE_DEFAULT_VAR) is not None:
        _plan_var(defaults, CMDLINE_DEFAULT_VAR, owned_keys, None, edits)
    texts = {}
    for path, changes in edits.items():
        text = defaults.texts[path]
        for start, end, replacement in sorted(changes, key=lambda change: -change[0]):
            text = text[:start] + replacement + text[end:]
        texts[path] = text
    return texts


def _cmdline_after(defaults, texts):
    """The GRUB defaults once ``texts`` are written (parsed again, to check the edit)."""
    merged = dict(defaults.texts)
    merged.update(texts)
    return GrubDefaults.from_texts(merged)


# -- grubby (RHEL family) -----------------------------------------------------------

def parse_grubby_info(text):
    """``grubby --info=...`` output as a list of dicts (index, kernel, args, title, ...)."""
    entries, current = [], None
    for line in (text or '').splitlines():
        key, sep, value = line.partition('=')
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if key == 'index' or current is None:
            current = {}
            entries.append(current)
        current[key] = value
    return [entry for entry in entries if 'args' in entry]


def _grubby_cmdline(args):
    return _parse(args, 'grubby boot entry arguments %r' % args)


class Grubby:
    def __init__(self, module):
        self.module = module
        self.path = module.get_bin_path('grubby', required=True)

    def info(self, which):
        rc, out, err = self.module.run_command([self.path, '--info=%s' % which])
        if rc != 0:
            raise BootloaderError('grubby --info=%s failed (rc=%d): %s' % (which, rc, (err or out).strip()))
        return parse_grubby_info(out)

    def default_args(self):
        """Arguments of the default entry, BLS variables such as ``$tuned_params`` left out."""
        entries = self.info('DEFAULT')
        if not entries:
            raise BootloaderError('grubby --info=DEFAULT shows no default boot entry')
        return ' '.join(cmdline_words(entries[0]['args']))


def _removals(entries, owned_keys):
    """Owned parameters as spelled in the entries, each as often as the entry holding most of them."""
    names = set(normalize_key(key) for key in owned_keys)
    counts = {}
    order = []
    for entry in entries:
        seen = {}
        for word in cmdline_words(entry['args']):
            try:
                arg = KernelArg.parse(word)
            except KernelCmdlineError:
                continue
            if arg.name in names:
                seen[word] = seen.get(word, 0) + 1
                if word not in order:
                    order.append(word)
        for word, count in seen.items():
            counts[word] = max(counts.get(word, 0), count)
    removals = []
    for word in order:
        removals.extend([word] * counts[word])
    return removals


# -- putting a change back ----------------------------------------------------------

def _entries_by_kernel(grubby, failed, what):
    """grubby's boot entries by kernel path, or None with ``what: <error>`` added to ``failed``."""
    try:
        return dict((entry['kernel'], entry) for entry in grubby.info('ALL'))
    except BootloaderError as exc:
        failed.append('%s: %s' % (what, exc))
        return None


class KernelArgsRollbackError(BootloaderError):
    """Putting a change back failed in part; the message says what was put back and what was not."""


class KernelArgsRollback:
    """What one ``ensure_kernel_args(..., rollback=rollback)`` call changed, to undo it exactly.

    A module whose later step fails calls ``restore()``. It puts every edited file
    back byte for byte (with its mode) and checks it, then regenerates ``grub.cfg``
    from them (Debian) and checks its kernel lines, or (RHEL) sets each BLS entry's
    options back to exactly the words, in the order, ``grubby --info=ALL`` showed
    before, and reads them back. Running ``ensure_kernel_args`` again with the old
    parameters would not do that: it keeps the tokens but regroups them (and
    grubby appends them at the end of each entry).

    ``restore()`` returns a sentence naming what was put back, each part checked;
    it raises ``KernelArgsRollbackError`` naming what was put back and what was
    NOT, and what the configured command line may still hold, when any part fails.
    """

    def __init__(self):
        self.module = None
        self.fs = None
        self.platform = None
        self.owned_keys = []
        self.desired = []
        self.previous = []
        self.previous_recovery = []
        self.written = []
        self.regenerate = None
        self.entries = None

    @property
    def pending(self):
        """Whether there is anything to put back."""
        return bool(self.written or self.entries)

    def record(self, module, fs, platform, owned_keys, desired, previous, written, regenerate=None, entries=None,
               previous_recovery=None):
        self.module, self.fs, self.platform = module, fs, platform
        self.owned_keys = list(owned_keys)
        self.desired = [str(arg) for arg in desired]
        self.previous = [str(arg) for arg in previous]
        self.previous_recovery = [str(arg) for arg in (previous if previous_recovery is None else previous_recovery)]
        self.written = list(written)
        self.regenerate = regenerate
        self.entries = entries

    def _restore_files(self, done, failed):
        for managed in reversed(self.written):
            try:
                exact = managed.restore()
            except (IOError, OSError) as exc:
                failed.append('%s NOT restored: %s' % (managed.path, exc))
                continue
            if exact:
                done.append('%s %s' % (managed.path, 'restored byte for byte' if managed.existed_before else 'removed again'))
            else:
                failed.append('%s NOT restored: it does not read back as before' % managed.path)

    def _still_holds(self):
        return ' '.join(self.desired) or 'none of its previous %s parameters' % '/'.join(self.owned_keys)

    def restore(self):
        if not self.pending:
            return 'nothing was changed on the boot configuration'
        done, failed, hint = [], [], None
        if self.platform == PLATFORM_DEBIAN:
            self._restore_files(done, failed)
            if failed:
                failed.append('%s NOT regenerated (its inputs are not back as they were)' % GRUB_CFG)
                hint = 'restore them from the backups (%s) and run %s' % (self._backups(), self._regenerate_hint())
            else:
                self._regenerate_debian(done, failed)
                if failed:
                    hint = 'fix that and run %s' % self._regenerate_hint()
        else:
            self._restore_entries(done, failed)
            # After grubby: newer grubby keeps /etc/kernel/cmdline and /etc/default/grub in step itself.
            self._restore_files(done, failed)
            if failed:
                hint = ('set the entries back with grubby --update-kernel=<kernel> --args/--remove-args, and the files '
                        'from their backups (%s)' % self._backups())
        if failed:
            raise KernelArgsRollbackError('put back: %s; NOT put back: %s; the configured kernel command line may still '
                                          'hold %s; %s' % ('; '.join(done) or 'nothing', '; '.join(failed),
                                                           self._still_holds(), hint))
        # Put back: a second restore() has nothing left to do.
        self.written, self.entries = [], None
        return '; '.join(done)

    def _backups(self):
        return ', '.join('%s -> %s' % (self.fs.unroot(m.backup_file), m.path) for m in self.written if m.backup_file) or 'none'

    def _regenerate_hint(self):
        return ' '.join([os.path.basename(self.regenerate[0])] + self.regenerate[1:])

    def _regenerate_debian(self, done, failed):
        argv = self.regenerate
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            holds = ''
            if grub_cfg_is_generated(self.fs) and not stale_grub_cfg_lines(self.fs, self.owned_keys, self.desired):
                holds = ' (its kernel lines hold %s: checked)' % self._still_holds()
            failed.append('%s NOT regenerated: %s failed (rc=%d): %s%s'
                          % (GRUB_CFG, ' '.join(argv), rc, (err or out).strip(), holds))
            return
        # Recovery entries get GRUB_CMDLINE_LINUX only, normal ones GRUB_CMDLINE_LINUX_DEFAULT too:
        # a kernel line is as before when it holds either form of the previous parameters.
        stale = set(pair[0] for pair in stale_grub_cfg_lines(self.fs, self.owned_keys, self.previous))
        stale &= set(pair[0] for pair in stale_grub_cfg_lines(self.fs, self.owned_keys, self.previous_recovery))
        if not grub_cfg_is_generated(self.fs):
            done.append('%s regenerated (%s rc=0; no 10_linux section to check)' % (GRUB_CFG, ' '.join(argv)))
        elif stale:
            failed.append('%s regenerated, but its kernel lines do not hold the previous parameters (%s)'
                          % (GRUB_CFG, ' '.join(self.previous) or 'none'))
        else:
            done.append('%s regenerated (its kernel lines hold the previous parameters: checked)' % GRUB_CFG)

    def _restore_entries(self, done, failed):
        if not self.entries:
            return
        grubby = Grubby(self.module)
        now = _entries_by_kernel(grubby, failed, 'boot entries NOT put back')
        if now is None:
            return
        for before in self.entries:
            current = now.get(before['kernel'])
            if current is None:
                failed.append('boot entry %s NOT put back: grubby no longer lists it' % before['kernel'])
                continue
            argv = exact_args_argv(grubby.path, before['kernel'], split_words(before['args']), split_words(current['args']))
            if argv is None:
                continue
            rc, out, err = self.module.run_command(argv)
            if rc != 0:
                failed.append('boot entry %s NOT put back: %s failed (rc=%d): %s'
                              % (before['kernel'], ' '.join(argv), rc, (err or out).strip()))
                before['failed'] = True
        after = _entries_by_kernel(grubby, failed, 'boot entries NOT checked after putting them back')
        if after is None:
            return
        for before in self.entries:
            if before.get('failed') or before['kernel'] not in now:
                continue
            current = after.get(before['kernel'])
            if current is not None and split_words(current['args']) == split_words(before['args']):
                done.append('options of boot entry %s restored exactly (checked with grubby --info=ALL)' % before['kernel'])
            else:
                failed.append('boot entry %s NOT put back: its options read %r, not %r'
                              % (before['kernel'], current['args'] if current else None, before['args']))


def exact_args_argv(grubby_path, kernel, before, now):
    """grubby arguments that turn the option words ``now`` of one entry into exactly ``before``.

    grubby removes first, then replaces a word with the same key in place or appends:
    everything after the longest common prefix is removed and the old words are added
    back in their order. The prefix is shortened while it holds a key of a word to add,
    so no added word lands in the prefix. None when the words are already ``before``.
    """
    if now == before:
        return None

    def key(word):
        return word.split('=', 1)[0]
    prefix = 0
    while prefix < min(len(before), len(now)) and before[prefix] == now[prefix]:
        prefix += 1
    while prefix > 0 and set(key(word) for word in now[:prefix]) & set(key(word) for word in before[prefix:]):
        prefix -= 1
    argv = [grubby_path, '--update-kernel=%s' % kernel]
    if now[prefix:]:
        argv.append('--remove-args=%s' % ' '.join(now[prefix:]))
    if before[prefix:]:
        argv.append('--args=%s' % ' '.join(before[prefix:]))
    return argv


# -- the API ------------------------------------------------------------------------

def _validate(owned_keys, desired):
    if not owned_keys:
        raise BootloaderError('owned_keys must name at least one kernel parameter')
    for key in owned_keys:
        KernelArg(key)
    parsed = []
    for arg in desired:
        parsed.append(arg if isinstance(arg, KernelArg) else KernelArg.parse(arg))
    KernelCmdline().replace(owned_keys, parsed)
    return parsed


def _apply_files(module, fs, texts):
    """Write the planned files with backups; returns the ManagedFiles written (for restore)."""
    written = []
    try:
        for path in sorted(texts):
            mode = os.stat(fs.path(path)).st_mode & 0o7777 if fs.exists(path) else 0o644
            # Edit the file a symlink points to, never replace the link with a file.
            target = fs.realpath(path) if fs.islink(path) else path
            managed = ManagedFile(module, target, texts[path], mode=mode, fs=fs)
            managed.apply()
            written.append(managed)
    except Exception:
        _restore(written)
        raise
    return written


def _restore(written):
    """Put the files back; returns the note for a failure message, naming only what reads back as before."""
    exact, not_exact = [], []
    for managed in reversed(written):
        try:
            (exact if managed.restore() else not_exact).append(managed.path)
        except (IOError, OSError) as exc:
            not_exact.append('%s (%s)' % (managed.path, exc))
    notes = []
    if exact:
        notes.append('restored ' + ', '.join(sorted(exact)))
    if not_exact:
        notes.append('NOT restored ' + ', '.join(sorted(not_exact)))
    return '; ' + '; '.join(notes) if notes else ''


def _diffs(fs, texts):
    diffs = [{'before_header': path, 'after_header': path, 'before': fs.read_raw(path) or '', 'after': texts[path]}
             for path in sorted(texts)]
    return diffs[0] if len(diffs) == 1 else diffs


def _regenerate_debian(module):
    update_grub = module.get_bin_path('update-grub')
    if update_grub:
        return [update_grub]
    return [module.get_bin_path('grub-mkconfig', required=True), '-o', GRUB_CFG]


def ensure_kernel_args(module, owned_keys, desired, fs=None, rollback=None):
    """Make the configured parameters with ``owned_keys`` exactly ``desired`` (in order).

    Returns ``{'changed', 'reboot_required', 'configured_cmdline', 'running_cmdline',
    'backup_file', 'backup_files', 'platform'}`` plus ``diff`` when ``module._diff``.
    Fails the module (``fail_json``) on bad input, unsupported platforms, files
    it cannot edit safely, and failed regeneration (after restoring the files).
    ``rollback`` (a ``KernelArgsRollback``) records what was changed, so that a
    later failure of the calling module can put it back exactly.
    """
    fs = fs or HostFS()
    try:
        desired = _validate(list(owned_keys), list(desired))
        platform = detect_platform(fs, module)
        running = running_cmdline(fs)
        reboot_required = not _parse(running, PROC_CMDLINE).matches(owned_keys, desired)
        if platform == PLATFORM_DEBIAN:
            return _ensure_debian(module, fs, owned_keys, desired, running, reboot_required, rollback)
        return _ensure_rhel(module, fs, owned_keys, desired, running, reboot_required, rollback)
    except (BootloaderError, KernelCmdlineError) as exc:
        module.fail_json(msg=str(exc))
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot change the boot configuration (files restored): %s' % exc)


def _result(platform, changed, reboot_required, configured, running, backups, module, diff):
    result = {
        'changed': changed,
        'reboot_required': reboot_required,
        'configured_cmdline': configured,
        'running_cmdline': running,
        'backup_file': backups[0] if backups else None,
        'backup_files': backups,
        'platform': platform,
    }
    if module._diff:
        result['diff'] = diff if diff else {'before': '', 'after': ''}
    return result


def _backups(written):
    return [managed.fs.unroot(managed.backup_file) for managed in written if managed.backup_file]


def grub_cfg_is_generated(fs):
    """Whether ``grub.cfg`` has the 10_linux section whose kernel lines can be checked."""
    return _LINUX_SECTION.search(fs.read_raw(GRUB_CFG) or '') is not None


_LINUX_SECTION = re.compile(r'^### BEGIN /etc/grub\.d/10_linux ###$(.*?)^### END /etc/grub\.d/10_linux ###$', re.M | re.S)
_LINUX_LINE = re.compile(r'^([ \t]*linux(?:16|efi)?[ \t]+\S+)[ \t]*(.*?)[ \t]*$', re.M)


def stale_grub_cfg_lines(fs, owned_keys, desired):
    """Kernel lines of the generated ``/boot/grub/grub.cfg`` (its 10_linux section) whose owned
    parameters are not ``desired``: a regeneration that never ran or was interrupted.

    Returns ``[(line, line as it should be)]``; empty when grub.cfg is current, unreadable or not
    generated by grub-mkconfig (then nothing can be told and nothing is claimed).
    """
    section = _LINUX_SECTION.search(fs.read_raw(GRUB_CFG) or '')
    stale = []
    for match in _LINUX_LINE.finditer(section.group(1) if section else ''):
        try:
            current = _parse(match.group(2), GRUB_CFG)
        except BootloaderError:
            continue
        if not current.matches(owned_keys, desired):
            stale.append((match.group(0).strip(), '%s %s' % (match.group(1).strip(), replace_words(match.group(2), owned_keys, desired))))
    return stale


def _ensure_debian(module, fs, owned_keys, desired, running, reboot_required, rollback=None):
    defaults = GrubDefaults.read(fs)
    texts = plan_grub_defaults(defaults, owned_keys, desired)
    if texts:
        after = _cmdline_after(defaults, texts)
        if not _parse(after.cmdline(), 'the edited GRUB defaults').matches(owned_keys, desired):
            raise BootloaderError('internal error: the edited GRUB defaults do not read back as the desired parameters')
        configured = after.cmdline()
        diff = _diffs(fs, texts)
    else:
        # The defaults are right; regenerate anyway when grub.cfg does not have them (an earlier
        # update-grub failed outside this module, was interrupted, or never ran).
        stale = stale_grub_cfg_lines(fs, owned_keys, desired)
        configured = defaults.cmdline()
        if not stale:
            return _result(PLATFORM_DEBIAN, False, reboot_required, configured, running, [], module, None)
        diff = {'before_header': GRUB_CFG + ' (kernel lines)', 'after_header': GRUB_CFG + ' (kernel lines)',
                'before': ''.join(pair[0] + '\n' for pair in stale), 'after': ''.join(pair[1] + '\n' for pair in stale)}
    if module.check_mode:
        return _result(PLATFORM_DEBIAN, True, reboot_required, configured, running, [], module, diff)
    argv = _regenerate_debian(module)
    written = _apply_files(module, fs, texts)
    rc, out, err = module.run_command(argv)
    if rc != 0:
        note = _restore(written)
        module.fail_json(msg='%s failed (rc=%d)%s: %s' % (' '.join(argv), rc, note, (err or out).strip()),
                         rc=rc, stdout=out, stderr=err, cmd=argv)
    if rollback is not None:
        previous = _parse(defaults.cmdline(), 'the GRUB defaults').select(owned_keys)
        recovery = _parse(' '.join(cmdline_words(defaults.value(CMDLINE_VAR))), 'the GRUB defaults').select(owned_keys)
        rollback.record(module, fs, PLATFORM_DEBIAN, owned_keys, desired, previous, written, regenerate=argv,
                        previous_recovery=recovery)
    return _result(PLATFORM_DEBIAN, True, reboot_required, configured, running, _backups(written), module, diff)


def _ensure_rhel(module, fs, owned_keys, desired, running, reboot_required, rollback=None):
    grubby = Grubby(module)
    defaults = GrubDefaults.read(fs, required=False) if fs.exists(GRUB_DEFAULT) else None
    texts = plan_grub_defaults(defaults, owned_keys, desired) if defaults else {}
    # kernel-install (new kernels on RHEL 9/Fedora) takes the options of new entries from here.
    kernel_cmdline = fs.read_raw(KERNEL_CMDLINE)
    if kernel_cmdline is not None and not _parse(kernel_cmdline, KERNEL_CMDLINE).matches(owned_keys, desired):
        texts[KERNEL_CMDLINE] = replace_words(kernel_cmdline, owned_keys, desired) + '\n'
    entries = grubby.info('ALL')
    if not entries:
        raise BootloaderError('grubby --info=ALL shows no boot entries')
    stale = [entry for entry in entries if not _grubby_cmdline(entry['args']).matches(owned_keys, desired)]
    # Removals come from every entry: grubby's --args replaces only the first same-spelled key,
    # so a parameter spelled differently (intel-iommu=) in a current entry would stay twice.
    configured = grubby.default_args()
    if not texts and not stale:
        return _result(PLATFORM_RHEL, False, reboot_required, configured, running, [], module, None)
    argv = []
    if stale:
        removals = _removals(entries, owned_keys)
        argv = [grubby.path, '--update-kernel=ALL']
        if desired:
            argv.append('--args=%s' % ' '.join(str(arg) for arg in desired))
        if removals:
            argv.append('--remove-args=%s' % ' '.join(removals))
    diff = _diffs(fs, texts) if texts else None
    if stale:
        entry_diff = {'before_header': 'grubby boot entries (default)', 'after_header': 'grubby boot entries (default)',
                      'before': configured + '\n',
                      'after': str(_grubby_cmdline(configured).replace(owned_keys, desired)) + '\n'}
        diff = [entry_diff] + (diff if isinstance(diff, list) else [diff] if diff else [])
        diff = diff[0] if len(diff) == 1 else diff
    if module.check_mode:
        predicted = str(_grubby_cmdline(configured).replace(owned_keys, desired)) if stale else configured
        return _result(PLATFORM_RHEL, True, reboot_required, predicted, running, [], module, diff)
    written = _apply_files(module, fs, texts)
    if argv:
        rc, out, err = module.run_command(argv)
        if rc != 0:
            note = _restore(written)
            module.fail_json(msg='%s failed (rc=%d)%s: %s' % (' '.join(argv), rc, note, (err or out).strip()),
                             rc=rc, stdout=out, stderr=err, cmd=argv)
        configured = grubby.default_args()
    if rollback is not None:
        previous = _grubby_cmdline(entries[0]['args']).select(owned_keys)
        rollback.record(module, fs, PLATFORM_RHEL, owned_keys, desired, previous, written,
                        entries=[{'kernel': entry['kernel'], 'args': entry['args']} for entry in entries] if argv else None)
    return _result(PLATFORM_RHEL, True, reboot_required, configured, running, _backups(written), module, diff)


def read_configured_cmdline(module=None, fs=None):
    """The configured command line of the default boot entry, read only.

    Returns ``(cmdline, None)``, or ``(None, reason)`` when it cannot tell (an
    unsupported platform, a file it cannot parse, RHEL without a module to run
    ``grubby --info=DEFAULT``).
    """
    fs = fs or HostFS()
    try:
        platform = detect_platform(fs, module)
        if platform == PLATFORM_DEBIAN:
            return GrubDefaults.read(fs).cmdline(), None
        if module is None:
            return None, 'reading RHEL boot entries needs grubby --info=DEFAULT (pass a module)'
        return Grubby(module).default_args(), None
    except (BootloaderError, KernelCmdlineError) as exc:
        return None, str(exc)
