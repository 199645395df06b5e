# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""testpmd: its log as data, a verdict on a run, and the Pod that runs it.

``parse_testpmd_log`` turns what ``dpdk-testpmd`` prints (DPDK 22.11, run
non-interactively with ``--stats-period`` and stopped with SIGINT; EAL's lines
also in the forms of 23.11 to 25.11), optionally with the JSON lines of the
image's launcher and ``podman logs -t`` / ``kubectl logs --timestamps``
prefixes, into per-port counters, totals, errors, EAL facts and NUMA placement.
``testpmd_verdict`` judges such stats against thresholds and, with
``require_placement``, against the placement the pod must prove.
``pod_manifest`` builds the one Pod that runs testpmd in Kubernetes and
``podman_manifest`` rewrites it for ``podman kube play`` on the node itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import copy
import hashlib
import json
import re
import time

from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet, CpuSetError
from ansible_collections.nfv.dpdk.plugins.module_utils.yaml_numbers import MAC_ADDRESS, PCI_ADDRESS, unquoted_number_error

# Lines the image's launcher prints: ``nfv.dpdk.testpmd: {"event": "start", ...}``.
LAUNCHER_PREFIX = 'nfv.dpdk.testpmd:'

_ANSI = re.compile(r'\x1b\[[0-9;?]*[A-Za-z]')
# podman logs -t: 2026-11-23T08:40:00.123456789+00:00 ; kubectl --timestamps: ...Z
_TIMESTAMP = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:[.,](\d+))?(Z|[+-]\d\d:?\d\d)? ?')
_KV = re.compile(r'([A-Za-z][A-Za-z-]*):\s+(-?\d+)')
_SET_MODE = re.compile(r'^Set (\S+) packet forwarding mode')
_FWD_LINE = re.compile(r'^(\S+) packet forwarding - ports=(\d+) - cores=(\d+) - streams=(\d+)')
_CONFIGURING = re.compile(r'^Configuring Port (\d+) \(socket (-?\d+)\)')
_PORT_MAC = re.compile(r'^Port (\d+): ((?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2})\s*$')
_LINK = re.compile(r'^Port (\d+):? (Link (up|down)\b.*)$', re.IGNORECASE)
_LSC = re.compile(r'^Port (\d+): link state change event', re.IGNORECASE)
_LCORE = re.compile(r'^Logical Core (\d+) \(socket (-?\d+)\) forwards packets on (\d+) streams')
_STREAM = re.compile(r'RX P=(\d+)/Q=(\d+) \(socket (-?\d+)\) -> TX P=(\d+)/Q=(\d+) \(socket (-?\d+)\)(?: peer=(\S+))?')
_MBUF_POOL = re.compile(r'create a new mbuf pool <([^>]+)>: n=(\d+), size=(\d+), socket=(-?\d+)')
_NIC_STATS = re.compile(r'NIC statistics for port (\d+)')
_FWD_STATS = re.compile(r'Forward statistics for port (\d+)')
_ACCUMULATED = 'Accumulated forward statistics for all ports'
_RULE = re.compile(r'^[-+#]{10,}$')
_PPS = re.compile(r'(Rx|Tx)-pps:\s+(\d+)')
_FORWARD_START = ('start packet forwarding', 'start automatic packet forwarding')
# Interactive testpmd (the launcher's TESTPMD_FORWARD_BARRIER): its prompt, with the command it echoes or,
# once forwarding runs, before the next line it prints ("testpmd> Telling cores to stop...").
_PROMPT = re.compile(r'^(?:testpmd>\s*)+')
_START_COMMAND = re.compile(r'^start(?:\s+tx_first(?:\s+\d+)?)?$')
_FORWARD_STOP = 'Telling cores to stop'
# DPDK 24.11+ with --log-timestamp prefixes every log line: "[Dec 01 11:23:17.123456] EAL: ...".
_LOG_TIMESTAMP = re.compile(r'^\[[^\]]{1,40}\] (?=\S)')

# EAL lines, in the format strings of DPDK 22.11 to 25.11 (lib/eal, drivers/bus/pci).
# "EAL: -v" prints rte_version(): "DPDK 22.11.11", or "DPDK 24.11.0-rc4" before a release.
_RTE_VERSION = re.compile(r"RTE Version: '(?:DPDK )?([^']+)'")
_EAL_DETECTED = re.compile(r'^EAL: Detected (CPU lcores|NUMA nodes): (\d+)')
_EAL_IOVA = re.compile(r"^EAL: Selected IOVA mode '(\w+)'")
# rte_exit(): 22.11/23.11 print "EAL: Error - exiting with code: 1" then "  Cause: <cause>";
# 24.11 and later print the cause on the next line as it is, without "Cause: " and without "EAL: ".
_RTE_EXIT = re.compile(r'^EAL: Error - exiting with code: (-?\d+)')
_CAUSE = re.compile(r'^Cause: ?(.*)$')
# rte_panic(): "PANIC in <function>():" (22.11 without a prefix, 24.11 "EAL: PANIC in ...") then the message.
_PANIC = re.compile(r'^(?:EAL: )?PANIC in ([^(\s]+)\(\):')
# 22.11/23.11 "EAL: Probe PCI driver: ...", 24.11+ "PCI_BUS: Probe PCI driver: ..." (the bus's own log type).
_PROBE = re.compile(r'Probe PCI driver: (\S+) \(([0-9a-fA-F]+):([0-9a-fA-F]+)\) device: '
                    r'([0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]) \(socket (-?\d+)\)')
_PROBE_FAILED = re.compile(r'Requested device ([0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]) cannot be used')
# EAL init failed: 22.11 rte_eal_init_alert() prints "EAL: FATAL: <msg>" (24.11 drops FATAL:), testpmd's
# rte_exit cause is "Cannot init EAL: <strerror>", other DPDK applications say "rte_eal_init() failed" or
# "Error with EAL initialization".
_EAL_INIT_FAILED = re.compile(r'^EAL: FATAL:|Cannot init EAL|rte_eal_init\b.*\bfail|Error with EAL initiali[sz]ation',
                              re.IGNORECASE)
# Hugepage warnings of lib/eal/linux/eal_hugepage_info.c, eal_common_dynmem.c and eal.c.
_HUGE_NO_FREE = re.compile(r'No free (\d+) kB hugepages reported on node (\d+)')
_HUGE_NO_AVAILABLE = re.compile(r'No available (\d+) kB hugepages reported')
_HUGE_NOT_ENOUGH = re.compile(r'Not enough memory available on socket (\d+)! Requested: (\d+)MB, available: (\d+)MB')
_HUGE_NOT_ENOUGH_TOTAL = re.compile(r'Not enough memory available! Requested: (\d+)MB, available: (\d+)MB')
_HUGE_NO_INFO = 'Cannot get hugepage information'

# Lines that mean the run cannot be trusted, beyond EAL lines that say so themselves.
_ERROR_TEXTS = ('Cannot init', 'No probed ethernet devices', 'Cannot set up DMA remapping',
                'Fail to ', 'Failed to ', 'Cause:', 'Error - exiting', 'PANIC', 'Segmentation fault',
                'Illegal instruction', 'Bus error', 'error while loading shared libraries')
_EAL_ERROR = re.compile(r'\b(error|cannot|fatal|unable|failed|fail to|invalid|not supported|no such)\b', re.IGNORECASE)
# EAL lines with error-like words that are harmless: a node without hugepages of one
# size on a multi-node host, or what EAL prints while unregistering after another error.
_EAL_BENIGN = (re.compile(r'No (free|available) .*hugepages reported', re.IGNORECASE),
               re.compile(r'Unregistering with invalid input parameter'))

FORWARD_MODES_RX_ONLY = ('rxonly',)
FORWARD_MODES_TX_ONLY = ('txonly', 'flowgen')

# Counters of the forward statistics blocks, as testpmd prints them, to our keys.
_FWD_KEYS = {'RX-packets': 'rx_packets', 'RX-dropped': 'rx_dropped', 'RX-total': 'rx_total',
             'TX-packets': 'tx_packets', 'TX-dropped': 'tx_dropped', 'TX-total': 'tx_total',
             'RX-error': 'rx_errors', 'RX-nombufs': 'rx_nombuf', 'Bad-ipcsum': 'bad_ipcsum',
             'Bad-l4csum': 'bad_l4csum', 'Bad-outer-l4csum': 'bad_outer_l4csum'}
_NIC_KEYS = {'RX-missed': 'rx_missed', 'RX-errors': 'rx_errors', 'RX-nombuf': 'rx_nombuf',
             'TX-errors': 'tx_errors'}
_PORT_FIGURES = ('port', 'socket', 'mac', 'link', 'rx_packets', 'tx_packets', 'rx_dropped', 'tx_dropped', 'rx_missed',
                 'rx_mpps', 'tx_mpps', 'rx_pps_avg', 'tx_pps_avg')
_COUNTERS = ('rx_packets', 'rx_dropped', 'rx_total', 'tx_packets', 'tx_dropped', 'tx_total')


class InvalidTestpmdInput(ValueError):
    """Bad input to one of this file's functions (the message names the field)."""


def _timestamp(text):
    """Seconds since the epoch of a log timestamp prefix match, or None."""
    match = _TIMESTAMP.match(text)
    if not match:
        return None, text
    try:
        seconds = calendar.timegm(time.strptime(match.group(1), '%Y-%m-%dT%H:%M:%S'))
    except ValueError:
        return None, text
    if match.group(2):
        seconds += float('0.' + match.group(2))
    zone = match.group(3)
    if zone and zone != 'Z':
        sign = -1 if zone[0] == '-' else 1
        digits = zone[1:].replace(':', '')
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds, text[match.end():]


def _port(ports, number):
    return ports.setdefault(number, {'port': number, 'socket': None, 'mac': None, 'link': None, 'link_up': None})


def _is_error(line):
    if line.startswith(('EAL:', 'PCI_BUS:')):
        if any(pattern.search(line) for pattern in _EAL_BENIGN):
            return False
        return bool(_EAL_ERROR.search(line)) or any(text in line for text in _ERROR_TEXTS)
    return any(text in line for text in _ERROR_TEXTS)


def _hugepage_warning(line):
    """An EAL hugepage warning as ``{kind, size_kb, node, line}``, or None.

    kind: ``no_free`` (none free of that size on the node), ``no_available`` (none of that
    size on the host), ``not_enough_on_socket`` / ``not_enough`` (EAL could not get the
    memory asked for), ``no_hugepage_info`` (EAL found no usable hugetlbfs at all).
    """
    match = _HUGE_NO_FREE.search(line)
    if match:
        return {'kind': 'no_free', 'size_kb': int(match.group(1)), 'node': int(match.group(2)), 'line': line}
    match = _HUGE_NO_AVAILABLE.search(line)
    if match:
        return {'kind': 'no_available', 'size_kb': int(match.group(1)), 'node': None, 'line': line}
    match = _HUGE_NOT_ENOUGH.search(line)
    if match:
        return {'kind': 'not_enough_on_socket', 'size_kb': None, 'node': int(match.group(1)), 'line': line,
                'requested_mb': int(match.group(2)), 'available_mb': int(match.group(3))}
    match = _HUGE_NOT_ENOUGH_TOTAL.search(line)
    if match:
        return {'kind': 'not_enough', 'size_kb': None, 'node': None, 'line': line,
                'requested_mb': int(match.group(1)), 'available_mb': int(match.group(2))}
    if _HUGE_NO_INFO in line:
        return {'kind': 'no_hugepage_info', 'size_kb': None, 'node': None, 'line': line}
    return None


def _mpps(packets, duration):
    if not duration or packets is None:
        return None
    return round(packets / float(duration) / 1e6, 6)


def _count(section, section_port, line, ports, totals, pps_samples):
    """Counters of one line of a NIC statistics, forward statistics or accumulated block."""
    if section == 'nic':
        entry = _port(ports, section_port)
        for key, value in _KV.findall(line):
            if key in _NIC_KEYS:
                entry[_NIC_KEYS[key]] = int(value)
        for direction, value in _PPS.findall(line):
            pps_samples.setdefault(section_port, {}).setdefault(direction.lower(), []).append(int(value))
    else:
        target = _port(ports, section_port) if section == 'fwd' else totals
        for key, value in _KV.findall(line):
            if key in _FWD_KEYS:
                target[_FWD_KEYS[key]] = int(value)


def parse_testpmd_log(text, duration=None):
    """Structured facts of one testpmd run from its output.

    ``duration`` (seconds of forwarding) overrides what the log tells; without it
    the span between "start packet forwarding" and "Telling cores to stop" in a
    timestamped log is used, then the launcher's wall clock around testpmd
    (which includes EAL start-up, so packet rates are slightly low, never high).
    """
    if text is None:
        text = ''
    if isinstance(text, (list, tuple)):
        text = '\n'.join(str(line) for line in text)
    if not isinstance(text, str):
        raise InvalidTestpmdInput('testpmd_stats expects the log as a string or a list of lines, got %s' % type(text).__name__)
    if duration is not None:
        try:
            duration = float(duration)
        except (TypeError, ValueError):
            raise InvalidTestpmdInput('duration must be a number of seconds, got %r' % (duration,))
        if duration <= 0:
            raise InvalidTestpmdInput('duration must be greater than 0, got %r' % (duration,))

    ports = {}
    forward_mode = None
    link_lines = []
    errors = []
    eal_errors = []
    lcores = []
    mbuf_pools = []
    launcher = {'start': None, 'exit': None}
    sample_events = []
    eal = {'probed': [], 'probe_failed': [], 'hugepage_warnings': [], 'lcores_detected': None, 'numa_nodes_detected': None,
           'iova_mode': None}
    dpdk_version = None
    eal_init_failed = False
    rte_exit = None
    panic = None
    # The line after rte_exit's "Error - exiting" line is its cause, after "PANIC in f():" the message.
    awaiting = None
    totals = None
    stats_blocks = 0
    pps_samples = {}
    section = None
    section_port = None
    forward_started_at = None
    forward_stopped_at = None
    clean_exit = False
    forwarding_summary = None

    for raw in _ANSI.sub('\n', text.replace('\r', '')).split('\n'):
        stamp, line = _timestamp(raw)
        line = line.strip()
        if line.startswith('['):
            line = _LOG_TIMESTAMP.sub('', line, count=1)
        if line.startswith('testpmd>'):
            line = _PROMPT.sub('', line, count=1)
            if _START_COMMAND.match(line):
                forward_started_at = stamp
                continue
        if not line:
            continue
        if line.startswith(LAUNCHER_PREFIX):
            try:
                event = json.loads(line[len(LAUNCHER_PREFIX):])
            except ValueError:
                event = None
            if isinstance(event, dict) and event.get('event') in ('start', 'exit'):
                launcher[event['event']] = event
            elif isinstance(event, dict) and event.get('event') == 'sample':
                sample_events.append(event)
            continue
        if awaiting == 'cause':
            match = _CAUSE.match(line)
            rte_exit['cause'] = match.group(1) if match else line
            awaiting = None
            if _EAL_INIT_FAILED.search(rte_exit['cause']):
                eal_init_failed = True
            if not _is_error(line):
                errors.append(line)
        elif awaiting == 'panic':
            panic['message'] = line
            awaiting = None
            if not _is_error(line):
                errors.append(line)
        if _is_error(line):
            errors.append(line)
            if line.startswith(('EAL:', 'PCI_BUS:')):
                eal_errors.append(line)
        # 22.11/23.11 log EAL and PCI bus lines as "EAL:", 24.11+ the bus's as "PCI_BUS:".
        if line.startswith(('EAL:', 'PCI_BUS:', 'PANIC in')):
            if _EAL_INIT_FAILED.search(line):
                eal_init_failed = True
            match = _RTE_VERSION.search(line)
            if match:
                dpdk_version = match.group(1)
            match = _EAL_DETECTED.match(line)
            if match:
                eal['lcores_detected' if match.group(1) == 'CPU lcores' else 'numa_nodes_detected'] = int(match.group(2))
            match = _EAL_IOVA.match(line)
            if match:
                eal['iova_mode'] = match.group(1)
            match = _RTE_EXIT.match(line)
            if match:
                rte_exit, awaiting = {'code': int(match.group(1)), 'cause': None}, 'cause'
            match = _PANIC.match(line)
            if match:
                panic, awaiting = {'function': match.group(1), 'message': None}, 'panic'
            match = _PROBE.search(line)
            if match:
                eal['probed'].append({'pci': match.group(4).lower(), 'pmd': match.group(1),
                                      'id': '%s:%s' % (match.group(2).lower(), match.group(3).lower().zfill(4)),
                                      'socket': int(match.group(5))})
            match = _PROBE_FAILED.search(line)
            if match:
                eal['probe_failed'].append(match.group(1).lower())
            warning = _hugepage_warning(line)
            if warning and not any(seen['line'] == line for seen in eal['hugepage_warnings']):
                eal['hugepage_warnings'].append(warning)
        lowered = line.lower()
        if any(marker in lowered for marker in _FORWARD_START):
            forward_started_at = stamp
        if line.startswith(_FORWARD_STOP):
            forward_stopped_at = stamp
            section = None
        if line == 'Bye...':
            clean_exit = True

        # Counter lines of the statistics blocks are most of a long run's log: handle them first.
        if section and line[:3] in ('RX-', 'TX-', 'Rx-', 'Tx-'):
            _count(section, section_port, line, ports, totals, pps_samples)
            continue

        match = _SET_MODE.match(line)
        if match:
            forward_mode = match.group(1)
            continue
        match = _FWD_LINE.match(line)
        if match:
            forward_mode = match.group(1)
            forwarding_summary = {'ports': int(match.group(2)), 'cores': int(match.group(3)), 'streams': int(match.group(4))}
            continue
        match = _CONFIGURING.match(line)
        if match:
            _port(ports, int(match.group(1)))['socket'] = int(match.group(2))
            continue
        match = _PORT_MAC.match(line)
        if match:
            _port(ports, int(match.group(1)))['mac'] = match.group(2).upper()
            continue
        match = _LINK.match(line)
        if match:
            link_lines.append(line)
            entry = _port(ports, int(match.group(1)))
            entry['link'] = match.group(2)
            entry['link_up'] = match.group(3).lower() == 'up'
            continue
        if _LSC.match(line):
            link_lines.append(line)
            continue
        match = _LCORE.match(line)
        if match:
            lcores.append({'lcore': int(match.group(1)), 'socket': int(match.group(2)), 'streams': []})
            continue
        match = _STREAM.search(line)
        if match and lcores:
            lcores[-1]['streams'].append({
                'rx_port': int(match.group(1)), 'rx_queue': int(match.group(2)), 'rx_socket': int(match.group(3)),
                'tx_port': int(match.group(4)), 'tx_queue': int(match.group(5)), 'tx_socket': int(match.group(6)),
                'peer': match.group(7)})
            continue
        match = _MBUF_POOL.search(line)
        if match:
            mbuf_pools.append({'name': match.group(1), 'count': int(match.group(2)), 'size': int(match.group(3)),
                               'socket': int(match.group(4))})
            continue
        if line.startswith('Port statistics ='):
            stats_blocks += 1
            continue
        match = _NIC_STATS.search(line)
        if match:
            section, section_port = 'nic', int(match.group(1))
            continue
        match = _FWD_STATS.search(line)
        if match:
            section, section_port = 'fwd', int(match.group(1))
            continue
        if _ACCUMULATED in line:
            section, section_port = 'total', None
            totals = {}
            continue
        if _RULE.match(line):
            section = None
            continue
        if section:
            _count(section, section_port, line, ports, totals, pps_samples)

    duration_source = None
    if duration is not None:
        duration_source = 'argument'
    elif forward_started_at is not None and forward_stopped_at is not None and forward_stopped_at - forward_started_at >= 0.5:
        duration, duration_source = round(forward_stopped_at - forward_started_at, 3), 'log_timestamps'
    elif launcher['exit'] and isinstance(launcher['exit'].get('elapsed_s'), (int, float)) and launcher['exit']['elapsed_s'] > 0:
        duration, duration_source = float(launcher['exit']['elapsed_s']), 'launcher'

    port_list = []
    for number in sorted(ports):
        entry = ports[number]
        for key in _COUNTERS:
            entry.setdefault(key, None)
        entry['rx_mpps'] = _mpps(entry['rx_packets'], duration)
        entry['tx_mpps'] = _mpps(entry['tx_packets'], duration)
        samples = pps_samples.get(number, {})
        for direction in ('rx', 'tx'):
            # The first sample of a run covers no interval ("since last show"): skip it.
            values = samples.get(direction, [])[1:]
            entry[direction + '_pps_avg'] = int(sum(values) / len(values)) if values else None
        port_list.append(entry)

    if totals is not None:
        for key in _COUNTERS:
            totals.setdefault(key, 0)
        totals['rx_mpps'] = _mpps(totals['rx_packets'], duration)
        totals['tx_mpps'] = _mpps(totals['tx_packets'], duration)
        rates = [rate for rate in (totals['rx_mpps'], totals['tx_mpps']) if rate is not None]
        totals['mpps'] = max(rates) if rates else None

    stats = {
        'forward_mode': forward_mode,
        'forwarding': forwarding_summary,
        'ports': port_list,
        'totals': totals,
        'has_totals': totals is not None,
        'link_lines': link_lines,
        'errors': errors,
        'eal_errors': eal_errors,
        'lcores': lcores,
        'mbuf_pools': mbuf_pools,
        'stats_blocks': stats_blocks,
        'clean_exit': clean_exit,
        'duration': duration,
        'duration_source': duration_source,
        'pod': launcher['start'],
        'pod_samples': sample_events,
        'exit': launcher['exit'],
        'dpdk_version': dpdk_version or _launcher_version(launcher['start']),
        'eal_init_failed': eal_init_failed,
        'rte_exit': rte_exit,
        'panic': panic,
        'eal': eal,
    }
    stats['numa'] = numa_check(stats)
    return stats


def _launcher_version(start):
    version = (start or {}).get('dpdk_version')
    if isinstance(version, str) and version.strip():
        return re.sub(r'^DPDK ', '', version.strip())
    return None


def _nodes_of_cpus(pod):
    nodes = {}
    for cpu, node in ((pod or {}).get('cpu_nodes') or {}).items():
        try:
            nodes[int(cpu)] = int(node)
        except (TypeError, ValueError):
            continue
    return nodes


def numa_check(stats):
    """Whether forwarding cores, ports, mbuf pools and the pod's NICs share NUMA nodes.

    Checks (each only with the data at hand; socket/node -1 means "unknown" and is skipped):
    every stream's lcore socket equals its RX and TX port's socket; every mbuf pool is
    on a socket of some port; every NIC the pod got has a CPU of the pod on its node.
    ``aligned`` is None when nothing could be checked.
    """
    mismatches = []
    checks = 0
    for lcore in stats.get('lcores') or []:
        for stream in lcore['streams']:
            sockets = {'lcore %d' % lcore['lcore']: lcore['socket'],
                       'RX port %d' % stream['rx_port']: stream['rx_socket'],
                       'TX port %d' % stream['tx_port']: stream['tx_socket']}
            known = dict((name, socket) for name, socket in sockets.items() if socket is not None and socket >= 0)
            if len(known) < 2:
                continue
            checks += 1
            if len(set(known.values())) > 1:
                mismatches.append('stream P%d->P%d: %s' % (stream['rx_port'], stream['tx_port'], ', '.join(
                    '%s on node %d' % (name, known[name]) for name in sorted(known))))
    port_sockets = set(port['socket'] for port in stats.get('ports') or [] if port.get('socket') is not None and port['socket'] >= 0)
    for pool in stats.get('mbuf_pools') or []:
        if pool['socket'] < 0 or not port_sockets:
            continue
        checks += 1
        if pool['socket'] not in port_sockets:
            mismatches.append('mbuf pool %s (hugepage memory) on node %d, ports on node(s) %s' % (
                pool['name'], pool['socket'], ','.join(str(s) for s in sorted(port_sockets))))
    pod = stats.get('pod') or {}
    cpu_nodes = _nodes_of_cpus(pod)
    pod_nodes = set(cpu_nodes.values())
    nic_nodes = {}
    for nic in pod.get('nics') or []:
        try:
            node = int(nic.get('numa_node'))
        except (TypeError, ValueError):
            continue
        nic_nodes[nic.get('pci')] = node
        if node < 0 or not pod_nodes:
            continue
        checks += 1
        if node not in pod_nodes:
            mismatches.append('NIC %s on node %d, pod CPUs %s on node(s) %s' % (
                nic.get('pci'), node, pod.get('cpus'), ','.join(str(n) for n in sorted(pod_nodes))))
    return {
        'aligned': (not mismatches) if checks else None,
        'checks': checks,
        'mismatches': mismatches,
        'cpu_nodes': dict((str(cpu), node) for cpu, node in sorted(cpu_nodes.items())),
        'nic_nodes': nic_nodes,
        'lcore_sockets': dict((str(lcore['lcore']), lcore['socket']) for lcore in stats.get('lcores') or []),
        'port_sockets': dict((str(port['port']), port['socket']) for port in stats.get('ports') or []),
        'mbuf_pool_sockets': sorted(set(pool['socket'] for pool in stats.get('mbuf_pools') or [])),
        'hugepages': pod.get('hugepages'),
    }


def _number(name, value, minimum=0.0):
    if isinstance(value, bool):
        raise InvalidTestpmdInput('%s must be a number, got %r' % (name, value))
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InvalidTestpmdInput('%s must be a number, got %r' % (name, value))
    if value < minimum:
        raise InvalidTestpmdInput('%s must be at least %s, got %s' % (name, minimum, value))
    return value


def _ratio(dropped, total):
    return (dropped / float(total)) if total else 0.0


def _optional(value):
    """None for an option not given; ansible-core before 2.19 renders a None template as ''."""
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _node_number(name, value):
    """A NUMA node number of a launcher fact: 1, "1" or "node1"; None when it is not one."""
    if isinstance(value, bool):
        return None
    text = str(value).strip()
    if text.startswith('node'):
        text = text[4:]
    try:
        return int(text)
    except ValueError:
        return None


def _size_kb(key):
    match = re.match(r'^(\d+)kB$', str(key))
    return int(match.group(1)) if match else None


def _free_pages(hugepages, node):
    """``{size_kb: free}`` of one node in the launcher's hugepages form, or None when the node is absent."""
    if not isinstance(hugepages, dict):
        return None
    for key, pools in hugepages.items():
        if _node_number('hugepages', key) == node and isinstance(pools, dict):
            free = {}
            for size, counts in pools.items():
                if _size_kb(size) is not None and isinstance(counts, dict) and isinstance(counts.get('free'), int):
                    free[_size_kb(size)] = {'free': counts['free'], 'total': counts.get('total')}
            return free
    return None


def _placement_inputs(expected_numa_node, isolated_cpus, cpu_request, expected_pmd):
    expected_numa_node = _optional(expected_numa_node)
    if expected_numa_node is not None:
        expected_numa_node = _int('expected_numa_node', expected_numa_node, 0, 1023)
    isolated_cpus = _optional(isolated_cpus)
    if isolated_cpus is not None:
        try:
            isolated = CpuSet.parse(isolated_cpus)
        except CpuSetError as exc:
            raise InvalidTestpmdInput('isolated_cpus must be a cpu-list such as 1,3 or 2-5: %s' % exc)
        if not isolated:
            raise InvalidTestpmdInput('isolated_cpus must name at least one CPU (a cpu-list such as 1,3), got %r' % (isolated_cpus,))
        isolated_cpus = isolated
    cpu_request = _optional(cpu_request)
    if cpu_request is not None:
        cpu_request = _int('cpu_request', cpu_request, 1, 1024)
    expected_pmd = _optional(expected_pmd)
    if expected_pmd is not None and (not isinstance(expected_pmd, str) or not re.match(r'^[A-Za-z0-9_]+$', expected_pmd.strip())):
        raise InvalidTestpmdInput('expected_pmd must be a DPDK PCI driver name as EAL prints it, such as net_e1000_igb_vf '
                                  'or net_iavf, got %r' % (expected_pmd,))
    return expected_numa_node, isolated_cpus, cpu_request, expected_pmd.strip() if expected_pmd else None


def _nodes_text(nodes):
    return ','.join(str(node) for node in sorted(nodes)) or 'none'


def placement_check(stats, expected_numa_node=None, isolated_cpus=None, cpu_request=None, expected_pmd=None):
    """Where the pod ran, from the launcher's facts and EAL's log, and every reason it is not NUMA-aligned.

    The checks of the strictest DPDK conformance suites, and more: every CPU of the pod
    (the cgroup's ``cpuset.cpus.effective`` when the launcher printed it, else its affinity)
    on one NUMA node, equal to ``expected_numa_node`` (default: the one node of the pod's
    NICs) and to every NIC's node; the CPU count equal to ``cpu_request``; the CPUs inside
    ``isolated_cpus``; every NIC probed by EAL (by ``expected_pmd`` when given) on that
    node; testpmd's lcores, ports and mbuf pools on it; no EAL hugepage warning that
    concerns it; EAL asked for hugepage memory (``socket_mem``) on that node only, and in
    some ``sample`` event printed while testpmd ran the node's free hugepages had dropped,
    from the ``start`` event, by exactly that memory in pages of the pool's size.
    Inputs are checked by ``testpmd_verdict``; this returns the facts with ``reasons``.
    """
    reasons = []
    pod = stats.get('pod') or {}
    eal = stats.get('eal') or {}
    facts = {'checked': True, 'expected_numa_node': expected_numa_node,
             'expected_numa_node_source': 'argument' if expected_numa_node is not None else None,
             'cgroup_cpus': None, 'cpus_source': None, 'cpu_count': None, 'cpu_request': cpu_request, 'cpus_node': None,
             'cpu_nodes': {}, 'isolated_cpus': isolated_cpus.format() if isolated_cpus is not None else None,
             'cpus_outside_isolated': None, 'nic_nodes': {}, 'probed': eal.get('probed') or [], 'expected_pmd': expected_pmd,
             'lcore_sockets': {}, 'port_sockets': {}, 'mbuf_pool_sockets': [], 'socket_mem': None, 'hugepage_node': None,
             'hugepage_size_kb': None, 'hugepages_free_before': None, 'hugepages_free_during': [],
             'hugepages_taken_pages': None, 'hugepages_expected_pages': None, 'samples': len(stats.get('pod_samples') or []),
             'hugepage_warnings': [], 'hugepage_warnings_ignored': [], 'reasons': reasons}
    if not pod:
        reasons.append('placement: the log holds no launcher start event (nfv.dpdk.testpmd: {"event": "start", ...}), '
                       'so where the pod ran is unknown')
        return facts

    # The pod's CPUs and their nodes.
    cpu_text, source = pod.get('cgroup_cpus'), 'cgroup_cpus'
    if cpu_text in (None, ''):
        cpu_text, source = pod.get('cpus'), 'cpus'
    facts['cgroup_cpus'], facts['cpus_source'] = cpu_text, source
    try:
        cpus = CpuSet.parse(cpu_text if isinstance(cpu_text, str) else None)
    except CpuSetError:
        cpus = CpuSet()
    if not cpus:
        reasons.append('placement: the launcher reported no usable cpuset (%s=%r)' % (source, cpu_text))
    facts['cpu_count'] = len(cpus) if cpus else None
    cpu_nodes = _nodes_of_cpus(pod)
    facts['cpu_nodes'] = dict((str(cpu), cpu_nodes.get(cpu)) for cpu in cpus.sorted())
    unknown = [cpu for cpu in cpus.sorted() if cpu_nodes.get(cpu) is None or cpu_nodes[cpu] < 0]
    if unknown:
        reasons.append('placement: NUMA node of pod CPU(s) %s unknown (launcher cpu_nodes %s)' % (
            CpuSet(unknown).format(), pod.get('cpu_nodes')))
    cpus_nodes = set(cpu_nodes[cpu] for cpu in cpus if cpu_nodes.get(cpu) is not None and cpu_nodes[cpu] >= 0)
    cpus_node = None
    if len(cpus_nodes) == 1 and not unknown:
        cpus_node = facts['cpus_node'] = next(iter(cpus_nodes))
    elif len(cpus_nodes) > 1:
        reasons.append('placement: pod CPUs %s (%s) are on NUMA nodes %s, not on one node' % (
            cpus.format(), source, _nodes_text(cpus_nodes)))

    # The pod's NICs and the node they fix.
    nic_nodes = {}
    for nic in pod.get('nics') or []:
        if isinstance(nic, dict) and nic.get('pci'):
            nic_nodes[str(nic['pci']).lower()] = _node_number('numa_node', nic.get('numa_node'))
    facts['nic_nodes'] = nic_nodes
    if not nic_nodes:
        reasons.append('placement: the launcher reported no PCI NIC in the pod (nics is empty): there is no VF to align with')
    for pci, node in sorted(nic_nodes.items()):
        if node is None or node < 0:
            reasons.append('placement: NIC %s has no NUMA node (sysfs numa_node %s)' % (pci, node))
    known_nic_nodes = set(node for node in nic_nodes.values() if node is not None and node >= 0)
    if expected_numa_node is None:
        if len(known_nic_nodes) == 1:
            expected_numa_node = next(iter(known_nic_nodes))
            facts['expected_numa_node'], facts['expected_numa_node_source'] = expected_numa_node, 'nics'
        elif len(known_nic_nodes) > 1:
            reasons.append('placement: the pod\'s NICs are on NUMA nodes %s; one pod must have NICs of one node '
                           '(or give expected_numa_node)' % _nodes_text(known_nic_nodes))
    expected = expected_numa_node
    if expected is not None:
        if cpus_node is not None and cpus_node != expected:
            reasons.append('placement: pod CPUs %s are on NUMA node %d, expected node %d' % (cpus.format(), cpus_node, expected))
        for pci, node in sorted(nic_nodes.items()):
            if node is not None and node >= 0 and node != expected:
                reasons.append('placement: NIC %s is on NUMA node %d, expected node %d' % (pci, node, expected))

    # The cgroup against the request and the isolated CPUs.
    if cpus and cpu_request is not None and len(cpus) != cpu_request:
        reasons.append('placement: the cgroup cpuset %s holds %d CPU(s), cpu_request is %d' % (cpus.format(), len(cpus), cpu_request))
    if cpus and isolated_cpus is not None:
        outside = cpus - isolated_cpus
        facts['cpus_outside_isolated'] = outside.format()
        if outside:
            reasons.append('placement: pod CPU(s) %s are not in isolated_cpus %s' % (outside.format(), isolated_cpus.format()))

    # EAL's probe of each NIC.
    probes = {}
    for probe in eal.get('probed') or []:
        probes.setdefault(probe['pci'], []).append(probe)
    failed = set(eal.get('probe_failed') or [])
    for pci in sorted(nic_nodes):
        found = probes.get(pci)
        if not found:
            reasons.append('placement: NIC %s was not probed by EAL (no "Probe PCI driver: ... device: %s" line)' % (pci, pci))
            continue
        if pci in failed:
            reasons.append('placement: EAL could not use NIC %s (Requested device %s cannot be used)' % (pci, pci))
        for probe in found:
            if expected_pmd is not None and probe['pmd'] != expected_pmd:
                reasons.append('placement: NIC %s was probed by %s, expected_pmd is %s' % (pci, probe['pmd'], expected_pmd))
            if expected is not None and probe['socket'] >= 0 and probe['socket'] != expected:
                reasons.append('placement: EAL probed NIC %s on socket %d, expected node %d' % (pci, probe['socket'], expected))

    # testpmd's own view: forwarding lcores, ports and mbuf pools.
    facts['lcore_sockets'] = dict((str(lcore['lcore']), lcore['socket']) for lcore in stats.get('lcores') or [])
    facts['port_sockets'] = dict((str(port['port']), port['socket']) for port in stats.get('ports') or [] if port.get('socket') is not None)
    facts['mbuf_pool_sockets'] = sorted(set(pool['socket'] for pool in stats.get('mbuf_pools') or []))
    if expected is not None:
        for what, sockets in (('forwarding lcore', facts['lcore_sockets']), ('port', facts['port_sockets'])):
            for name, socket in sorted(sockets.items()):
                if socket >= 0 and socket != expected:
                    reasons.append('placement: testpmd %s %s is on socket %d, expected node %d' % (what, name, socket, expected))
        for pool in stats.get('mbuf_pools') or []:
            if pool['socket'] >= 0 and pool['socket'] != expected:
                reasons.append('placement: mbuf pool %s is on socket %d, expected node %d' % (pool['name'], pool['socket'], expected))

    # Hugepages: what EAL was asked for, and what the node's free count says it took.
    socket_mem = pod.get('socket_mem')
    asked = {}
    if isinstance(socket_mem, dict):
        for key, mib in socket_mem.items():
            node = _node_number('socket_mem', key)
            if node is not None and isinstance(mib, int) and not isinstance(mib, bool):
                asked[node] = mib
    facts['socket_mem'] = dict((str(node), mib) for node, mib in sorted(asked.items())) if asked else socket_mem
    if not asked:
        reasons.append('placement: the launcher did not report socket_mem (the MiB of hugepages asked of EAL per node), '
                       'so the hugepages the pod took cannot be checked')
    memory_nodes = set(node for node, mib in asked.items() if mib > 0)
    if len(memory_nodes) == 1:
        facts['hugepage_node'] = next(iter(memory_nodes))
    if asked and expected is not None and memory_nodes != set([expected]):
        reasons.append('placement: EAL was asked for hugepage memory on NUMA node(s) %s (socket_mem %s), expected only node %d' % (
            _nodes_text(memory_nodes), facts['socket_mem'], expected))
    pool_size = None
    samples = [sample for sample in stats.get('pod_samples') or [] if isinstance(sample, dict)]
    if expected is not None:
        before = _free_pages(pod.get('hugepages'), expected)
        if before is None:
            reasons.append('placement: the launcher start event has no hugepages of node %d (hugepages %s)' % (expected, pod.get('hugepages')))
            before = {}
        sizes = [size for size in sorted(before) if before[size].get('total')] or sorted(before)
        facts['hugepages_free_before'] = dict(('%dkB' % size, before[size]['free']) for size in sizes)
        during = []
        for sample in samples:
            free = _free_pages(sample.get('hugepages'), expected) or {}
            during.append(dict(('%dkB' % size, free[size]['free']) for size in sizes if size in free))
        facts['hugepages_free_during'] = during
        mib = asked.get(expected)
        if not samples:
            reasons.append('placement: the launcher printed no sample event while testpmd ran, so the drop of free hugepages '
                           'on node %d cannot be checked' % expected)
        elif mib and sizes:
            # The pool's page size is the one whose free count fell by socket_mem in its pages.
            best = None
            for size in sizes:
                if (mib * 1024) % size:
                    continue
                want = mib * 1024 // size
                drops = [before[size]['free'] - sample['%dkB' % size] for sample in during if '%dkB' % size in sample]
                if want in drops:
                    best = (size, want, want)
                    break
                if drops and (best is None or max(drops) > best[2]):
                    best = (size, want, max(drops))
            if best is None:
                size = sizes[0]
                best = (size, (mib * 1024) // size if not (mib * 1024) % size else None, None)
            pool_size, facts['hugepages_expected_pages'], facts['hugepages_taken_pages'] = best
            facts['hugepage_size_kb'] = pool_size
            if best[1] is None or best[1] != best[2]:
                reasons.append('placement: free hugepages on node %d never dropped by socket_mem %d MiB (%s pages of %d kB) in the '
                               '%d sample(s) during the run: free before %s, during %s' % (
                                   expected, mib, best[1], pool_size, len(samples), facts['hugepages_free_before'], during))

    # EAL hugepage warnings that concern the pod's node or its pool (others are the norm on a multi-node host).
    for warning in eal.get('hugepage_warnings') or []:
        relevant = (warning['kind'] in ('no_hugepage_info', 'not_enough')
                    or (warning['node'] is not None and (expected is None or warning['node'] == expected))
                    or (warning['kind'] == 'no_available' and (pool_size is None or warning['size_kb'] == pool_size)))
        facts['hugepage_warnings' if relevant else 'hugepage_warnings_ignored'].append(warning['line'])
        if relevant:
            reasons.append('placement: EAL hugepage warning: %s' % warning['line'])
    return facts


def _exit_code(value):
    if value is None or isinstance(value, bool) or str(value).strip() in ('', 'unknown', 'None'):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidTestpmdInput('exit_code must be the container exit code (an integer), got %r' % (value,))


def testpmd_verdict(stats, min_mpps=0.0, max_drop_ratio=0.0, require_numa_alignment=False, min_packets=1,
                    require_rx=None, require_tx=None, exit_code=None, require_placement=False, expected_numa_node=None,
                    isolated_cpus=None, cpu_request=None, expected_pmd=None, peer_tx_packets=None, rx_margin=0.1):
    """Pass or fail a run: ``{'passed': bool, 'reasons': [...], 'figures': {...}, 'placement': {...}, 'thresholds': {...}}``.

    ``require_rx``/``require_tx`` default from the forward mode: rxonly sends nothing,
    txonly/flowgen receive nothing; every other mode must do both, on every port.
    The drop ratio is the worse of RX (dropped or missed / offered) and TX (dropped / attempted),
    each counted only when that direction is required: a txonly port does not read what a
    peer sends it, so the NIC counts all of it as missed.
    ``peer_tx_packets`` (what the other end sent) requires total RX of at least
    ``(1 - rx_margin) * peer_tx_packets``. ``require_placement`` adds ``placement_check``.
    """
    if not isinstance(stats, dict) or 'has_totals' not in stats:
        raise InvalidTestpmdInput('testpmd_verdict expects the output of testpmd_stats, got %s' % type(stats).__name__)
    min_mpps = _number('min_mpps', min_mpps)
    max_drop_ratio = _number('max_drop_ratio', max_drop_ratio)
    if max_drop_ratio > 1:
        raise InvalidTestpmdInput('max_drop_ratio is a fraction between 0 and 1, got %s' % max_drop_ratio)
    min_packets = int(_number('min_packets', min_packets, 1))
    if not isinstance(require_placement, bool):
        raise InvalidTestpmdInput('require_placement must be a boolean, got %r' % (require_placement,))
    placement_inputs = _placement_inputs(expected_numa_node, isolated_cpus, cpu_request, expected_pmd)
    peer_tx_packets = _optional(peer_tx_packets)
    if peer_tx_packets is not None:
        peer_tx_packets = _int('peer_tx_packets', peer_tx_packets, 0)
    rx_margin = _number('rx_margin', 0.1 if _optional(rx_margin) is None else rx_margin)
    if rx_margin >= 1:
        raise InvalidTestpmdInput('rx_margin is a fraction between 0 and 1 (0.1 accepts 10%% fewer packets than the peer sent), '
                                  'got %s' % rx_margin)
    mode = stats.get('forward_mode')
    if require_rx is None:
        require_rx = mode not in FORWARD_MODES_TX_ONLY
    if require_tx is None:
        require_tx = mode not in FORWARD_MODES_RX_ONLY

    reasons = []
    for line in stats.get('errors') or []:
        reasons.append('error in the log: %s' % line)
    exit_info = stats.get('exit') or {}
    if 'rc' in exit_info and exit_info['rc'] not in (0, 124):
        reasons.append('testpmd exited with code %s (0, or 124 when stopped by timeout, expected)' % exit_info['rc'])
    container_rc = _exit_code(exit_code)
    if container_rc:
        if 'rc' not in exit_info:
            reasons.append('the container exited with code %d before the launcher reported an exit (killed, out of memory, '
                           'or an image without the launcher)' % container_rc)
        elif exit_info['rc'] in (0, 124):
            reasons.append('the container exited with code %d' % container_rc)
    ports = stats.get('ports') or []
    totals = stats.get('totals') or {}
    if not stats.get('has_totals'):
        reasons.append('no "Accumulated forward statistics" in the log: testpmd never forwarded or did not stop cleanly')
    if stats.get('has_totals') and not ports:
        reasons.append('no ethernet port took part in forwarding')
    for port in ports:
        if port.get('link_up') is False:
            reasons.append('port %d link is down: %s' % (port['port'], port.get('link')))
    if stats.get('has_totals'):
        if require_rx and (totals.get('rx_packets') or 0) < min_packets:
            reasons.append('received %d packets in total (at least %d required in %s mode)' % (
                totals.get('rx_packets') or 0, min_packets, mode))
        if require_tx and (totals.get('tx_packets') or 0) < min_packets:
            reasons.append('sent %d packets in total (at least %d required in %s mode)' % (
                totals.get('tx_packets') or 0, min_packets, mode))
        for port in ports:
            if port.get('rx_packets') is None:
                continue
            if require_rx and port['rx_packets'] < min_packets and (totals.get('rx_packets') or 0) >= min_packets:
                reasons.append('port %d received %d packets' % (port['port'], port['rx_packets']))
            if require_tx and (port.get('tx_packets') or 0) < min_packets and (totals.get('tx_packets') or 0) >= min_packets:
                reasons.append('port %d sent %d packets' % (port['port'], port.get('tx_packets') or 0))

    rx_missed = sum(port.get('rx_missed') or 0 for port in ports)
    rx_lost = max(totals.get('rx_dropped') or 0, rx_missed)
    rx_ratio = round(_ratio(rx_lost, (totals.get('rx_packets') or 0) + rx_lost), 9)
    tx_ratio = round(_ratio(totals.get('tx_dropped') or 0, (totals.get('tx_packets') or 0) + (totals.get('tx_dropped') or 0)), 9)
    drop_ratio = max([ratio for ratio, required in ((rx_ratio, require_rx), (tx_ratio, require_tx)) if required] or [0.0])
    if stats.get('has_totals') and drop_ratio > max_drop_ratio:
        reasons.append('drop ratio %.6f is above max_drop_ratio %s (RX lost %d, TX dropped %d)' % (
            drop_ratio, max_drop_ratio, rx_lost if require_rx else 0, (totals.get('tx_dropped') or 0) if require_tx else 0))
    if peer_tx_packets is not None and stats.get('has_totals'):
        floor = (1 - rx_margin) * peer_tx_packets
        if (totals.get('rx_packets') or 0) < floor:
            reasons.append('received %d packets in total, under (1 - rx_margin %s) x %d packets the peer sent = %d' % (
                totals.get('rx_packets') or 0, rx_margin, peer_tx_packets, int(floor)))

    mpps = totals.get('mpps')
    if min_mpps > 0:
        if mpps is None:
            reasons.append('min_mpps %s set but the run duration is unknown, so no rate can be computed' % min_mpps)
        elif mpps < min_mpps:
            reasons.append('%.3f Mpps is under min_mpps %s' % (mpps, min_mpps))

    numa = stats.get('numa') or numa_check(stats)
    if require_numa_alignment:
        if numa.get('aligned') is None:
            reasons.append('NUMA alignment required but the log holds no NUMA placement to check')
        elif not numa['aligned']:
            reasons.extend('NUMA mismatch: %s' % text for text in numa['mismatches'])

    if require_placement:
        placement = placement_check(stats, *placement_inputs)
        reasons.extend(placement['reasons'])
    else:
        placement = {'checked': False}

    figures = {
        'forward_mode': mode,
        'duration': stats.get('duration'),
        'duration_source': stats.get('duration_source'),
        'rx_packets': totals.get('rx_packets'),
        'tx_packets': totals.get('tx_packets'),
        'rx_dropped': totals.get('rx_dropped'),
        'tx_dropped': totals.get('tx_dropped'),
        'rx_missed': rx_missed,
        'drop_ratio': drop_ratio,
        'rx_drop_ratio': rx_ratio,
        'tx_drop_ratio': tx_ratio,
        'peer_tx_packets': peer_tx_packets,
        'dpdk_version': stats.get('dpdk_version'),
        'rx_mpps': totals.get('rx_mpps'),
        'tx_mpps': totals.get('tx_mpps'),
        'mpps': mpps,
        'numa_aligned': numa.get('aligned'),
        'numa_mismatches': numa.get('mismatches', []),
        'ports': [dict((key, port.get(key)) for key in _PORT_FIGURES) for port in ports],
    }
    return {
        'passed': not reasons,
        'reasons': reasons,
        'figures': figures,
        'summary': summary_lines(figures, not reasons, placement),
        'placement': placement,
        'exit_code': container_rc,
        'thresholds': {'min_mpps': min_mpps, 'max_drop_ratio': max_drop_ratio, 'min_packets': min_packets,
                       'require_numa_alignment': bool(require_numa_alignment), 'require_rx': bool(require_rx),
                       'require_tx': bool(require_tx), 'require_placement': require_placement,
                       'expected_numa_node': placement.get('expected_numa_node', placement_inputs[0]),
                       'isolated_cpus': placement_inputs[1].format() if placement_inputs[1] is not None else None,
                       'cpu_request': placement_inputs[2], 'expected_pmd': placement_inputs[3],
                       'peer_tx_packets': peer_tx_packets, 'rx_margin': rx_margin},
    }


def _rate(value):
    return 'n/a' if value is None else '%.3f' % value


def summary_lines(figures, passed, placement=None):
    """Human-readable lines of a verdict's figures: one per port, the total, NUMA, placement."""
    lines = []
    for port in figures.get('ports') or []:
        lines.append('port %s: RX %s packets (%s Mpps), TX %s packets (%s Mpps), RX dropped %s, TX dropped %s, RX missed %s' % (
            port.get('port'), port.get('rx_packets'), _rate(port.get('rx_mpps')), port.get('tx_packets'),
            _rate(port.get('tx_mpps')), port.get('rx_dropped'), port.get('tx_dropped'), port.get('rx_missed')))
    duration = figures.get('duration')
    lines.append('total: RX %s packets, TX %s packets, %s Mpps over %s s (%s), drop ratio %s' % (
        figures.get('rx_packets'), figures.get('tx_packets'), _rate(figures.get('mpps')),
        'n/a' if duration is None else '%.3f' % duration, figures.get('duration_source') or 'unknown duration',
        figures.get('drop_ratio')))
    aligned = figures.get('numa_aligned')
    lines.append('NUMA: %s' % ('aligned' if aligned else 'not checked (no placement in the log)' if aligned is None
                               else 'NOT aligned: ' + '; '.join(figures.get('numa_mismatches') or [])))
    if placement and placement.get('checked'):
        lines.append('placement: node %s (%s); CPUs %s (%s) on node %s, %s CPU(s) for a request of %s, outside isolated %s: %s' % (
            placement.get('expected_numa_node'), placement.get('expected_numa_node_source') or 'unknown',
            placement.get('cgroup_cpus'), placement.get('cpus_source'), placement.get('cpus_node'), placement.get('cpu_count'),
            placement.get('cpu_request'), placement.get('isolated_cpus'), placement.get('cpus_outside_isolated') or 'none'))
        lines.append('placement: NICs %s; probed %s' % (
            ', '.join('%s on node %s' % item for item in sorted(placement.get('nic_nodes', {}).items())) or 'none',
            ', '.join('%s by %s (socket %s)' % (probe['pci'], probe['pmd'], probe['socket']) for probe in placement.get('probed') or [])
            or 'nothing'))
        socket_mem = placement.get('socket_mem')
        if isinstance(socket_mem, dict):
            socket_mem = ', '.join('%s MiB on node %s' % (mib, node) for node, mib in sorted(socket_mem.items()))
        lines.append('placement: hugepages on node %s, socket_mem %s, %s of %s expected pages of %s kB taken (%d sample(s)), '
                     'hugepage warnings: %s' % (
                         placement.get('hugepage_node'), socket_mem or 'not reported', placement.get('hugepages_taken_pages'),
                         placement.get('hugepages_expected_pages'), placement.get('hugepage_size_kb'), placement.get('samples') or 0,
                         '; '.join(placement.get('hugepage_warnings') or []) or 'none'))
        lines.append('placement: %s' % ('ALIGNED' if not placement.get('reasons') else
                                        'NOT aligned (%d reason(s))' % len(placement['reasons'])))
    if figures.get('peer_tx_packets') is not None:
        lines.append('peer: sent %s packets, received %s' % (figures['peer_tx_packets'], figures.get('rx_packets')))
    lines.append('verdict: %s (%s mode)' % ('PASSED' if passed else 'FAILED', figures.get('forward_mode')))
    return lines


# ---------------------------------------------------------------------------
# The Pod
# ---------------------------------------------------------------------------

FORWARD_MODES = ('io', 'mac', 'macswap', 'flowgen', 'rxonly', 'txonly', 'csum', 'icmpecho', '5tuple')
HUGEPAGE_SIZES = ('2Mi', '1Gi')
_QUANTITY = re.compile(r'^([0-9]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$')
_UNITS = {None: 1, 'k': 1000, 'M': 1000 ** 2, 'G': 1000 ** 3, 'T': 1000 ** 4,
          'Ki': 1024, 'Mi': 1024 ** 2, 'Gi': 1024 ** 3, 'Ti': 1024 ** 4}
_DNS_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$')
_DNS_SUBDOMAIN = re.compile(r'^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$')
_RESOURCE = re.compile(r'^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$')
_MAC = re.compile(r'^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$')
_PCI = re.compile(r'^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$')
_VDEV = re.compile(r'^net_[a-z_]+[0-9]+(,[^;\s]+)?$')
_NAME_SUFFIX = re.compile(r'^-[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$')
HUGEPAGES_MOUNT = '/dev/hugepages'
LAUNCHER = '/usr/local/bin/testpmd-launcher'
# Where a pod with a start barrier sees the node's barrier directory, and the file its launcher waits for.
START_BARRIER_MOUNT = '/run/nfv-dpdk/start'
START_BARRIER_FILE = START_BARRIER_MOUNT + '/go'
# Next to it, the forward barrier: each launcher holds testpmd at its prompt after EAL init, writes
# <hostname>.initialised, and starts forwarding once this file exists (the role creates it when every
# pod's initialised file is there), so that the pods forward together whatever their EAL init took.
FORWARD_BARRIER_FILE = START_BARRIER_MOUNT + '/forward'

POD_NAME_PREFIX = 'testpmd'

POD_DEFAULTS = {
    'name': None,
    'node_name': None,
    'namespace': 'default',
    'image': 'localhost/nfv-dpdk-testpmd:latest',
    'image_pull_policy': 'IfNotPresent',
    'cpus': 2,
    'memory': '1Gi',
    'hugepage_size': '2Mi',
    'hugepages': '1Gi',
    'sriov_resource': 'intel.com/intel_sriov_dpdk',
    'sriov_count': 0,
    'networks': [],
    'node_selector': {},
    'vdevs': [],
    'forward_mode': 'io',
    'duration': 10,
    'stats_period': 1,
    'eth_peers': [],
    'tx_first': True,
    'total_num_mbufs': 16384,
    'extra_eal_args': [],
    'extra_testpmd_args': [],
    'labels': {},
    'active_deadline_seconds': None,
    # NUMA node the pod's hugepages must come from (the launcher passes EAL --socket-mem there
    # and 0 elsewhere); None lets EAL choose.
    'numa_node': None,
    # The CPUs the pod is meant to get (a cpu-list, e.g. a node plan's proof pod CPUs): sets cpus to
    # their count; the CPU manager (kubernetes) or the role's cpuset (podman) places the pod on them.
    'cpuset': None,
    # Appended to the default name (testpmd-<node><suffix>), so that several pods of one node differ.
    'name_suffix': '',
    # A directory on the node (a hostPath volume) shared by pods that must forward at the same time:
    # each launcher writes <pod hostname>.ready there and starts testpmd once the file "go" exists.
    'start_barrier_dir': None,
    # Seconds a launcher waits for that file before it fails.
    'start_timeout': 300,
}


def pod_name_for_node(node_name, prefix=POD_NAME_PREFIX, suffix=''):
    """``<prefix>-<node><suffix>`` as a DNS label (RFC 1123, at most 63 characters), one per node.

    Characters a label cannot hold (dots of an FQDN node name, upper case, _) become ``-``;
    a name that would be longer than 63 is cut and ends with 8 hex digits of the node
    name's SHA-256 (then the suffix), so that two long node names with the same beginning
    still give two pods and the suffix (``-numa1``) is never cut off.
    """
    if not isinstance(node_name, str) or not node_name.strip():
        raise InvalidTestpmdInput('node_name must be the Kubernetes name of the node, got %r' % (node_name,))
    label = re.sub(r'-+', '-', re.sub(r'[^a-z0-9-]', '-', ('%s-%s' % (prefix, node_name.strip())).lower())).strip('-')
    if len(label) + len(suffix) > 63:
        digest = hashlib.sha256(node_name.strip().encode('utf-8')).hexdigest()[:8]
        label = label[:63 - len(digest) - 1 - len(suffix)].rstrip('-') + '-' + digest
    label += suffix
    if not _DNS_LABEL.match(label):
        raise InvalidTestpmdInput('cannot make a pod name from node_name %r' % (node_name,))
    return label


def node_affinity(node_name):
    """Required node affinity on the node's name (metadata.name), as the DaemonSet controller pins its pods.

    The kubernetes.io/hostname label is not used: it is the kubelet's hostname and may differ from the node name.
    """
    return {'nodeAffinity': {'requiredDuringSchedulingIgnoredDuringExecution': {'nodeSelectorTerms': [
        {'matchFields': [{'key': 'metadata.name', 'operator': 'In', 'values': [node_name]}]}]}}}


def quantity_bytes(name, value):
    """Bytes of a Kubernetes quantity (``1Gi``, ``512Mi``); errors name the field."""
    match = _QUANTITY.match(str(value).strip()) if value is not None else None
    if not match or isinstance(value, bool):
        raise InvalidTestpmdInput('%s must be a Kubernetes quantity such as 512Mi or 1Gi, got %r' % (name, value))
    return int(match.group(1)) * _UNITS[match.group(2)]


def pci_env_name(resource):
    """Environment variable the SR-IOV device plugin sets for a resource: PCIDEVICE_INTEL_COM_INTEL_SRIOV_DPDK."""
    return 'PCIDEVICE_' + re.sub(r'[^A-Za-z0-9]', '_', resource).upper()


def _int(name, value, minimum, maximum=None):
    if isinstance(value, bool):
        raise InvalidTestpmdInput('%s must be an integer, got %r' % (name, value))
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidTestpmdInput('%s must be an integer, got %r' % (name, value))
    if number != value and str(number) != str(value).strip():
        raise InvalidTestpmdInput('%s must be a whole number, got %r' % (name, value))
    if number < minimum or (maximum is not None and number > maximum):
        raise InvalidTestpmdInput('%s must be between %d and %s, got %r' % (name, minimum, maximum if maximum is not None else 'any', value))
    return number


def _strings(name, value):
    if value is None:
        return []
    if isinstance(value, str):
        value = [item for item in value.split(',') if item.strip()] if name != 'vdevs' else [value]
    if not isinstance(value, (list, tuple)):
        raise InvalidTestpmdInput('%s must be a list of strings, got %r' % (name, value))
    return [str(item).strip() for item in value]


def _vdev_capabilities(vdevs):
    caps = []
    for vdev in vdevs:
        if vdev.startswith('net_af_packet') or vdev.startswith('net_pcap'):
            caps.append('NET_RAW')
        if vdev.startswith('net_tap') or vdev.startswith('net_af_xdp'):
            caps.append('NET_ADMIN')
    return sorted(set(caps))


def validate_pod_params(params):
    """Pod parameters with defaults filled in, checked; raises InvalidTestpmdInput naming the field."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidTestpmdInput('testpmd pod parameters must be a dict, got %s' % type(params).__name__)
    unknown = sorted(set(params) - set(POD_DEFAULTS))
    if unknown:
        raise InvalidTestpmdInput('unknown testpmd pod parameter(s) %s; known: %s' % (', '.join(unknown), ', '.join(sorted(POD_DEFAULTS))))
    spec = copy.deepcopy(POD_DEFAULTS)
    spec.update(dict((key, value) for key, value in params.items() if value is not None))
    # ansible-core before 2.19 renders a template that gives None as '': both mean "not pinned".
    if spec['node_name'] == '':
        spec['node_name'] = None
    if spec['node_name'] is not None:
        if not isinstance(spec['node_name'], str) or not _DNS_SUBDOMAIN.match(spec['node_name']):
            raise InvalidTestpmdInput('node_name must be the Kubernetes name of the node (a DNS subdomain: lowercase letters, '
                                      'digits, - and .; at most 253), got %r' % (spec['node_name'],))
    if not isinstance(spec['name_suffix'], str) or (spec['name_suffix'] and not _NAME_SUFFIX.match(spec['name_suffix'])):
        raise InvalidTestpmdInput('name_suffix must be empty or start with - followed by lowercase letters, digits and - '
                                  '(at most 20), got %r' % (spec['name_suffix'],))
    if spec['name'] in (None, ''):
        spec['name'] = (pod_name_for_node(spec['node_name'], suffix=spec['name_suffix']) if spec['node_name']
                        else POD_NAME_PREFIX + spec['name_suffix'])
    for key in ('name', 'namespace'):
        if not isinstance(spec[key], str) or not _DNS_LABEL.match(spec[key]):
            raise InvalidTestpmdInput('%s must be a DNS label (lowercase letters, digits, -; at most 63), got %r' % (key, spec[key]))
    if not isinstance(spec['image'], str) or not spec['image'].strip() or ' ' in spec['image']:
        raise InvalidTestpmdInput('image must be an image reference such as localhost/nfv-dpdk-testpmd:latest, got %r' % (spec['image'],))
    if spec['image_pull_policy'] not in ('Always', 'IfNotPresent', 'Never'):
        raise InvalidTestpmdInput('image_pull_policy must be one of Always, IfNotPresent, Never, got %r' % (spec['image_pull_policy'],))
    if spec['cpuset'] not in (None, ''):
        try:
            wanted = CpuSet.parse(spec['cpuset']) if isinstance(spec['cpuset'], str) else CpuSet()
        except CpuSetError:
            wanted = CpuSet()
        if not wanted:
            raise InvalidTestpmdInput('cpuset must be a cpu-list such as 3 or 2-3, got %r' % (spec['cpuset'],))
        if params.get('cpus') is not None and _int('cpus', params['cpus'], 1, 1024) != len(wanted):
            raise InvalidTestpmdInput('cpus (%s) must be the number of CPUs in cpuset %s (%d), or left unset' % (
                params['cpus'], spec['cpuset'], len(wanted)))
        spec['cpuset'] = wanted.format()
        spec['cpus'] = len(wanted)
    else:
        spec['cpuset'] = None
    # One CPU is enough: the launcher runs the main and the forwarding lcore on it.
    spec['cpus'] = _int('cpus', spec['cpus'], 1, 1024)
    quantity_bytes('memory', spec['memory'])
    if spec['hugepage_size'] not in HUGEPAGE_SIZES:
        raise InvalidTestpmdInput('hugepage_size must be one of %s, got %r' % (', '.join(HUGEPAGE_SIZES), spec['hugepage_size']))
    amount = quantity_bytes('hugepages', spec['hugepages'])
    if amount <= 0 or amount % quantity_bytes('hugepage_size', spec['hugepage_size']):
        raise InvalidTestpmdInput('hugepages (%s) must be a positive multiple of hugepage_size (%s)' % (spec['hugepages'], spec['hugepage_size']))
    if not isinstance(spec['sriov_resource'], str) or not _RESOURCE.match(spec['sriov_resource']):
        raise InvalidTestpmdInput('sriov_resource must be an extended resource name such as intel.com/intel_sriov_dpdk, '
                                  'got %r' % (spec['sriov_resource'],))
    spec['sriov_count'] = _int('sriov_count', spec['sriov_count'], 0, 64)
    spec['networks'] = _strings('networks', spec['networks'])
    for network in spec['networks']:
        if not re.match(r'^([a-z0-9-.]+/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?(@[a-z0-9-]+)?$', network):
            raise InvalidTestpmdInput('networks entries are NetworkAttachmentDefinition names ([namespace/]name[@interface]), got %r' % network)
    spec['vdevs'] = _strings('vdevs', spec['vdevs'])
    for vdev in spec['vdevs']:
        if not _VDEV.match(vdev):
            raise InvalidTestpmdInput('vdevs entries look like net_null0 or net_af_packet0,iface=eth1 (no spaces or ;), got %r' % vdev)
    if not spec['vdevs'] and not spec['sriov_count']:
        raise InvalidTestpmdInput('testpmd needs ports: set sriov_count (VFs from the device plugin) or vdevs (net_null0, ...)')
    if not isinstance(spec['node_selector'], dict):
        raise InvalidTestpmdInput('node_selector must be a dict of label: value, got %r' % (spec['node_selector'],))
    if not isinstance(spec['labels'], dict):
        raise InvalidTestpmdInput('labels must be a dict of label: value, got %r' % (spec['labels'],))
    if spec['forward_mode'] not in FORWARD_MODES:
        raise InvalidTestpmdInput('forward_mode must be one of %s, got %r' % (', '.join(FORWARD_MODES), spec['forward_mode']))
    spec['duration'] = _int('duration', spec['duration'], 1, 86400)
    spec['stats_period'] = _int('stats_period', spec['stats_period'], 1, 3600)
    spec['eth_peers'] = _strings('eth_peers', spec['eth_peers'])
    for position, mac in enumerate(spec['eth_peers']):
        if not _MAC.match(mac):
            raise InvalidTestpmdInput(unquoted_number_error('eth_peers[%d]' % position, mac, MAC_ADDRESS)
                                      or 'eth_peers entries must be MAC addresses like 02:00:00:00:00:01, got %r' % mac)
    if not isinstance(spec['tx_first'], bool):
        raise InvalidTestpmdInput('tx_first must be a boolean, got %r' % (spec['tx_first'],))
    spec['total_num_mbufs'] = _int('total_num_mbufs', spec['total_num_mbufs'], 1024)
    for key in ('extra_eal_args', 'extra_testpmd_args'):
        spec[key] = _strings(key, spec[key]) if not isinstance(spec[key], str) else spec[key].split()
    if spec['numa_node'] is not None:
        spec['numa_node'] = _int('numa_node', spec['numa_node'], 0, 1023)
    if spec['start_barrier_dir'] == '':
        spec['start_barrier_dir'] = None
    if spec['start_barrier_dir'] is not None:
        if (not isinstance(spec['start_barrier_dir'], str) or not spec['start_barrier_dir'].startswith('/')
                or not re.match(r'^(/[A-Za-z0-9_.-]+)+$', spec['start_barrier_dir']) or '/../' in spec['start_barrier_dir'] + '/'):
            raise InvalidTestpmdInput('start_barrier_dir must be an absolute path on the node (letters, digits, _ . - and /), '
                                      'got %r' % (spec['start_barrier_dir'],))
    spec['start_timeout'] = _int('start_timeout', spec['start_timeout'], 1, 3600)
    if spec['active_deadline_seconds'] is None:
        # With the barriers, the launcher may wait start_timeout at each: the start barrier and the forward barrier.
        spec['active_deadline_seconds'] = spec['duration'] + 300 + (2 * spec['start_timeout'] if spec['start_barrier_dir'] else 0)
    spec['active_deadline_seconds'] = _int('active_deadline_seconds', spec['active_deadline_seconds'], spec['duration'] + 1)
    return spec


def pod_manifest(params=None):
    """The Pod that runs testpmd once, as a dict ready for kubernetes.core.k8s.

    Guaranteed QoS (integer CPUs, requests == limits), hugepages of one size with a
    HugePages emptyDir, only IPC_LOCK added (plus NET_RAW/NET_ADMIN for vdevs that
    need a kernel interface), SR-IOV VFs from the device plugin with the Multus
    annotation, restartPolicy Never. The image's launcher builds the testpmd
    command line from the TESTPMD_* environment.
    """
    spec = validate_pod_params(params)
    huge_key = 'hugepages-' + spec['hugepage_size']
    resources = {'cpu': str(spec['cpus']), 'memory': str(spec['memory']), huge_key: str(spec['hugepages'])}
    if spec['sriov_count']:
        resources[spec['sriov_resource']] = str(spec['sriov_count'])
    env = [
        {'name': 'TESTPMD_FORWARD_MODE', 'value': spec['forward_mode']},
        {'name': 'TESTPMD_DURATION', 'value': str(spec['duration'])},
        {'name': 'TESTPMD_STATS_PERIOD', 'value': str(spec['stats_period'])},
        {'name': 'TESTPMD_TX_FIRST', 'value': 'true' if spec['tx_first'] else 'false'},
        {'name': 'TESTPMD_TOTAL_NUM_MBUFS', 'value': str(spec['total_num_mbufs'])},
        {'name': 'TESTPMD_HUGE_DIR', 'value': HUGEPAGES_MOUNT},
        {'name': 'TESTPMD_PCI_ENV', 'value': pci_env_name(spec['sriov_resource']) if spec['sriov_count'] else ''},
        {'name': 'TESTPMD_VDEVS', 'value': ';'.join(spec['vdevs'])},
        {'name': 'TESTPMD_ETH_PEERS', 'value': ','.join(mac.lower() for mac in spec['eth_peers'])},
        {'name': 'TESTPMD_EXTRA_EAL_ARGS', 'value': ' '.join(spec['extra_eal_args'])},
        {'name': 'TESTPMD_EXTRA_ARGS', 'value': ' '.join(spec['extra_testpmd_args'])},
    ]
    if spec['numa_node'] is not None:
        env.append({'name': 'TESTPMD_NUMA_NODE', 'value': str(spec['numa_node'])})
        env.append({'name': 'TESTPMD_HUGEPAGES_MB', 'value': str(quantity_bytes('hugepages', spec['hugepages']) // 1024 ** 2)})
    mounts = [{'name': 'hugepages', 'mountPath': HUGEPAGES_MOUNT}]
    volumes = [{'name': 'hugepages', 'emptyDir': {'medium': 'HugePages-' + spec['hugepage_size']}}]
    if spec['start_barrier_dir']:
        env.append({'name': 'TESTPMD_START_BARRIER', 'value': START_BARRIER_FILE})
        env.append({'name': 'TESTPMD_FORWARD_BARRIER', 'value': FORWARD_BARRIER_FILE})
        env.append({'name': 'TESTPMD_START_TIMEOUT_S', 'value': str(spec['start_timeout'])})
        mounts.append({'name': 'start-barrier', 'mountPath': START_BARRIER_MOUNT})
        # Directory: the role creates it before the pods and removes it after them.
        volumes.append({'name': 'start-barrier', 'hostPath': {'path': spec['start_barrier_dir'], 'type': 'Directory'}})
    labels = {'app.kubernetes.io/name': 'testpmd', 'app.kubernetes.io/part-of': 'nfv.dpdk'}
    labels.update(dict((str(key), str(value)) for key, value in spec['labels'].items()))
    metadata = {'name': spec['name'], 'namespace': spec['namespace'], 'labels': labels}
    if spec['networks']:
        metadata['annotations'] = {'k8s.v1.cni.cncf.io/networks': ','.join(spec['networks'])}
    pod_spec = {
        'restartPolicy': 'Never',
        'activeDeadlineSeconds': spec['active_deadline_seconds'],
        'terminationGracePeriodSeconds': 10,
        'containers': [{
            'name': 'testpmd',
            'image': spec['image'],
            'imagePullPolicy': spec['image_pull_policy'],
            'command': [LAUNCHER],
            'env': env,
            'resources': {'requests': dict(resources), 'limits': dict(resources)},
            'securityContext': {
                'privileged': False,
                'allowPrivilegeEscalation': False,
                'capabilities': {'add': ['IPC_LOCK'] + _vdev_capabilities(spec['vdevs']), 'drop': ['ALL']},
            },
            'volumeMounts': mounts,
        }],
        'volumes': volumes,
    }
    if spec['node_selector']:
        pod_spec['nodeSelector'] = dict((str(key), str(value)) for key, value in spec['node_selector'].items())
    if spec['node_name']:
        # Both apply: the scheduler needs the node to match the nodeSelector and the affinity.
        pod_spec['affinity'] = node_affinity(spec['node_name'])
    return {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': metadata, 'spec': pod_spec}


def podman_manifest(manifest, hugepages_dir=HUGEPAGES_MOUNT, pci_devices=None, vfio_groups=None, cpuset=None, wait_for_cpuset=0):
    """The Pod rewritten for ``podman kube play`` on the node itself.

    podman ignores hugepages resources and HugePages emptyDirs and has no device
    plugin: the hugepages volume becomes a hostPath to a hugetlbfs mount of the
    node, each VF's ``/dev/vfio/<group>`` (and ``/dev/vfio/vfio``) becomes a
    hostPath CharDevice, the device plugin's PCIDEVICE_* variable is set from
    ``pci_devices``, extended resources and scheduling fields are dropped.
    podman kube play cannot pin a container to CPUs (a cpu limit is a quota): ``cpuset``
    (a cpu-list, one CPU or more) tells the launcher which CPUs to give testpmd (the
    dpdk_testpmd role also sets the container's cgroup cpuset before it starts). The cpu limit
    is dropped: as a CFS quota it throttles a busy-polling DPDK process even when the
    quota equals its CPUs (measured on the lab node: 2.0 M instead of 3.5 M packets in
    20 s with CPUQuota=200% on 2 CPUs), which is why kubelets leave the quota off for
    containers with exclusive CPUs (kubernetes PR 117030) or run with cpuCFSQuota false.
    """
    if not isinstance(manifest, dict) or manifest.get('kind') != 'Pod':
        raise InvalidTestpmdInput('podman_manifest expects a Pod manifest (a dict with kind: Pod)')
    if not isinstance(hugepages_dir, str) or not hugepages_dir.startswith('/'):
        raise InvalidTestpmdInput('hugepages_dir must be an absolute path to a hugetlbfs mount, got %r' % (hugepages_dir,))
    wait_for_cpuset = _int('wait_for_cpuset', wait_for_cpuset or 0, 0, 3600)
    pci_devices = _strings('pci_devices', pci_devices)
    for position, address in enumerate(pci_devices):
        if not _PCI.match(address):
            raise InvalidTestpmdInput(unquoted_number_error('pci_devices[%d]' % position, address, PCI_ADDRESS)
                                      or 'pci_devices entries must be PCI addresses like 0000:41:02.0, got %r' % address)
    groups = []
    for group in _strings('vfio_groups', vfio_groups):
        if not re.match(r'^(noiommu-)?[0-9]+$', group):
            raise InvalidTestpmdInput('vfio_groups entries must be IOMMU group numbers, got %r' % group)
        if group not in groups:
            groups.append(group)
    if cpuset not in (None, ''):
        try:
            cpus = CpuSet.parse(cpuset if isinstance(cpuset, str) else None)
        except CpuSetError:
            cpus = CpuSet()
        if not isinstance(cpuset, str) or not cpus:
            raise InvalidTestpmdInput('cpuset must be a cpu-list such as 2-3 or 2,4, got %r' % (cpuset,))
        cpuset = cpus.format()
    pod = copy.deepcopy(manifest)
    spec = pod['spec']
    spec.pop('nodeSelector', None)
    spec.pop('affinity', None)
    spec.pop('activeDeadlineSeconds', None)
    # Annotations become container annotations under podman; Multus means nothing there.
    pod['metadata'].pop('annotations', None)
    pod['metadata'].pop('namespace', None)
    volumes = []
    for volume in spec.get('volumes', []):
        if 'emptyDir' in volume and str(volume['emptyDir'].get('medium', '')).startswith('HugePages'):
            volume = {'name': volume['name'], 'hostPath': {'path': hugepages_dir, 'type': 'Directory'}}
        volumes.append(volume)
    device_paths = (['/dev/vfio/vfio'] + ['/dev/vfio/' + group for group in groups]) if groups else []
    for path in device_paths:
        volumes.append({'name': 'vfio-' + path.rsplit('/', 1)[1].replace('noiommu-', 'noiommu'),
                        'hostPath': {'path': path, 'type': 'CharDevice'}})
    spec['volumes'] = volumes
    for container in spec.get('containers', []):
        resources = container.get('resources', {})
        for kind in ('requests', 'limits'):
            section = resources.get(kind, {})
            for key in list(section):
                if key not in ('cpu', 'memory') or (kind, key) == ('limits', 'cpu'):
                    del section[key]
        env = container.setdefault('env', [])
        pci_env = [item.get('value') for item in env if item.get('name') == 'TESTPMD_PCI_ENV']
        if pci_devices:
            name = pci_env[0] if pci_env and pci_env[0] else 'PCIDEVICE_NFV_DPDK'
            env[:] = [item for item in env if item.get('name') not in (name, 'TESTPMD_PCI_ENV')]
            env.append({'name': 'TESTPMD_PCI_ENV', 'value': name})
            env.append({'name': name, 'value': ','.join(pci_devices)})
        if cpuset not in (None, ''):
            env[:] = [item for item in env if item.get('name') not in ('TESTPMD_CPUS', 'TESTPMD_WAIT_CPUSET_S')]
            env.append({'name': 'TESTPMD_CPUS', 'value': cpuset})
            if wait_for_cpuset:
                env.append({'name': 'TESTPMD_WAIT_CPUSET_S', 'value': str(wait_for_cpuset)})
        mounts = container.setdefault('volumeMounts', [])
        for path in device_paths:
            mounts.append({'name': 'vfio-' + path.rsplit('/', 1)[1].replace('noiommu-', 'noiommu'), 'mountPath': path})
    return pod
