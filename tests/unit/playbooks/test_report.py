# -*- coding: utf-8 -*-
"""playbooks/report.yml against this machine (node_facts only reads), with Ansible's DEFAULT configuration.

A user of the installed collection has neither this repository's ansible.cfg nor its
YAML result format, so the report is run here with an empty configuration file and
judged on what that prints: the verdict line, one line per finding with its fix,
short lines, the JSON path (and the file), the set_stats data, and the failure when
`target` matches no host.
"""

import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
PLAYBOOK = os.path.join(ROOT, 'playbooks', 'report.yml')
COLLECTIONS = os.path.join(ROOT, '.venv', 'collections')
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
VERDICT = re.compile(r'^(READY|NOT READY): (\d+) errors?, (\d+) warnings?, (\d+) info$')
# The default callback prints a list item as 8 spaces, quotes and a comma around the text.
MAX_LINE = 120
KUBELET_CONFIG = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncpuManagerPolicy: static\n' \
                 'reservedSystemCPUs: "0"\n'
# Written by the "none" policy while the configuration says static: node_facts calls that
# an error on any machine, so the report has at least one error finding to show.
KUBELET_STALE_STATE = '{"policyName":"none","defaultCpuSet":"","checksum":1}'


def run_report(tmp_path, inventory, *extra, **env_overrides):
    """ansible-playbook report.yml from tmp_path, with an empty configuration (Ansible's defaults)."""
    config = tmp_path / 'empty.cfg'
    config.write_text('')
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith('ANSIBLE_'))
    env.update(ANSIBLE_CONFIG=str(config), ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR='1',
               ANSIBLE_FORCE_COLOR='0', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-tmp'),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / 'ansible-remote-tmp'), PWD=str(tmp_path))
    env.update(env_overrides)
    argv = [ANSIBLE_PLAYBOOK, '-i', str(inventory), PLAYBOOK, '-e', 'ansible_python_interpreter=%s' % sys.executable]
    for item in extra:
        argv += ['-e', item]
    return subprocess.run(argv, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def kubelet(tmp_path):
    """A kubelet configuration (static policy) and a stale checkpoint in tmp_path."""
    state_dir = tmp_path / 'kubelet'
    state_dir.mkdir()
    (state_dir / 'config.yaml').write_text(KUBELET_CONFIG)
    (state_dir / 'cpu_manager_state').write_text(KUBELET_STALE_STATE)
    return ['report_kubelet_config_path=%s' % (state_dir / 'config.yaml'), 'report_kubelet_state_dir=%s' % state_dir]


@pytest.fixture
def localhost_inventory(tmp_path):
    path = tmp_path / 'hosts.ini'
    path.write_text('localhost ansible_connection=local\n')
    return path


def task_output(stdout, task):
    """The lines the default callback printed under TASK [task]."""
    match = re.search(r'^TASK \[%s\] \*+\n(.*?)(?=^(?:TASK|PLAY|PLAY RECAP) )' % re.escape(task), stdout, re.M | re.S)
    assert match, 'task %r not in the output:\n%s' % (task, stdout)
    return match.group(1)


def msg_lines(stdout, task):
    """The strings of the debug msg list that TASK [task] printed for one host."""
    block = task_output(stdout, task)
    data = json.loads(block[block.index('{'):block.rindex('}') + 1])
    assert isinstance(data['msg'], list), data
    return data['msg']


def unwrap(lines, label):
    """A wrapped value again: the line starting with label and its indented continuation lines."""
    for index, line in enumerate(lines):
        # A value too long to follow its label starts on the next line.
        if line.startswith(label) or line == label.rstrip():
            parts = [line[len(label):]]
            for follow in lines[index + 1:]:
                if not follow.startswith('    '):
                    break
                parts.append(follow[4:])
            return parts
    raise AssertionError('%r not in %r' % (label, lines))


def test_default_output_reads_at_a_glance(tmp_path, localhost_inventory, kubelet):
    result = run_report(tmp_path, localhost_inventory, *kubelet)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout

    # The JSON file: its path printed once, the file there, and what it says is what was printed.
    paths = re.findall(r'"msg": "JSON report: (/[^"]+)"', out)
    assert paths == [str(tmp_path / 'dpdk-report' / 'localhost.json')], out
    with open(paths[0]) as handle:
        report = json.load(handle)
    assert report['host'] == 'localhost'
    facts = report['dpdk_node']
    summary = facts['summary']

    # Short lines: with the default callback a long string would be one escaped line.
    long_lines = [line for line in out.splitlines() if len(line) > MAX_LINE and 'JSON report: ' not in line]
    assert not long_lines, long_lines

    # One verdict line, its counts those of the facts, then one line (wrapped) per finding with its fix.
    verdict_lines = msg_lines(out, 'Show the verdict and the fix of each finding')
    verdict = VERDICT.match(verdict_lines[0])
    assert verdict, verdict_lines[0]
    assert verdict.group(1) == ('READY' if summary['ready'] else 'NOT READY')
    assert [int(n) for n in verdict.groups()[1:]] == [summary['errors'], summary['warnings'], summary['info']]
    starts = [line for line in verdict_lines[1:] if not line.startswith('    ')]
    assert len(starts) == len(facts['findings'])
    for item in facts['findings']:
        label = '%s %s -> fix: ' % (item['severity'].upper(), item['id'])
        assert ' '.join(unwrap(verdict_lines, label)).split() == item['fix'].split()
    # The stale checkpoint makes this an error on any machine, and errors come first.
    assert summary['ready'] is False
    assert starts[0].startswith('ERROR ')
    assert any(line.startswith('ERROR kubelet_cpu_manager_state_stale -> fix: ') for line in starts)

    node_lines = msg_lines(out, 'Show the node')
    # Wrapping keeps the command line word for word.
    assert ' '.join(unwrap(node_lines, 'cmdline running: ')).split() == facts['kernel']['cmdline'].split()
    isolated = facts['cpu']['isolated']
    expected_isolated = 'unknown (the kernel does not say)' if isolated is None else (isolated or 'none')
    assert ''.join(unwrap(node_lines, 'isolated cpus (isolcpus): ')) == expected_isolated
    assert any(line.startswith('tickless cpus (nohz_full): ') for line in node_lines)
    kubelet_line = ' '.join(unwrap(node_lines, 'kubelet cpu manager: '))
    assert kubelet_line.startswith('policy static (from %s)' % (tmp_path / 'kubelet' / 'config.yaml'))
    assert kubelet_line.endswith('reserved cpus 0')
    assert ' '.join(unwrap(node_lines, 'kubelet checkpoint: ')).startswith('policy none, ')
    for item in facts['findings']:
        assert ' '.join(unwrap(node_lines, 'why %s: ' % item['id'])).split() == item['message'].split()
    # One host: no per-host summary lines, and the failing task is off by default.
    assert 'skipping: [localhost]' in task_output(out, 'Show one verdict line per host')
    assert 'skipping: [localhost]' in task_output(out, 'Fail the hosts with error findings')


def test_set_stats_per_host_and_summary_line(tmp_path, kubelet):
    inventory = tmp_path / 'hosts.ini'
    inventory.write_text('[workers]\nnode-a ansible_connection=local\nnode-b ansible_connection=local\n')
    result = run_report(tmp_path, inventory, 'target=workers', 'report_dir=out', *kubelet,
                        ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_SHOW_CUSTOM_STATS='true')
    assert result.returncode == 0, result.stdout + result.stderr
    run = json.loads(result.stdout)

    # Global stats keyed by host: what AWX keeps as artifacts, merged over the hosts.
    stats = run['global_custom_stats']['dpdk_readiness']
    assert sorted(stats) == ['node-a', 'node-b']
    for host, entry in stats.items():
        # A relative report_dir is taken from the directory ansible-playbook runs in.
        assert entry['report_file'] == str(tmp_path / 'out' / ('%s.json' % host))
        with open(entry['report_file']) as handle:
            written = json.load(handle)
        assert written['host'] == host
        assert entry['summary'] == written['dpdk_node']['summary'] and entry['ready'] is False
        assert [f['id'] for f in entry['findings']] == [f['id'] for f in written['dpdk_node']['findings']]

    tasks = dict((task['task']['name'], task['hosts']) for play in run['plays'] for task in play['tasks'])
    summary = list(tasks['Show one verdict line per host'].values())
    assert len(summary) == 1  # run once
    lines = summary[0]['msg']
    assert [line.split(': ', 1)[0] for line in lines] == ['node-a', 'node-b']
    for line in lines:
        assert VERDICT.match(line.split(': ', 1)[1]), line


def test_fail_on_errors_fails_the_host_naming_the_findings(tmp_path, localhost_inventory, kubelet):
    result = run_report(tmp_path, localhost_inventory, 'report_fail_on_errors=true', *kubelet)
    assert result.returncode == 2, result.stdout + result.stderr
    failure = re.search(r'^fatal: \[localhost\]: FAILED! => (\{.*\})$', result.stdout, re.M)
    assert failure, result.stdout
    message = json.loads(failure.group(1))['msg']
    assert message.startswith('NOT READY: ') and 'kubelet_cpu_manager_state_stale' in message
    assert 'report_fail_on_errors' in message
    # The report was written and shown before the failure.
    assert (tmp_path / 'dpdk-report' / 'localhost.json').is_file()


@pytest.mark.parametrize('target', ['nomatch', 'workers:&nomatch'])
def test_target_matching_no_host_fails_naming_target(tmp_path, localhost_inventory, target):
    result = run_report(tmp_path, localhost_inventory, 'target=%s' % target)
    assert result.returncode == 2, result.stdout + result.stderr
    assert 'target=%s matches no host of the inventory' % target in result.stdout
    assert 'Gather DPDK readiness facts' not in result.stdout
    assert not (tmp_path / 'dpdk-report').exists()
