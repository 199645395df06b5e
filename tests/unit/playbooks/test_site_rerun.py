# -*- coding: utf-8 -*-
"""site.yml for real (not --check) on a fake node that is already prepared, or drifted in one area.

The node preparation plans every module first (pre-flight, check mode); a module whose pre-flight
finds nothing to change is not run a second time, and the verify step runs only for what changed or
after a reboot. On a far-edge node each module run is a round trip, so a re-run that changes nothing
must cost one per module, and still change nothing. The tree (tests/unit/fixtures/hosts/x710-2socket.yml,
as test_audit.py prepares it) is compared byte for byte; the ansible.posix.json callback says which
tasks ran, were skipped or changed.
"""

import json

from ansible_collections.nfv.dpdk.tests.unit.playbooks.test_audit import NODE_VARS, ROOT, prepared_node, run_audit

SITE = ROOT + '/playbooks/site.yml'
# The proof pod and the kubelet are other tests' business: the node preparation alone.
SITE_VARS = dict(NODE_VARS, dpdk_site_testpmd=False)


def site_run(tmp_path, node, argv=(), node_vars=None):
    proc = run_audit(tmp_path, node, playbook=SITE, argv=list(argv), node_vars=node_vars or SITE_VARS,
                     env={'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json'})
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout[proc.stdout.index('{'):])


def preparation_results(output):
    """(task name, result) of every task of the preparation play on the one host (the report play after it
    writes its JSON report on the controller)."""
    for play in output['plays']:
        if not play['play']['name'].startswith('Prepare DPDK worker nodes'):
            continue
        for task in play['tasks']:
            name = task["task"]["name"].split(" : ", 1)[-1]
            for result in task['hosts'].values():
                yield name, result


def dpdk_node_tasks(output):
    """Task name -> 'changed', 'ok' or 'skipped' for the preparation play's tasks."""
    states = {}
    for name, result in preparation_results(output):
        if result.get('skipped'):
            states[name] = 'skipped'
        else:
            states[name] = 'changed' if result.get('changed') else 'ok'
    return states


FACTS = "Read the node's name for the Kubernetes API (nfv_dpdk_k8s_node_name not set)"


def node_module_executions(output):
    """The module executions on the node in the preparation play: tasks (loop items) that ran, not skipped,
    whose action is a module of nfv.dpdk or ansible.posix - each one round trip on a far-edge link (issue 19)."""
    executions = []
    for name, result in preparation_results(output):
        if result.get('action', '').startswith(('nfv.dpdk.', 'ansible.posix.')):
            items = result['results'] if isinstance(result.get('results'), list) else [result]
            executions.extend(name for item in items if not item.get('skipped'))
    return executions


PREFLIGHT = 'Pre-flight - plan the CPU isolation, hugepages, SR-IOV VFs and driver bindings'
VERIFY = 'Verify that the IOMMU arguments, the CPU isolation and the hugepage pools are active'


def test_a_rerun_on_a_prepared_node_runs_each_module_once_and_changes_nothing(tmp_path):
    node = prepared_node(str(tmp_path / 'node'))
    before = node.snapshot()
    output = site_run(tmp_path, node)
    assert node.snapshot() == before
    tasks = dpdk_node_tasks(output)
    preflight = dict(preparation_results(output))[PREFLIGHT]
    assert tasks[PREFLIGHT] == 'ok'
    # No cluster in this run (no drain, no Kubernetes pod): no fact gathering either.
    assert tasks[FACTS] == 'skipped'
    assert sorted(preflight['plans']) == ['hugepages', 'sriov_vfs']
    assert preflight['would_change'] == [] and preflight['reboot_required'] == []
    # iommu_grub has no pre-flight (it makes the first change): its own run is the check.
    assert tasks['Configure the IOMMU kernel arguments'] == 'ok'
    for name in ['Reserve hugepages per size and NUMA node', 'Create SR-IOV virtual functions',
                 VERIFY, 'Reboot into the new kernel command line']:
        assert tasks[name] == 'skipped', (name, tasks[name])
    changed = [name for name, state in tasks.items() if state == 'changed']
    assert changed == [], changed
    # The published results come from the pre-flight when the real task was skipped.
    facts = [task for play in output['plays'] for task in play['tasks']
             if task['task']['name'].endswith('Record what the node offers to the workloads')][0]
    vfs = facts['hosts']['dpdk-worker-1']['ansible_facts']['dpdk_node_result_vfs']
    assert [vf['index'] for vf in vfs] == [0, 1]
    # One round trip for the whole pre-flight, one for iommu_grub (its own run is its check): issue 19 allows 12.
    assert node_module_executions(output) == [PREFLIGHT, 'Configure the IOMMU kernel arguments']


def test_a_pool_drifted_by_hand_is_the_only_area_run_again_and_verified(tmp_path):
    # Two pages of node 1 freed by hand: the hugepages pre-flight would change them, so the real task and
    # its verify step run; the in-sync VFs are not touched a second time.
    node = prepared_node(str(tmp_path / 'node'), node1_pages=2)
    output = site_run(tmp_path, node)
    tasks = dpdk_node_tasks(output)
    results = dict(preparation_results(output))
    # node_check never reports changed: its plans say what would change, and only hugepages would.
    assert tasks[PREFLIGHT] == 'ok'
    assert results[PREFLIGHT]['would_change'] == ['hugepages'] and results[PREFLIGHT]['reboot_required'] == []
    assert tasks['Reserve hugepages per size and NUMA node'] == 'changed'
    assert tasks[VERIFY] == 'ok'
    # Only what changed is verified: the hugepages, not the IOMMU arguments.
    assert sorted(results[VERIFY]['plans']) == ['hugepages']
    assert tasks['Create SR-IOV virtual functions'] == 'skipped'
    assert node_module_executions(output) == [PREFLIGHT, 'Configure the IOMMU kernel arguments',
                                              'Reserve hugepages per size and NUMA node', VERIFY]
    assert node.read('/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages').strip() == '4'


def test_the_node_name_is_read_only_when_the_run_talks_to_a_cluster(tmp_path):
    # The proof pod on Kubernetes (the role's default backend) is pinned to the node by its name.
    node = prepared_node(str(tmp_path / 'node'))
    node_vars = dict(NODE_VARS)
    output = site_run(tmp_path, node, argv=['--check', '--tags', 'always'], node_vars=node_vars)
    tasks = dpdk_node_tasks(output)
    assert tasks[FACTS] == 'ok'
    node_vars['nfv_dpdk_k8s_node_name'] = 'worker-7'
    assert dpdk_node_tasks(site_run(tmp_path, node, argv=['--check', '--tags', 'always'], node_vars=node_vars))[FACTS] == 'skipped'
