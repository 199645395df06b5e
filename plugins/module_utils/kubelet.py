# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubelet's CPU, memory and topology manager settings, checked as the kubelet checks them.

A kubelet that cannot start its CPU manager, memory manager or topology
manager exits, and systemd restarts it in a loop: the node goes NotReady. This
file holds what it takes to refuse such a configuration *before* it is written:

* Kubernetes resource quantities (``500m``, ``1Gi``, ``1G``, ``1e3``), parsed
  exactly (``fractions.Fraction``) and printed the way ``Quantity.String()``
  prints them, so that messages read like the kubelet's own;
* the merge of wanted settings into a KubeletConfiguration dict that keeps
  every key it does not own;
* ``validate(config, machine)``: the start-up checks of the kubelet
  (``pkg/kubelet/apis/config/validation``, ``cmd/kubelet/app/server.go``,
  ``pkg/kubelet/cm/cpumanager``, ``memorymanager`` and ``topologymanager``),
  each error quoting the kubelet's message;
* kubelet command-line flags (kubeadm's ``kubeadm-flags.env``, k3s/RKE2
  ``kubelet-arg``), which override the configuration file;
* the CPU and memory manager checkpoint files (``cpu_manager_state``,
  ``memory_manager_state``) and when the kubelet would refuse them.

The messages follow Kubernetes v1.34; option maturity (alpha/beta) moves
between releases and is noted where it matters.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re
import shlex
from fractions import Fraction

from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet, CpuSetError

# --------------------------------------------------------------------------
# Quantities
# --------------------------------------------------------------------------

BINARY_SUFFIXES = {'Ki': 1, 'Mi': 2, 'Gi': 3, 'Ti': 4, 'Pi': 5, 'Ei': 6}
DECIMAL_SUFFIXES = {'n': -9, 'u': -6, 'm': -3, '': 0, 'k': 3, 'M': 6, 'G': 9, 'T': 12, 'P': 15, 'E': 18}
_QUANTITY = re.compile(r'^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$')
# The message of k8s.io/apimachinery/pkg/api/resource.ErrFormatWrong.
QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


class QuantityError(ValueError):
    """Text that ``resource.ParseQuantity`` rejects."""


class Quantity:
    """A Kubernetes resource quantity: an exact value and the format it prints in."""

    __slots__ = ('value', 'format')

    def __init__(self, value, fmt='decimal'):
        self.value = Fraction(value)
        self.format = fmt

    @classmethod
    def parse(cls, text):
        if isinstance(text, Quantity):
            return text
        if isinstance(text, bool):
            raise QuantityError('%r is not a quantity: %s' % (text, QUANTITY_FORMAT_ERROR))
        if isinstance(text, int):
            return cls(text)
        if isinstance(text, float):
            text = repr(text)
        text = str(text).strip()
        match = _QUANTITY.match(text)
        if not match:
            raise QuantityError('%r is not a quantity: %s' % (text, QUANTITY_FORMAT_ERROR))
        sign, number, suffix = match.group(1), match.group(2), match.group(3) or ''
        value = Fraction(number)
        if suffix in BINARY_SUFFIXES:
            value *= 1024 ** BINARY_SUFFIXES[suffix]
            fmt = 'binary'
        elif suffix[:1] in ('e', 'E'):
            value *= Fraction(10) ** int(suffix[1:])
            fmt = 'decimal'
        else:
            value *= Fraction(10) ** DECIMAL_SUFFIXES[suffix]
            fmt = 'decimal'
        if sign == '-':
            value = -value
        return cls(value, fmt)

    def is_zero(self):
        return self.value == 0

    def __add__(self, other):
        # resource.Quantity.Add: a zero quantity takes the format of what is added to it.
        fmt = other.format if self.value == 0 else self.format
        return Quantity(self.value + other.value, fmt)

    def __eq__(self, other):
        return isinstance(other, Quantity) and self.value == other.value

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.value)

    def bytes(self):
        """The value rounded up to a whole number, as ``Quantity.Value()``."""
        whole = self.value.numerator // self.value.denominator
        return whole if whole == self.value else whole + 1

    def __str__(self):
        return format_quantity(self.value, self.format)

    def __repr__(self):
        return 'Quantity(%r)' % str(self)


def format_quantity(value, fmt='decimal'):
    """``Quantity.String()``: the canonical form, largest suffix that keeps an integer."""
    value = Fraction(value)
    if value == 0:
        return '0'
    sign = '-' if value < 0 else ''
    value = abs(value)
    if fmt == 'binary' and value.denominator == 1 and value >= 1024:
        exponent = 0
        number = value.numerator
        while exponent < 6 and number % 1024 == 0:
            number //= 1024
            exponent += 1
        if exponent:
            suffix = [k for k, v in BINARY_SUFFIXES.items() if v == exponent][0]
            return '%s%d%s' % (sign, number, suffix)
    if fmt == 'binary' and value.denominator == 1:
        return '%s%d' % (sign, value.numerator)
    # Decimal SI: the largest multiple-of-three exponent that keeps the mantissa whole.
    for exponent in (18, 15, 12, 9, 6, 3, 0, -3, -6, -9):
        mantissa = value / (Fraction(10) ** exponent)
        if mantissa.denominator == 1:
            suffix = [k for k, v in DECIMAL_SUFFIXES.items() if v == exponent][0]
            return '%s%d%s' % (sign, mantissa.numerator, suffix)
    # Below a nano-unit the kubelet rounds up to 1n.
    return '%s%dn' % (sign, -(-value * 10 ** 9 // 1))


# --------------------------------------------------------------------------
# What the kubelet knows
# --------------------------------------------------------------------------

CPU_POLICIES = ('none', 'static')
MEMORY_POLICIES = ('None', 'Static')
TOPOLOGY_POLICIES = ('none', 'best-effort', 'restricted', 'single-numa-node')
TOPOLOGY_SCOPES = ('container', 'pod')

# pkg/kubelet/cm/cpumanager/policy_options.go (v1.34): the maturity decides which
# feature gate must be on. CPUManagerPolicyAlphaOptions is off by default,
# CPUManagerPolicyBetaOptions on.
CPU_POLICY_OPTIONS = {
    'full-pcpus-only': 'stable',
    'distribute-cpus-across-numa': 'beta',
    'strict-cpu-reservation': 'beta',
    'prefer-align-cpus-by-uncorecache': 'beta',
    'align-by-socket': 'alpha',
    'distribute-cpus-across-cores': 'alpha',
}
CPU_OPTION_CONFLICTS = (
    ('full-pcpus-only', 'distribute-cpus-across-cores'),
    ('distribute-cpus-across-numa', 'distribute-cpus-across-cores'),
    ('prefer-align-cpus-by-uncorecache', 'distribute-cpus-across-cores'),
    ('prefer-align-cpus-by-uncorecache', 'distribute-cpus-across-numa'),
)
FEATURE_GATE_DEFAULTS = {
    'CPUManagerPolicyAlphaOptions': False,
    'CPUManagerPolicyBetaOptions': True,
    'TopologyManagerPolicyAlphaOptions': False,
    'TopologyManagerPolicyBetaOptions': True,
    'MemoryManager': True,
}
# pkg/kubelet/cm/topologymanager/policy_options.go
TOPOLOGY_POLICY_OPTIONS = {
    'prefer-closest-numa-nodes': 'bool',
    'max-allowable-numa-nodes': 'int',
}
DEFAULT_MAX_ALLOWABLE_NUMA_NODES = 8
# cmd/kubelet/app/server.go parseResourceList
RESERVABLE_RESOURCES = ('cpu', 'memory', 'ephemeral-storage', 'pid')
# pkg/kubelet/eviction/api: the signals evictionHard accepts.
EVICTION_SIGNALS = ('memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available',
                    'imagefs.inodesFree', 'containerfs.available', 'containerfs.inodesFree',
                    'allocatableMemory.available', 'pid.available')
# pkg/kubelet/apis/config/v1beta1/defaults.go: used when evictionHard is not set at all.
DEFAULT_EVICTION_HARD = {
    'memory.available': '100Mi',
    'nodefs.available': '10%',
    'nodefs.inodesFree': '5%',
    'imagefs.available': '15%',
    'imagefs.inodesFree': '5%',
}
_HUGEPAGES = re.compile(r'^hugepages-(.+)$')

STATE_FILES = {'cpu': 'cpu_manager_state', 'memory': 'memory_manager_state'}


def cpu_policy_of(config):
    """cpuManagerPolicy with the kubelet's default (``none``) for a missing key."""
    return (config or {}).get('cpuManagerPolicy') or 'none'


def memory_policy_of(config):
    """memoryManagerPolicy with the kubelet's default (``None``) for a missing key."""
    return (config or {}).get('memoryManagerPolicy') or 'None'


def _bool_text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def parse_go_bool(text):
    """strconv.ParseBool: the spellings Go accepts, or None."""
    text = _bool_text(text)
    if text in ('1', 't', 'T', 'TRUE', 'true', 'True'):
        return True
    if text in ('0', 'f', 'F', 'FALSE', 'false', 'False'):
        return False
    return None


# --------------------------------------------------------------------------
# Merge
# --------------------------------------------------------------------------

def merge_map(current, wanted, stringify=True):
    """``current`` map updated with ``wanted``; a None value removes the key. None if empty."""
    result = dict(current or {})
    for key, value in (wanted or {}).items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _bool_text(value) if stringify else value
    return result or None


def _set(config, key, value):
    if value is None:
        config.pop(key, None)
    else:
        config[key] = value


def merge_config(current, params):
    """The KubeletConfiguration ``current`` with the module's wanted settings applied.

    Options left unset (None) leave their key alone. Maps merge key by key
    (kubeReserved, systemReserved, evictionHard, featureGates; a None value
    deletes the key); policy option maps and reservedMemory are replaced as a
    whole, an empty one removes the key. Every other key is kept as it is.
    """
    config = copy.deepcopy(current) if current else {}
    config.setdefault('apiVersion', 'kubelet.config.k8s.io/v1beta1')
    config.setdefault('kind', 'KubeletConfiguration')
    scalars = (
        ('cpu_manager_policy', 'cpuManagerPolicy'),
        ('topology_manager_policy', 'topologyManagerPolicy'),
        ('topology_manager_scope', 'topologyManagerScope'),
        ('memory_manager_policy', 'memoryManagerPolicy'),
    )
    for option, key in scalars:
        if params.get(option) is not None:
            config[key] = params[option]
    if params.get('cpu_cfs_quota') is not None:
        config['cpuCFSQuota'] = bool(params['cpu_cfs_quota'])
    if params.get('reserved_system_cpus') is not None:
        cpus = str(params['reserved_system_cpus']).strip()
        _set(config, 'reservedSystemCPUs', CpuSet.parse(cpus).format() if cpus else None)
    for option, key in (('cpu_manager_policy_options', 'cpuManagerPolicyOptions'),
                        ('topology_manager_policy_options', 'topologyManagerPolicyOptions')):
        if params.get(option) is not None:
            _set(config, key, dict((k, _bool_text(v)) for k, v in params[option].items()) or None)
    for option, key in (('kube_reserved', 'kubeReserved'), ('system_reserved', 'systemReserved')):
        if params.get(option) is not None:
            _set(config, key, merge_map(config.get(key), params[option]))
    if params.get('eviction_hard') is not None:
        # An evictionHard map replaces the kubelet's defaults as a whole: seed it with
        # them so that adding memory.available does not silently drop nodefs.available.
        base = config.get('evictionHard')
        if base is None:
            base = dict(DEFAULT_EVICTION_HARD)
        _set(config, 'evictionHard', merge_map(base, params['eviction_hard']))
    if params.get('feature_gates') is not None:
        _set(config, 'featureGates', merge_map(config.get('featureGates'), params['feature_gates'], stringify=False))
    if params.get('reserved_memory') is not None:
        entries = []
        for entry in params['reserved_memory']:
            entries.append({'numaNode': entry['numa_node'],
                            'limits': dict((k, _bool_text(v)) for k, v in (entry.get('limits') or {}).items())})
        _set(config, 'reservedMemory', entries or None)
    return config


# --------------------------------------------------------------------------
# Command-line flags (they override the configuration file)
# --------------------------------------------------------------------------

# flag name -> (config key, parser)
def _kv_map(text):
    result = {}
    for item in str(text).split(','):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition('=')
        if not sep:
            raise ValueError("'%s' is not key=value" % item)
        result[key.strip()] = value.strip()
    return result


def _eviction_map(text):
    result = {}
    for item in str(text).split(','):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition('<')
        if not sep:
            raise ValueError("'%s' is not signal<threshold" % item)
        result[key.strip()] = value.strip()
    return result


def _go_bool_flag(text):
    value = parse_go_bool(text)
    if value is None:
        raise ValueError('%r is not true or false' % text)
    return value


def _gate_map(text):
    return dict((key, parse_go_bool(value)) for key, value in _kv_map(text).items())


def _reserved_memory(text):
    entries = []
    for part in str(text).split(';'):
        part = part.strip()
        if not part:
            continue
        node, sep, limits = part.partition(':')
        if not sep:
            raise ValueError("'%s' is not <numa node>:<type>=<quantity>,..." % part)
        entries.append({'numaNode': int(node), 'limits': _kv_map(limits)})
    return entries


FLAG_KEYS = {
    'cpu-manager-policy': ('cpuManagerPolicy', str),
    'cpu-manager-policy-options': ('cpuManagerPolicyOptions', _kv_map),
    'cpu-cfs-quota': ('cpuCFSQuota', _go_bool_flag),
    'reserved-cpus': ('reservedSystemCPUs', str),
    'kube-reserved': ('kubeReserved', _kv_map),
    'system-reserved': ('systemReserved', _kv_map),
    'kube-reserved-cgroup': ('kubeReservedCgroup', str),
    'system-reserved-cgroup': ('systemReservedCgroup', str),
    'eviction-hard': ('evictionHard', _eviction_map),
    'topology-manager-policy': ('topologyManagerPolicy', str),
    'topology-manager-scope': ('topologyManagerScope', str),
    'topology-manager-policy-options': ('topologyManagerPolicyOptions', _kv_map),
    'memory-manager-policy': ('memoryManagerPolicy', str),
    'reserved-memory': ('reservedMemory', _reserved_memory),
    'feature-gates': ('featureGates', _gate_map),
}
OPTION_KEYS = {
    'cpu_manager_policy': 'cpuManagerPolicy',
    'cpu_manager_policy_options': 'cpuManagerPolicyOptions',
    'cpu_cfs_quota': 'cpuCFSQuota',
    'reserved_system_cpus': 'reservedSystemCPUs',
    'kube_reserved': 'kubeReserved',
    'system_reserved': 'systemReserved',
    'eviction_hard': 'evictionHard',
    'topology_manager_policy': 'topologyManagerPolicy',
    'topology_manager_scope': 'topologyManagerScope',
    'topology_manager_policy_options': 'topologyManagerPolicyOptions',
    'memory_manager_policy': 'memoryManagerPolicy',
    'reserved_memory': 'reservedMemory',
    'feature_gates': 'featureGates',
}


class Flag:
    """One kubelet command-line flag and where it was found."""

    def __init__(self, name, value, source):
        self.name = name
        self.value = value
        self.source = source

    def __str__(self):
        return '--%s=%s (%s)' % (self.name, self.value, self.source)


def parse_flag_words(words, source):
    """``--name=value`` / ``name=value`` / ``--name value`` words as Flags."""
    flags = []
    words = list(words)
    index = 0
    while index < len(words):
        word = str(words[index]).strip()
        index += 1
        if not word:
            continue
        name = word.lstrip('-')
        if '=' in name:
            name, value = name.split('=', 1)
        elif word.startswith('--') and index < len(words) and not str(words[index]).startswith('-'):
            value = str(words[index])
            index += 1
        else:
            value = 'true'
        flags.append(Flag(name, value, source))
    return flags


def parse_env_file(text, source):
    """Flags in the ``KUBELET_*_ARGS="..."`` lines of a systemd EnvironmentFile."""
    flags = []
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('#') or '=' not in line:
            continue
        name, value = line.split('=', 1)
        if not name.strip().startswith('KUBELET_'):
            continue
        try:
            words = shlex.split(value)
        except ValueError:
            continue
        if len(words) == 1 and ' ' in words[0]:
            words = shlex.split(words[0])
        flags.extend(parse_flag_words(words, source))
    return flags


def flags_to_config(flags):
    """The configuration keys set by ``flags``: {key: (value, flag)}; unparsable ones raise ValueError."""
    result = {}
    for flag in flags:
        if flag.name not in FLAG_KEYS:
            continue
        key, parser = FLAG_KEYS[flag.name]
        try:
            result[key] = (parser(flag.value), flag)
        except ValueError as exc:
            raise ValueError('kubelet flag %s cannot be parsed: %s' % (flag, exc))
    return result


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------

class Machine:
    """What the kubelet discovers about the host: online CPUs, NUMA nodes, sockets, memory."""

    def __init__(self, online, nodes, sockets=1, mem_total_bytes=None, node_mem_bytes=None, isolated=None):
        self.online = CpuSet.parse(online)
        self.nodes = sorted(nodes)
        self.sockets = sockets
        self.mem_total_bytes = mem_total_bytes
        self.node_mem_bytes = node_mem_bytes or {}
        self.isolated = CpuSet.parse(isolated) if isolated is not None else CpuSet()

    @classmethod
    def from_topology(cls, topology, isolated=None):
        total = 0
        node_mem = {}
        for node in topology.nodes.values():
            if node.mem_total_kb is not None:
                node_mem[node.id] = node.mem_total_kb * 1024
                total += node.mem_total_kb * 1024
        sockets = len(set(topology.package_of_cpu.values())) or 1
        return cls(topology.online, list(topology.nodes), sockets, total or None, node_mem, isolated)


class KubeletError(object):
    """One reason the kubelet would refuse the configuration."""

    def __init__(self, field, message, kubelet=None):
        self.field = field
        self.message = message
        self.kubelet = kubelet

    def __str__(self):
        if self.kubelet:
            return '%s: %s; the kubelet would fail with: %s' % (self.field, self.message, self.kubelet)
        return '%s: %s' % (self.field, self.message)


def _gate(config, name):
    gates = config.get('featureGates') or {}
    value = gates.get(name)
    if value is None:
        return FEATURE_GATE_DEFAULTS.get(name, False)
    parsed = parse_go_bool(value)
    return FEATURE_GATE_DEFAULTS.get(name, False) if parsed is None else parsed


def _reserved_list(config, key, errors):
    """kubeReserved/systemReserved as {resource: Quantity} (parseResourceList)."""
    result = {}
    for name, value in (config.get(key) or {}).items():
        if name not in RESERVABLE_RESOURCES:
            errors.append(KubeletError(key, 'resource %r cannot be reserved (allowed: %s)' % (name, ', '.join(RESERVABLE_RESOURCES)),
                                       'cannot reserve "%s" resource' % name))
            continue
        if name == 'pid':
            if not re.match(r'^[0-9]+$', str(value)):
                errors.append(KubeletError(key, 'pid must be a whole number, not %r' % (value,),
                                           'failed to parse quantity "%s" for "pid" resource' % value))
            continue
        try:
            quantity = Quantity.parse(value)
        except QuantityError:
            errors.append(KubeletError(key, '%s %r is not a Kubernetes quantity (forms: 500m, 2, 1Gi, 512Mi, 1G)' % (name, value),
                                       'failed to parse quantity "%s" for "%s" resource: %s' % (value, name, QUANTITY_FORMAT_ERROR)))
            continue
        if quantity.value < 0:
            errors.append(KubeletError(key, '%s must not be negative' % name,
                                       'resource quantity for "%s" cannot be negative: %s' % (name, value)))
            continue
        result[name] = quantity
    return result


def _eviction_memory(config, machine, errors):
    """The hard eviction threshold of memory.available as a Quantity (hardEvictionReservation)."""
    eviction = config.get('evictionHard')
    if eviction is None:
        eviction = DEFAULT_EVICTION_HARD
    memory = None
    for signal, threshold in eviction.items():
        if signal not in EVICTION_SIGNALS:
            errors.append(KubeletError('evictionHard', 'unknown eviction signal %r (allowed: %s)' % (signal, ', '.join(EVICTION_SIGNALS)),
                                       'unsupported eviction signal %s' % signal))
            continue
        text = str(threshold).strip()
        if text.endswith('%'):
            try:
                percent = Fraction(text[:-1])
            except ValueError:
                percent = None
            if percent is None or percent < 0 or percent > 100:
                errors.append(KubeletError('evictionHard', '%s threshold %r is not a percentage between 0%% and 100%%' % (signal, text),
                                           'eviction percentage threshold %s must be >= 0%% and <= 100%%: %s' % (signal, text)))
                continue
            if signal == 'memory.available':
                if machine.mem_total_bytes is None:
                    errors.append(KubeletError('evictionHard', 'memory.available %s cannot be checked: the machine memory is unknown' % text))
                    continue
                memory = Quantity(Fraction(machine.mem_total_bytes) * percent / 100, 'binary')
            continue
        try:
            quantity = Quantity.parse(text)
        except QuantityError:
            errors.append(KubeletError('evictionHard', '%s threshold %r is not a quantity or percentage' % (signal, text),
                                       QUANTITY_FORMAT_ERROR))
            continue
        if quantity.value < 0:
            errors.append(KubeletError('evictionHard', '%s threshold must not be negative' % signal,
                                       'eviction threshold %s must be positive: %s' % (signal, text)))
            continue
        if signal == 'memory.available':
            memory = quantity
    return memory


def node_allocatable_reservation(config, machine, errors):
    """GetNodeAllocatableReservation: systemReserved + kubeReserved + hard eviction, per resource.

    reservedSystemCPUs, when set, replaces the cpu of both maps by its size
    (cmd/kubelet/app/server.go), as the kubelet does.
    """
    system = _reserved_list(config, 'systemReserved', errors)
    kube = _reserved_list(config, 'kubeReserved', errors)
    reserved_cpus = config.get('reservedSystemCPUs')
    if reserved_cpus:
        try:
            size = len(CpuSet.parse(reserved_cpus))
        except CpuSetError:
            size = 0
        if size:
            kube.pop('cpu', None)
            system['cpu'] = Quantity(size)
    eviction_memory = _eviction_memory(config, machine, errors)
    result = {}
    for name in RESERVABLE_RESOURCES:
        if name == 'pid':
            continue
        total = Quantity(0)
        for source in (system, kube):
            if name in source:
                total = total + source[name]
        if name == 'memory' and eviction_memory is not None:
            total = total + eviction_memory
        if not total.is_zero():
            result[name] = total
    return result


def _validate_cpu_manager(config, machine, reservation, errors):
    policy = cpu_policy_of(config)
    options = config.get('cpuManagerPolicyOptions') or {}
    reserved_text = config.get('reservedSystemCPUs')
    reserved = CpuSet()
    if reserved_text is not None and str(reserved_text).strip():
        try:
            reserved = CpuSet.parse(reserved_text)
        except CpuSetError as exc:
            errors.append(KubeletError('reservedSystemCPUs', str(exc),
                                       'invalid configuration: unable to parse reservedSystemCPUs (--reserved-cpus) %s' % reserved_text))
        else:
            if config.get('systemReservedCgroup') or config.get('kubeReservedCgroup'):
                errors.append(KubeletError(
                    'reservedSystemCPUs', 'cannot be combined with systemReservedCgroup or kubeReservedCgroup',
                    "invalid configuration: can't use reservedSystemCPUs (--reserved-cpus) with systemReservedCgroup "
                    "(--system-reserved-cgroup) or kubeReservedCgroup (--kube-reserved-cgroup)"))
            if not reserved <= machine.online:
                errors.append(KubeletError(
                    'reservedSystemCPUs', 'CPUs %s are not online (online: %s)' % ((reserved - machine.online).format(), machine.online.format()),
                    'reserved-cpus: %s is not a subset of online-cpus: %s' % (reserved_text, machine.online.format())))
            elif reserved == machine.online:
                errors.append(KubeletError(
                    'reservedSystemCPUs', 'reserving every online CPU (%s) leaves no CPU for pods: keep at least one CPU out of the '
                    'reservation (check of this module, the kubelet itself would start with a node allocatable CPU of 0)' % reserved.format()))
            if machine.isolated and reserved & machine.isolated:
                errors.append(KubeletError(
                    'reservedSystemCPUs', 'CPUs %s are isolated (isolcpus %s on the kernel command line): the reserved CPUs run the '
                    'system and kubelet and must be the housekeeping CPUs, i.e. disjoint from the isolated ones; pass the '
                    'reserved_cpus returned by nfv.dpdk.cpu_isolation (check of this module, the kubelet does not look at isolcpus)'
                    % ((reserved & machine.isolated).format(), machine.isolated.format())))

    if policy not in CPU_POLICIES:
        errors.append(KubeletError('cpuManagerPolicy', '%r is not a CPU manager policy (allowed: %s)' % (policy, ', '.join(CPU_POLICIES)),
                                   'unknown policy: "%s"' % policy))
        return
    if policy == 'none':
        if options:
            errors.append(KubeletError(
                'cpuManagerPolicyOptions', 'policy options %s need cpuManagerPolicy static; remove them (pass an empty '
                'cpu_manager_policy_options) or use the static policy' % ', '.join(sorted(options)),
                'new none policy error: None policy: received unsupported options=map[%s]'
                % ' '.join('%s:%s' % (k, options[k]) for k in sorted(options))))
        return

    # static
    enabled = {}
    for name in sorted(options):
        value = options[name]
        maturity = CPU_POLICY_OPTIONS.get(name)
        if maturity is None:
            errors.append(KubeletError('cpuManagerPolicyOptions', 'unknown option %r (known: %s)' % (name, ', '.join(sorted(CPU_POLICY_OPTIONS))),
                                       'new static policy error: unknown CPU Manager Policy option: "%s"' % name))
            continue
        if maturity == 'alpha' and not _gate(config, 'CPUManagerPolicyAlphaOptions'):
            errors.append(KubeletError(
                'cpuManagerPolicyOptions', 'option %r is alpha: set featureGates CPUManagerPolicyAlphaOptions: true' % name,
                'new static policy error: CPU Manager Policy Alpha-level Options not enabled, but option "%s" provided' % name))
            continue
        if maturity == 'beta' and not _gate(config, 'CPUManagerPolicyBetaOptions'):
            errors.append(KubeletError(
                'cpuManagerPolicyOptions', 'option %r is beta and featureGates CPUManagerPolicyBetaOptions is false' % name,
                'new static policy error: CPU Manager Policy Beta-level Options not enabled, but option "%s" provided' % name))
            continue
        parsed = parse_go_bool(value)
        if parsed is None:
            errors.append(KubeletError('cpuManagerPolicyOptions', 'option %r must be "true" or "false", not %r' % (name, value),
                                       'new static policy error: bad value for option "%s": strconv.ParseBool: parsing "%s": invalid syntax'
                                       % (name, value)))
            continue
        enabled[name] = parsed
    for first, second in CPU_OPTION_CONFLICTS:
        if enabled.get(first) and enabled.get(second):
            errors.append(KubeletError('cpuManagerPolicyOptions', 'options %s and %s exclude each other' % (first, second),
                                       'new static policy error: static policy options %s and %s can not be used at the same time'
                                       % (first, second)))
    if enabled.get('align-by-socket'):
        if config.get('topologyManagerPolicy') == 'single-numa-node':
            errors.append(KubeletError(
                'cpuManagerPolicyOptions', 'align-by-socket cannot be combined with topologyManagerPolicy single-numa-node',
                'new static policy error: Topolgy manager single-numa-node policy is incompatible with CPUManager align-by-socket policy option'))
        if machine.sockets > len(machine.nodes):
            errors.append(KubeletError(
                'cpuManagerPolicyOptions', 'align-by-socket needs at least as many NUMA nodes as sockets (%d sockets, %d NUMA nodes)'
                % (machine.sockets, len(machine.nodes)),
                'new static policy error: Align by socket is not compatible with hardware where number of sockets are more than number of NUMA'))

    cpu = reservation.get('cpu')
    if cpu is None or cpu.is_zero():
        errors.append(KubeletError(
            'cpuManagerPolicy', 'the static policy needs a CPU reservation: set reservedSystemCPUs (reserved_system_cpus) or a cpu '
            'in kubeReserved/systemReserved',
            '[cpumanager] the static policy requires systemreserved.cpu + kubereserved.cpu to be greater than zero'))
        return
    wanted = -(-cpu.value // 1)
    if not reserved and wanted > len(machine.online):
        errors.append(KubeletError(
            'kubeReserved', 'a reservation of %s CPUs is more than the %d online CPUs' % (cpu, len(machine.online)),
            '[cpumanager] unable to reserve the required amount of CPUs (size of %s did not equal %d)'
            % (machine.online.format(), wanted)))


def _validate_topology_manager(config, machine, errors):
    policy = config.get('topologyManagerPolicy') or 'none'
    scope = config.get('topologyManagerScope') or 'container'
    if policy not in TOPOLOGY_POLICIES:
        errors.append(KubeletError('topologyManagerPolicy', '%r is not a topology manager policy (allowed: %s)' % (policy, ', '.join(TOPOLOGY_POLICIES)),
                                   'invalid configuration: topologyManagerPolicy (--topology-manager-policy) "%s" must be one of: ["%s"]'
                                   % (policy, '" "'.join(TOPOLOGY_POLICIES))))
    if scope not in TOPOLOGY_SCOPES:
        errors.append(KubeletError('topologyManagerScope', '%r is not a topology manager scope (allowed: container, pod)' % scope,
                                   'invalid configuration: topologyManagerScope (--topology-manager-scope) "%s" must be one of: '
                                   '"container", or "pod"' % scope))
    max_nodes = DEFAULT_MAX_ALLOWABLE_NUMA_NODES
    for name, value in sorted((config.get('topologyManagerPolicyOptions') or {}).items()):
        kind = TOPOLOGY_POLICY_OPTIONS.get(name)
        if kind is None:
            errors.append(KubeletError('topologyManagerPolicyOptions', 'unknown option %r (known: %s)' % (name, ', '.join(sorted(TOPOLOGY_POLICY_OPTIONS))),
                                       'unknown Topology Manager Policy option: "%s"' % name))
        elif kind == 'bool' and parse_go_bool(value) is None:
            errors.append(KubeletError('topologyManagerPolicyOptions', 'option %r must be "true" or "false", not %r' % (name, value),
                                       'bad value for option "%s": strconv.ParseBool: parsing "%s": invalid syntax' % (name, value)))
        elif kind == 'int':
            if not re.match(r'^[0-9]+$', str(value)):
                errors.append(KubeletError('topologyManagerPolicyOptions', 'option %r must be a whole number, not %r' % (name, value),
                                           'bad value for option "%s": strconv.Atoi: parsing "%s": invalid syntax' % (name, value)))
            else:
                max_nodes = int(value)
    if policy in TOPOLOGY_POLICIES and policy != 'none' and len(machine.nodes) > max_nodes:
        errors.append(KubeletError(
            'topologyManagerPolicy', 'this machine has %d NUMA nodes, more than %d: set topologyManagerPolicyOptions '
            'max-allowable-numa-nodes or use policy none' % (len(machine.nodes), max_nodes),
            'unsupported on machines with more than %d NUMA Nodes' % max_nodes))


def _validate_memory_manager(config, machine, reservation, errors):
    policy = memory_policy_of(config)
    entries = config.get('reservedMemory') or []
    # validateReservedMemoryConfiguration (runs whatever the policy).
    seen = set()
    totals = {}
    order = []
    entries_ok = True
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get('limits'), dict):
            errors.append(KubeletError('reservedMemory[%d]' % index, 'each entry needs numaNode and a limits map'))
            entries_ok = False
            continue
        try:
            node = int(entry.get('numaNode'))
        except (TypeError, ValueError):
            errors.append(KubeletError('reservedMemory[%d]' % index, 'numaNode must be a whole number, not %r' % (entry.get('numaNode'),)))
            entries_ok = False
            continue
        for name, value in entry['limits'].items():
            if name != 'memory' and not _HUGEPAGES.match(name):
                errors.append(KubeletError(
                    'reservedMemory[%d]' % index, 'limit type %r is not supported (allowed: memory, hugepages-<size>)' % name,
                    'invalid configuration: the limit type "%s" for NUMA node %d is not supported, only [memory hugepages-<HugePageSize>] '
                    'is accepted' % (name, node)))
                entries_ok = False
                continue
            try:
                quantity = Quantity.parse(value)
            except QuantityError:
                errors.append(KubeletError('reservedMemory[%d]' % index, '%s %r is not a Kubernetes quantity' % (name, value), QUANTITY_FORMAT_ERROR))
                entries_ok = False
                continue
            if quantity.is_zero():
                errors.append(KubeletError(
                    'reservedMemory[%d]' % index, '%s on NUMA node %d must not be zero (leave the entry out instead)' % (name, node),
                    'invalid configuration: reserved memory may not be zero for NUMA node %d and resource "%s"' % (node, name)))
                entries_ok = False
            if (node, name) in seen:
                errors.append(KubeletError(
                    'reservedMemory[%d]' % index, 'NUMA node %d has %s twice' % (node, name),
                    'invalid configuration: the reserved memory has a duplicate value for NUMA node %d and resource "%s"' % (node, name)))
                entries_ok = False
            seen.add((node, name))
            if name not in totals:
                order.append(name)
                totals[name] = Quantity(0)
            totals[name] = totals[name] + quantity
            if node in machine.node_mem_bytes and name == 'memory' and quantity.value > machine.node_mem_bytes[node]:
                errors.append(KubeletError(
                    'reservedMemory[%d]' % index, 'reserves %s on NUMA node %d, which has only %s (check of this module)'
                    % (quantity, node, format_quantity(machine.node_mem_bytes[node], 'binary'))))
                entries_ok = False
    if policy not in MEMORY_POLICIES:
        hint = ' (the policy names are capitalised: None, Static)' if policy.lower() in ('none', 'static') else ''
        errors.append(KubeletError('memoryManagerPolicy', '%r is not a memory manager policy (allowed: None, Static)%s' % (policy, hint),
                                   'unknown policy: "%s"' % policy))
        return
    if policy != 'Static':
        return
    if not _gate(config, 'MemoryManager'):
        errors.append(KubeletError('memoryManagerPolicy', 'Static has no effect with featureGates MemoryManager: false; '
                                   'enable the gate or use the None policy (check of this module)'))
        return
    for index, entry in enumerate(entries):
        try:
            node = int(entry.get('numaNode'))
        except (AttributeError, TypeError, ValueError):
            continue
        if node not in machine.nodes:
            errors.append(KubeletError(
                'reservedMemory[%d]' % index, 'NUMA node %d does not exist (NUMA nodes: %s)' % (node, ', '.join(str(n) for n in machine.nodes)),
                'the reserved memory configuration references a NUMA node %d that does not exist on this machine' % node))
            return
    if not entries_ok:
        return
    # validateReservedMemory: the per-type sum must equal the node allocatable reservation.
    memory_types = list(order)
    for name in sorted(reservation):
        if (name == 'memory' or _HUGEPAGES.match(name)) and name not in memory_types:
            memory_types.append(name)
    for name in memory_types:
        expected = Quantity(0) + reservation[name] if name in reservation else Quantity(0)
        total = Quantity(0) + totals[name] if name in totals else Quantity(0)
        if expected != total:
            if name == 'memory':
                why = ('the reservedMemory entries must add up to kubeReserved.memory + systemReserved.memory + evictionHard '
                       'memory.available = %s, they add up to %s' % (expected, total))
            else:
                why = ('%s cannot be reserved through kubeReserved/systemReserved, so the Node Allocatable reservation of it is %s '
                       'and reservedMemory must not reserve it (it reserves %s)' % (name, expected, total))
            errors.append(KubeletError(
                'reservedMemory', why,
                'the total amount "%s" of type "%s" is not equal to the value "%s" determined by Node Allocatable feature'
                % (total, name, expected)))
            return
    if 'memory' not in totals or totals['memory'].is_zero():
        errors.append(KubeletError('reservedMemory', 'the Static memory manager needs reserved memory: set kubeReserved/systemReserved '
                                   'memory (or keep the evictionHard memory.available threshold) and reservedMemory entries for it',
                                   '[memorymanager] you should specify the system reserved memory'))


def validate(config, machine):
    """Every reason the kubelet would not start with ``config`` on ``machine`` (list of KubeletError)."""
    errors = []
    # sigs.k8s.io/yaml decodes cpuCFSQuota into a Go bool: a string or number there stops the kubelet.
    if 'cpuCFSQuota' in config and not isinstance(config['cpuCFSQuota'], bool):
        errors.append(KubeletError('cpuCFSQuota', 'must be true or false (a YAML boolean), not %r' % (config['cpuCFSQuota'],)))
    reservation = node_allocatable_reservation(config, machine, errors)
    _validate_cpu_manager(config, machine, reservation, errors)
    _validate_topology_manager(config, machine, errors)
    _validate_memory_manager(config, machine, reservation, errors)
    return errors


# --------------------------------------------------------------------------
# Checkpoint (state) files
# --------------------------------------------------------------------------

def read_state(text):
    """A checkpoint file as a dict, or None when it is not JSON."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def cpu_state_stale(state, policy, reserved_cpus=None, strict=False):
    """Why the kubelet would refuse ``cpu_manager_state`` for ``policy``, or None.

    ``configured policy "static" differs from state checkpoint policy "none"``
    on a policy change; with the static policy, reserved CPUs that are missing
    from the default CPU set (or present, with strict-cpu-reservation) make
    ``validateState`` fail as well.
    """
    if state is None:
        return 'the checkpoint is not valid JSON'
    recorded = state.get('policyName')
    if recorded != policy:
        return 'configured policy "%s" differs from state checkpoint policy "%s"' % (policy, recorded)
    if policy == 'static' and reserved_cpus:
        try:
            default = CpuSet.parse(state.get('defaultCpuSet') or '')
            reserved = CpuSet.parse(reserved_cpus)
        except CpuSetError:
            return 'the checkpoint holds an unreadable defaultCpuSet'
        if default and strict and reserved & default:
            return 'some of strictly reserved cpus: "%s" are present in defaultCpuSet: "%s"' % ((reserved & default).format(), default.format())
        if default and not strict and reserved - default:
            return 'not all reserved cpus: "%s" are present in defaultCpuSet: "%s"' % (reserved.format(), default.format())
    return None


def memory_state_stale(state, policy, reserved_memory=None):
    """Why the kubelet would refuse ``memory_manager_state`` for ``policy``, or None."""
    if state is None:
        return 'the checkpoint is not valid JSON'
    recorded = state.get('policyName')
    if recorded != policy:
        return 'configured policy "%s" differs from state checkpoint policy "%s"' % (policy, recorded)
    if policy == 'Static' and reserved_memory is not None:
        machine_state = state.get('machineState') or {}
        wanted = {}
        for entry in reserved_memory:
            node = str(entry.get('numaNode', entry.get('numa_node')))
            for name, value in (entry.get('limits') or {}).items():
                wanted[(node, name)] = Quantity.parse(value).bytes()
        for node, node_state in machine_state.items():
            for name, block in ((node_state or {}).get('memoryMap') or {}).items():
                recorded_reserved = (block or {}).get('systemReserved', 0)
                if recorded_reserved != wanted.get((str(node), name), 0):
                    return ('[memorymanager] the expected machine state is different from the real one: systemReserved %s on NUMA node %s '
                            'was %s bytes and is now %s bytes' % (name, node, recorded_reserved, wanted.get((str(node), name), 0)))
    return None
