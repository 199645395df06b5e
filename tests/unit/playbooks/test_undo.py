# -*- coding: utf-8 -*-
"""playbooks/undo.yml in check mode against a prepared fake node (NFV_DPDK_TEST_ROOT), and its guard and tags.

The fake node is the 2-socket X710 host with what site.yml leaves on a node: the IOMMU, CPU
isolation and hugepage arguments in /etc/default/grub and on the running command line, the
cpu_isolation drop-ins, 1G pages on NUMA node 1. The plan (--check --diff) must succeed, show the
GRUB edits of the three kernel modules and the reboot that would follow, and change nothing on the
node. The reboot phase is skipped: ansible.builtin.reboot refuses a local connection even in
check mode. The lab proves the real run (molecule/default/undo_cycle.yml).
"""

import json
import os
import subprocess
import sys

from ansible_collections.nfv.dpdk.tests.unit.fakehost import FakeHost

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
PLAYBOOK = os.path.join(ROOT, 'playbooks', 'undo.yml')
COLLECTIONS = os.path.join(ROOT, '.venv', 'collections')
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
ROLE = 'nfv.dpdk.dpdk_node : '
PREPARED_ARGS = ('intel_iommu=on iommu=pt isolcpus=managed_irq,domain,1-3,5-7 nohz_full=1-3,5-7 rcu_nocbs=1-3,5-7 '
                 'irqaffinity=0,4 default_hugepagesz=1G hugepagesz=1G hugepages=1:4')
GRUB = 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="%s"\n' % PREPARED_ARGS
UNDO_VARS = {
    'dpdk_site_kubelet': False,
    'dpdk_node_hugepages_pools': [{'size': '1G', 'count': 4, 'node': 1}],
}


def prepared_node(tmp_path):
    host = FakeHost.from_fixture(str(tmp_path / 'node'), 'x710-2socket')
    host.file('/etc/default/grub', GRUB)
    host.file('/etc/os-release', 'ID=debian\nVERSION_ID="12"\n')
    host.cmdline('BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 ro quiet ' + PREPARED_ARGS)
    host.file('/etc/systemd/system.conf.d/50-nfv-dpdk-cpu-affinity.conf',
              '# Managed by nfv.dpdk.cpu_isolation\n[Manager]\nCPUAffinity=0 4\n')
    return host


def run_undo(tmp_path, host, *args):
    inventory = tmp_path / 'hosts.ini'
    inventory.write_text('[dpdk_nodes]\nnode-a ansible_connection=local ansible_python_interpreter=%s ansible_become=false\n'
                         % sys.executable)
    extra = tmp_path / 'vars.json'
    extra.write_text(json.dumps(UNDO_VARS))
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith('ANSIBLE_'))
    env.update(ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR='1',
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-tmp'),
               NFV_DPDK_TEST_ROOT=host.root)
    argv = [ANSIBLE_PLAYBOOK, '-i', str(inventory), '-e', '@%s' % extra, PLAYBOOK] + list(args)
    proc = subprocess.run(argv, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=600, check=False)
    return proc


def results(report, task_name):
    found = []
    for play in report['plays']:
        for task in play['tasks']:
            if task['task']['name'] in (task_name, ROLE + task_name) and 'node-a' in task['hosts']:
                found.append(task['hosts']['node-a'])
    return found


def test_the_plan_shows_the_removal_and_the_reboot_and_changes_nothing(tmp_path):
    host = prepared_node(tmp_path)
    before = host.snapshot()
    proc = run_undo(tmp_path, host, '--check', '--diff', '--skip-tags', 'reboot')
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    report = json.loads(proc.stdout)
    for task, removed in (('Undo - remove the IOMMU kernel arguments', 'intel_iommu=on iommu=pt '),
                          ('Undo - remove the CPU isolation', 'isolcpus=managed_irq,domain,1-3,5-7 '),
                          ('Undo - release the hugepage pools and remove their kernel arguments and boot unit',
                           ' default_hugepagesz=1G hugepagesz=1G hugepages=1:4')):
        result, = results(report, task)
        assert result['changed'] is True, (task, result)
        diffs = result['diff'] if isinstance(result['diff'], list) else [result['diff']]
        grub = [diff for diff in diffs if diff.get('before_header') == '/etc/default/grub']
        assert grub and removed in grub[0]['before'] and removed not in grub[0]['after'], (task, diffs)
    summary, = results(report, 'Undo - summary')
    assert summary['msg'] == [
        'iommu_grub: would remove its configuration',
        'cpu_isolation: would remove its configuration',
        'hugepages: would remove its configuration',
        'a reboot would follow: the running kernel has arguments of iommu_grub, cpu_isolation, hugepages',
    ], summary['msg']
    assert report['stats']['node-a']['failures'] == 0
    assert host.snapshot() == before, 'check mode changed the node'


def test_a_phase_tag_selects_only_its_tasks(tmp_path):
    host = prepared_node(tmp_path)
    proc = run_undo(tmp_path, host, '--check', '--tags', 'kernel', '--skip-tags', 'reboot')
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    report = json.loads(proc.stdout)
    ran = set(task['task']['name'].replace(ROLE, '') for play in report['plays'] for task in play['tasks']
              if not all(result.get('skipped') for result in task['hosts'].values()))
    assert {'Undo - remove the IOMMU kernel arguments', 'Undo - remove the CPU isolation'} <= ran, ran
    assert not ran & {'Undo - remove the VFs and their boot units', 'Undo - remove the driver bindings\' boot units',
                      'Undo - unmount hugetlbfs and remove it from /etc/fstab',
                      'Put the kubelet back on its previous CPU manager settings'}, ran


def test_no_matching_host_fails_naming_the_variable(tmp_path):
    host = prepared_node(tmp_path)
    proc = run_undo(tmp_path, host, '-e', 'dpdk_site_hosts=gpu_nodes')
    assert proc.returncode != 0
    report = json.loads(proc.stdout)
    guard, = results_of_host(report, 'Fail when no inventory host matches dpdk_site_hosts', 'localhost')
    assert "No inventory host matches 'gpu_nodes'" in guard['msg'] and 'dpdk_site_hosts' in guard['msg'], guard
    assert not results(report, 'Undo - summary')


def results_of_host(report, task_name, host):
    return [task['hosts'][host] for play in report['plays'] for task in play['tasks']
            if task['task']['name'] == task_name and host in task['hosts']]
