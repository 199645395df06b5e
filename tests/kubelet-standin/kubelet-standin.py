# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST-ONLY STAND-IN FOR THE KUBELET. It is not a kubelet and runs no pods.

It lets the nfv.dpdk.kubelet_cpu_manager role be tested on a machine without
Kubernetes. On the points the role depends on it behaves like the kubelet
(v1.34) at start-up:

* reads the KubeletConfiguration file (--config, default /var/lib/kubelet/config.yaml) and the
  *.conf drop-ins of --config-dir over it, in name order (maps merge, the rest replaces);
* prints its version with --version (/etc/kubelet-standin/version, default v1.34.1) and refuses the
  DisableCPUQuotaWithExclusiveCPUs feature gate below 1.33, as kubelets that do not know a gate do;
* refuses to start (exit 1, the kubelet's own error text on stderr, hence in
  the journal) when
  - cpuManagerPolicy or memoryManagerPolicy is unknown,
  - the static CPU policy has no CPU reservation,
  - cpu_manager_state / memory_manager_state in --root-dir record another
    policy than the configured one;
* otherwise writes those checkpoint files with the configured policies, as the
  kubelet does, and runs until SIGTERM/SIGINT (Type=simple).

Fault injection for tests: when /etc/kubelet-standin/fail-policy holds a CPU
manager policy name and the configuration uses that policy (likewise
/etc/kubelet-standin/fail-topology for topologyManagerPolicy), or when
/etc/kubelet-standin/fail-always exists, it fails the way a kubelet does on a host
problem no configuration check can foresee.

``--check`` validates and exits (0 or 1) without writing or waiting.
"""

from __future__ import absolute_import, division, print_function

import argparse
import datetime
import json
import os
import re
import signal
import sys
import time

import yaml

FAIL_POLICY_FILE = '/etc/kubelet-standin/fail-policy'
FAIL_TOPOLOGY_FILE = '/etc/kubelet-standin/fail-topology'
FAIL_ALWAYS_FILE = '/etc/kubelet-standin/fail-always'
VERSION_FILE = '/etc/kubelet-standin/version'
_DECIMAL = {'n': -9, 'u': -6, 'm': -3, '': 0, 'k': 3, 'M': 6, 'G': 9, 'T': 12, 'P': 15, 'E': 18}
_BINARY = {'Ki': 1, 'Mi': 2, 'Gi': 3, 'Ti': 4, 'Pi': 5, 'Ei': 6}


def klog(level, message, **fields):
    """A line in the kubelet's structured log format."""
    now = datetime.datetime.now()
    text = '%s%s %7d kubelet-standin.py:0] "%s"' % (level, now.strftime('%m%d %H:%M:%S.%f'), os.getpid(), message)
    for key, value in fields.items():
        text += ' %s=%s' % (key, json.dumps(value) if not isinstance(value, str) or ' ' in value or '"' in value else value)
    sys.stderr.write(text + '\n')
    sys.stderr.flush()


def die(message):
    """The kubelet's fatal start-up error, then exit 1 (systemd restarts it)."""
    klog('E', 'Failed to run kubelet', err=message)
    sys.exit(1)


def quantity(text):
    match = re.match(r'^([+-]?[0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$', str(text).strip())
    if not match:
        die("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    number, suffix = float(match.group(1)), match.group(2)
    if suffix in _BINARY:
        return number * 1024 ** _BINARY[suffix]
    return number * 10 ** _DECIMAL[suffix]


def online_cpus():
    try:
        with open('/sys/devices/system/cpu/online') as handle:
            return handle.read().strip()
    except OSError:
        return '0'


def checkpoint(root_dir, name, policy, manager, payload, check):
    """Restore a checkpoint like state_checkpoint.go, or write a new one."""
    path = os.path.join(root_dir, name)
    if os.path.exists(path):
        with open(path) as handle:
            try:
                state = json.load(handle)
            except ValueError:
                die('start %s manager error: could not restore state from checkpoint: checkpoint is corrupted' % manager)
        recorded = state.get('policyName')
        if recorded != policy:
            prefix = '[memorymanager] ' if manager == 'memory' else ''
            die('start %s manager error: could not restore state from checkpoint: %sconfigured policy "%s" differs from state '
                'checkpoint policy "%s", please drain this node and delete the %s manager checkpoint file "%s" before restarting Kubelet'
                % (manager, prefix, policy, recorded, manager.upper() if manager == 'cpu' else manager, path))
        return
    if check:
        return
    payload = dict(payload, policyName=policy)
    payload['checksum'] = abs(hash(json.dumps(payload, sort_keys=True))) % (2 ** 32)
    tmp = path + '.tmp'
    with open(tmp, 'w') as handle:
        json.dump(payload, handle)
    os.rename(tmp, path)
    klog('I', 'Wrote the %s manager checkpoint' % manager, path=path, policy=policy)


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def merge(base, overlay):
    result = dict(base)
    for key, value in overlay.items():
        result[key] = merge(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
    return result


def main():
    parser = argparse.ArgumentParser(description='TEST-ONLY STAND-IN for the kubelet (nfv.dpdk role tests).')
    parser.add_argument('--config', default='/var/lib/kubelet/config.yaml')
    parser.add_argument('--root-dir', default='/var/lib/kubelet')
    parser.add_argument('--config-dir', default=None)
    parser.add_argument('--version', action='store_true')
    parser.add_argument('--check', action='store_true', help='validate and exit without writing or waiting')
    args, _unknown = parser.parse_known_args()
    version = read_text(VERSION_FILE) or 'v1.34.1'
    if args.version:
        print('Kubernetes %s' % version)
        return 0

    klog('I', 'TEST-ONLY STAND-IN for the kubelet starting (this is not a kubelet)', config=args.config)
    try:
        with open(args.config) as handle:
            config = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as exc:
        die('failed to load kubelet config file, path: %s, error: %s' % (args.config, exc))
    if args.config_dir and os.path.isdir(args.config_dir):
        for name in sorted(os.listdir(args.config_dir)):
            if not name.endswith('.conf'):
                continue
            path = os.path.join(args.config_dir, name)
            try:
                with open(path) as handle:
                    config = merge(config, yaml.safe_load(handle) or {})
            except (OSError, yaml.YAMLError) as exc:
                die('failed to merge kubelet configs: %s: %s' % (path, exc))
            klog('I', 'Merged a kubelet configuration drop-in', path=path)
    minor = re.match(r'^v?(\d+)\.(\d+)', version)
    if 'DisableCPUQuotaWithExclusiveCPUs' in (config.get('featureGates') or {}) and minor and (int(minor.group(1)), int(minor.group(2))) < (1, 33):
        die('failed to set feature gates from initial flags-based config: unrecognized feature gate: DisableCPUQuotaWithExclusiveCPUs')

    cpu_policy = config.get('cpuManagerPolicy') or 'none'
    memory_policy = config.get('memoryManagerPolicy') or 'None'
    if cpu_policy not in ('none', 'static'):
        die('failed to initialize cpu manager: unknown policy: "%s"' % cpu_policy)
    if memory_policy not in ('None', 'Static'):
        die('failed to initialize memory manager: unknown policy: "%s"' % memory_policy)
    if cpu_policy == 'none' and config.get('cpuManagerPolicyOptions'):
        die('failed to initialize cpu manager: new none policy error: None policy: received unsupported options=map[%s]'
            % ' '.join('%s:%s' % item for item in sorted(config['cpuManagerPolicyOptions'].items())))
    if cpu_policy == 'static' and not str(config.get('reservedSystemCPUs') or '').strip():
        reserved = sum(quantity((config.get(key) or {}).get('cpu', '0')) for key in ('kubeReserved', 'systemReserved'))
        if reserved <= 0:
            die('failed to initialize cpu manager: [cpumanager] the static policy requires systemreserved.cpu + '
                'kubereserved.cpu to be greater than zero')

    try:
        with open(FAIL_POLICY_FILE) as handle:
            fail_policy = handle.read().strip()
    except OSError:
        fail_policy = None
    fail_topology = read_text(FAIL_TOPOLOGY_FILE)
    if (fail_policy and fail_policy == cpu_policy) or os.path.exists(FAIL_ALWAYS_FILE) or (
            fail_topology and fail_topology == (config.get('topologyManagerPolicy') or 'none')):
        die('failed to initialize top level QOS containers: root container [kubepods] doesn\'t exist '
            '(fault injected by %s)' % ' or '.join((FAIL_POLICY_FILE, FAIL_TOPOLOGY_FILE, FAIL_ALWAYS_FILE)))

    if not os.path.isdir(args.root_dir):
        os.makedirs(args.root_dir)
    default_cpus = online_cpus() if cpu_policy == 'static' else ''
    checkpoint(args.root_dir, 'cpu_manager_state', cpu_policy, 'cpu',
               {'defaultCpuSet': default_cpus, 'entries': {}}, args.check)
    checkpoint(args.root_dir, 'memory_manager_state', memory_policy, 'memory',
               {'machineState': {}, 'entries': {}}, args.check)
    if args.check:
        klog('I', 'Configuration accepted (--check)')
        return 0

    klog('I', 'Started kubelet (stand-in)', cpuManagerPolicy=cpu_policy, memoryManagerPolicy=memory_policy,
         reservedSystemCPUs=str(config.get('reservedSystemCPUs', '')))
    stop = []

    def on_signal(signum, _frame):
        stop.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop:
        time.sleep(1)
    klog('I', 'Shutting down (stand-in)', signal=stop[0])
    return 0


if __name__ == '__main__':
    sys.exit(main())
