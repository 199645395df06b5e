#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""How long node preparation takes on the lab node, how many reboots it costs, how many SSH round trips.

First run (default): ``lab/labctl up --fresh`` (a fresh node from the base image), then
``ansible-playbook -i <inventory> -e @lab/site-vars.yml playbooks/site.yml`` with the
``ansible.posix.jsonl`` stdout callback (one JSON event per task result, with start and end) and
``bench/ssh-counter`` as Ansible's ssh/sftp/scp executables (one line per call: exact SSH round trips).
Reported: wall time split into reboot wait (the ``ansible.builtin.reboot`` task) and the rest, the
reboots (reboot tasks that ran, cross-checked on the guest: boot id, ``last -x reboot``,
``journalctl --list-boots``), tasks executed, module executions and SSH calls, the slowest tasks.
Goal: exactly one reboot.

--rerun (or bench/rerun.py): the same playbook again on the prepared node, no ``up --fresh``.
Goals: 0 changed (node preparation: every task outside the dpdk_testpmd role, whose proof run
always starts a pod; its changes are reported apart), no reboot, at most a third of the first
run's non-reboot time (the newest node_prep result in bench/results/, or --first FILE).

    .venv/bin/python bench/node_prep.py            # fresh node, first run (~10-20 min under TCG)
    .venv/bin/python bench/node_prep.py --rerun    # idempotent re-run on the prepared node

Waits (up to --wait-idle minutes) while another ansible-playbook or molecule process runs, so as
not to take the lab node from under someone else's run.
"""

import argparse
import datetime
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import benchlib

PLAYBOOK = 'playbooks/site.yml'
SITE_VARS = 'lab/site-vars.yml'
# Actions that run on the controller only (no module on the node).
CONTROLLER_ACTIONS = {
    'set_fact', 'debug', 'assert', 'fail', 'include_role', 'include_tasks', 'import_role', 'import_tasks', 'meta', 'set_stats',
    'add_host', 'group_by', 'pause', 'include_vars', 'validate_argument_spec', 'end_play', 'end_host',
}
REBOOT_ACTIONS = {'reboot', 'ansible.builtin.reboot', 'ansible.legacy.reboot'}
GUEST_PROBE = r'''
echo "boot_id=$(cat /proc/sys/kernel/random/boot_id)"
echo "uptime_s=$(cut -d' ' -f1 /proc/uptime)"
echo "last_reboots=$(last -x reboot 2>/dev/null | grep -c '^reboot')"
echo "journal_boots=$(journalctl --list-boots --no-pager 2>/dev/null | grep -cE '[0-9a-f]{32}')"
echo "journal_persistent=$(test -d /var/log/journal && echo yes || echo no)"
echo "cmdline=$(cat /proc/cmdline)"
'''


def short_action(action):
    return (action or '').rsplit('.', 1)[-1]


def epoch(text):
    """Seconds since the epoch of the jsonl callback's UTC ISO timestamps ('2026-11-23T10:40:01.123456Z')."""
    if not text:
        return None
    parsed = datetime.datetime.strptime(text.rstrip('Z')[:26], '%Y-%m-%dT%H:%M:%S.%f' if '.' in text else '%Y-%m-%dT%H:%M:%S')
    return parsed.replace(tzinfo=datetime.timezone.utc).timestamp()


def labctl(*args, timeout=900):
    return subprocess.run([benchlib.LABCTL] + list(args), capture_output=True, text=True, timeout=timeout, check=False)


def guest_probe(inventory):
    proc = benchlib.lab_ssh(inventory, GUEST_PROBE)
    facts = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition('=')
        if sep:
            facts[key.strip()] = value.strip()
    for key in ('last_reboots', 'journal_boots'):
        if facts.get(key, '').isdigit():
            facts[key] = int(facts[key])
    if proc.returncode != 0:
        facts['error'] = (proc.stderr or proc.stdout).strip()[-300:]
    return facts


def wait_idle(minutes):
    """Wait while someone else's ansible-playbook/molecule runs (bounded); returns the seconds waited."""
    started = time.monotonic()
    while True:
        busy = benchlib.busy_lab_users()
        if not busy:
            return time.monotonic() - started
        if time.monotonic() - started > minutes * 60:
            raise SystemExit('node_prep: the lab node is still in use after %d min:\n  %s' % (minutes, '\n  '.join(busy)))
        print('node_prep: waiting, the lab node is in use: %s' % busy[0][:150], flush=True)
        time.sleep(30)


def counter_links(workdir):
    """Links ssh/sftp/scp -> bench/ssh-counter (it runs the real tool named like the link)."""
    for tool in ('ssh', 'sftp', 'scp'):
        os.symlink(os.path.join(benchlib.BENCH, 'ssh-counter'), os.path.join(workdir, tool))
    return dict((tool, os.path.join(workdir, tool)) for tool in ('ssh', 'sftp', 'scp'))


def run_playbook(inventory, workdir, timeout, extra_args, playbook=PLAYBOOK, extra_vars=SITE_VARS):
    """ansible-playbook with the jsonl callback and the counting ssh; returns (rc, wall_s, events, ssh_calls, stderr_tail)."""
    links = counter_links(workdir)
    ssh_log = os.path.join(workdir, 'ssh-calls.log')
    events_path = os.path.join(workdir, 'events.jsonl')
    env = dict(os.environ,
               ANSIBLE_CONFIG=os.path.join(benchlib.ROOT, 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=benchlib.COLLECTIONS,
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.jsonl',
               ANSIBLE_SSH_EXECUTABLE=links['ssh'], ANSIBLE_SFTP_EXECUTABLE=links['sftp'], ANSIBLE_SCP_EXECUTABLE=links['scp'],
               NFV_DPDK_BENCH_SSH_LOG=ssh_log,
               PATH=benchlib.VENV_BIN + os.pathsep + os.environ.get('PATH', ''))
    argv = [os.path.join(benchlib.VENV_BIN, 'ansible-playbook'), '-i', inventory, '-e', '@' + extra_vars, playbook] + extra_args
    print('node_prep: %s' % ' '.join(argv), flush=True)
    events = []
    started = time.monotonic()
    with open(events_path, 'w') as raw, open(os.path.join(workdir, 'stderr.log'), 'w+') as errors:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True, env=env, cwd=benchlib.ROOT)
        try:
            for line in proc.stdout:
                raw.write(line)
                if time.monotonic() - started > timeout:
                    proc.kill()
                    print('node_prep: killed ansible-playbook after %d s' % timeout, flush=True)
                    break
                event = parse_event(line)
                if event is None:
                    continue
                events.append(event)
                progress(event, time.monotonic() - started)
            rc = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=60)
        wall = time.monotonic() - started
        errors.seek(0)
        stderr_tail = errors.read()[-2000:]
    calls = []
    if os.path.exists(ssh_log):
        with open(ssh_log) as handle:
            for line in handle:
                parts = line.rstrip('\n').split(' ', 2)
                if len(parts) >= 2:
                    calls.append({'t': float(parts[0]), 'tool': parts[1], 'command': parts[2] if len(parts) > 2 else ''})
    return rc, wall, events, calls, stderr_tail, events_path


def parse_event(line):
    line = line.strip()
    if not line.startswith('{'):
        return None
    try:
        return json.loads(line)
    except ValueError:
        return None


def progress(event, elapsed):
    name = event.get('_event', '')
    if not name.startswith('v2_runner_on_') or name == 'v2_runner_on_start':
        return
    task = event['task']
    for host, result in event.get('hosts', {}).items():
        status = 'skipped' if result.get('skipped') else 'FAILED' if result.get('failed') or name.endswith('unreachable') else \
            'changed' if result.get('changed') else 'ok'
        if status == 'skipped':
            continue
        duration = (epoch(task['duration'].get('end')) or 0) - (epoch(task['duration'].get('start')) or 0)
        print('[%4d s] %-7s %-70s %6.1f s  %s' % (elapsed, status, task['name'][:70], duration, host), flush=True)


def task_results(events):
    """One row per task result: name, path, action, host, status, changed, start, end, duration, items, remote."""
    rows = []
    for event in events:
        name = event.get('_event', '')
        if name not in ('v2_runner_on_ok', 'v2_runner_on_failed', 'v2_runner_on_unreachable', 'v2_runner_on_skipped'):
            continue
        task = event['task']
        for host, result in event.get('hosts', {}).items():
            start, end = epoch(task['duration'].get('start')), epoch(task['duration'].get('end'))
            action = result.get('action') or ''
            items = result.get('results') if isinstance(result.get('results'), list) else None
            status = 'skipped' if name.endswith('skipped') else 'unreachable' if name.endswith('unreachable') else \
                'failed' if name.endswith('failed') else 'ok'
            delegated = bool(result.get('_ansible_delegated_vars'))
            changed = bool(result.get('changed'))
            executed_items = len([item for item in items if not item.get('skipped')]) if items is not None else (0 if status == 'skipped' else 1)
            rows.append({
                'name': task['name'], 'path': relative(task.get('path')),
                'action': action, 'host': host, 'status': status, 'changed': changed, 'start': start, 'end': end,
                'duration_s': round(end - start, 3) if start and end else None, 'items': executed_items,
                'remote': status != 'skipped' and short_action(action) not in CONTROLLER_ACTIONS and not delegated,
                'role': role_of(task.get('path', '')),
            })
    return rows


def relative(path):
    """A task path relative to the collection root ('roles/dpdk_node/tasks/main.yml:5')."""
    if not path:
        return None
    marker = 'ansible_collections/nfv/dpdk/'
    if marker in path:
        return path.split(marker, 1)[1]
    return os.path.relpath(path, benchlib.ROOT) if path.startswith('/') else path


def role_of(path):
    marker = os.sep + 'roles' + os.sep
    if marker in path:
        return path.split(marker, 1)[1].split(os.sep, 1)[0]
    return os.path.basename(path.rsplit(':', 1)[0]) if path else None


def analyse(rows, calls, wall):
    executed = [row for row in rows if row['status'] != 'skipped']
    reboots = [row for row in executed if row['action'] in REBOOT_ACTIONS or short_action(row['action']) == 'reboot']
    reboot_windows = [(row['start'], row['end']) for row in reboots if row['start'] and row['end']]
    reboot_s = sum(end - start for start, end in reboot_windows)

    def in_reboot(stamp):
        return any(start <= stamp <= end for start, end in reboot_windows)
    ssh_calls = [call for call in calls if call['tool'] == 'ssh']
    transfers = [call for call in calls if call['tool'] != 'ssh']
    changed = [row for row in executed if row['changed']]
    proof_changed = [row for row in changed if row['role'] == 'dpdk_testpmd']
    # Node preparation is what changed on the node; the readiness report rewrites its JSON snapshot on
    # the controller on every run (counted apart, not a change of the node).
    prep_changed = [row for row in changed if row['role'] != 'dpdk_testpmd' and row['remote']]
    controller_changed = [row for row in changed if row['role'] != 'dpdk_testpmd' and not row['remote']]
    by_role = {}
    for row in executed:
        entry = by_role.setdefault(row['role'] or '-', {'tasks': 0, 'seconds': 0.0, 'changed': 0})
        entry['tasks'] += 1
        entry['seconds'] = round(entry['seconds'] + (row['duration_s'] or 0), 3)
        entry['changed'] += int(row['changed'])
    slowest = sorted(executed, key=lambda row: -(row['duration_s'] or 0))[:10]
    return {
        'wall_s': round(wall, 3),
        'reboot_wait_s': round(reboot_s, 3),
        'non_reboot_s': round(wall - reboot_s, 3),
        'reboot_tasks_run': len(reboots),
        'tasks_executed': len(executed),
        'tasks_skipped': len(rows) - len(executed),
        'tasks_failed': len([row for row in executed if row['status'] in ('failed', 'unreachable')]),
        'module_executions_on_node': sum(row['items'] for row in executed if row['remote']),
        'ssh_calls': len(ssh_calls),
        'ssh_calls_outside_reboot': len([call for call in ssh_calls if not in_reboot(call['t'])]),
        'ssh_calls_during_reboot': len([call for call in ssh_calls if in_reboot(call['t'])]),
        'ssh_call_kinds': call_kinds(ssh_calls),
        'file_transfers': len(transfers),
        'changed_tasks': len(changed),
        'changed_preparation': len(prep_changed),
        'changed_testpmd_proof': len(proof_changed),
        'changed_on_controller': len(controller_changed),
        'changed_list': ['%s (%s)' % (row['name'], row['path']) for row in changed],
        'by_role': by_role,
        'slowest_tasks': [{'name': row['name'], 'seconds': row['duration_s'], 'status': row['status'], 'changed': row['changed']}
                          for row in slowest],
    }


def call_kinds(calls):
    """What each ssh exec did, from its remote command: a module run (python), temporary directory set-up or
    clean-up (without pipelining, and for file transfers), or anything else (reboot's own commands, probes)."""
    kinds = {}
    for call in calls:
        command = call['command']
        kind = 'module (python)' if 'python' in command and 'rm -f -r' not in command else \
            'tmpdir set-up' if 'mkdir' in command or 'echo ~' in command else \
            'clean-up' if 'rm -f -r' in command else \
            'chmod' if 'chmod' in command else 'other'
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def latest_first_run():
    for path in sorted(glob.glob(os.path.join(benchlib.RESULTS, 'node_prep-*.json')), reverse=True):
        with open(path) as handle:
            data = json.load(handle)
        if data.get('mode') == 'first' and data.get('result', {}).get('rc') == 0:
            return os.path.relpath(path, benchlib.ROOT), data
    return None, None


def goals(mode, result, guest_reboots, first):
    checks = []
    if mode == 'first':
        checks.append(('exactly one reboot task ran', result['reboot_tasks_run'] == 1, result['reboot_tasks_run']))
        checks.append(('the guest booted exactly once more', guest_reboots == 1, guest_reboots))
    else:
        checks.append(('no reboot task ran', result['reboot_tasks_run'] == 0, result['reboot_tasks_run']))
        checks.append(('the guest did not reboot', guest_reboots == 0, guest_reboots))
        checks.append(('0 changed in node preparation', result['changed_preparation'] == 0, result['changed_preparation']))
        checks.append(('0 changed in all tasks (incl. the testpmd proof)', result['changed_tasks'] == 0, result['changed_tasks']))
        if first:
            limit = first['result']['non_reboot_s'] / 3.0
            checks.append(('non-reboot time <= 1/3 of the first run\'s (%.0f s)' % limit, result['non_reboot_s'] <= limit,
                           '%.0f s = %.2f of %.0f s' % (result['non_reboot_s'], result['non_reboot_s'] / first['result']['non_reboot_s'],
                                                        first['result']['non_reboot_s'])))
        else:
            checks.append(('non-reboot time <= 1/3 of the first run\'s', None, 'no first run result to compare with'))
    checks.append(('playbook succeeded', result['rc'] == 0, result['rc']))
    return [{'goal': name, 'passed': passed, 'value': value} for name, passed, value in checks]


def _terminate(signum, _frame):
    # Unwind so that run_playbook's finally stops ansible-playbook instead of leaving it running on the node.
    raise KeyboardInterrupt('signal %d' % signum)


def main(argv=None, rerun=False):
    signal.signal(signal.SIGTERM, _terminate)
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rerun', action='store_true', default=rerun, help='re-run on the prepared node (no up --fresh)')
    parser.add_argument('--no-fresh', action='store_true', help='first run on the node as it is (no up --fresh; for trying the script)')
    parser.add_argument('--first', help='the first run\'s result to compare a re-run with (default: the newest in bench/results/)')
    parser.add_argument('--wait-idle', type=int, default=20, help='minutes to wait while another ansible-playbook/molecule runs (default 20)')
    parser.add_argument('--timeout', type=int, default=3600, help='seconds allowed to the playbook (default 3600)')
    parser.add_argument('--playbook', default=PLAYBOOK, help='playbook to run (default %s)' % PLAYBOOK)
    parser.add_argument('--extra-vars', default=SITE_VARS, help='variables file passed with -e @FILE (default %s)' % SITE_VARS)
    parser.add_argument('--no-write', action='store_true', help='print only, write no JSON')
    options, extra = parser.parse_known_args(argv)
    if not 0 <= options.wait_idle <= 60 or not 60 <= options.timeout <= 7200:
        parser.error('--wait-idle 0..60, --timeout 60..7200')
    mode = 'rerun' if options.rerun else 'first'

    first_path, first = (None, None)
    if mode == 'rerun':
        if options.first:
            first_path = options.first
            with open(options.first) as handle:
                first = json.load(handle)
        else:
            first_path, first = latest_first_run()
    waited = wait_idle(options.wait_idle)
    data = {'benchmark': 'node_prep', 'mode': mode, 'waited_for_idle_lab_s': round(waited, 1), 'first_run_result': first_path}
    machine = benchlib.machine()
    boot = {}
    if mode == 'first' and not options.no_fresh:
        started = time.monotonic()
        proc = labctl('up', '--fresh', timeout=1200)
        boot = {'up_fresh_s': round(time.monotonic() - started, 1), 'rc': proc.returncode}
        if proc.returncode != 0:
            raise SystemExit('node_prep: lab/labctl up --fresh failed (%d): %s' % (proc.returncode, proc.stderr.strip()[-800:]))
    status = benchlib.wait_lab_reachable()
    if not status.get('running') or not status.get('ssh_reachable'):
        raise SystemExit('node_prep: the lab node is not running or not reachable (lab/labctl up)')
    boot.update(accel=status.get('accel'), boot_to_ssh_s=status.get('boot_to_ssh_s'))
    machine['accel'] = status.get('accel')
    data['lab_boot'] = boot
    guest_before = guest_probe(status['inventory'])
    workdir = tempfile.mkdtemp(prefix='nfv-dpdk-bench-prep-')
    rc, wall, events, calls, stderr_tail, events_path = run_playbook(status['inventory'], workdir, options.timeout, extra,
                                                                     options.playbook, options.extra_vars)
    guest_after = guest_probe(status['inventory'])
    rows = task_results(events)
    result = analyse(rows, calls, wall)
    result['rc'] = rc
    reboots_seen = None
    if isinstance(guest_after.get('last_reboots'), int) and isinstance(guest_before.get('last_reboots'), int):
        reboots_seen = guest_after['last_reboots'] - guest_before['last_reboots']
    data.update(result=result, guest={'before': guest_before, 'after': guest_after, 'reboots_by_last': reboots_seen,
                                      'boot_id_changed': guest_before.get('boot_id') != guest_after.get('boot_id'),
                                      'journal_boots_delta': (guest_after.get('journal_boots') - guest_before.get('journal_boots')
                                                              if isinstance(guest_after.get('journal_boots'), int) and
                                                              isinstance(guest_before.get('journal_boots'), int) else None)},
                command_run='ansible-playbook -i %s -e @%s %s %s' % (status['inventory'], options.extra_vars, options.playbook, ' '.join(extra)),
                tasks=[dict((key, row[key]) for key in ('name', 'path', 'action', 'status', 'changed', 'duration_s', 'items', 'remote'))
                       for row in rows if row['status'] != 'skipped'],
                raw_events=events_path, stderr_tail=stderr_tail if rc else '')
    data['goals'] = goals(mode, result, reboots_seen, first)
    data['machine'] = machine

    print('\nnode_prep (%s run) on the lab node, accel %s: %s' % (mode, status.get('accel'), data['command_run']))
    print(benchlib.table(['measure', 'value'], [
        ['lab up --fresh (s, not counted below)', boot.get('up_fresh_s')],
        ['wall time (s)', result['wall_s']], ['  reboot wait (s)', result['reboot_wait_s']], ['  non-reboot work (s)', result['non_reboot_s']],
        ['reboot tasks run', result['reboot_tasks_run']],
        ['guest reboots (last -x reboot)', reboots_seen], ['guest boot id changed', data['guest']['boot_id_changed']],
        ['tasks executed (skipped)', '%d (%d)' % (result['tasks_executed'], result['tasks_skipped'])],
        ['module executions on the node', result['module_executions_on_node']],
        ['ssh calls (outside reboot / during)',
         '%d (%d / %d)' % (result['ssh_calls'], result['ssh_calls_outside_reboot'], result['ssh_calls_during_reboot'])],
        ['sftp/scp transfers', result['file_transfers']],
        ['changed: preparation / testpmd proof / controller', '%d / %d / %d' % (
            result['changed_preparation'], result['changed_testpmd_proof'], result.get('changed_on_controller', 0))],
        ['playbook rc', rc]]))
    print('\nslowest tasks:')
    print(benchlib.table(['task', 's', 'changed'], [[row['name'][:80], row['seconds'], row['changed']] for row in result['slowest_tasks']]))
    print('\ngoals:')
    print(benchlib.table(['goal', 'result', 'value'], [[goal['goal'], {True: 'PASS', False: 'FAIL', None: 'n/a'}[goal['passed']], goal['value']]
                                                       for goal in data['goals']]))
    if rc:
        print('\nansible-playbook failed; stderr tail:\n%s\nevents: %s' % (stderr_tail, events_path))
    if not options.no_write:
        path = benchlib.write_result('node_prep' if mode == 'first' else 'node_prep-rerun', data)
        print('wrote %s (load average %s -> %s)' % (path, machine['loadavg_start'], data['machine']['loadavg_end']))
    return 0 if all(goal['passed'] is not False for goal in data['goals']) else 1


if __name__ == '__main__':
    sys.exit(main())
