# -*- coding: utf-8 -*-
"""The AWX job templates of docs/awx.md, run the way AWX runs them: ansible-runner on a private data dir.

The project holds docs/examples/awx/{report,site}.yml, the collection comes from its
tarball (as in the execution environment), the inventory, extra variables, settings and
command line are files under inventory/ and env/, and ansible-runner gets no stdin: a
prompt would hang the job until idle_timeout. The verdict is read from the runner's
artifacts, as AWX reads it: status, rc and the set_stats data of the playbook_on_stats event.

localhost only, read-only or check mode: the modules work on a fake host tree
(NFV_DPDK_TEST_ROOT, a 2-socket X710 node) and site.yml runs with --check and only the
kernel-argument plan and the report (reboot, sriov and bind touch the real machine's
tools even in check mode, so they are skipped).
"""

import glob
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from ansible_collections.nfv.dpdk.tests.awx.awxbuild import BIN, ROOT, clean_env
from ansible_collections.nfv.dpdk.tests.unit.fakehost import FakeHost

HOST = 'dpdk-worker-1'
PLAN_VARS = {
    'dpdk_site_kubelet': False,
    'dpdk_site_testpmd': False,
    'dpdk_node_iommu_vendor': 'intel',
    'dpdk_node_isolated_cpus': '1-3,5-7,9-11,13-14',
    'dpdk_node_reserved_cpus': '0,4,8,12',
    'dpdk_node_hugepages_default_size': '1G',
    'dpdk_node_hugepages_pools': [{'size': '1G', 'count': 4, 'node': 1}],
    'dpdk_node_hugepages_runtime': False,
}
GRUB_DEFAULT = 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n'


@pytest.fixture
def fake_node(tmp_path):
    host = FakeHost.from_fixture(str(tmp_path / 'node'), 'x710-2socket')
    host.file('/etc/default/grub', GRUB_DEFAULT)
    host.file('/etc/os-release', 'ID=debian\nVERSION_ID="12"\n')
    return host


def private_data_dir(tmp_path, installed_collections, fake_node, extravars, cmdline):
    """A private data dir as AWX writes it for a job (project/, inventory/hosts, env/*)."""
    data = tmp_path / 'job'
    project = data / 'project'
    project.mkdir(parents=True)
    for playbook in ('report.yml', 'site.yml'):
        shutil.copy(os.path.join(ROOT, 'docs', 'examples', 'awx', playbook), str(project / playbook))
    (data / 'inventory').mkdir()
    # The pyenv shim on this machine breaks interpreter discovery: name the interpreter.
    (data / 'inventory' / 'hosts').write_text(
        '[dpdk_nodes]\n%s ansible_connection=local ansible_python_interpreter=%s ansible_become=false\n'
        % (HOST, sys.executable))
    env = data / 'env'
    env.mkdir()
    (env / 'extravars').write_text(yaml.safe_dump(dict(extravars, report_dir=str(tmp_path / 'reports'))))
    (env / 'settings').write_text(yaml.safe_dump({'idle_timeout': 120, 'job_timeout': 600, 'pexpect_timeout': 10}))
    (env / 'cmdline').write_text(cmdline)
    (env / 'envvars').write_text(yaml.safe_dump({
        'ANSIBLE_COLLECTIONS_PATH': str(installed_collections),
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-tmp'),
        'ANSIBLE_REMOTE_TEMP': str(tmp_path / 'ansible-remote-tmp'),
        'NFV_DPDK_TEST_ROOT': fake_node.root,
    }))
    return data


def run_job(data, playbook, ident):
    result = subprocess.run([os.path.join(BIN, 'ansible-runner'), 'run', str(data), '-p', playbook, '--ident', ident],
                            stdin=subprocess.DEVNULL, cwd=str(data), env=clean_env(), capture_output=True, text=True,
                            timeout=900, check=False)
    artifacts = data / 'artifacts' / ident
    events = []
    for path in sorted(glob.glob(str(artifacts / 'job_events' / '*.json'))):
        with open(path) as handle:
            events.append(json.load(handle))
    events.sort(key=lambda event: event['counter'])
    status = (artifacts / 'status').read_text().strip()
    rc = (artifacts / 'rc').read_text().strip()
    assert (status, rc) == ('successful', '0'), result.stdout[-6000:] + result.stderr[-2000:]
    return events


def stats(events):
    found = [event for event in events if event['event'] == 'playbook_on_stats']
    assert len(found) == 1, [event['event'] for event in events]
    return found[0]['event_data']


def readiness_artifact(events, tmp_path):
    data = stats(events)
    readiness = data['artifact_data']['dpdk_readiness']
    assert list(readiness) == [HOST]
    record = readiness[HOST]
    assert record['report_file'] == str(tmp_path / 'reports' / (HOST + '.json'))
    assert isinstance(record['ready'], bool) and record['ready'] == record['summary']['ready']
    assert record['summary']['errors'] == len([item for item in record['findings'] if item['severity'] == 'error'])
    return data, record


def test_readiness_template(tmp_path, installed_collections, fake_node):
    data = private_data_dir(tmp_path, installed_collections, fake_node, {}, '')
    before = fake_node.snapshot()
    events = run_job(data, 'report.yml', 'readiness')
    job_stats, record = readiness_artifact(events, tmp_path)
    assert not job_stats['failures'] and not job_stats['dark']
    # The report is of the fake node (its X710s on NUMA node 1), written where the artifact says.
    with open(record['report_file']) as handle:
        report = json.load(handle)
    assert report['host'] == HOST and report['dpdk_node']['summary'] == record['summary']
    assert {'0000:af:00.0', '0000:af:00.1'} <= set(nic['address'] for nic in report['dpdk_node']['nics'])
    assert fake_node.snapshot() == before


def test_prepare_template_in_check_mode(tmp_path, installed_collections, fake_node):
    # Job Type "Check" with Show Changes and Skip Tags, as AWX puts them on the command line.
    data = private_data_dir(tmp_path, installed_collections, fake_node, PLAN_VARS,
                            '--check --diff --skip-tags reboot,sriov,bind,kubelet,testpmd')
    before = fake_node.snapshot()
    events = run_job(data, 'site.yml', 'plan')
    plans = [event['event_data']['res']['msg'] for event in events if event['event'] == 'runner_on_ok'
             and event['event_data'].get('task') == 'Show the plan (check mode)']
    assert len(plans) == 1, [event['event_data'].get('task') for event in events]
    plan = ' '.join(plans[0])
    for expected in ('intel_iommu=on iommu=pt', 'isolcpus=managed_irq,domain,1-3,5-7,9-11,13-14',
                     'default_hugepagesz=1G hugepagesz=1G hugepages=1:4', 'a reboot would follow'):
        assert expected in plan, plans[0]
    # --diff: the GRUB defaults the job would change.
    diffs = [event for event in events if event['event'] == 'runner_on_ok'
             and event['event_data'].get('task') == 'Configure the IOMMU kernel arguments']
    assert diffs and diffs[0]['event_data']['res']['changed'] is True
    diff = diffs[0]['event_data']['res']['diff']
    assert diff['before'] == GRUB_DEFAULT and 'GRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"\n' in diff['after'], diff
    # site.yml ends with the report, so the prepare job publishes the readiness too.
    job_stats, record = readiness_artifact(events, tmp_path)
    assert not job_stats['failures'] and not job_stats['dark']
    assert not os.path.exists(record['report_file']), 'check mode wrote the JSON report'
    assert fake_node.snapshot() == before, 'check mode changed the node'
