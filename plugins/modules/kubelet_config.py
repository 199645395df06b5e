#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kubelet_config
short_description: Set the kubelet's CPU, memory and topology managers, refusing what the kubelet would refuse
description:
  - Merges CPU manager, topology manager, memory manager and resource reservation settings into the node's
    KubeletConfiguration file and keeps every other key of the file as it is.
  - Before anything is written, the merged configuration (with the kubelet command-line flags and configuration
    drop-ins that override the file) is checked the way the kubelet checks it at start-up
    (C(pkg/kubelet/apis/config/validation), C(cmd/kubelet/app/server.go), and the C(cpumanager), C(memorymanager)
    and C(topologymanager) packages, Kubernetes v1.34). A configuration the kubelet would not start with fails the
    task with the field, the reason and the kubelet's own error message, and nothing is changed.
  - The module does not restart the kubelet and does not touch the CPU and memory manager checkpoint files; it
    reports which of them the kubelet would refuse after the change (RV(stale_state_files)). Use
    M(nfv.dpdk.kubelet_state) to remove them while the kubelet is stopped, or the C(nfv.dpdk.kubelet_cpu_manager)
    role, which does the whole switch with rollback.
  - The file is read and written with PyYAML, so comments in it are lost when it changes (the keys are kept, in
    their order). A file that does not change is not rewritten.
  - With C(kubeadm), C(kubeadm upgrade node) rewrites C(/var/lib/kubelet/config.yaml) from the C(kubelet-config)
    ConfigMap; run this module again after an upgrade, or carry the settings in kubeadm's kubelet configuration.
version_added: "0.1.0"
author:
  - nfv.dpdk maintainers (@nfv-dpdk)
requirements:
  - PyYAML on the managed node
attributes:
  check_mode:
    support: full
    description: Computes, validates and reports the change (and its diff) without writing.
  diff_mode:
    support: full
    description: Shows the configuration file before and after, as YAML.
  platform:
    support: full
    platforms: posix
    description: Linux nodes running the kubelet (kubeadm, k3s, RKE2).
options:
  distribution:
    description:
      - How the kubelet is installed, which decides where its configuration and flags live.
      - V(kubeadm) reads the configuration from O(path) (default C(/var/lib/kubelet/config.yaml)) and the flags from
        C(/var/lib/kubelet/kubeadm-flags.env), C(/etc/default/kubelet) and C(/etc/sysconfig/kubelet).
      - V(k3s) and V(rke2) configure the kubelet through C(kubelet-arg) in C(/etc/rancher/k3s/config.yaml) or
        C(/etc/rancher/rke2/config.yaml) (and C(config.yaml.d/*.yaml)). This module does not edit those flag
        lists. Give O(path) as a kubelet configuration drop-in, a C(.conf) file in the kubelet's C(--config-dir)
        (k3s and RKE2 use C(/var/lib/rancher/<distribution>/agent/etc/kubelet.conf.d) by default, kubelet 1.30 or
        later), or the file named by a C(config=) kubelet-arg. The task fails when O(path) is not given or not read
        by the kubelet, and when a C(kubelet-arg) flag sets one of the settings asked for (flags win over files).
    type: str
    choices: [kubeadm, k3s, rke2]
    default: kubeadm
  path:
    description:
      - The KubeletConfiguration file (or drop-in) to edit.
      - Defaults to C(/var/lib/kubelet/config.yaml) for V(kubeadm); required for V(k3s) and V(rke2).
    type: path
  create:
    description:
      - Create O(path) when it does not exist (a drop-in, typically). Without it a missing file fails the task,
        since a kubeadm node without C(/var/lib/kubelet/config.yaml) has not joined a cluster yet.
    type: bool
    default: false
  cpu_manager_policy:
    description:
      - C(cpuManagerPolicy). V(static) gives Guaranteed pods with whole CPUs exclusive CPUs and needs a CPU
        reservation (O(reserved_system_cpus), or a C(cpu) in O(kube_reserved)/O(system_reserved)).
      - Not set leaves the key as it is (a missing key means the kubelet's default V(none)).
    type: str
    choices: [none, static]
  cpu_manager_policy_options:
    description:
      - C(cpuManagerPolicyOptions), replaced as a whole; an empty dict removes the key (needed to go back to V(none)).
      - Known options C(full-pcpus-only) (stable), C(distribute-cpus-across-numa), C(strict-cpu-reservation),
        C(prefer-align-cpus-by-uncorecache) (beta, on by default), C(align-by-socket),
        C(distribute-cpus-across-cores) (alpha, need O(feature_gates) C(CPUManagerPolicyAlphaOptions=true)).
      - Values are written as strings; V(true) becomes C("true").
    type: dict
  reserved_system_cpus:
    description:
      - C(reservedSystemCPUs), a cpu-list such as C(0-1,8-9); an empty string removes the key.
      - Must be online CPUs, not every online CPU, and none of the CPUs isolated on the kernel command line
        (see O(isolated_cpus)). Use the C(reserved_cpus) returned by M(nfv.dpdk.cpu_isolation).
      - When set, the kubelet ignores the C(cpu) of O(kube_reserved) and replaces that of O(system_reserved)
        by the number of these CPUs.
    type: str
  kube_reserved:
    description:
      - C(kubeReserved), merged key by key into the existing map; a key with a null value is removed.
      - Keys C(cpu), C(memory), C(ephemeral-storage), C(pid); values are Kubernetes quantities (C(500m), C(1),
        C(1Gi), C(512Mi), C(1G)).
    type: dict
  system_reserved:
    description:
      - C(systemReserved), merged like O(kube_reserved).
    type: dict
  eviction_hard:
    description:
      - C(evictionHard) thresholds (C(memory.available), C(nodefs.available)...; quantities or percentages),
        merged key by key; a null value removes a signal.
      - The kubelet applies its defaults (C(memory.available) 100Mi, C(nodefs.available) 10%, C(nodefs.inodesFree) 5%,
        C(imagefs.available) 15%, C(imagefs.inodesFree) 5%) only when C(evictionHard) is absent, so when the file has
        none the map is started from those defaults.
      - The C(memory.available) threshold is part of the memory the Static memory manager needs in O(reserved_memory).
    type: dict
  topology_manager_policy:
    description: C(topologyManagerPolicy); not set leaves the key (kubelet default V(none)).
    type: str
    choices: [none, best-effort, restricted, single-numa-node]
  topology_manager_scope:
    description: C(topologyManagerScope); not set leaves the key (kubelet default V(container)).
    type: str
    choices: [container, pod]
  topology_manager_policy_options:
    description:
      - C(topologyManagerPolicyOptions) (C(prefer-closest-numa-nodes), C(max-allowable-numa-nodes)), replaced as
        a whole; an empty dict removes the key.
    type: dict
  memory_manager_policy:
    description:
      - C(memoryManagerPolicy). V(Static) needs O(reserved_memory) whose C(memory) adds up, over all NUMA nodes,
        to O(kube_reserved) memory + O(system_reserved) memory + the O(eviction_hard) C(memory.available) threshold.
      - Not set leaves the key as it is (a missing key means the kubelet's default V(None)).
    type: str
    choices: ['None', 'Static']
  reserved_memory:
    description:
      - C(reservedMemory), replaced as a whole; an empty list removes the key.
      - The kubelet accepts hugepages limits here but compares them with a Node Allocatable reservation that
        O(kube_reserved) and O(system_reserved) cannot hold, so any non-zero hugepages limit makes it fail; the
        module refuses it for that reason.
    type: list
    elements: dict
    suboptions:
      numa_node:
        description: The NUMA node (C(numaNode)); it must exist on the host.
        type: int
        required: true
        aliases: [numaNode]
      limits:
        description: Memory to reserve on the node, C(memory) and C(hugepages-<size>) quantities, none of them zero.
        type: dict
        required: true
  feature_gates:
    description:
      - C(featureGates), merged key by key (a null value removes a gate).
      - For example C(DisableCPUQuotaWithExclusiveCPUs=true) (kubelet 1.33 or later, beta and on by default there)
        takes the CFS quota off containers with exclusive CPUs. The kubelet refuses gates it does not know, so give
        only gates of the kubelet version on the node.
    type: dict
  cpu_cfs_quota:
    description:
      - C(cpuCFSQuota). V(false) stops the kubelet from enforcing CPU limits with a CFS quota for every container of
        the node, the way to keep containers with exclusive CPUs from being throttled on kubelets older than 1.33
        (newer ones use the C(DisableCPUQuotaWithExclusiveCPUs) feature gate, see O(feature_gates)).
      - Not set leaves the key as it is (a missing key means the kubelet's default V(true)).
    type: bool
  isolated_cpus:
    description:
      - CPUs isolated from the scheduler, which O(reserved_system_cpus) must not contain.
      - Defaults to the C(isolcpus) CPUs of the running kernel's command line (C(/proc/cmdline)).
    type: str
  state_dir:
    description:
      - The kubelet's root directory, where C(cpu_manager_state) and C(memory_manager_state) live (C(--root-dir)).
    type: path
    default: /var/lib/kubelet
  backup:
    description: Keep a timestamped copy of O(path) before changing it.
    type: bool
    default: true
  restore_from:
    description:
      - Put O(path) back, byte for byte, to this file, a copy this module kept with O(backup)
        (C(<path>.<pid>.<YYYY-MM-DD@HH:MM:SS.ffffff>~)), instead of merging settings into it. This is how the
        C(nfv.dpdk.kubelet_cpu_manager) role's C(undo) entry point returns the kubelet to the configuration it had
        before this collection first changed it (every setting, including C(cpuCFSQuota), the topology and memory
        managers and the reservations, and the file's own formatting).
      - The copy must hold a KubeletConfiguration, and gets the same checks as a merge (the kubelet must start with
        it, no flag or later drop-in may override what it changes) and the same RV(stale_state_files). Nothing
        changes when O(path) already holds exactly these bytes.
      - Mutually exclusive with the settings options (O(cpu_manager_policy) through O(cpu_cfs_quota)).
    type: path
notes:
  - Settings left unset are not touched; the checks run on the whole resulting configuration, so an invalid
    setting already in the file (say C(memoryManagerPolicy=static), lower case) fails the task too.
  - Checks that go beyond what the kubelet itself checks say so in their message (reserving every online CPU,
    reserving isolated CPUs, reserving more memory than a NUMA node has, Static without the C(MemoryManager) gate).
seealso:
  - module: nfv.dpdk.kubelet_state
  - module: nfv.dpdk.cpu_isolation
  - name: Control CPU Management Policies on the Node
    description: Kubernetes documentation of the CPU manager, its options and the checkpoint file.
    link: https://kubernetes.io/docs/tasks/administer-cluster/cpu-management-policies/
  - name: Utilizing the NUMA-aware Memory Manager
    description: Kubernetes documentation of the memory manager and reservedMemory.
    link: https://kubernetes.io/docs/tasks/administer-cluster/memory-manager/
'''

EXAMPLES = r'''
- name: Static CPU manager on the housekeeping CPUs from nfv.dpdk.cpu_isolation
  nfv.dpdk.kubelet_config:
    cpu_manager_policy: static
    cpu_manager_policy_options:
      full-pcpus-only: "true"
    reserved_system_cpus: "{{ cpus.reserved_cpus }}"
    topology_manager_policy: single-numa-node
    topology_manager_scope: pod
  register: kubelet

- name: Static memory manager on a two-node host (1Gi + 1Gi + 100Mi eviction = 2148Mi)
  nfv.dpdk.kubelet_config:
    memory_manager_policy: Static
    kube_reserved:
      memory: 1Gi
    system_reserved:
      memory: 1Gi
    eviction_hard:
      memory.available: 100Mi
    reserved_memory:
      - numa_node: 0
        limits:
          memory: 1124Mi
      - numa_node: 1
        limits:
          memory: 1Gi

- name: Back to the none policy (policy options must go too)
  nfv.dpdk.kubelet_config:
    cpu_manager_policy: none
    cpu_manager_policy_options: {}

- name: Put the configuration back, byte for byte, to the copy kept before the first change
  nfv.dpdk.kubelet_config:
    restore_from: /var/lib/kubelet/config.yaml.4711.2026-12-01@09:30:00.123456~

- name: k3s, through a kubelet configuration drop-in
  nfv.dpdk.kubelet_config:
    distribution: k3s
    path: /var/lib/rancher/k3s/agent/etc/kubelet.conf.d/50-nfv-dpdk.conf
    create: true
    cpu_manager_policy: static
    reserved_system_cpus: "0-1"
'''

RETURN = r'''
changed:
  description: Whether the configuration file changed (or would, in check mode).
  returned: always
  type: bool
path:
  description: The configuration file edited.
  returned: always
  type: str
  sample: /var/lib/kubelet/config.yaml
config:
  description: The configuration file's content after the change (before it, when the task fails validation).
  returned: success
  type: dict
  sample: {apiVersion: kubelet.config.k8s.io/v1beta1, kind: KubeletConfiguration, cpuManagerPolicy: static, reservedSystemCPUs: "0-1"}
effective_config:
  description:
    - The settings the kubelet will run with for the keys this module knows, once the flags and drop-ins that
      override O(path) are applied (only the keys of O(path) and of those overrides).
  returned: success
  type: dict
cpu_manager_policy:
  description: The CPU manager policy before and after (a missing key is the kubelet's default C(none)).
  returned: always
  type: dict
  contains:
    before:
      description: The policy the kubelet was configured with.
      type: str
      sample: none
    after:
      description: The policy the kubelet is configured with after the task.
      type: str
      sample: static
cpu_manager_policy_changed:
  description: Whether the CPU manager policy changed; the kubelet then refuses its old C(cpu_manager_state).
  returned: always
  type: bool
memory_manager_policy:
  description: The memory manager policy before and after (a missing key is the kubelet's default C(None)).
  returned: always
  type: dict
  contains:
    before:
      description: The policy the kubelet was configured with.
      type: str
      sample: None
    after:
      description: The policy the kubelet is configured with after the task.
      type: str
      sample: Static
memory_manager_policy_changed:
  description: Whether the memory manager policy changed; the kubelet then refuses its old C(memory_manager_state).
  returned: always
  type: bool
stale_state_files:
  description:
    - Checkpoint files in O(state_dir) the kubelet would refuse with the new configuration, and why (the
      kubelet's message). Remove them with M(nfv.dpdk.kubelet_state) while the kubelet is stopped.
  returned: success
  type: list
  elements: dict
  contains:
    path:
      description: The checkpoint file.
      type: str
      sample: /var/lib/kubelet/cpu_manager_state
    reason:
      description: What the kubelet would say about it.
      type: str
      sample: configured policy "static" differs from state checkpoint policy "none"
created:
  description:
    - Whether O(path) did not exist and was created (would be, in check mode) with O(create=true). A rollback
      removes such a file rather than restoring a backup (there is none).
  returned: success
  type: bool
backup_file:
  description: The copy of the previous file, when one was made.
  returned: when changed and O(backup=true) and not in check mode
  type: str
  sample: /var/lib/kubelet/config.yaml.12345.2026-01-01@00:00:00.123456~
errors:
  description: Every reason the kubelet would refuse the configuration (the task fails when there is one).
  returned: failure
  type: list
  elements: str
diff:
  description: The file before and after, as YAML text.
  returned: when changed and in diff mode
  type: dict
'''

import copy
import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.dict_transformations import dict_merge

from ansible_collections.nfv.dpdk.plugins.module_utils.cpu_topology import CpuTopology
from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet, CpuSetError
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.kernel_cmdline import KernelCmdline, KernelCmdlineError
from ansible_collections.nfv.dpdk.plugins.module_utils.kubelet import (
    FLAG_KEYS, OPTION_KEYS, STATE_FILES, Machine, Quantity, QuantityError, cpu_policy_of, cpu_state_stale, flags_to_config,
    memory_policy_of, memory_state_stale, merge_config, parse_env_file, parse_flag_words, parse_go_bool, read_state, validate,
)
from ansible_collections.nfv.dpdk.plugins.module_utils.managed_file import ManagedFile

YAML_IMPORT_ERROR = None
try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None
    YAML_IMPORT_ERROR = traceback.format_exc()

DEFAULT_PATHS = {'kubeadm': '/var/lib/kubelet/config.yaml'}
KUBEADM_FLAG_FILES = ('/var/lib/kubelet/kubeadm-flags.env', '/etc/default/kubelet', '/etc/sysconfig/kubelet')
RANCHER_DEFAULT_CONFIG_DIR = '/var/lib/rancher/%s/agent/etc/kubelet.conf.d'

ARGUMENT_SPEC = dict(
    distribution=dict(type='str', default='kubeadm', choices=['kubeadm', 'k3s', 'rke2']),
    path=dict(type='path'),
    create=dict(type='bool', default=False),
    cpu_manager_policy=dict(type='str', choices=['none', 'static']),
    cpu_manager_policy_options=dict(type='dict'),
    reserved_system_cpus=dict(type='str'),
    kube_reserved=dict(type='dict'),
    system_reserved=dict(type='dict'),
    eviction_hard=dict(type='dict'),
    topology_manager_policy=dict(type='str', choices=['none', 'best-effort', 'restricted', 'single-numa-node']),
    topology_manager_scope=dict(type='str', choices=['container', 'pod']),
    topology_manager_policy_options=dict(type='dict'),
    memory_manager_policy=dict(type='str', choices=['None', 'Static']),
    reserved_memory=dict(type='list', elements='dict', options=dict(
        numa_node=dict(type='int', required=True, aliases=['numaNode']),
        limits=dict(type='dict', required=True),
    )),
    feature_gates=dict(type='dict'),
    cpu_cfs_quota=dict(type='bool'),
    isolated_cpus=dict(type='str'),
    state_dir=dict(type='path', default='/var/lib/kubelet'),
    backup=dict(type='bool', default=True),
    restore_from=dict(type='path'),
)
# restore_from writes a whole file: no setting may be merged into it.
MUTUALLY_EXCLUSIVE = [('restore_from', option) for option in (
    'cpu_manager_policy', 'cpu_manager_policy_options', 'reserved_system_cpus', 'kube_reserved', 'system_reserved',
    'eviction_hard', 'topology_manager_policy', 'topology_manager_scope', 'topology_manager_policy_options',
    'memory_manager_policy', 'reserved_memory', 'feature_gates', 'cpu_cfs_quota')]


class KubeletConfig:
    """Merge, validate and write the kubelet configuration; report stale checkpoints."""

    def __init__(self, module, fs=None):
        self.module = module
        self.params = module.params
        self.fs = fs or HostFS()
        self.distribution = self.params['distribution']
        self.path = self.params['path'] or DEFAULT_PATHS.get(self.distribution)
        self.result = {'changed': False, 'path': self.path,
                       'cpu_manager_policy': {'before': None, 'after': None}, 'cpu_manager_policy_changed': False,
                       'memory_manager_policy': {'before': None, 'after': None}, 'memory_manager_policy_changed': False}

    def fail(self, msg, **extra):
        result = dict(self.result)
        result.update(extra)
        result.pop('msg', None)
        self.module.fail_json(msg=msg, **result)

    # -- input -----------------------------------------------------------------
    def check_params(self):
        """Type checks the argument spec cannot make; nothing is read or written yet."""
        params = self.params
        if not self.path:
            config_file = '/etc/rancher/%s/config.yaml' % self.distribution
            self.fail('path is required with distribution=%s: %s configures the kubelet through kubelet-arg flags in %s, '
                      'which this module does not edit. Give path as a kubelet configuration drop-in, e.g. '
                      '%s/50-nfv-dpdk.conf with create=true (kubelet 1.30 or later), or the file named by a config= kubelet-arg; '
                      'or set the flags in %s yourself (cpu-manager-policy=static, reserved-cpus=...).'
                      % (self.distribution, self.distribution, config_file, RANCHER_DEFAULT_CONFIG_DIR % self.distribution, config_file))
        if not os.path.isabs(self.path):
            self.fail('path must be an absolute path, not %r' % self.path)
        if params['reserved_system_cpus'] is not None and str(params['reserved_system_cpus']).strip():
            try:
                CpuSet.parse(params['reserved_system_cpus'])
            except CpuSetError as exc:
                self.fail('reserved_system_cpus: %s' % exc)
        if params['isolated_cpus'] is not None:
            try:
                CpuSet.parse(params['isolated_cpus'])
            except CpuSetError as exc:
                self.fail('isolated_cpus: %s' % exc)
        for option in ('kube_reserved', 'system_reserved', 'eviction_hard', 'cpu_manager_policy_options',
                       'topology_manager_policy_options', 'feature_gates'):
            for key, value in (params[option] or {}).items():
                if isinstance(value, (dict, list)):
                    self.fail('%s: the value of %s must be a scalar, not %s' % (option, key, type(value).__name__))
        for key, value in (params['feature_gates'] or {}).items():
            if value is not None and parse_go_bool(value) is None:
                self.fail('feature_gates: %s must be true or false, not %r' % (key, value))
        if params['feature_gates']:
            params['feature_gates'] = dict((k, None if v is None else parse_go_bool(v)) for k, v in params['feature_gates'].items())
        for index, entry in enumerate(params['reserved_memory'] or []):
            for name, value in entry['limits'].items():
                try:
                    Quantity.parse(value)
                except QuantityError as exc:
                    self.fail('reserved_memory[%d].limits.%s: %s' % (index, name, exc))

    def read_yaml(self, path, required):
        text = self.fs.read_raw(path)
        if text is None:
            if required:
                self.fail('%s does not exist: the kubelet is not configured on this node yet (join it with kubeadm first), '
                          'or set create=true to start a new file' % path)
            return None, None
        try:
            data = yaml.safe_load(text) if text.strip() else {}
        except yaml.YAMLError as exc:
            self.fail('%s is not valid YAML: %s' % (path, exc))
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.fail('%s does not hold a KubeletConfiguration mapping' % path)
        kind = data.get('kind')
        if kind not in (None, 'KubeletConfiguration'):
            self.fail('%s holds a %s, not a KubeletConfiguration' % (path, kind))
        return text, data

    # -- the layers the kubelet merges -------------------------------------------
    def kubeadm_flags(self):
        flags = []
        for path in KUBEADM_FLAG_FILES:
            flags.extend(parse_env_file(self.fs.read_raw(path), path))
        return flags

    def rancher_flags(self):
        base = '/etc/rancher/%s' % self.distribution
        files = [base + '/config.yaml'] + ['%s/config.yaml.d/%s' % (base, name) for name in self.fs.listdir(base + '/config.yaml.d')
                                           if name.endswith(('.yaml', '.yml'))]
        flags = []
        for path in files:
            text = self.fs.read_raw(path)
            if not text:
                continue
            try:
                data = yaml.safe_load(text) or {}
            except yaml.YAMLError as exc:
                self.fail('%s is not valid YAML: %s' % (path, exc))
            if not isinstance(data, dict):
                continue
            for key in ('kubelet-arg', 'kubelet-arg+'):
                args = data.get(key)
                if args is None:
                    continue
                if isinstance(args, str):
                    args = [args]
                flags.extend(parse_flag_words(args, '%s %s' % (path, key)))
        return flags

    def layers(self):
        """(config file, drop-in dir, [flags]) as the kubelet on this node reads them."""
        if self.distribution == 'kubeadm':
            flags = self.kubeadm_flags()
            default_dir = None
        else:
            flags = self.rancher_flags()
            default_dir = RANCHER_DEFAULT_CONFIG_DIR % self.distribution
        config_file = DEFAULT_PATHS.get(self.distribution)
        config_dir = default_dir
        for flag in flags:
            if flag.name == 'config':
                config_file = flag.value
            elif flag.name == 'config-dir':
                config_dir = flag.value
        return config_file, config_dir, flags

    def check_path_is_read(self, config_file, config_dir):
        """The configuration file the kubelet reads, given that it reads ``path``."""
        if self.path == config_file:
            return config_file
        if config_dir and os.path.dirname(self.path.rstrip('/')) == config_dir.rstrip('/'):
            if not self.path.endswith('.conf'):
                self.fail('%s is in the kubelet drop-in directory %s but the kubelet reads only *.conf files there' % (self.path, config_dir))
            return config_file
        if self.distribution == 'kubeadm':
            # A kubelet started with another --config than kubeadm's: trust the explicit path.
            return self.path
        self.fail('the %s kubelet does not read %s: it reads its configuration from %s and the drop-in directory %s '
                  '(set path to a .conf file there, or add a config= kubelet-arg)' % (self.distribution, self.path, config_file, config_dir))

    def effective(self, merged, config_file, config_dir, flags, owned=None):
        """The configuration the kubelet runs with, and the settings asked for (``owned``: by default the keys of the
        options given) that something overrides."""
        if owned is None:
            owned = [OPTION_KEYS[option] for option in OPTION_KEYS if self.params[option] is not None]
        layers = []
        if config_file and config_file != self.path:
            _text, data = self.read_yaml(config_file, required=False)
            layers.append((config_file, data or {}))
        else:
            layers.append((self.path, merged))
        if config_dir:
            for name in self.fs.listdir(config_dir):
                path = '%s/%s' % (config_dir.rstrip('/'), name)
                if not name.endswith('.conf'):
                    continue
                if path == self.path:
                    layers.append((path, merged))
                else:
                    _text, data = self.read_yaml(path, required=False)
                    layers.append((path, data or {}))
        try:
            flag_values = flags_to_config(flags)
        except ValueError as exc:
            self.fail(str(exc))
        layers.append(('flags', dict((key, value) for key, (value, flag) in flag_values.items())))
        conflicts = []
        effective = {}
        after_ours = False
        for source, data in layers:
            if source == self.path:
                after_ours = True
            elif after_ours:
                for key in owned:
                    if key in data:
                        where = str(flag_values[key][1]) if source == 'flags' else 'the drop-in %s' % source
                        conflicts.append('%s is also set by %s, which overrides %s' % (key, where, self.path))
            if source == 'flags':
                # A map flag (--kube-reserved=...) replaces the whole map (cliflag.MapStringString).
                effective = dict(effective, **copy.deepcopy(data))
            else:
                # How the kubelet applies a drop-in over the file: maps merge, lists and scalars replace.
                effective = dict_merge(effective, data)
        return effective, conflicts

    def machine(self):
        topology = CpuTopology.read(self.fs)
        isolated = self.params['isolated_cpus']
        if isolated is None:
            try:
                value = KernelCmdline.parse(self.fs.read('/proc/cmdline', '')).last_value('isolcpus')
            except KernelCmdlineError:
                value = None
            cpus = [part for part in (value or '').split(',') if part and not part[0].isalpha()]
            try:
                isolated = CpuSet.parse(','.join(cpus))
            except CpuSetError:
                isolated = CpuSet()
        return Machine.from_topology(topology, isolated)

    def stale_state_files(self, effective):
        stale = []
        state_dir = self.params['state_dir'].rstrip('/') or '/'
        cpu_path = '%s/%s' % (state_dir, STATE_FILES['cpu'])
        text = self.fs.read_raw(cpu_path)
        if text is not None:
            options = effective.get('cpuManagerPolicyOptions') or {}
            reason = cpu_state_stale(read_state(text), cpu_policy_of(effective), effective.get('reservedSystemCPUs'),
                                     strict=parse_go_bool(options.get('strict-cpu-reservation', 'false')) is True)
            if reason:
                stale.append({'path': cpu_path, 'reason': reason})
        memory_path = '%s/%s' % (state_dir, STATE_FILES['memory'])
        text = self.fs.read_raw(memory_path)
        if text is not None:
            try:
                reason = memory_state_stale(read_state(text), memory_policy_of(effective), effective.get('reservedMemory'))
            except QuantityError as exc:
                reason = str(exc)
            if reason:
                stale.append({'path': memory_path, 'reason': reason})
        return stale

    # -- run -------------------------------------------------------------------
    def run(self):
        self.check_params()
        config_file, config_dir, flags = self.layers()
        config_file = self.check_path_is_read(config_file, config_dir)
        restore_from = self.params['restore_from']
        before_text, current = self.read_yaml(self.path, required=not (self.params['create'] or restore_from))
        current = current or {}
        owned = None
        if restore_from:
            if not os.path.isabs(restore_from):
                self.fail('restore_from must be an absolute path, not %r' % restore_from)
            restored_text, merged = self.read_yaml(restore_from, required=False)
            if restored_text is None:
                self.fail('restore_from: %s does not exist' % restore_from)
            # What the restore changes is what a later layer must not override.
            owned = sorted(key for key in set(current) | set(merged) if current.get(key) != merged.get(key))
        else:
            try:
                merged = merge_config(current, self.params)
            except CpuSetError as exc:
                self.fail('reserved_system_cpus: %s' % exc)
        effective, conflicts = self.effective(merged, config_file, config_dir, flags, owned)
        # What the kubelet ran with before: the same layers around the current file.
        effective_before, _unused = self.effective(current, config_file, config_dir, flags)
        self.result['cpu_manager_policy'] = {'before': cpu_policy_of(effective_before), 'after': cpu_policy_of(effective)}
        self.result['memory_manager_policy'] = {'before': memory_policy_of(effective_before), 'after': memory_policy_of(effective)}
        self.result['cpu_manager_policy_changed'] = self.result['cpu_manager_policy']['before'] != self.result['cpu_manager_policy']['after']
        self.result['memory_manager_policy_changed'] = (self.result['memory_manager_policy']['before']
                                                        != self.result['memory_manager_policy']['after'])
        if conflicts:
            self.fail('the kubelet would not use these settings: %s. Remove them there first (command-line flags and later '
                      'drop-ins take precedence over %s).' % ('; '.join(conflicts), self.path), config=current)
        errors = validate(effective, self.machine())
        if errors:
            messages = [str(error) for error in errors]
            self.fail('the kubelet would not start with this configuration, nothing was changed: %s' % ' | '.join(messages),
                      errors=messages, config=current)
        self.result['config'] = merged
        self.result['effective_config'] = dict((key, effective[key]) for key in sorted(effective) if key in FLAG_KEYS_CONFIG)
        self.result['stale_state_files'] = self.stale_state_files(effective)
        self.result['created'] = before_text is None
        if restore_from:
            # Byte for byte: the copy's own formatting and comments too.
            if restored_text == before_text:
                return self.result
            content = restored_text
        elif merged == current and before_text is not None:
            return self.result
        else:
            content = yaml.safe_dump(merged, default_flow_style=False, sort_keys=False)
        mode = 0o644
        real = self.fs.path(self.path)
        if os.path.exists(real):
            mode = os.stat(real).st_mode & 0o7777
        managed = ManagedFile(self.module, self.path, content, mode=mode, fs=self.fs, backup=self.params['backup'])
        applied = managed.apply()
        self.result['changed'] = applied['changed']
        if applied.get('backup_file'):
            self.result['backup_file'] = applied['backup_file']
        if 'diff' in applied:
            self.result['diff'] = applied['diff']
        return self.result


FLAG_KEYS_CONFIG = frozenset(key for key, _parser in FLAG_KEYS.values())


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, mutually_exclusive=MUTUALLY_EXCLUSIVE)
    if yaml is None:
        module.fail_json(msg=missing_required_lib('PyYAML'), exception=YAML_IMPORT_ERROR)
    module.exit_json(**KubeletConfig(module).run())


if __name__ == '__main__':
    main()
