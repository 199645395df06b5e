# -*- coding: utf-8 -*-
"""The dpdk_testpmd role's judgement of where the pod ran (tasks/verdict.yml), run for real.

ansible-playbook runs the role's verdict tasks (``tasks_from: verdict``) on local hosts, each
with what the kubernetes backend leaves behind: a real testpmd log (a passing run), the exit
code, the pod's ``spec.nodeName`` and the node the pod was pinned to. A pod on another node
must fail the role even with ``dpdk_testpmd_fail_on_verdict: false``, and the controller's
record must say where it ran. Nothing on this machine is changed but files under tmp_path.
"""

import json
import os

from ansible_collections.nfv.dpdk.tests.unit.roles.localplay import ROOT, run_local_play

LOG = os.path.join(ROOT, 'tests', 'unit', 'fixtures', 'testpmd', 'pod_podman_io_null.log')
NODE_CHECK = 'Fail when the pod ran on another node than the one it proves'


def run_verdict(tmp_path, hosts):
    """Run the verdict tasks once for every host in ``hosts`` ({host: variables}); the tasks each ran, rc."""
    with open(LOG) as handle:
        log = handle.read()
    common = {
        'dpdk_testpmd_backend': 'kubernetes', 'dpdk_testpmd_log': log, 'dpdk_testpmd_exit_code': 0,
        'dpdk_testpmd_image_transport_used': 'registry', 'dpdk_testpmd_report_dir': str(tmp_path / 'reports'),
    }
    play = {
        'name': 'testpmd node check', 'hosts': 'all', 'gather_facts': False,
        'tasks': [{'name': 'Judge the run', 'ansible.builtin.include_role': {'name': 'nfv.dpdk.dpdk_testpmd', 'tasks_from': 'verdict'}}],
    }
    report, rc = run_local_play(tmp_path, play, dict((name, dict(common, **variables)) for name, variables in hosts.items()))
    ran = dict((name, {}) for name in hosts)
    for task in report['plays'][0]['tasks']:
        for name, result in task['hosts'].items():
            ran[name][task['task']['name'].split(' : ', 1)[-1]] = result
    return ran, rc


def record(tmp_path, host):
    with open(str(tmp_path / 'reports' / (host + '.json'))) as handle:
        return json.load(handle)


def test_where_the_pod_ran_is_recorded_and_another_node_fails_the_role(tmp_path):
    ran, rc = run_verdict(tmp_path, {
        'worker-a': {'dpdk_testpmd_k8s_node_name': 'worker-a', 'dpdk_testpmd_k8s_node': 'worker-a',
                     'dpdk_testpmd_pod_name': 'testpmd-worker-a'},
        'worker-b': {'dpdk_testpmd_k8s_node_name': 'worker-b', 'dpdk_testpmd_k8s_node': 'worker-c',
                     'dpdk_testpmd_pod_name': 'testpmd-worker-b'},
        # a verdict that is only reported still fails on the wrong node: it proved another node
        'worker-d': {'dpdk_testpmd_k8s_node_name': 'worker-d', 'dpdk_testpmd_k8s_node': '',
                     'dpdk_testpmd_pod_name': 'testpmd-worker-d', 'dpdk_testpmd_fail_on_verdict': False},
        # podman runs the pod on the node itself: nothing to compare
        'node-p': {'dpdk_testpmd_backend': 'podman', 'dpdk_testpmd_k8s_node_name': 'elsewhere', 'dpdk_testpmd_k8s_node': '',
                   'dpdk_testpmd_pod_name': 'testpmd'},
    })
    assert rc != 0

    good = ran['worker-a']
    assert good[NODE_CHECK].get('failed') is not True and good[NODE_CHECK]['msg'] == 'the pod ran on worker-a'
    assert good['Fail on a bad verdict'].get('failed') is not True
    assert record(tmp_path, 'worker-a')['k8s_node'] == 'worker-a' and record(tmp_path, 'worker-a')['passed'] is True

    wrong = ran['worker-b']
    assert wrong[NODE_CHECK]['failed'] is True
    assert wrong[NODE_CHECK]['msg'] == ('the pod ran on node worker-c, not on worker-b (dpdk_testpmd_k8s_node_name) '
                                        'that it was pinned to')
    assert 'Fail on a bad verdict' not in wrong
    written = record(tmp_path, 'worker-b')
    assert written['k8s_node'] == 'worker-c' and written['k8s_node_expected'] == 'worker-b'
    assert written['passed'] is False and written['reasons'][-1] == wrong[NODE_CHECK]['msg']
    assert written['pod'] == 'testpmd-worker-b' and written['image_transport'] == 'registry'

    unscheduled = ran['worker-d']
    assert unscheduled[NODE_CHECK]['failed'] is True
    assert 'ran on node (none reported), not on worker-d' in unscheduled[NODE_CHECK]['msg']
    assert record(tmp_path, 'worker-d')['k8s_node'] is None and record(tmp_path, 'worker-d')['passed'] is False

    podman = ran['node-p']
    assert podman[NODE_CHECK].get('skipped') is True and podman['Fail on a bad verdict'].get('failed') is not True
    written = record(tmp_path, 'node-p')
    assert written['passed'] is True and written['k8s_node'] is None and written['k8s_node_expected'] is None
