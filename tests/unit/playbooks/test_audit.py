# -*- coding: utf-8 -*-
"""playbooks/audit.yml against fake host trees (NFV_DPDK_TEST_ROOT), with a local connection.

A 2-socket X710 node (tests/unit/fixtures/hosts/x710-2socket.yml) prepared as site.yml leaves it for
the inputs below (IOMMU arguments, a 1G pool on node 1, 2 VFs on the first X710 PF), then drifted by
hand: the verdicts, the drift items, the JSON record, the set_stats data, the exit code with and
without audit_fail_on_drift, and the tree byte for byte after each audit. The default callback
(an empty configuration, as a user of the installed collection has) prints the lines judged here.
"""

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible_collections.nfv.dpdk.tests.unit.fakehost import FakeHost
from ansible_collections.nfv.dpdk.tests.unit.plugins.module_utils.pcihost import add_vfs

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
PLAYBOOK = os.path.join(ROOT, 'playbooks', 'audit.yml')
COLLECTIONS = os.path.join(ROOT, '.venv', 'collections')
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
HOST = 'dpdk-worker-1'
PF = '0000:af:00.0'
BASE_CMDLINE = 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=6f1c2b1e-8c55-4f5b-9d5e-0b0c1f2a3d4e ro quiet'
PREPARED_ARGS = 'intel_iommu=on iommu=pt default_hugepagesz=1G hugepagesz=1G hugepages=1:4'
NODE_VARS = {
    'dpdk_site_kubelet': False,
    'dpdk_node_iommu_vendor': 'intel',
    'dpdk_node_hugepages_default_size': '1G',
    'dpdk_node_hugepages_pools': [{'size': '1G', 'count': 4, 'node': 1}],
    'dpdk_node_sriov_pfs': [{'device': PF, 'num_vfs': 2, 'vfs': [{'index': 1, 'mac': '02:00:00:00:af:01'}]}],
    'dpdk_node_sriov_persist': False,
}


# The ip command of the audited node, answering only what a check-mode run asks: `ip -j link show dev IF`
# from <tree>/../ip-links/IF.json. Anything else (a change) fails the test.
FAKE_IP = """import json, os, sys
links = os.path.join(os.environ['NFV_DPDK_TEST_ROOT'], '..', 'ip-links')
if sys.argv[1:5] != ['-j', 'link', 'show', 'dev'] or len(sys.argv) != 6:
    sys.stderr.write('fake ip: unexpected command %s' % sys.argv[1:])
    sys.exit(2)
path = os.path.join(links, sys.argv[5] + '.json')
if not os.path.exists(path):
    sys.stderr.write('Device "%s" does not exist.' % sys.argv[5])
    sys.exit(1)
sys.stdout.write(open(path).read())
"""


def ip_link(root, ifname, vf_macs, up=True):
    """The PF's `ip -j link show` answer: its flags and the administrative MAC of each VF."""
    directory = os.path.join(root, '..', 'ip-links')
    if not os.path.isdir(directory):
        os.makedirs(directory)
    link = {'ifname': ifname, 'flags': ['BROADCAST', 'MULTICAST'] + (['UP', 'LOWER_UP'] if up else []),
            'vfinfo_list': [{'vf': index, 'address': mac, 'vlan_list': [], 'rate': {'max_tx': 0, 'min_tx': 0},
                             'spoofchk': True, 'trust': False, 'link_state': 'auto'}
                            for index, mac in enumerate(vf_macs)]}
    with open(os.path.join(directory, ifname + '.json'), 'w') as handle:
        json.dump([link], handle)


def grub_default(args):
    return 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="%s"\n' % args


def prepared_node(root, grub_args=PREPARED_ARGS, running_args=PREPARED_ARGS, node1_pages=4, vfs=2, vf1_mac='02:00:00:00:af:01'):
    """The fake node as site.yml leaves it for NODE_VARS (or drifted by the arguments)."""
    host = FakeHost.from_fixture(root, 'x710-2socket')
    host.file('/etc/default/grub', grub_default(grub_args))
    host.file('/etc/os-release', 'ID=debian\nVERSION_ID="12"\n')
    host.cmdline('%s %s' % (BASE_CMDLINE, running_args))
    host.hugepages(1048576, total=node1_pages, free=node1_pages, node=1)
    host.hugepages(1048576, total=4 + node1_pages, free=4 + node1_pages)
    host.file('/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages', str(4 + node1_pages))
    host.mkdir('/sys/class/iommu/dmar0')
    if vfs:
        add_vfs(host, PF, vfs, driver='iavf')
    ip_link(root, 'ens1f0', ['02:00:00:00:af:00', vf1_mac][:vfs])
    return host


def run_audit(tmp_path, node, *extra, **kwargs):
    config = tmp_path / 'empty.cfg'
    config.write_text('')
    inventory = tmp_path / 'hosts.yml'
    host_vars = dict(kwargs.get('node_vars', NODE_VARS), ansible_connection='local', ansible_python_interpreter=sys.executable,
                     ansible_become=False)
    inventory.write_text(yaml.safe_dump({'all': {'children': {'dpdk_nodes': {'hosts': dict(
        (name, host_vars) for name in kwargs.get('hosts', [HOST]))}}}}))
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith('ANSIBLE_'))
    env.update(ANSIBLE_CONFIG=str(config), ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR='1',
               ANSIBLE_FORCE_COLOR='0', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-tmp'),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / 'ansible-remote-tmp'), PWD=str(tmp_path),
               NFV_DPDK_TEST_ROOT=node.root)
    bindir = tmp_path / 'bin'
    if not bindir.exists():
        bindir.mkdir()
        (bindir / 'ip').write_text('#!%s\n%s' % (sys.executable, FAKE_IP))
        (bindir / 'ip').chmod(0o755)
    env['PATH'] = '%s%s%s' % (bindir, os.pathsep, env.get('PATH', ''))
    env.update(kwargs.get('env', {}))
    argv = [ANSIBLE_PLAYBOOK, '-i', str(inventory), kwargs.get('playbook', PLAYBOOK)] + list(kwargs.get('argv', ['--check']))
    for item in extra:
        argv += ['-e', item]
    return subprocess.run(argv, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)


def task_lines(stdout, task):
    """The msg list TASK [task] printed (default callback) for the one host."""
    match = re.search(r'^TASK \[%s\] \*+\n(.*?)(?=^(?:TASK|PLAY|PLAY RECAP) )' % re.escape(task), stdout, re.M | re.S)
    assert match, 'task %r not in the output:\n%s' % (task, stdout)
    block = match.group(1)
    return json.loads(block[block.index('{'):block.rindex('}') + 1])['msg']


def custom_stats(stdout):
    """The set_stats data the default callback prints with show_custom_stats."""
    match = re.search(r'^CUSTOM STATS: \*+\n\s*RUN: (\{.*\})\s*$', stdout, re.M)
    assert match, stdout[-3000:]
    return json.loads(match.group(1))


def audit(tmp_path, node, *extra, **kwargs):
    before = node.snapshot()
    proc = run_audit(tmp_path, node, *extra, env={'ANSIBLE_SHOW_CUSTOM_STATS': '1'}, **kwargs)
    assert node.snapshot() == before, 'the audit changed the node'
    return proc


def test_in_sync_nodes(tmp_path):
    # Two inventory hosts (local, on the same fake tree): a record and a stats entry each, and the summary.
    node = prepared_node(str(tmp_path / 'node'))
    hosts = [HOST, 'dpdk-worker-2']
    proc = audit(tmp_path, node, 'audit_fail_on_drift=true', hosts=hosts)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert task_lines(proc.stdout, 'Show one verdict line per host') == ['%s: IN SYNC' % name for name in hosts]
    records = {}
    for name in hosts:
        report = tmp_path / 'dpdk-audit' / (name + '.json')
        records[name] = json.loads(report.read_text())
        assert records[name] == {'host': name, 'in_sync': True, 'verdict': 'in sync', 'drift': [],
                                 'report_file': str(report), 'areas': ['iommu_grub', 'hugepages', 'sriov_vfs']}
    assert custom_stats(proc.stdout) == {'dpdk_audit': records}
    assert '%s: IN SYNC (audited: iommu_grub, hugepages, sriov_vfs)' % HOST in proc.stdout


DRIFT_LINES = [
    'DRIFT kernel arguments (iommu_grub): expected intel_iommu=on iommu=pt, found configured iommu=pt, '
    'running iommu=pt -> fix: site.yml --tags kernel,reboot',
    'DRIFT kernel arguments (hugepages): configured but not running: expected default_hugepagesz=1G hugepagesz=1G '
    'hugepages=1:4, found running (none) -> fix: site.yml --tags kernel,reboot (reboots into the configured arguments)',
    'DRIFT hugepages 1G on node 1: expected 4 pages, found 2 pages -> fix: site.yml --tags hugepages',
    'DRIFT PF 0000:af:00.0 VF 1 mac: expected 02:00:00:00:af:01, found 02:00:00:00:af:99 -> fix: site.yml --tags sriov',
]


@pytest.fixture
def drifted_node(tmp_path):
    """Changed by hand: an IOMMU argument removed from GRUB and from the running kernel, the hugepage
    arguments configured but not booted, two pages of node 1 freed, VF 1's MAC changed."""
    return prepared_node(str(tmp_path / 'node'), grub_args=PREPARED_ARGS.replace('intel_iommu=on ', ''),
                         running_args='iommu=pt', node1_pages=2, vf1_mac='02:00:00:00:af:99')


def test_drifted_node(tmp_path, drifted_node):
    proc = audit(tmp_path, drifted_node)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    lines = task_lines(proc.stdout, 'Show the verdict and one line per drift item')
    assert lines == ['%s: DRIFTED, 4 items (audited: iommu_grub, hugepages, sriov_vfs)' % HOST] + DRIFT_LINES
    record = json.loads((tmp_path / 'dpdk-audit' / (HOST + '.json')).read_text())
    assert record['in_sync'] is False and record['verdict'] == 'drifted'
    assert [item['area'] for item in record['drift']] == ['kernel', 'reboot', 'hugepages', 'sriov']
    assert record['drift'][3] == {'area': 'sriov', 'what': 'PF 0000:af:00.0 VF 1 mac', 'expected': '02:00:00:00:af:01',
                                  'found': '02:00:00:00:af:99', 'fix': 'site.yml --tags sriov'}
    assert custom_stats(proc.stdout) == {'dpdk_audit': {HOST: record}}


def test_drift_fails_the_run_when_asked(tmp_path, drifted_node):
    proc = audit(tmp_path, drifted_node, 'audit_fail_on_drift=true')
    assert proc.returncode == 2, proc.stdout[-5000:]
    # The host was audited (its lines and its record) before the failure.
    assert task_lines(proc.stdout, 'Show the verdict and one line per drift item')[1:] == DRIFT_LINES
    assert (tmp_path / 'dpdk-audit' / (HOST + '.json')).exists()
    assert 'Drifted: %s (audit_fail_on_drift is true)' % HOST in proc.stdout


def test_vf_count_drift_by_tag(tmp_path):
    # One VF removed by hand; --tags sriov audits that phase alone.
    node = prepared_node(str(tmp_path / 'node'), vfs=1, grub_args='', running_args='')
    before = node.snapshot()
    proc = run_audit(tmp_path, node, argv=['--check', '--tags', 'sriov'])
    assert node.snapshot() == before
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert task_lines(proc.stdout, 'Show the verdict and one line per drift item') == [
        '%s: DRIFTED, 1 item (audited: sriov_vfs)' % HOST,
        'DRIFT PF 0000:af:00.0 VF count: expected 2 VFs, found 1 VFs -> fix: site.yml --tags sriov']


def test_refused_without_check_mode(tmp_path):
    node = prepared_node(str(tmp_path / 'node'))
    before = node.snapshot()
    proc = run_audit(tmp_path, node, argv=[])
    assert proc.returncode == 2
    assert 'run it with --check (AWX: job type Check)' in proc.stdout
    assert node.snapshot() == before
    assert not (tmp_path / 'dpdk-audit').exists()


def test_no_host(tmp_path):
    node = prepared_node(str(tmp_path / 'node'))
    proc = run_audit(tmp_path, node, 'dpdk_audit_hosts=nonesuch')
    assert proc.returncode == 2
    assert "No inventory host matches 'nonesuch'" in proc.stdout
