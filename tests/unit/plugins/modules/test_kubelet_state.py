# -*- coding: utf-8 -*-
"""nfv.dpdk.kubelet_state: remove stale checkpoints with a backup, restore them."""

import json

import pytest

from ansible_collections.nfv.dpdk.plugins.modules import kubelet_state

CPU = '/var/lib/kubelet/cpu_manager_state'
MEMORY = '/var/lib/kubelet/memory_manager_state'


@pytest.fixture
def host(fake_host):
    fake_host.file(CPU, json.dumps({'policyName': 'none', 'defaultCpuSet': '', 'checksum': 1}))
    fake_host.file(MEMORY, json.dumps({'policyName': 'None', 'machineState': {}, 'checksum': 2}))
    return fake_host


def test_removes_only_the_stale_checkpoint(host, run_module):
    old = host.read(CPU)
    result = run_module(kubelet_state, {'cpu_manager_policy': 'static', 'memory_manager_policy': 'None'})
    assert not result.failed and result.changed
    assert not host.exists(CPU)
    assert host.exists(MEMORY)
    removed = result['removed'][0]
    assert removed['path'] == CPU and removed['policy'] == 'none'
    assert removed['reason'] == 'configured policy "static" differs from state checkpoint policy "none"'
    assert host.read(removed['backup_file']) == old
    assert result['kept'] == [MEMORY]


def test_idempotent_when_nothing_is_stale(host, run_module):
    snapshot = host.snapshot()
    result = run_module(kubelet_state, {'cpu_manager_policy': 'none', 'memory_manager_policy': 'None'})
    assert not result.changed and result['removed'] == []
    assert host.snapshot() == snapshot


def test_check_mode_and_diff(host, run_module):
    snapshot = host.snapshot()
    result = run_module(kubelet_state, {'cpu_manager_policy': 'static', 'memory_manager_policy': 'Static'}, check_mode=True, diff=True)
    assert result.changed and len(result['removed']) == 2
    assert result['removed'][0]['backup_file'] is None
    assert [d['before_header'] for d in result['diff']] == [CPU, MEMORY]
    assert host.snapshot() == snapshot


def test_missing_checkpoints_are_fine(fake_host, run_module):
    result = run_module(kubelet_state, {'cpu_manager_policy': 'static'})
    assert not result.failed and not result.changed


def test_reserved_cpus_change_under_static(host, run_module):
    host.file(CPU, json.dumps({'policyName': 'static', 'defaultCpuSet': '1-3'}))
    result = run_module(kubelet_state, {'cpu_manager_policy': 'static', 'reserved_cpus': '0'})
    assert result['removed'][0]['reason'] == 'not all reserved cpus: "0" are present in defaultCpuSet: "1-3"'


def test_restore(host, run_module):
    old = host.read(CPU)
    removed = run_module(kubelet_state, {'cpu_manager_policy': 'static'})['removed']
    host.file(CPU, json.dumps({'policyName': 'static'}))  # what the failed kubelet may have written
    restore = [{'path': entry['path'], 'backup_file': entry['backup_file']} for entry in removed]
    result = run_module(kubelet_state, {'state': 'restored', 'restore': restore}, diff=True)
    assert result.changed and result['restored'] == [CPU]
    assert host.read(CPU) == old
    again = run_module(kubelet_state, {'state': 'restored', 'restore': restore})
    assert not again.changed


def test_restore_keeps_the_mode_and_check_mode_writes_nothing(host, run_module):
    import os
    old = host.read(CPU)
    os.chmod(host.path(CPU), 0o600)
    removed = run_module(kubelet_state, {'cpu_manager_policy': 'static'})['removed']
    restore = [{'path': entry['path'], 'backup_file': entry['backup_file']} for entry in removed]
    checked = run_module(kubelet_state, {'state': 'restored', 'restore': restore}, check_mode=True, diff=True)
    assert checked.changed and checked['restored'] == [CPU]
    assert checked['diff'][0]['after'] == old
    assert not os.path.exists(host.path(CPU))
    result = run_module(kubelet_state, {'state': 'restored', 'restore': restore})
    assert result.changed and host.read(CPU) == old
    assert os.stat(host.path(CPU)).st_mode & 0o7777 == 0o600


@pytest.mark.parametrize('args,message', [
    ({'state': 'restored', 'restore': [{'path': '/etc/passwd', 'backup_file': '/tmp/x'}]}, 'is not a kubelet checkpoint file'),
    ({'state': 'restored', 'restore': [{'path': CPU, 'backup_file': '/nope'}]}, 'the backup /nope of'),
    ({'cpu_manager_policy': 'static', 'reserved_cpus': 'a'}, "reserved_cpus: 'a' is not a valid cpu-list"),
    ({'memory_manager_policy': 'Static', 'reserved_memory': [{'numaNode': 0, 'limits': {'memory': 'x'}}]}, 'reserved_memory[0].limits.memory'),
    ({'memory_manager_policy': 'Static', 'reserved_memory': [{'limits': {}}]}, 'each entry needs numaNode'),
    ({'cpu_manager_policy': 'Static'}, 'value of cpu_manager_policy must be one of: none, static'),
])
def test_bad_input_changes_nothing(host, run_module, args, message):
    snapshot = host.snapshot()
    result = run_module(kubelet_state, args)
    assert result.failed and message in result['msg'], result.get('msg')
    assert host.snapshot() == snapshot
