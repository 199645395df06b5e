# -*- coding: utf-8 -*-
"""The roles' argument specs against the modules that receive their variables, and against the roles' defaults.

A role variable that is handed to a module option as a whole (``pfs: "{{ dpdk_node_sriov_pfs }}"``,
``nfv.dpdk.driver_bind: "{{ item }}"``) carries that option's nested ``options`` in
meta/argument_specs.yml, so that a misspelt key fails at the role's argument validation, before the
role changes a kernel argument or drains a node. The nested specs are written out in the YAML (with
descriptions, for ansible-doc); this test keeps them equal to the modules' ARGUMENT_SPEC: names,
types, elements, choices, required, defaults (where the role spec gives one), recursively.

ansible-core validates a role's variables against its spec without writing anything back (the
``validate_argument_spec`` action validates a copy), so nested defaults are documentation only and do
not change what ``"{{ item }}"`` passes on; test_nested_defaults_are_not_applied_to_the_variables
checks that in-process here and tests/unit/roles/test_role_entry_validation.py through ansible-playbook.
"""

import os

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.nfv.dpdk.plugins.modules import driver_bind, hugepages, kubelet_config, node_plan, sriov_vfs

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
ROLES = ('dpdk_node', 'dpdk_testpmd', 'kubelet_cpu_manager')

# Options of driver_bind that the dpdk_node role sets itself on a binding (its pre-flight in check
# mode): not keys of the role variable's entries. sriov_plan is the VF plan of sriov_vfs (issue 14),
# iommu_planned says that the same run turns the IOMMU on.
ROLE_SUPPLIED = {'dpdk_node_bindings': {'sriov_plan', 'iommu_planned'},
                 # The node plan's nics are dpdk_node_plan_nics (issue 16).
                 'dpdk_node_plan': {'nics'}}

# Where the role is stricter than the module on purpose, and why.
ROLE_STRICTER = {
    # hugepages makes count optional for its state=absent; the role only reserves (state=present).
    ('dpdk_node_hugepages_pools', 'count'): {'required': True},
}


def role_spec(role):
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')) as handle:
        return yaml.safe_load(handle)['argument_specs']['main']['options']


def role_defaults(role):
    with open(os.path.join(ROOT, 'roles', role, 'defaults', 'main.yml')) as handle:
        return yaml.safe_load(handle) or {}


# role, variable, the module's options its entries must match, module-level constraints of those options
def _proof_pod_options():
    """The entries of node_plan's proof_pods (its RETURN sample) as options: every key required but resource (null for a PF)."""
    sample = yaml.safe_load(node_plan.RETURN)['proof_pods']['sample'][0]
    kinds = {int: 'int', str: 'str', list: 'list'}
    return dict((key, dict({'type': kinds[type(value)], 'required': key != 'resource'},
                           **({'elements': 'str'} if isinstance(value, list) else {})))
                for key, value in sample.items())


MIRRORS = [
    ('dpdk_node', 'dpdk_node_sriov_pfs', sriov_vfs.ARGUMENT_SPEC['pfs']['options'], {}),
    ('dpdk_node', 'dpdk_node_hugepages_pools', hugepages.ARGUMENT_SPEC['pools']['options'], {}),
    ('dpdk_node', 'dpdk_node_hugepages_mounts', hugepages.ARGUMENT_SPEC['mounts']['options'], {}),
    # Each binding is the whole argument spec of driver_bind (``nfv.dpdk.driver_bind: "{{ item }}"``).
    ('dpdk_node', 'dpdk_node_bindings', driver_bind.ARGUMENT_SPEC, {'required_one_of': driver_bind.REQUIRED_ONE_OF}),
    # A dict of the module's options (all but nics), passed as the module's arguments.
    ('dpdk_node', 'dpdk_node_plan', node_plan.ARGUMENT_SPEC, {'mutually_exclusive': node_plan.MUTUALLY_EXCLUSIVE}),
    ('kubelet_cpu_manager', 'kubelet_cpu_manager_reserved_memory', kubelet_config.ARGUMENT_SPEC['reserved_memory']['options'], {}),
    # The node plan's proof pods, which the testpmd role runs one pod per entry of.
    ('dpdk_testpmd', 'dpdk_testpmd_numa_pods', _proof_pod_options(), {}),
]

# dict / list-of-dict variables whose keys are free (label names, environment variables, kubelet
# map keys): no nested options to mirror; the module or filter that receives them checks the values.
FREE_FORM = {
    'dpdk_node_gate_resources': 'extended resource names (compared with the node status.allocatable)',
    'dpdk_testpmd_labels': 'Pod label names',
    'dpdk_testpmd_expected_pmds': 'PCI vendor:device ids',
    'dpdk_testpmd_node_selector': 'node label names',
    'dpdk_testpmd_podman_env': 'environment variable names',
    'kubelet_cpu_manager_policy_options': 'cpuManagerPolicyOptions names (kubelet_config: type dict)',
    'kubelet_cpu_manager_plan_settings': 'KubeletConfiguration keys of the node plan (node_plan RETURN kubelet_settings)',
    'kubelet_cpu_manager_kube_reserved': 'resource names (kubelet_config: type dict)',
    'kubelet_cpu_manager_system_reserved': 'resource names (kubelet_config: type dict)',
    'kubelet_cpu_manager_eviction_hard': 'eviction signals (kubelet_config: type dict)',
    'kubelet_cpu_manager_feature_gates': 'feature gate names (kubelet_config: type dict)',
    'kubelet_cpu_manager_topology_policy_options': 'topologyManagerPolicyOptions names (kubelet_config: type dict)',
}

COMPARED = ('type', 'elements', 'choices', 'required')


def normalised(option):
    result = dict((key, option.get(key)) for key in COMPARED)
    result['type'] = result['type'] or 'str'
    result['required'] = bool(result['required'])
    if result['choices'] is not None:
        result['choices'] = list(result['choices'])
    return result


def compare(path, role_parent, module_options, variable, problems=None):
    """Differences between the nested options of a role option and a module's options, as readable lines.

    ``role_parent`` is the role option holding ``options`` (and ``mutually_exclusive``/``required_one_of``).
    """
    problems = [] if problems is None else problems
    role_options = role_parent.get('options') or {}
    supplied = ROLE_SUPPLIED.get(variable, set()) if path == variable else set()
    expected = set(module_options) - supplied
    aliases = dict((alias, name) for name, option in module_options.items() for alias in option.get('aliases') or [])
    for name in sorted(set(role_options) & supplied):
        problems.append('%s.%s is set by the role itself and must not be a key of the entries' % (path, name))
    for name in sorted(expected - set(role_options)):
        problems.append('%s lacks the module option %s' % (path, name))
    for name in sorted(set(role_options) - expected - set(aliases) - supplied):
        problems.append('%s.%s is not an option of the module' % (path, name))
    # A role spec cannot declare aliases (ansible-lint's schema has none): the role lists an alias as an
    # option of its own with the same type, exclusive with the name; where the module requires the
    # option, one of the two is required.
    exclusive = [sorted(group) for group in role_parent.get('mutually_exclusive') or []]
    one_of = [sorted(group) for group in role_parent.get('required_one_of') or []]
    for alias, name in sorted(aliases.items()):
        if alias not in role_options:
            problems.append("%s lacks %s, the module's alias of %s" % (path, alias, name))
            continue
        if normalised(role_options[alias])['type'] != normalised(module_options[name])['type']:
            problems.append('%s.%s (alias of %s) has another type' % (path, alias, name))
        if sorted([name, alias]) not in exclusive:
            problems.append('%s: %s and its alias %s must be mutually exclusive' % (path, name, alias))
        if module_options[name].get('required') and sorted([name, alias]) not in one_of:
            problems.append('%s: one of %s and its alias %s must be required' % (path, name, alias))
    for name in sorted(set(role_options) & expected):
        role_option, module_option = role_options[name], module_options[name]
        here = '%s.%s' % (path, name)
        want = normalised(module_option)
        if module_option.get('aliases') and module_option.get('required'):
            want['required'] = False  # required through required_one_of with the alias, checked above
        if path == variable:
            want.update(ROLE_STRICTER.get((variable, name), {}))
        got = normalised(role_option)
        for key in COMPARED:
            if got[key] != want[key]:
                problems.append('%s: %s is %r in the role spec, %r for the module' % (here, key, got[key], want[key]))
        if 'default' in role_option and role_option['default'] != module_option.get('default'):
            problems.append("%s: default %r differs from the module's %r (leave it out or mirror it)"
                            % (here, role_option['default'], module_option.get('default')))
        if bool(role_option.get('options')) != bool(module_option.get('options')):
            problems.append('%s: nested options in one spec only' % here)
        elif module_option.get('options'):
            compare(here + ('[]' if want['type'] == 'list' else ''), role_option, module_option['options'], variable, problems)
    return problems


@pytest.mark.parametrize('role, variable, module_options, constraints', MIRRORS, ids=[mirror[1] for mirror in MIRRORS])
def test_nested_spec_mirrors_the_module(role, variable, module_options, constraints):
    option = role_spec(role)[variable]
    assert (option['type'] == 'list' and option['elements'] == 'dict') or option['type'] == 'dict'
    assert option.get('options'), '%s has no nested options' % variable
    assert module_options, 'no module options read'
    problems = compare(variable, option, module_options, variable)
    # Module-level constraints (driver_bind's required_one_of) hold for each entry.
    for key in ('required_one_of', 'mutually_exclusive', 'required_together', 'required_if', 'required_by'):
        if constraints.get(key) is not None:
            have = [sorted(group) for group in option.get(key) or []]
            if have != [sorted(group) for group in constraints[key]]:
                problems.append('%s: %s is %r in the role spec, %r in the module' % (variable, key, option.get(key), constraints[key]))
    assert not problems, '\n'.join(problems)


def test_the_comparison_sees_a_drift():
    """The comparison itself: a renamed, retyped or newly required option is reported."""
    module_options = {'device': {'type': 'str', 'required': True}, 'num_vfs': {'type': 'int', 'required': True},
                      'vfs': {'type': 'list', 'elements': 'dict', 'options': {'index': {'type': 'int', 'required': True}}}}
    role_options = {'device': {'type': 'str', 'required': True}, 'num_vf': {'type': 'int', 'required': True},
                    'vfs': {'type': 'list', 'elements': 'dict', 'options': {'index': {'type': 'str', 'required': True}}}}
    problems = compare('x', {'options': role_options}, module_options, 'x')
    assert 'x lacks the module option num_vfs' in problems
    assert 'x.num_vf is not an option of the module' in problems
    assert "x.vfs[].index: type is 'str' in the role spec, 'int' for the module" in problems


def test_every_dict_variable_has_nested_options_or_is_free_form():
    mirrored = set(mirror[1] for mirror in MIRRORS)
    unchecked = []
    for role in ROLES:
        for name, option in role_spec(role).items():
            is_dict = option.get('type') == 'dict' or (option.get('type') == 'list' and option.get('elements') == 'dict')
            if not is_dict:
                continue
            if name in FREE_FORM:
                assert not option.get('options'), '%s is listed as free-form but has nested options' % name
            elif name not in mirrored:
                unchecked.append('%s.%s' % (role, name))
    assert not unchecked, 'dict variables without nested options or a mirror test: %s' % unchecked


@pytest.mark.parametrize('role', ROLES)
def test_spec_and_defaults_agree(role):
    """Every default in defaults/main.yml is documented in the spec with the same value, and the reverse."""
    spec, defaults = role_spec(role), role_defaults(role)
    assert sorted(set(defaults) - set(spec)) == [], 'defaults without a spec entry'
    differ = dict((name, (spec[name].get('default'), defaults[name])) for name in defaults
                  if spec[name].get('default') != defaults[name] and not (spec[name].get('default') is None and defaults[name] is None))
    assert differ == {}
    missing = sorted(name for name, option in spec.items() if 'default' in option and name not in defaults)
    assert missing == [], 'spec defaults that defaults/main.yml does not set'


CONVENTION = {
    'dpdk_node': ('dpdk_node_kubeconfig', 'dpdk_node_kube_context', 'dpdk_node_k8s_node_name'),
    'kubelet_cpu_manager': ('kubelet_cpu_manager_kubeconfig', 'kubelet_cpu_manager_kube_context', 'kubelet_cpu_manager_k8s_node_name'),
    'dpdk_testpmd': ('dpdk_testpmd_kubeconfig', 'dpdk_testpmd_kube_context', None),
}


@pytest.mark.parametrize('role', ROLES)
def test_cluster_access_follows_the_collection_convention(role):
    defaults = role_defaults(role)
    kubeconfig, context, node_name = CONVENTION[role]
    assert defaults[kubeconfig] == '{{ nfv_dpdk_kubeconfig | default(None) }}'
    assert defaults[context] == '{{ nfv_dpdk_kube_context | default(None) }}'
    if node_name:
        assert defaults[node_name] == "{{ nfv_dpdk_k8s_node_name | default(ansible_facts['nodename'] | default(inventory_hostname)) }}"
    timeouts = sorted(name for name in defaults if name.endswith('_timeout'))
    assert all(name.startswith(role + '_') for name in timeouts)
    assert not any(value == '' for name, value in defaults.items() if name.endswith(('_kubeconfig', '_kube_context')))


def test_kubelet_cpus_default_to_what_dpdk_node_publishes():
    defaults = role_defaults('kubelet_cpu_manager')
    assert defaults['kubelet_cpu_manager_reserved_cpus'] == '{{ dpdk_node_result_reserved_cpus | default(None, true) }}'
    assert defaults['kubelet_cpu_manager_isolated_cpus'] == '{{ dpdk_node_result_isolated_cpus | default(None, true) }}'
    assert defaults['kubelet_cpu_manager_wait_ready'] is False and defaults['kubelet_cpu_manager_drain'] is False


# -- the role specs at work, in-process (what ansible-core's validate_argument_spec runs) ------------

def validate(role, variables):
    # ansible-core renders a templated default before it validates it; in-process it would be checked as the
    # template text, so the dict default of kubelet_cpu_manager_plan_settings ("{{ ... | default({}) }}") is left out.
    spec = role_spec(role)
    for option in spec.values():
        if option.get('type') == 'dict' and '{{' in str(option.get('default', '')):
            del option['default']
    return ArgumentSpecValidator(spec).validate(variables, validate_role_argument_spec=True)


def errors(role, variables):
    return '\n'.join(validate(role, variables).error_messages)


def test_valid_dpdk_node_input_passes():
    variables = {
        'dpdk_node_sriov_pfs': [{'device': '0000:41:00.0', 'num_vfs': 4, 'drivers_autoprobe': False,
                                 'vfs': [{'index': 0, 'mac': '02:00:00:00:00:01', 'vlan': 100, 'trust': False}]}],
        'dpdk_node_bindings': [{'vfs_of': ['0000:41:00.0'], 'driver': 'vfio-pci'}, {'devices': ['0000:42:00.0'], 'persist': False},
                               {'match': {'vendor': '8086', 'device': '154c'}}],
        'dpdk_node_hugepages_pools': [{'size': '1G', 'count': 4, 'node': 0}, {'size': '2M', 'count': 512}],
        'dpdk_node_hugepages_mounts': [{'path': '/dev/hugepages1G', 'size': '1G'}],
    }
    assert errors('dpdk_node', variables) == ''


@pytest.mark.parametrize('variables, message', [
    ({'dpdk_node_sriov_pfs': [{'device': '0000:41:00.0', 'num_vf': 2}]}, 'dpdk_node_sriov_pfs.num_vf'),
    ({'dpdk_node_sriov_pfs': [{'device': '0000:41:00.0', 'num_vf': 2}]}, 'missing required arguments: num_vfs found in dpdk_node_sriov_pfs'),
    ({'dpdk_node_sriov_pfs': [{'device': '0000:41:00.0', 'num_vfs': 2, 'vfs': [{'index': 0, 'vlann': 5}]}]},
     'dpdk_node_sriov_pfs.vfs.vlann'),
    ({'dpdk_node_sriov_pfs': [{'device': '0000:41:00.0', 'num_vfs': 2, 'vfs': [{'index': 0, 'link_state': 'up'}]}]},
     'link_state must be one of: auto, enable, disable'),
    ({'dpdk_node_sriov_pfs': [{'device': '0000:41:00.0', 'num_vfs': 'two'}]}, 'num_vfs'),
    ({'dpdk_node_bindings': [{'vfs_off': ['0000:41:00.0']}]}, 'dpdk_node_bindings.vfs_off'),
    ({'dpdk_node_bindings': [{'driver': 'vfio-pci'}]}, 'one of the following is required: devices, vfs_of, match found in dpdk_node_bindings'),
    ({'dpdk_node_bindings': [{'vfs_of': ['ens1f0'], 'driver': 'vfio'}]}, 'driver must be one of: vfio-pci, uio_pci_generic, igb_uio, kernel'),
    ({'dpdk_node_bindings': [{'vfs_of': ['ens1f0'], 'sriov_plan': []}]}, 'dpdk_node_bindings.sriov_plan'),
    ({'dpdk_node_bindings': [{'match': {'vendor': '8086', 'devcie': '154c'}}]}, 'dpdk_node_bindings.match.devcie'),
    ({'dpdk_node_hugepages_pools': [{'size': '2M', 'cont': 4}]}, 'dpdk_node_hugepages_pools.cont'),
    ({'dpdk_node_hugepages_pools': [{'size': '2M'}]}, 'missing required arguments: count found in dpdk_node_hugepages_pools'),
    ({'dpdk_node_hugepages_mounts': [{'mountpoint': '/dev/hugepages1G'}]}, 'dpdk_node_hugepages_mounts.mountpoint'),
])
def test_dpdk_node_refuses_misspelt_keys(variables, message):
    assert message in errors('dpdk_node', variables)


def test_kubelet_reserved_memory_takes_both_spellings_of_the_node_once():
    limits = {'memory': '1Gi'}
    assert errors('kubelet_cpu_manager', {'kubelet_cpu_manager_reserved_memory': [{'numa_node': 0, 'limits': limits}]}) == ''
    assert errors('kubelet_cpu_manager', {'kubelet_cpu_manager_reserved_memory': [{'numaNode': 0, 'limits': limits}]}) == ''
    assert 'mutually exclusive: numa_node|numaNode' in errors(
        'kubelet_cpu_manager', {'kubelet_cpu_manager_reserved_memory': [{'numa_node': 0, 'numaNode': 1, 'limits': limits}]})
    assert 'one of the following is required: numa_node, numaNode' in errors(
        'kubelet_cpu_manager', {'kubelet_cpu_manager_reserved_memory': [{'limits': limits}]})
    assert 'kubelet_cpu_manager_reserved_memory.limit' in errors(
        'kubelet_cpu_manager', {'kubelet_cpu_manager_reserved_memory': [{'numa_node': 0, 'limit': limits}]})


def test_nested_defaults_are_not_applied_to_the_variables():
    """Validation fills defaults into its own copy only: the binding handed to driver_bind stays as written."""
    bindings = [{'vfs_of': ['0000:41:00.0']}]
    result = validate('dpdk_node', {'dpdk_node_bindings': bindings})
    assert result.error_messages == []
    assert bindings == [{'vfs_of': ['0000:41:00.0']}]
    # what the validator itself saw, with the mirrored module defaults
    assert result.validated_parameters['dpdk_node_bindings'][0]['driver'] == 'vfio-pci'
