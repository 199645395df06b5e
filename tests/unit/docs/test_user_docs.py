# -*- coding: utf-8 -*-
"""The user documentation (docs/*.md, docs/examples/) against the code it describes.

The example inventory must parse and put its host in dpdk_nodes; its group_vars must
pass the roles' argument specs; site.yml and the example playbooks must pass
--syntax-check with it. Every variable name of ours, tag and nfv.dpdk.* name the docs
mention must exist, every nfv.dpdk module task in them must fit the module's argument
spec, every YAML snippet must parse with PCI addresses and MACs quoted, and the files
the guides show must be the files in docs/examples/. The example's node values go, as
the dpdk_node role hands them over, through the modules in check mode on a fake node
of the example's shape, which must accept them, plan what the guide says, and change
nothing.
"""

import copy
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.nfv.dpdk.plugins.modules import cpu_isolation, driver_bind, hugepages, iommu_grub, sriov_vfs
from ansible_collections.nfv.dpdk.tests.unit.fakekernel_pci import FakeKernelPci
from ansible_collections.nfv.dpdk.tests.unit.plugins.module_utils.bootloader_hosts import debian_host

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
DOCS_DIR = os.path.join(ROOT, 'docs')
EXAMPLES = os.path.join(DOCS_DIR, 'examples')
INVENTORY = os.path.join(EXAMPLES, 'inventory.yml')
GROUP_VARS = os.path.join(EXAMPLES, 'group_vars', 'dpdk_nodes.yml')
ROLES = ('dpdk_node', 'kubelet_cpu_manager', 'dpdk_testpmd')
# The phases a user can select with --tags (docs/getting-started.md, "One phase at a time").
PHASE_TAGS = ('kernel', 'hugepages', 'sriov', 'bind', 'reboot', 'kubelet', 'testpmd')
# The developer guide is not shipped to users; it is not what this test keeps honest.
USER_DOCS = sorted(os.path.join(DOCS_DIR, name) for name in os.listdir(DOCS_DIR)
                   if name.endswith('.md') and name != 'DEVELOPING.md')

OUR_NAME = re.compile(r'\b(?:dpdk_node|kubelet_cpu_manager|dpdk_testpmd|dpdk_site|nfv_dpdk)_[a-z0-9_]*[a-z0-9]')
FQCN = re.compile(r'\bnfv\.dpdk\.([a-z0-9_]+)')
# Not inside a longer word: an image tag such as awx-ee:24.6.1 is neither.
PCI_ADDRESS = re.compile(r'(?<![\w.:-])(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7](?![\w.:])')
MAC_ADDRESS = re.compile(r'(?<![\w.:-])(?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}(?![\w.:])')
FENCE = re.compile(r'^(?:<!-- file: (?P<file>\S+) -->\n)?```(?P<lang>[a-z]*)\n(?P<body>.*?)^```$', re.M | re.S)
INLINE_CODE = re.compile(r'`([^`\n]+)`')
TAG_OPTION = re.compile(r'--(?:skip-)?tags[ =]([A-Za-z0-9_,-]+)')


def read(path):
    with open(path) as handle:
        return handle.read()


def load_yaml(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def fenced_blocks(path):
    """(language, body, shown file or None) of every fenced code block of a Markdown file."""
    return [(match.group('lang'), match.group('body'), match.group('file')) for match in FENCE.finditer(read(path))]


def yaml_snippets():
    """Every YAML text users copy: the docs' yaml blocks and the example files."""
    snippets = []
    for path in USER_DOCS:
        for number, (lang, body, _shown) in enumerate(fenced_blocks(path)):
            if lang in ('yaml', 'yml'):
                snippets.append(('%s block %d' % (os.path.relpath(path, ROOT), number), body))
    for folder, _dirs, files in os.walk(EXAMPLES):
        for name in sorted(files):
            if name.endswith(('.yml', '.yaml')):
                path = os.path.join(folder, name)
                snippets.append((os.path.relpath(path, ROOT), read(path)))
    return snippets


def collections_path():
    """The directory holding ansible_collections/nfv/dpdk for this tree."""
    parent = os.path.dirname(ROOT)
    if os.path.basename(parent) == 'nfv' and os.path.basename(os.path.dirname(parent)) == 'ansible_collections':
        return os.path.dirname(os.path.dirname(parent))
    return os.environ.get('ANSIBLE_COLLECTIONS_PATH') or os.path.join(ROOT, '.venv', 'collections')


def ansible(tool, *args):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR='1')
    if 'ANSIBLE_CONFIG' not in os.environ and os.path.exists(os.path.join(ROOT, 'ansible.cfg')):
        env['ANSIBLE_CONFIG'] = os.path.join(ROOT, 'ansible.cfg')
    executable = os.path.join(os.path.dirname(sys.executable), tool)
    return subprocess.run([executable] + list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def role_spec(role):
    """The main entry point's options, without templated defaults.

    A default like ``{{ dpdk_node_result_plan.proof_pods | default([]) }}`` is rendered by the role's
    defaults/main.yml at run time; ArgumentSpecValidator would apply the unrendered string.
    """
    options = load_yaml(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml'))['argument_specs']['main']['options']
    return dict((name, dict((key, value) for key, value in option.items()
                            if not (key == 'default' and isinstance(value, str) and '{{' in value)))
                for name, option in options.items())


def module_spec(name):
    module = __import__('ansible_collections.nfv.dpdk.plugins.modules.%s' % name, fromlist=['ARGUMENT_SPEC'])
    return module.ARGUMENT_SPEC


class Constructed(Exception):
    """Raised by a stand-in AnsibleModule: carries what main() gave the constructor."""

    def __init__(self, kwargs):
        super(Constructed, self).__init__('AnsibleModule constructed')
        self.kwargs = kwargs


def module_constraints(name, monkeypatch):
    """required_one_of, mutually_exclusive & co. that main() gives AnsibleModule besides the spec."""
    module = __import__('ansible_collections.nfv.dpdk.plugins.modules.%s' % name, fromlist=['main'])

    def construct(*args, **kwargs):
        raise Constructed(kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(module, 'AnsibleModule', construct)
        with pytest.raises(Constructed) as constructed:
            module.main()
    return dict((key, value) for key, value in constructed.value.kwargs.items()
                if key in ('mutually_exclusive', 'required_together', 'required_one_of', 'required_if', 'required_by'))


def walk_tasks(tasks):
    """Every task of a task list, inside blocks, rescue and always too."""
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        yield task
        for section in ('block', 'rescue', 'always'):
            yield from walk_tasks(task.get(section))


def code_task_files():
    """Every task or play file of the roles and playbooks, parsed."""
    paths = []
    for role in ROLES:
        for sub in ('tasks', 'handlers'):
            folder = os.path.join(ROOT, 'roles', role, sub)
            if os.path.isdir(folder):
                paths += [os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.endswith('.yml')]
    folder = os.path.join(ROOT, 'playbooks')
    paths += [os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.endswith('.yml')]
    return [(path, load_yaml(path) or []) for path in paths]


def code_tasks():
    """Every task of the roles and playbooks, and every play."""
    for _path, content in code_task_files():
        for item in content:
            if isinstance(item, dict) and ('hosts' in item or 'import_playbook' in item or 'ansible.builtin.import_playbook' in item):
                for section in ('pre_tasks', 'tasks', 'post_tasks', 'handlers'):
                    yield from walk_tasks(item.get(section))
                yield item
            else:
                yield from walk_tasks([item])


def known_names():
    """Our variable and fact names that exist: role specs, defaults, role vars, facts the code sets, site.yml."""
    names = set()
    for role in ROLES:
        names.update(role_spec(role))
        for sub in ('defaults', 'vars'):
            path = os.path.join(ROOT, 'roles', role, sub, 'main.yml')
            if os.path.exists(path):
                names.update(load_yaml(path) or {})
                # Collection-wide fallbacks (nfv_dpdk_*) exist where the defaults read them.
                names.update(name for name in OUR_NAME.findall(read(path)) if name.startswith('nfv_dpdk_'))
    for task in code_tasks():
        if isinstance(task.get('register'), str):
            names.add(task['register'])
        for action in ('ansible.builtin.set_fact', 'set_fact'):
            if isinstance(task.get(action), dict):
                names.update(task[action])
        for action in ('ansible.builtin.set_stats', 'set_stats'):
            if isinstance(task.get(action), dict):
                names.update((task[action].get('data') or {}))
    # The playbooks' own inputs (dpdk_site_*, report_*) are read with default() in their text.
    for name in os.listdir(os.path.join(ROOT, 'playbooks')):
        if name.endswith('.yml'):
            names.update(OUR_NAME.findall(read(os.path.join(ROOT, 'playbooks', name))))
    return names


def code_tags():
    """Every tag the roles' tasks and the playbooks carry (tags: and apply: {tags:})."""
    tags = set()

    def add(value):
        if isinstance(value, str):
            tags.update(part.strip() for part in value.split(','))
        elif isinstance(value, list):
            tags.update(str(part) for part in value)

    for task in code_tasks():
        add(task.get('tags'))
        for action in ('ansible.builtin.include_role', 'ansible.builtin.import_role', 'include_role', 'import_role',
                       'ansible.builtin.include_tasks', 'include_tasks'):
            if isinstance(task.get(action), dict):
                add((task[action].get('apply') or {}).get('tags'))
    return tags


def doc_code_texts(path):
    """The inline code spans and the code blocks of a doc, where names, tags and options are written."""
    text = read(path)
    return INLINE_CODE.findall(FENCE.sub('', text)) + [body for _lang, body, _shown in fenced_blocks(path)]


# -- the example inventory ------------------------------------------------------------

def test_example_inventory_puts_the_host_in_dpdk_nodes_with_the_group_vars():
    result = ansible('ansible-inventory', '-i', INVENTORY, '--list')
    assert result.returncode == 0, result.stderr
    inventory = json.loads(result.stdout)
    assert inventory['dpdk_nodes']['hosts'] == ['worker-07']
    hostvars = inventory['_meta']['hostvars']['worker-07']
    group_vars = load_yaml(GROUP_VARS)
    assert group_vars, 'docs/examples/group_vars/dpdk_nodes.yml is empty'
    for name, value in group_vars.items():
        assert hostvars.get(name) == value, '%s from group_vars/dpdk_nodes.yml did not reach worker-07' % name


def test_example_group_vars_names_are_all_known():
    known = known_names()
    unknown = [name for name in load_yaml(GROUP_VARS) if name not in known]
    assert not unknown, 'group_vars/dpdk_nodes.yml sets variables no role or playbook reads: %s' % unknown


@pytest.mark.parametrize('role', ROLES)
def test_example_group_vars_pass_the_role_argument_spec(role):
    """What the role's validate_argument_spec does at its start: types, choices, nested options, unknown names."""
    prefix = role + '_'
    group_vars = {name: value for name, value in load_yaml(GROUP_VARS).items() if name.startswith(prefix)}
    assert group_vars, 'the example sets no %s* variable' % prefix
    result = ArgumentSpecValidator(role_spec(role)).validate(copy.deepcopy(group_vars))
    assert not result.error_messages, result.error_messages


def test_undo_playbook_role_vars_pass_the_kubelet_role_argument_spec():
    plays = load_yaml(os.path.join(EXAMPLES, 'undo.yml'))
    includes = [task for task in walk_tasks(plays[0]['tasks']) if 'ansible.builtin.include_role' in task]
    assert [task['ansible.builtin.include_role']['name'] for task in includes] == ['nfv.dpdk.kubelet_cpu_manager']
    merged = {name: value for name, value in load_yaml(GROUP_VARS).items() if name.startswith('kubelet_cpu_manager_')}
    merged.update(includes[0]['vars'])
    result = ArgumentSpecValidator(role_spec('kubelet_cpu_manager')).validate(merged)
    assert not result.error_messages, result.error_messages


@pytest.mark.parametrize('playbook', ['playbooks/site.yml', 'docs/examples/undo.yml',
                                      'docs/examples/awx/site.yml', 'docs/examples/awx/report.yml'])
def test_playbook_syntax_with_the_example_inventory(playbook):
    result = ansible('ansible-playbook', '-i', INVENTORY, '--syntax-check', playbook)
    assert result.returncode == 0, result.stdout + result.stderr


def test_roles_render_with_ansible_doc():
    result = ansible('ansible-doc', '-t', 'role', *['nfv.dpdk.%s' % role for role in ROLES])
    assert result.returncode == 0, result.stderr
    for role in ROLES:
        # ansible-core 2.16 prints the role's name in capitals, 2.19 as written
        assert 'nfv.dpdk.%s' % role in result.stdout.lower()


# -- what the docs mention ------------------------------------------------------------

@pytest.mark.parametrize('doc', USER_DOCS, ids=os.path.basename)
def test_documented_variable_names_exist(doc):
    known = known_names()
    mentioned = set()
    for code in doc_code_texts(doc):
        mentioned.update(OUR_NAME.findall(code))
    unknown = sorted(mentioned - known)
    assert not unknown, '%s names variables that no role spec, defaults, fact or playbook has: %s' % (doc, unknown)


@pytest.mark.parametrize('doc', USER_DOCS, ids=os.path.basename)
def test_documented_tags_exist(doc):
    tags = code_tags() | {'always', 'never', 'all', 'tagged', 'untagged'}
    used = set()
    for code in doc_code_texts(doc):
        for match in TAG_OPTION.finditer(code):
            used.update(match.group(1).split(','))
    unknown = sorted(used - tags)
    assert not unknown, '%s selects tags that no task carries: %s' % (doc, unknown)


def test_phase_tags_are_documented_and_exist():
    missing_in_code = [tag for tag in PHASE_TAGS if tag not in code_tags()]
    assert not missing_in_code, 'phase tags no task carries: %s' % missing_in_code
    guide = INLINE_CODE.findall(read(os.path.join(DOCS_DIR, 'getting-started.md')))
    missing_in_guide = [tag for tag in PHASE_TAGS if tag not in guide]
    assert not missing_in_guide, 'phase tags docs/getting-started.md does not list: %s' % missing_in_guide


@pytest.mark.parametrize('doc', USER_DOCS, ids=os.path.basename)
def test_documented_collection_content_exists(doc):
    content = set(name[:-3] for name in os.listdir(os.path.join(ROOT, 'plugins', 'modules')) if name.endswith('.py'))
    content.update(os.listdir(os.path.join(ROOT, 'roles')))
    content.update(name[:-4] for name in os.listdir(os.path.join(ROOT, 'playbooks')) if name.endswith('.yml'))
    content.update(name[:-4] for name in os.listdir(os.path.join(ROOT, 'plugins', 'filter')) if name.endswith('.yml'))
    unknown = sorted(set(FQCN.findall(read(doc))) - content)
    assert not unknown, '%s names nfv.dpdk content that does not exist: %s' % (doc, unknown)


def placeholder(option):
    """A value of the option's type standing for a templated one (checked by the module at run time)."""
    kind = option.get('type', 'str')
    if option.get('choices'):
        return [option['choices'][0]] if kind == 'list' else option['choices'][0]
    if kind == 'list':
        return [] if option.get('elements') == 'dict' else ['templated']
    return {'bool': True, 'int': 0, 'float': 0.0, 'dict': {}, 'path': '/templated'}.get(kind, 'templated')


def module_tasks():
    """(where, module, args) of every nfv.dpdk module task in the docs' snippets and the examples."""
    modules = set(name[:-3] for name in os.listdir(os.path.join(ROOT, 'plugins', 'modules')) if name.endswith('.py'))
    found = []
    for where, text in yaml_snippets():
        for document in yaml.safe_load_all(text):
            items = document if isinstance(document, list) else []
            tasks = []
            for item in items:
                if isinstance(item, dict) and 'hosts' in item:
                    tasks += list(walk_tasks(item.get('tasks')))
                else:
                    tasks += list(walk_tasks([item]))
            for task in tasks:
                for key, args in task.items():
                    match = re.match(r'^nfv\.dpdk\.([a-z0-9_]+)$', str(key))
                    if match and match.group(1) in modules:
                        found.append((where, match.group(1), args or {}))
    return found


def test_docs_show_a_task_for_every_module_undo():
    shown = set(module for _where, module, _args in module_tasks())
    for module in ('iommu_grub', 'cpu_isolation', 'hugepages', 'sriov_vfs', 'driver_bind', 'kubelet_config', 'kubelet_state'):
        assert module in shown, 'no task snippet uses nfv.dpdk.%s' % module


def test_module_tasks_in_the_docs_fit_the_module_argument_spec(monkeypatch):
    failures = []
    for where, module, args in module_tasks():
        spec = copy.deepcopy(module_spec(module))
        # A templated value is the module's to check at run time; here only its option name is.
        templated = set(name for name, value in args.items() if isinstance(value, str) and '{{' in value)
        names = set(spec)
        for option in spec.values():
            names.update(option.get('aliases') or [])
        errors = ['unsupported option %s' % name for name in sorted(templated - names)]
        params = dict((name, placeholder(spec[name]) if name in templated else value)
                      for name, value in args.items() if name in spec or name not in templated)
        errors += ArgumentSpecValidator(spec, **module_constraints(module, monkeypatch)).validate(params).error_messages
        if errors:
            failures.append('%s: nfv.dpdk.%s: %s' % (where, module, errors))
    assert not failures, '\n'.join(failures)


# -- YAML that users copy ---------------------------------------------------------------

@pytest.mark.parametrize('where,text', yaml_snippets(), ids=[where for where, _text in yaml_snippets()])
def test_yaml_snippet_parses_with_pci_addresses_and_macs_quoted(where, text):
    list(yaml.safe_load_all(text))
    unquoted = []
    for token in yaml.scan(text):
        if isinstance(token, yaml.ScalarToken) and token.plain:
            if PCI_ADDRESS.search(token.value) or MAC_ADDRESS.search(token.value):
                unquoted.append(token.value)
    assert not unquoted, '%s: quote PCI addresses and MACs (YAML 1.1 reads 02:00:00:00:41:00 as a number): %s' % (where, unquoted)


def test_shown_files_are_the_example_files():
    shown = []
    for doc in USER_DOCS:
        for _lang, body, path in fenced_blocks(doc):
            if path:
                shown.append(path)
                assert body == read(os.path.join(ROOT, path)), '%s shows %s, which differs from the file: paste it again' % (doc, path)
    for required in ('docs/examples/inventory.yml', 'docs/examples/group_vars/dpdk_nodes.yml'):
        assert required in shown, 'docs/getting-started.md must show %s' % required


# -- the example's values on a node of the example's shape --------------------------------

GIB_KB = 1024 * 1024


def example_node(fake_host, commands, monkeypatch):
    """The guide's node: 2 x 16 cores x 2 threads (Intel numbering), 96 GiB per NUMA node, Debian 12
    with GRUB, an I350 management NIC on node 0 with the route, an X710 (i40e, 64 VFs per PF, the
    VF offsets of a real X710: 0x10 and 0x4f, stride 1) on node 1."""
    fake_host.topology(sockets=2, cores_per_socket=16, threads_per_core=2, mem_per_node_kb=96 * GIB_KB)
    for size_kb in (2048, 1048576):
        fake_host.hugepages(size_kb)
        for node in (0, 1):
            fake_host.hugepages(size_kb, node=node)
    fake_host.mounts()
    fake_host.file('/proc/sys/kernel/osrelease', '6.1.0-28-amd64')
    debian_host(fake_host, commands)
    fake_host.cpuinfo(cpus=64)
    commands.provide('mount')
    fake_host.pci_device('0000:00:00.0', device='0x2020', pci_class='0x060000', iommu_group=0)
    fake_host.pci_device('0000:18:00.0', device='0x1521', driver='igb', numa_node=0, iommu_group=30, netdevs=['eno1'])
    for function, offset in ((0, 0x10), (1, 0x4f)):
        fake_host.pci_device('0000:86:00.%d' % function, device='0x1572', driver='i40e', numa_node=1,
                             iommu_group=60 + function, sriov_totalvfs=64, netdevs=['enp134s0f%d' % function],
                             parent='/sys/devices/pci0000:85', sriov_vf_offset=offset, sriov_vf_stride=1)
    fake_host.file('/sys/kernel/security/lockdown', '[none] integrity confidentiality')
    fake_host.routes('eno1')
    fake_host.mkdir('/etc/systemd/system')
    kernel = FakeKernelPci(fake_host).install(monkeypatch, commands)
    kernel.addresses['eno1'] = [('inet', '192.0.2.17', 24)]
    monkeypatch.delenv('SSH_CONNECTION', raising=False)
    return kernel


def test_example_values_pass_the_modules_on_a_node_of_that_shape(fake_host, commands, run_module, monkeypatch):
    kernel = example_node(fake_host, commands, monkeypatch)
    before = fake_host.snapshot()
    example = load_yaml(os.path.join(ROOT, 'roles', 'dpdk_node', 'defaults', 'main.yml'))
    example.update(load_yaml(GROUP_VARS))

    # The module options the dpdk_node role fills from these variables (roles/dpdk_node/tasks).
    iommu = run_module(iommu_grub, {'vendor': example['dpdk_node_iommu_vendor'],
                                    'passthrough': example['dpdk_node_iommu_passthrough']}, check_mode=True, diff=True)
    assert not iommu.failed, iommu['msg']
    assert iommu['args'] == ['intel_iommu=on', 'iommu=pt']

    cpus = run_module(cpu_isolation, {'isolated_cpus': example['dpdk_node_isolated_cpus'],
                                      'reserved_cpus': example['dpdk_node_reserved_cpus'],
                                      'isolcpus_flags': example['dpdk_node_isolcpus_flags']}, check_mode=True, diff=True)
    assert not cpus.failed, cpus['msg']
    assert cpus['kernel_args'] == ['isolcpus=managed_irq,domain,17-31,49-63', 'nohz_full=17-31,49-63',
                                   'rcu_nocbs=17-31,49-63', 'irqaffinity=0,16,32,48']

    pages = run_module(hugepages, {'pools': example['dpdk_node_hugepages_pools'],
                                   'default_size': example['dpdk_node_hugepages_default_size'],
                                   'boot': example['dpdk_node_hugepages_boot'],
                                   'runtime': example['dpdk_node_hugepages_runtime'],
                                   'mounts': example['dpdk_node_hugepages_mounts'],
                                   'per_node_boot': example['dpdk_node_hugepages_per_node_boot']}, check_mode=True, diff=True)
    assert not pages.failed, pages['msg']
    assert pages['cmdline'] == 'default_hugepagesz=1G hugepagesz=1G hugepages=1:16'

    vfs = run_module(sriov_vfs, {'pfs': example['dpdk_node_sriov_pfs'], 'persist': example['dpdk_node_sriov_persist']},
                     check_mode=True, diff=True)
    assert not vfs.failed, vfs['msg']
    planned = [vf for pf in vfs['pfs'] for vf in pf['vfs']]
    assert len(planned) == 16 and all(vf.get('planned') for vf in planned)
    assert [vf['address'] for vf in vfs['pfs'][0]['vfs']][:2] == ['0000:86:02.0', '0000:86:02.1']
    assert [vf['address'] for vf in vfs['pfs'][1]['vfs']][:2] == ['0000:86:0a.0', '0000:86:0a.1']

    for binding in example['dpdk_node_bindings']:
        bound = run_module(driver_bind, dict(binding, sriov_plan=vfs['pfs']), check_mode=True, diff=True)
        assert not bound.failed, bound['msg']
        assert len(bound['devices']) == 16 and all(device['changed'] for device in bound['devices'])

    assert fake_host.snapshot() == before and kernel.writes == []


def test_undo_playbook_module_tasks_pass_the_modules_on_that_node(fake_host, commands, run_module, monkeypatch):
    """The undo tasks that need no result of an earlier task, in check mode on the example's node."""
    kernel = example_node(fake_host, commands, monkeypatch)
    before = fake_host.snapshot()
    modules = {'iommu_grub': iommu_grub, 'cpu_isolation': cpu_isolation, 'hugepages': hugepages, 'sriov_vfs': sriov_vfs}
    ran = []
    for where, module, args in module_tasks():
        if where != 'docs/examples/undo.yml' or module not in modules:
            continue
        assert not any(isinstance(value, str) and '{{' in value for value in args.values())
        result = run_module(modules[module], args, check_mode=True, diff=True)
        assert not result.failed, '%s: %s' % (module, result['msg'])
        ran.append(module)
    assert sorted(ran) == sorted(modules)
    assert fake_host.snapshot() == before and kernel.writes == []
