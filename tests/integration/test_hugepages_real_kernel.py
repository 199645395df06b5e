# -*- coding: utf-8 -*-
"""nfv.dpdk.hugepages against this machine's real kernel (2M pages only).

Runs the module through ``ansible localhost`` as a user would, reserves a few
2M pages, checks sysfs, checks idempotence and check mode, and always gives
the pages back (fixture finalizer), also when an assertion fails. Skips
cleanly where it cannot run: not root, or no 2M hugepage pool in sysfs.
"""

import json
import os
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POOL = '/sys/kernel/mm/hugepages/hugepages-2048kB'
NODE0_POOL = '/sys/devices/system/node/node0/hugepages/hugepages-2048kB'
ANSIBLE = os.path.join(ROOT, '.venv', 'bin', 'ansible')
PAGES = 64

pytestmark = [
    pytest.mark.real_kernel,
    pytest.mark.skipif(not hasattr(os, 'geteuid') or os.geteuid() != 0, reason='needs root to write nr_hugepages'),
    pytest.mark.skipif(not os.path.isdir(POOL), reason='no 2M hugepage pool (%s) on this kernel' % POOL),
    pytest.mark.skipif(not os.path.exists(ANSIBLE), reason='no virtualenv (run make venv)'),
]


def read_int(path):
    with open(path) as handle:
        return int(handle.read().split()[0])


def write(path, value):
    with open(path, 'w') as handle:
        handle.write(str(value))


def run_hugepages(args, check=False):
    """Run the module through ``ansible localhost``; returns (result dict, seconds)."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
               ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json', ANSIBLE_NOCOLOR='1')
    env.pop('NFV_DPDK_TEST_ROOT', None)
    argv = [ANSIBLE, 'localhost', '-c', 'local', '-m', 'nfv.dpdk.hugepages', '-a', json.dumps(args)]
    if check:
        argv.append('--check')
    started = time.monotonic()
    proc = subprocess.run(argv, check=False, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300)
    elapsed = time.monotonic() - started
    try:
        output = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError('ansible printed no JSON (rc=%d): %s %s' % (proc.returncode, proc.stdout, proc.stderr))
    result = output['plays'][0]['tasks'][0]['hosts']['localhost']
    return result, elapsed


class Pools:
    """The 2M pools before the test and the values this test last set.

    Other engineers and tests on the same machine may write the same pool. The
    finalizer gives the pages back (writes the original value) only where the
    pool still holds what this test set; a pool someone else has written since
    is theirs and is left alone (and reported).
    """

    def __init__(self):
        self.original = {POOL: read_int(POOL + '/nr_hugepages')}
        if os.path.isdir(NODE0_POOL):
            self.original[NODE0_POOL] = read_int(NODE0_POOL + '/nr_hugepages')
        self.ours = {}

    def set_by_us(self, path, value):
        self.ours[path] = value

    def give_back(self):
        left = []
        for path in sorted(self.ours, reverse=True):  # a node's pool before the global one
            now = read_int(path + '/nr_hugepages')
            if now == self.original[path]:
                continue
            if now == self.ours[path]:
                write(path + '/nr_hugepages', self.original[path])
                if read_int(path + '/nr_hugepages') != self.original[path]:
                    left.append('%s: could not give the pages back (%d, wanted %d)'
                                % (path, read_int(path + '/nr_hugepages'), self.original[path]))
            else:
                left.append('%s: written by someone else since (%d, this test set %d); left alone'
                            % (path, now, self.ours[path]))
        return left


@pytest.fixture
def pools():
    """The 2M pool sizes before the test; the pages this test reserved are given back whatever happens."""
    state = Pools()
    try:
        yield state
    finally:
        problems = state.give_back()
        if problems:
            print('\nreal kernel finalizer: ' + '; '.join(problems))


def test_reserve_check_and_release_2m_pages(pools, capsys):
    original = pools.original[POOL]
    wanted = original + PAGES
    args = {'pools': [{'size': '2M', 'count': wanted}]}

    pools.set_by_us(POOL, wanted)
    result, first = run_hugepages(args)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is True
    assert result['pools'][0]['before']['persistent'] == original
    assert result['pools'][0]['after']['persistent'] == wanted
    assert read_int(POOL + '/nr_hugepages') == wanted
    assert read_int(POOL + '/free_hugepages') >= PAGES

    again, second = run_hugepages(args)
    assert not again.get('failed') and again['changed'] is False

    checked = run_hugepages({'pools': [{'size': '2M', 'count': original}]}, check=True)[0]
    assert checked['changed'] is True and checked['pools'][0]['after']['persistent'] == original
    assert read_int(POOL + '/nr_hugepages') == wanted, 'check mode changed the pool'

    released, third = run_hugepages({'pools': [{'size': '2M', 'count': original}]})
    pools.set_by_us(POOL, original)
    assert released['changed'] is True and read_int(POOL + '/nr_hugepages') == original
    with capsys.disabled():
        print('\nreal kernel: 2M pool %d -> %d pages in %.2fs, unchanged second run %.2fs, released in %.2fs'
              % (original, wanted, first, second, third))


@pytest.mark.skipif(not os.path.isdir(NODE0_POOL), reason='no per-node pools (kernel without NUMA)')
def test_node0_pool_and_oversized_request_refused(pools):
    original = pools.original[NODE0_POOL]
    pools.set_by_us(NODE0_POOL, original + 32)
    result = run_hugepages({'pools': [{'size': '2M', 'count': original + 32, 'node': 0}]})[0]
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] and read_int(NODE0_POOL + '/nr_hugepages') == original + 32

    # More than node 0 holds: refused before anything changes.
    refused = run_hugepages({'pools': [{'size': '2M', 'count': 10 ** 7, 'node': 0}]})[0]
    assert refused.get('failed') and 'more than the node can spare' in refused['msg']
    assert read_int(NODE0_POOL + '/nr_hugepages') == original + 32
