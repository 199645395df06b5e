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
    inventory.write_text(yaml.safe_dump({'all': {'children': {'dpdk_nodes': {'hosts': {HOST: dict(
        NODE_VARS, ansible_connection='local', ansible_python_interpreter=sys.executable, ansible_become=False)}}}}}))
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
    argv = [ANSIBLE_PLAYBOOK, '-i', str(inventory), PLAYBOOK] + list(kwargs.get('argv', ['--check']))
    for item in extra:
        argv += ['-e', item]
    return subprocess.run(argv, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)
