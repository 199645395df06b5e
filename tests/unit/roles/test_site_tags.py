# -*- coding: utf-8 -*-
"""playbooks/site.yml: the phase tags select exactly their tasks, and a run that targets no host fails at once.

The tags are the ones docs and the conventions name (kernel, hugepages, reboot, sriov, bind,
kubelet, testpmd, always). `ansible-playbook --list-tasks --tags <tag>` lists what a run with
that tag would execute; each phase must list its own tasks plus the always-tagged input
validation and pre-flight, and nothing of another phase. The dpdk_node role is imported, so
its tasks (and those of its imported reboot.yml and verify.yml) appear in the listing.
"""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
PLAYBOOK = os.path.join(ROOT, 'playbooks', 'site.yml')
COLLECTIONS = os.path.join(ROOT, '.venv', 'collections')
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
ROLE = 'nfv.dpdk.dpdk_node : '

ALWAYS = {
    # site.yml's own: facts only when the run talks to a cluster (the Kubernetes node name).
    "Read the node's name for the Kubernetes API (nfv_dpdk_k8s_node_name not set)",
    ROLE + "Validating arguments against arg spec 'main' - Prepare a Linux node for DPDK workloads",
    # The node plan (tasks/plan.yml, issue 16): it feeds every phase, so it runs with any of them.
    ROLE + 'Refuse node plan inputs that contradict each other',
    ROLE + 'Plan the node from its topology and its DPDK NICs',
    ROLE + 'Take the sets left empty from the node plan',
    ROLE + 'Check that no extra variable hides the node plan',
    ROLE + 'Pre-flight - plan the CPU isolation, hugepages, SR-IOV VFs and driver bindings',
    ROLE + 'Record what the node offers to the workloads',
    ROLE + 'Show the plan (check mode)',
}
GUARD = 'Fail when no inventory host matches dpdk_site_hosts'
PHASES = {
    'kernel': {
        ROLE + 'Configure the IOMMU kernel arguments',
        ROLE + 'Isolate CPUs for the DPDK workloads',
        ROLE + 'Reserve hugepages per size and NUMA node',
        ROLE + 'Verify that the IOMMU arguments, the CPU isolation and the hugepage pools are active',
    },
    'hugepages': {
        ROLE + 'Mount hugetlbfs persistently (fstab)',
        ROLE + 'Reserve hugepages per size and NUMA node',
        ROLE + 'Verify that the IOMMU arguments, the CPU isolation and the hugepage pools are active',
    },
    'reboot': {
        ROLE + 'Refuse to leave the node half-prepared when reboots are not allowed',
        ROLE + 'Announce the drain',
        ROLE + 'Cordon and drain the Kubernetes node',
        ROLE + 'Report the drain',
        ROLE + 'Announce the reboot',
        ROLE + 'Reboot into the new kernel command line',
        ROLE + 'Report the reboot',
        ROLE + 'Read the Kubernetes node before the drain',
        ROLE + 'Mark the cordon as made by nfv.dpdk',
        ROLE + 'Judge the drain',
        ROLE + 'Drain incomplete - read the pods left on the node',
        ROLE + 'Drain incomplete - read the PodDisruptionBudgets',
        ROLE + 'Stop when the drain did not evict every pod (the node stays cordoned)',
        ROLE + 'Stand in for the reboot (test only, dpdk_node_reboot_stand_in)',
        ROLE + 'Gate - decide what to check',
        ROLE + 'Gate - check that the VFs exist',
        ROLE + 'Gate - check the drivers of the devices',
        ROLE + 'Gate - check the hugepage pools',
        ROLE + 'Gate - announce the wait for the kubelet and the device plugin',
        ROLE + 'Gate - wait for the kubelet to report the node Ready',
        ROLE + 'Gate - wait for the allocatable resources',
        ROLE + 'Gate - stop with the node cordoned when something is missing',
        ROLE + 'Gate - uncordon the Kubernetes node',
        ROLE + 'Gate - remove the nfv.dpdk cordon mark',
        ROLE + 'Gate - report',
    },
    'sriov': {ROLE + 'Create SR-IOV virtual functions'},
    'bind': {ROLE + 'Bind devices to their DPDK drivers'},
    'device_plugin': {'Configure the SR-IOV network device plugin for the VFs'},
    'kubelet': {'Look for a kubelet configuration', 'Configure the kubelet CPU manager with the reserved CPUs'},
    'testpmd': {'Prove the node with a testpmd pod'},
}
TASK_LINE = re.compile(r'^      (?P<name>.+?)\tTAGS: \[(?P<tags>[^\]]*)\]$')


def ansible_env(tmp_path):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith('ANSIBLE_'))
    env.update(ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
               ANSIBLE_NOCOLOR='1', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-tmp'),
               # a failure's msg verbatim: the yaml result format folds and re-quotes it
               # differently in each ansible-core version (2.16 doubles the quotes)
               ANSIBLE_CALLBACK_RESULT_FORMAT='json')
    return env


def inventory(tmp_path, group):
    path = tmp_path / 'inventory.ini'
    path.write_text('[%s]\nnode-a ansible_connection=local\n' % group)
    return str(path)


def site_tasks(tmp_path, *args):
    """Names of the tasks of site.yml's first two plays (guard and nodes) that `--list-tasks` shows."""
    argv = [ANSIBLE_PLAYBOOK, '--list-tasks', '-i', inventory(tmp_path, 'dpdk_nodes'), PLAYBOOK] + list(args)
    proc = subprocess.run(argv, env=ansible_env(tmp_path), cwd=str(tmp_path), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    plays = proc.stdout.split('\n  play #')[1:]
    assert len(plays) >= 2, proc.stdout
    names = set()
    for play in plays[:2]:
        for line in play.splitlines():
            match = TASK_LINE.match(line)
            if match:
                names.add(match.group('name'))
    return names


@pytest.mark.parametrize('tag', sorted(PHASES))
def test_a_phase_tag_selects_exactly_its_tasks(tmp_path, tag):
    assert site_tasks(tmp_path, '--tags', tag) == PHASES[tag] | ALWAYS | {GUARD}


def test_the_phases_and_always_together_are_the_whole_node_play(tmp_path):
    everything = site_tasks(tmp_path)
    phases = set().union(*PHASES.values())
    assert everything == phases | ALWAYS | {GUARD}


def test_skipping_a_phase_leaves_the_others(tmp_path):
    others = set().union(*(tasks for tag, tasks in PHASES.items() if tag != 'sriov'))
    assert site_tasks(tmp_path, '--skip-tags', 'sriov') == others | ALWAYS | {GUARD}


def test_no_matching_host_fails_naming_the_group_and_the_variable(tmp_path):
    argv = [ANSIBLE_PLAYBOOK, '-i', inventory(tmp_path, 'workers'), PLAYBOOK,
            '-e', 'ansible_python_interpreter=%s' % sys.executable]
    proc = subprocess.run(argv, env=ansible_env(tmp_path), cwd=str(tmp_path), capture_output=True, text=True,
                          check=False, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "No inventory host matches 'dpdk_nodes'" in output, output
    assert 'dpdk_site_hosts' in output, output
    # Nothing after the guard ran: no node was prepared or reported.
    assert 'Prepare the node' not in output and 'node-a' not in output, output


def test_no_matching_host_fails_also_with_a_phase_tag(tmp_path):
    argv = [ANSIBLE_PLAYBOOK, '-i', inventory(tmp_path, 'workers'), PLAYBOOK, '--tags', 'sriov',
            '-e', 'dpdk_site_hosts=gpu_nodes', '-e', 'ansible_python_interpreter=%s' % sys.executable]
    proc = subprocess.run(argv, env=ansible_env(tmp_path), cwd=str(tmp_path), capture_output=True, text=True,
                          check=False, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "No inventory host matches 'gpu_nodes'" in output, output
