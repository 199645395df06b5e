# -*- coding: utf-8 -*-
"""Run one play of the collection's roles on local hosts and read Ansible's json report (tests only).

The role tests drive real roles through ansible-playbook with ``-c local`` hosts, one host per case,
and judge what ran from the ``ansible.posix.json`` stdout callback.
"""

import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
BIN = os.path.dirname(sys.executable)


def run_local_play(tmp_path, play, hosts, extra_argv=()):
    """Write ``play`` and an inventory of local hosts (``{name: variables}``) under tmp_path, run them.

    Returns (the json report, ansible-playbook's exit code); fails the test when there is no report.
    """
    playbook = tmp_path / 'play.yml'
    playbook.write_text(yaml.safe_dump([play]))
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(yaml.safe_dump({'all': {'hosts': dict(
        (name, dict(variables, ansible_connection='local', ansible_python_interpreter=sys.executable))
        for name, variables in hosts.items())}}))
    env = dict(os.environ,
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.venv', 'collections'),
               ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
               ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'),
               ANSIBLE_NOCOLOR='1')
    argv = [os.path.join(BIN, 'ansible-playbook'), '-i', str(inventory), str(playbook)] + list(extra_argv)
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError('no json report (rc %d): %s %s' % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return report, proc.returncode
