#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kubelet_state
short_description: Remove (and put back) the kubelet's CPU and memory manager checkpoints it would refuse
description:
  - >-
    The kubelet keeps the CPU manager's and memory manager's assignments in C(cpu_manager_state) and
    C(memory_manager_state) in its root directory. After a policy change it refuses to start on the old file
    (C(could not restore state from checkpoint: configured policy "static" differs from state checkpoint policy
    "none", please drain this node and delete the CPU manager checkpoint file "/var/lib/kubelet/cpu_manager_state"
    before restarting Kubelet)) and crash-loops.
  - With O(state=absent), removes each checkpoint the kubelet would refuse for the given policies, after a
    backup copy, and returns what it removed. A checkpoint that still fits is kept, so running pods keep their
    exclusive CPUs. Run it while the kubelet is stopped (it starts and rewrites the checkpoint otherwise).
  - With O(state=restored), puts back the checkpoints listed in O(restore) (what a previous O(state=absent)
    returned), to roll a failed change back.
  - The checks are those of the kubelet's C(state_checkpoint.go) and the static policy's C(validateState);
    a different C(policyName); with the static CPU policy, reserved CPUs missing from the checkpoint's
    C(defaultCpuSet) (or present in it with C(strict-cpu-reservation)); with the Static memory policy, a
    C(systemReserved) per NUMA node that differs from O(reserved_memory).
version_added: "0.1.0"
author:
  - nfv.dpdk maintainers (@nfv-dpdk)
attributes:
  check_mode:
    support: full
    description: Reports what would be removed or restored without touching the files.
  diff_mode:
    support: full
    description: Shows each checkpoint file before and after.
  platform:
    support: full
    platforms: posix
    description: Linux nodes running the kubelet.
options:
  state:
    description:
      - V(absent) removes the stale checkpoints; V(restored) puts back those listed in O(restore).
    type: str
    choices: [absent, restored]
    default: absent
  state_dir:
    description: The kubelet's root directory (C(--root-dir)).
    type: path
    default: /var/lib/kubelet
  cpu_manager_policy:
    description:
      - The CPU manager policy the kubelet will start with; C(cpu_manager_state) is checked against it.
      - Not set skips C(cpu_manager_state). Use RV(nfv.dpdk.kubelet_config#module:cpu_manager_policy.after).
    type: str
    choices: [none, static]
  reserved_cpus:
    description: The kubelet's C(reservedSystemCPUs) (cpu-list), checked against the checkpoint's default CPU set.
    type: str
  strict_cpu_reservation:
    description: Whether the C(strict-cpu-reservation) CPU manager policy option is on.
    type: bool
    default: false
  memory_manager_policy:
    description:
      - The memory manager policy the kubelet will start with; C(memory_manager_state) is checked against it.
      - Not set skips C(memory_manager_state).
    type: str
    choices: ['None', 'Static']
  reserved_memory:
    description:
      - The kubelet's C(reservedMemory) (C(numaNode) and C(limits) entries, as in the configuration file), checked
        against the checkpoint's C(systemReserved) per NUMA node with the Static policy.
    type: list
    elements: dict
  restore:
    description:
      - With O(state=restored), the checkpoints to put back, as returned in RV(removed) by O(state=absent).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The checkpoint file.
        type: path
        required: true
      backup_file:
        description: The copy to put back.
        type: path
        required: true
      policy:
        description: Ignored; accepted so that RV(removed) can be passed as it is.
        type: str
      reason:
        description: Ignored; accepted so that RV(removed) can be passed as it is.
        type: str
'''

EXAMPLES = r'''
- name: Drop the checkpoints the new configuration makes stale (kubelet stopped)
  nfv.dpdk.kubelet_state:
    cpu_manager_policy: "{{ kubelet.cpu_manager_policy.after }}"
    reserved_cpus: "{{ kubelet.config.reservedSystemCPUs | default(omit) }}"
    memory_manager_policy: "{{ kubelet.memory_manager_policy.after }}"
  register: state

- name: Roll back
  nfv.dpdk.kubelet_state:
    state: restored
    restore: "{{ state.removed }}"
'''

RETURN = r'''
changed:
  description: Whether a checkpoint was removed or restored (or would be, in check mode).
  returned: always
  type: bool
removed:
  description: The checkpoints removed (or that would be, in check mode), with their backup and the reason.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The checkpoint file.
      type: str
      sample: /var/lib/kubelet/cpu_manager_state
    backup_file:
      description: Where a copy of it is kept (null in check mode).
      type: str
      sample: /var/lib/kubelet/cpu_manager_state.1234.2026-01-01@00:00:00.123456~
    policy:
      description: The policy recorded in the checkpoint.
      type: str
      sample: none
    reason:
      description: What the kubelet would say about it.
      type: str
      sample: configured policy "static" differs from state checkpoint policy "none"
kept:
  description: The checkpoints that fit the configuration and were left alone.
  returned: always
  type: list
  elements: str
  sample: [/var/lib/kubelet/memory_manager_state]
restored:
  description: The checkpoint files put back with O(state=restored).
  returned: always
  type: list
  elements: str
diff:
  description: Each checkpoint before and after.
  returned: when changed and in diff mode
  type: list
  elements: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nfv.dpdk.plugins.module_utils.cpuset import CpuSet, CpuSetError
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.managed_file import ManagedFile, backup_copy
from ansible_collections.nfv.dpdk.plugins.module_utils.kubelet import (
    STATE_FILES, Quantity, QuantityError, cpu_state_stale, memory_state_stale, read_state,
)

ARGUMENT_SPEC = dict(
    state=dict(type='str', default='absent', choices=['absent', 'restored']),
    state_dir=dict(type='path', default='/var/lib/kubelet'),
    cpu_manager_policy=dict(type='str', choices=['none', 'static']),
    reserved_cpus=dict(type='str'),
    strict_cpu_reservation=dict(type='bool', default=False),
    memory_manager_policy=dict(type='str', choices=['None', 'Static']),
    reserved_memory=dict(type='list', elements='dict'),
    restore=dict(type='list', elements='dict', default=[], options=dict(
        path=dict(type='path', required=True),
        backup_file=dict(type='path', required=True),
        policy=dict(type='str'),
        reason=dict(type='str'),
    )),
)


class KubeletState:
    def __init__(self, module, fs=None):
        self.module = module
        self.params = module.params
        self.fs = fs or HostFS()
        self.result = {'changed': False, 'removed': [], 'kept': [], 'restored': []}
        self.diffs = []

    def check_params(self):
        params = self.params
        if params['reserved_cpus']:
            try:
                CpuSet.parse(params['reserved_cpus'])
            except CpuSetError as exc:
                self.module.fail_json(msg='reserved_cpus: %s' % exc, **self.result)
        for index, entry in enumerate(params['reserved_memory'] or []):
            if not isinstance(entry.get('limits'), dict) or ('numaNode' not in entry and 'numa_node' not in entry):
                self.module.fail_json(msg='reserved_memory[%d]: each entry needs numaNode and a limits map' % index, **self.result)
            for name, value in entry['limits'].items():
                try:
                    Quantity.parse(value)
                except QuantityError as exc:
                    self.module.fail_json(msg='reserved_memory[%d].limits.%s: %s' % (index, name, exc), **self.result)
        if params['state'] == 'restored':
            state_dir = params['state_dir'].rstrip('/')
            known = ['%s/%s' % (state_dir, name) for name in STATE_FILES.values()]
            for entry in params['restore']:
                if entry['path'] not in known:
                    self.module.fail_json(msg='restore: %s is not a kubelet checkpoint file of state_dir (allowed: %s)'
                                          % (entry['path'], ', '.join(known)), **self.result)
                if not self.fs.exists(entry['backup_file']):
                    self.module.fail_json(msg='restore: the backup %s of %s does not exist' % (entry['backup_file'], entry['path']),
                                          **self.result)

    def remove_stale(self):
        params = self.params
        state_dir = params['state_dir'].rstrip('/')
        checks = []
        if params['cpu_manager_policy'] is not None:
            checks.append(('cpu', lambda state: cpu_state_stale(state, params['cpu_manager_policy'], params['reserved_cpus'],
                                                                params['strict_cpu_reservation'])))
        if params['memory_manager_policy'] is not None:
            checks.append(('memory', lambda state: memory_state_stale(state, params['memory_manager_policy'], params['reserved_memory'])))
        for kind, check in checks:
            path = '%s/%s' % (state_dir, STATE_FILES[kind])
            text = self.fs.read_raw(path)
            if text is None:
                continue
            state = read_state(text)
            reason = check(state)
            if not reason:
                self.result['kept'].append(path)
                continue
            entry = {'path': path, 'backup_file': None, 'reason': reason, 'policy': (state or {}).get('policyName')}
            self.diffs.append({'before_header': path, 'after_header': path, 'before': text, 'after': ''})
            if not self.module.check_mode:
                real = self.fs.path(path)
                backup = backup_copy(self.module, real)
                entry['backup_file'] = self.fs.unroot(backup)
                os.unlink(real)
            self.result['removed'].append(entry)
            self.result['changed'] = True

    def restore(self):
        for entry in self.params['restore']:
            backup_real = self.fs.path(entry['backup_file'])
            # The copy's content and mode, written atomically by ManagedFile (diff and check mode
            # included); no backup of what the failed kubelet left, the rollback discards that.
            managed = ManagedFile(self.module, entry['path'], self.fs.read_raw(entry['backup_file']),
                                  mode=os.stat(backup_real).st_mode & 0o7777, fs=self.fs, backup=False)
            applied = managed.apply()
            if not applied['changed']:
                continue
            if 'diff' in applied:
                self.diffs.append(applied['diff'])
            if not self.module.check_mode and managed.current() != managed.content:
                self.module.fail_json(msg='restore: %s does not read back as its backup %s after the write'
                                      % (entry['path'], entry['backup_file']), **self.result)
            self.result['restored'].append(entry['path'])
            self.result['changed'] = True

    def run(self):
        self.check_params()
        if self.params['state'] == 'absent':
            self.remove_stale()
        else:
            self.restore()
        if self.module._diff and self.diffs:
            self.result['diff'] = self.diffs
        return self.result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.exit_json(**KubeletState(module).run())


if __name__ == '__main__':
    main()
