# -*- coding: utf-8 -*-
"""tools/check_collection_tarball.py on small tarballs built here, and on the repository's own build."""

import importlib.util
import io
import os
import subprocess
import sys
import tarfile

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
sys.dont_write_bytecode = True
_spec = importlib.util.spec_from_file_location('check_collection_tarball',
                                               os.path.join(ROOT, 'tools', 'check_collection_tarball.py'))
checker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checker)

# The least a tarball needs to pass: the user files, a document and a role that uses role_path.
GOOD = {
    'MANIFEST.json': '{}',
    'FILES.json': '{}',
    'README.md': '# nfv.dpdk\nSee [getting started](docs/getting-started.md) and [Galaxy](https://galaxy.ansible.com).\n'
                 'Developers: `make test` and lab/ in the repository.\n',
    'LICENSE': 'GPL-3.0-or-later',
    'meta/runtime.yml': 'requires_ansible: ">=2.15.0"\n',
    'requirements.txt': 'PyYAML\n',
    'bindep.txt': 'iproute2 [platform:dpkg]\n',
    'changelogs/changelog.yaml': 'ancestor: null\nreleases: {}\n',
    'docs/getting-started.md': '# Getting started\n[Top](#getting-started), [the report](../playbooks/report.yml)\n',
    'images/testpmd/Containerfile': 'FROM debian:12\nCOPY images/testpmd/build-context.sh /\n',
    'images/testpmd/build-context.sh': '#!/bin/sh\n',
    'playbooks/report.yml': '- name: Report\n  hosts: all\n  tasks: []\n',
    'playbooks/site.yml': '- name: Prepare\n  hosts: all\n  tasks:\n'
                          '    - name: Prepare the node\n      ansible.builtin.include_role:\n        name: nfv.dpdk.node\n'
                          '    - name: Another collection\n      ansible.builtin.include_role:\n        name: other.coll.role\n'
                          '- name: Report\n  ansible.builtin.import_playbook: report.yml\n'
                          '- name: Report by name\n  ansible.builtin.import_playbook: nfv.dpdk.report\n'
                          '- name: Another collection\n  ansible.builtin.import_playbook: other.coll.playbook\n',
    'roles/node/meta/main.yml': 'galaxy_info: {}\ndependencies: []\n',
    'roles/node/defaults/main.yml': 'node_image_dir: "{{ role_path }}/../../images/testpmd"\n'
                                    'node_script: "{{ role_path }}/files/{{ node_name }}.sh"\n',
    'roles/node/files/setup.sh': '#!/bin/sh\n',
    'roles/node/tasks/main.yml': '- name: Backend\n  ansible.builtin.include_tasks: "backend-{{ node_backend }}.yml"\n'
                                 '- name: Verify\n  ansible.builtin.import_tasks:\n    file: verify.yml\n',
    'roles/node/tasks/backend-podman.yml': '[]\n',
    'roles/node/tasks/verify.yml': '[]\n',
}


def build(tmp_path, files=None, drop=(), dirs=()):
    """A tar.gz of GOOD with ``files`` added or replaced and ``drop`` left out."""
    content = dict(GOOD)
    content.update(files or {})
    path = tmp_path / 'nfv-dpdk-0.1.0.tar.gz'
    with tarfile.open(str(path), 'w:gz') as tar:
        for name in list(dirs):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        for name, text in sorted(content.items()):
            if name in drop:
                continue
            data = text.encode('utf-8')
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return str(path)


def problems(tmp_path, **kwargs):
    return checker.check(build(tmp_path, **kwargs))[1]


def test_good_tarball_passes_and_lists_its_files(tmp_path, capsys):
    path = build(tmp_path)
    files, found, notes = checker.check(path)
    assert found == []
    assert files == sorted(GOOD)
    # README prose about the repository is a note, not a failure.
    assert notes == ['README.md: mentions lab/ (not in the tarball)']
    assert checker.main([path]) == 0
    out = capsys.readouterr().out
    assert 'ships %d files:' % len(GOOD) in out and '  roles/node/tasks/main.yml\n' in out
    assert out.rstrip().endswith('no problems')


@pytest.mark.parametrize('name, pattern', [
    ('Makefile', 'Makefile'), ('ansible.cfg', 'ansible.cfg'), ('.ansible-lint', '.ansible-lint'),
    ('pytest.ini', 'pytest.ini'), ('conftest.py', 'conftest.py'), ('requirements-test.txt', 'requirements-test.txt'),
    ('molecule/default/molecule.yml', 'molecule/*'), ('tests/unit/test_x.py', 'tests/*'), ('lab/labctl', 'lab/*'),
    ('docs/DEVELOPING.md', 'docs/DEVELOPING.md'), ('plugins/modules/__pycache__/x.cpython-311.pyc', '*/__pycache__/*'),
])
def test_developer_only_files_fail(tmp_path, name, pattern):
    found = problems(tmp_path, files={name: 'x\n'})
    assert found and all(name in problem and 'build_ignore' in problem for problem in found), found
    assert any(problem.startswith(pattern + ': the tarball ships 1 file(s)') for problem in found), found


@pytest.mark.parametrize('name', ['README.md', 'LICENSE', 'meta/runtime.yml', 'requirements.txt', 'bindep.txt',
                                  'images/testpmd/Containerfile'])
def test_missing_user_file_fails(tmp_path, name):
    # A user file other files link to would also break those links: only check the missing-file line.
    assert '%s: missing, a collection user needs it' % name in problems(tmp_path, drop=[name])


def test_docs_missing_or_empty_fail(tmp_path):
    links = {'README.md': '# nfv.dpdk\n'}
    assert problems(tmp_path, files=links, drop=['docs/getting-started.md']) == [
        'docs/: missing: the tarball has no user documentation']
    assert problems(tmp_path, files=links, drop=['docs/getting-started.md'], dirs=['docs']) == [
        'docs/: empty: the tarball has no user documentation']
    # Example files alone are not documentation.
    assert problems(tmp_path, files=dict(links, **{'docs/examples/x.yml': '[]\n'}), drop=['docs/getting-started.md'])


def test_role_path_reference_to_a_missing_path_fails(tmp_path):
    found = problems(tmp_path, drop=['images/testpmd/build-context.sh', 'images/testpmd/Containerfile'])
    assert 'roles/node/defaults/main.yml: {{ role_path }}/../../images/testpmd refers to images/testpmd, ' \
           'which the tarball lacks' in found
    # A templated part matches any file name, but one must be there.
    found = problems(tmp_path, drop=['roles/node/files/setup.sh'])
    assert found == ['roles/node/defaults/main.yml: {{ role_path }}/files/{{ node_name }}.sh refers to '
                     'roles/node/files/*.sh, which the tarball lacks']
    escape = {'roles/node/vars/main.yml': 'x: "{{ role_path }}/../../../outside"\n'}
    assert problems(tmp_path, files=escape) == [
        'roles/node/vars/main.yml: {{ role_path }}/../../../outside refers to outside it, which the tarball lacks']


def test_playbook_dir_reference(tmp_path):
    files = {'playbooks/x.yml': '- hosts: all\n  vars:\n    f: "{{ playbook_dir }}/files/a.txt"\n  tasks: []\n'}
    assert problems(tmp_path, files=files) == [
        'playbooks/x.yml: {{ playbook_dir }}/files/a.txt refers to playbooks/files/a.txt, which the tarball lacks']
    files['playbooks/files/a.txt'] = 'a'
    assert problems(tmp_path, files=files) == []


def test_import_playbook_targets(tmp_path):
    found = [p for p in problems(tmp_path, drop=['playbooks/report.yml']) if p.startswith('playbooks/site.yml')]
    assert 'playbooks/site.yml: import_playbook report.yml: the tarball has no playbooks/report.yml' in found
    assert 'playbooks/site.yml: import_playbook nfv.dpdk.report: the tarball has no playbooks/report.yml or ' \
           'playbooks/report.yaml' in found
    assert len(found) == 2  # other.coll.playbook is another collection's


def test_task_includes(tmp_path):
    found = problems(tmp_path, drop=['roles/node/tasks/backend-podman.yml', 'roles/node/tasks/verify.yml'])
    assert sorted(found) == [
        'roles/node/tasks/main.yml: import_tasks verify.yml: the tarball has no roles/node/tasks/verify.yml',
        'roles/node/tasks/main.yml: include_tasks backend-{{ node_backend }}.yml: the tarball has no '
        'roles/node/tasks/backend-*.yml',
    ]


def test_roles_of_this_collection(tmp_path):
    found = problems(tmp_path, files={'roles/node/meta/main.yml': 'dependencies:\n  - role: nfv.dpdk.missing\n',
                                      'playbooks/r.yml': '- hosts: all\n  roles:\n    - nfv.dpdk.gone\n'})
    assert sorted(found) == ['playbooks/r.yml: play role gone: the tarball has no roles/gone',
                             'roles/node/meta/main.yml: role dependency missing: the tarball has no roles/missing']
    found = problems(tmp_path, drop=['roles/node/meta/main.yml', 'roles/node/defaults/main.yml',
                                     'roles/node/files/setup.sh', 'roles/node/tasks/main.yml',
                                     'roles/node/tasks/backend-podman.yml', 'roles/node/tasks/verify.yml'])
    assert found == ['playbooks/site.yml: include_role nfv.dpdk.node: the tarball has no roles/node']


def test_markdown_links_and_mentions(tmp_path):
    files = {'docs/getting-started.md': '[dev](DEVELOPING.md) [ok](../README.md#top) [web](https://x.invalid/a)\n'
                                        'Run `molecule test` from molecule/default.\n'}
    files_, found, notes = checker.check(build(tmp_path, files=files))
    assert found == ['docs/getting-started.md: links to DEVELOPING.md, which the tarball lacks']
    assert 'docs/getting-started.md: mentions molecule/default (not in the tarball)' in notes


def test_repository_paths_named_by_role_files_fail(tmp_path):
    files = {'roles/node/tasks/verify.yml': '- name: Lab check\n  ansible.builtin.script: lab/verify-node.sh\n',
             'images/testpmd/build-context.sh': '#!/bin/sh\n. tests/kubelet-standin/env\n'}
    found = problems(tmp_path, files=files)
    assert sorted(found) == [
        'images/testpmd/build-context.sh: names tests/kubelet-standin/env, which the tarball lacks',
        'roles/node/tasks/verify.yml: names lab/verify-node.sh, which the tarball lacks',
    ]
    # A path of the role itself (meta/argument_specs.yml in a role README or task) is the role's.
    files = {'roles/node/tasks/verify.yml': '# options: see meta/main.yml\n[]\n'}
    assert problems(tmp_path, files=files) == []


def test_broken_yaml_and_unreadable_tarball(tmp_path, capsys):
    assert problems(tmp_path, files={'playbooks/bad.yml': '- hosts: [all\n'})[0].startswith(
        'playbooks/bad.yml: not valid YAML: ')
    path = tmp_path / 'not-a-tarball.tar.gz'
    path.write_text('no')
    assert checker.main([str(path)]) == 2
    assert 'cannot read the tarball' in capsys.readouterr().err


def test_main_exit_code_and_problem_lines(tmp_path, capsys):
    assert checker.main([build(tmp_path, files={'Makefile': 'all:\n'})]) == 1
    err = capsys.readouterr().err
    assert 'problem: Makefile: the tarball ships 1 file(s)' in err and err.rstrip().endswith('1 problem(s)')


def test_the_repository_build_passes(tmp_path):
    """galaxy.yml's build_ignore and the files of this work tree, as make build checks them."""
    galaxy = os.path.join(os.path.dirname(sys.executable), 'ansible-galaxy')
    subprocess.run([galaxy, 'collection', 'build', '--force', '--output-path', str(tmp_path), ROOT],
                   check=True, capture_output=True, timeout=120)
    tarball = [str(p) for p in tmp_path.glob('nfv-dpdk-*.tar.gz')]
    assert len(tarball) == 1
    files, found, notes = checker.check(tarball[0])
    assert found == []
    # Notes are only about Markdown prose naming repository paths.
    assert all(note.split(':', 1)[0].endswith('.md') and ': mentions ' in note for note in notes), notes
    assert 'roles/dpdk_testpmd/defaults/main.yml' in files and 'images/testpmd/Containerfile' in files
    assert not [name for name in files if name.split('/')[0] in ('tests', 'molecule', 'lab', 'bench', 'tools')]
