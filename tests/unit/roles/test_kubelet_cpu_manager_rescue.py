# -*- coding: utf-8 -*-
"""nfv.dpdk.kubelet_cpu_manager end to end against stand-ins for systemctl, journalctl and kubelet.

The role runs on localhost (``-c local``) with every path it writes under a temp dir and, first on
PATH, small fake ``systemctl``/``journalctl``/``kubelet`` programs that keep the "unit" state in a
JSON file: no real service of this machine is stopped or started. The fake kubelet "crash-loops"
(ActiveState=activating, NRestarts growing at every look) while one of the files named in
``crash-if-exists`` exists, or always with ``crash-always``. Cases (one ansible-playbook run):

* rollback_ok: a switch that writes a NEW drop-in (create: true) which the kubelet does not survive:
  the rollback removes the drop-in, puts the checkpoint back, checks the kubelet stays up, and the
  role fails saying so;
* rollback_down: same, but the kubelet does not stay up after the rollback either: the role fails
  saying the node needs attention, never that it restored anything it did not check;
* cfs_old / cfs_new: successful switches on kubelet 1.32 (cpuCFSQuota: false) and 1.34 (feature gate).
"""

import json
import os
import sys

import yaml

from ansible_collections.nfv.dpdk.tests.unit.roles.localplay import run_local_play


FAKE_SYSTEMCTL = '''\
#!%(python)s
"""Fake systemctl for one unit, state in $FAKE_SYSTEMD_DIR/state.json (test only)."""
import json, os, sys
d = os.environ['FAKE_SYSTEMD_DIR']
path = os.path.join(d, 'state.json')
state = json.load(open(path)) if os.path.exists(path) else {'active': True, 'nrestarts': 0, 'crashing': False}
args = [a.strip("'") for a in sys.argv[1:] if not a.startswith('--')]
with open(os.path.join(d, 'calls.log'), 'a') as log:
    log.write(' '.join(sys.argv[1:]) + '\\n')

def crashes():
    if os.path.exists(os.path.join(d, 'crash-always')):
        return True
    listed = os.path.join(d, 'crash-if-exists')
    names = open(listed).read().split() if os.path.exists(listed) else []
    return any(os.path.exists(name) for name in names)

verb = args[0] if args else ''
if verb == 'start':
    if not state['active']:
        state['active'], state['crashing'] = True, crashes()
elif verb == 'stop':
    state['active'], state['crashing'] = False, False
elif verb == 'show':
    if state['crashing']:
        state['nrestarts'] += 1
        active, sub = 'activating', 'auto-restart'
    else:
        active, sub = ('active', 'running') if state['active'] else ('inactive', 'dead')
    print('Id=kubelet.service\\nLoadState=loaded\\nActiveState=%%s\\nSubState=%%s\\nNRestarts=%%d\\nUnitFileState=enabled'
          %% (active, sub, state['nrestarts']))
elif verb == 'is-active':
    print('active' if state['active'] and not state['crashing'] else 'inactive')
json.dump(state, open(path, 'w'))
'''

FAKE_JOURNALCTL = '''\
#!/bin/sh
echo 'kubelet[4242]: E1201 run.go:72] "command failed" err="failed to run Kubelet: fake failure for the test"'
'''

FAKE_KUBELET = '''\
#!/bin/sh
cat "$FAKE_SYSTEMD_DIR/version"
'''

STALE_NONE_CHECKPOINT = '{"policyName":"none","defaultCpuSet":"","checksum":1353318690}'


def make_case(tmp_path, name, version='Kubernetes v1.34.1', crash_always=False, crash_dropin=False, create=True):
    case = tmp_path / name
    fake = case / 'fake'
    bindir = case / 'bin'
    state_dir = case / 'kubelet'
    for directory in (fake, bindir, state_dir):
        directory.mkdir(parents=True)
    for program, text in (('systemctl', FAKE_SYSTEMCTL % {'python': sys.executable}),
                          ('journalctl', FAKE_JOURNALCTL), ('kubelet', FAKE_KUBELET)):
        (bindir / program).write_text(text)
        (bindir / program).chmod(0o755)
    (fake / 'version').write_text(version + '\n')
    dropin = case / 'kubelet.conf.d' / '50-nfv-dpdk.conf'
    config = dropin if create else state_dir / 'config.yaml'
    if not create:
        config.write_text('apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncpuManagerPolicy: none\n')
    if crash_dropin:
        (fake / 'crash-if-exists').write_text(str(dropin) + '\n')
    if crash_always:
        (fake / 'crash-always').write_text('')
    (state_dir / 'cpu_manager_state').write_text(STALE_NONE_CHECKPOINT)
    variables = {
        'fake_dir': str(fake), 'fake_bin': str(bindir),
        'kubelet_cpu_manager_config_path': str(config),
        'kubelet_cpu_manager_create': create,
        'kubelet_cpu_manager_state_dir': str(state_dir),
        'kubelet_cpu_manager_policy': 'static',
        'kubelet_cpu_manager_reserved_cpus': '0',
        'kubelet_cpu_manager_isolated_cpus': '',
        'kubelet_cpu_manager_start_timeout': 2,
        'kubelet_cpu_manager_poll_interval': 1,
        'kubelet_cpu_manager_settle_seconds': 1,
    }
    return case, variables


def run_role(tmp_path, cases):
    play = {
        'name': 'kubelet_cpu_manager against fakes', 'hosts': 'all', 'gather_facts': False,
        # Per host: its own fakes first on PATH, its own fake state.
        'environment': {'PATH': '{{ fake_bin }}:' + os.environ.get('PATH', '/usr/bin:/bin'), 'FAKE_SYSTEMD_DIR': '{{ fake_dir }}'},
        'roles': [{'role': 'nfv.dpdk.kubelet_cpu_manager'}],
    }
    report, _rc = run_local_play(tmp_path, play, dict((name, variables) for name, (_case, variables) in cases.items()))
    ran = dict((name, []) for name in cases)
    for play_report in report['plays']:
        for task in play_report['tasks']:
            for name, result in task['hosts'].items():
                ran[name].append((task['task']['name'].split(' : ', 1)[-1], result))
    return ran


def failure_text(ran):
    """The message of the role's final rescue task, which must have failed (only "Uncordon" may follow)."""
    names = [name for name, _result in ran]
    final = "Fail with the kubelet's own words and what the rollback left"
    assert final in names, 'the role did not reach its rollback report; last task %s: %s' % ran[-1]
    after = names[names.index(final) + 1:]
    assert after == ['Uncordon the node'], after
    result = dict(ran)[final]
    assert result.get('failed'), result
    return '\n'.join(str(part) for part in result['msg'])


def test_rescue_paths_and_cfs_quota(tmp_path):
    cases = {
        'rollback_ok': make_case(tmp_path, 'rollback_ok', crash_dropin=True),
        'rollback_down': make_case(tmp_path, 'rollback_down', crash_always=True),
        'cfs_old': make_case(tmp_path, 'cfs_old', version='Kubernetes v1.32.4', create=False),
        'cfs_new': make_case(tmp_path, 'cfs_new', version='Kubernetes v1.34.1', create=False),
    }
    ran = run_role(tmp_path, cases)

    # -- a new drop-in the kubelet does not survive: removed, checkpoint back, kubelet checked up
    case, variables = cases['rollback_ok']
    text = failure_text(ran['rollback_ok'])
    assert 'Rolled back and checked' in text
    assert 'remove the new drop-in %s' % variables['kubelet_cpu_manager_config_path'] in text
    assert 'is active and systemd did not restart it in 1 s' in text
    assert 'NEEDS ATTENTION' not in text
    assert 'fake failure for the test' in text  # the kubelet's log lines
    assert not os.path.exists(variables['kubelet_cpu_manager_config_path'])
    assert (case / 'kubelet' / 'cpu_manager_state').read_text() == STALE_NONE_CHECKPOINT
    state = json.loads((case / 'fake' / 'state.json').read_text())
    assert state['active'] and not state['crashing']
    calls = [line.split()[0] for line in (case / 'fake' / 'calls.log').read_text().splitlines() if line.split()[0] != 'show']
    assert calls == ['stop', 'start', 'stop', 'start']

    # -- the kubelet does not stay up after the rollback either: never "restored", the node needs attention
    case, variables = cases['rollback_down']
    text = failure_text(ran['rollback_down'])
    assert 'THE NODE NEEDS ATTENTION' in text
    assert 'Rolled back and checked' not in text
    assert 'ActiveState=activating' in text
    assert 'remove the new drop-in' in text  # what was done is said
    assert not os.path.exists(variables['kubelet_cpu_manager_config_path'])
    assert (case / 'kubelet' / 'cpu_manager_state').read_text() == STALE_NONE_CHECKPOINT

    # -- CFS quota by kubelet version, and the role says it will not drain or wait for Ready
    for name, key, value in (('cfs_old', 'cpuCFSQuota', False),
                             ('cfs_new', 'featureGates', {'DisableCPUQuotaWithExclusiveCPUs': True})):
        case, variables = cases[name]
        results = dict(ran[name])
        assert not any(result.get('failed') for _task, result in ran[name]), ran[name][-1]
        config = yaml.safe_load(open(variables['kubelet_cpu_manager_config_path']))
        assert config[key] == value, config
        assert config['cpuManagerPolicy'] == 'static'
        other = 'featureGates' if key == 'cpuCFSQuota' else 'cpuCFSQuota'
        assert other not in config
        said = results['Say what the role will not do in the cluster']['msg']
        assert 'Not cordoning or draining and not waiting for Ready' in said
        assert 'kubelet_cpu_manager_drain: true' in said and 'kubelet_cpu_manager_wait_ready: true' in said
        assert 'K8S_AUTH_*' in said
        assert results['Check that the kubelet stayed up']['status']['ActiveState'] == 'active'
    assert 'kubelet 1.32' in dict(ran['cfs_old'])['Say how the CFS quota is handled']['msg']
    # the stale none checkpoint went (static policy), nothing was rolled back
    assert not (cases['cfs_new'][0] / 'kubelet' / 'cpu_manager_state').exists()


def test_unknown_version_is_refused_before_anything_changes(tmp_path):
    cases = {'noversion': make_case(tmp_path, 'noversion', version='no version here', create=False)}
    ran = run_role(tmp_path, cases)['noversion']
    name, result = ran[-1]
    assert name == "Refuse to guess the kubelet's version" and result.get('failed')
    assert 'kubelet_cpu_manager_kubelet_version' in result['msg']
    assert not os.path.exists(os.path.join(cases['noversion'][1]['fake_dir'], 'calls.log'))
