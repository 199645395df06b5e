# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan several of the collection's node modules at once, in check mode, inside one module run.

Each resource (``iommu_grub``, ``cpu_isolation``, ``hugepages``, ``sriov_vfs``, every
``driver_bind`` entry) is validated against that module's own argument spec and
constraints, then planned by that module's own class (the code its ``main()`` runs),
handed a ``CheckModeModule``: an object with what the classes use of ``AnsibleModule``,
always in check mode, whose ``exit_json``/``fail_json`` end that one plan and hand its
result back instead of ending the process. On a far-edge link each module execution
is a round trip; this makes a pre-flight or a verify step one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.nfv.dpdk.plugins.module_utils import cpu_isolation_config, hugepage_reservation, iommu_kernel_args
from ansible_collections.nfv.dpdk.plugins.module_utils.driver_binding import (
    DRIVER_BIND_ARGUMENT_SPEC, DRIVER_BIND_REQUIRED_ONE_OF, DriverBind,
)
from ansible_collections.nfv.dpdk.plugins.module_utils.sriov import SRIOV_VFS_ARGUMENT_SPEC, SriovVfs


class NodeModule:
    """One node module of the collection: its options, the constraints main() gives AnsibleModule, its class."""

    def __init__(self, name, argument_spec, implementation, **constraints):
        self.name = name
        self.argument_spec = argument_spec
        self.implementation = implementation
        self.constraints = constraints

    def validate(self, params):
        """(validated parameters, error messages), as AnsibleModule would validate ``params`` for this module."""
        validator = ArgumentSpecValidator(self.argument_spec, **self.constraints)
        result = validator.validate(params)
        messages = []
        for error in result.errors.errors:
            if isinstance(error, UnsupportedError):
                # As AnsibleModule words it: the validator's own message lacks what kind of error it is.
                messages.append('Unsupported parameters for nfv.dpdk.%s: %s' % (self.name, error.msg))
            else:
                messages.append(error.msg)
        return result.validated_parameters, messages


# In the order the dpdk_node role runs them: a failing plan stops the ones after it, as a failing task would.
NODE_MODULES = (
    NodeModule('iommu_grub', iommu_kernel_args.ARGUMENT_SPEC, iommu_kernel_args.IommuGrub),
    NodeModule('cpu_isolation', cpu_isolation_config.ARGUMENT_SPEC, cpu_isolation_config.CpuIsolation,
               mutually_exclusive=cpu_isolation_config.MUTUALLY_EXCLUSIVE, required_if=cpu_isolation_config.REQUIRED_IF),
    NodeModule('hugepages', hugepage_reservation.ARGUMENT_SPEC, hugepage_reservation.Hugepages),
    NodeModule('sriov_vfs', SRIOV_VFS_ARGUMENT_SPEC, SriovVfs),
    NodeModule('driver_bind', DRIVER_BIND_ARGUMENT_SPEC, DriverBind, required_one_of=DRIVER_BIND_REQUIRED_ONE_OF),
)
NODE_MODULE_NAMES = tuple(module.name for module in NODE_MODULES)


class PlanEnded(BaseException):
    """exit_json or fail_json of one planned module: its result.

    A BaseException, as the SystemExit of AnsibleModule's exit_json is, so that the
    modules' ``except Exception`` blocks treat it exactly as they treat a real exit.
    """

    def __init__(self, result, failed):
        super(PlanEnded, self).__init__(result.get('msg', ''))
        self.result = result
        self.failed = failed


class CheckModeModule:
    """What a module class uses of AnsibleModule, for one plan in check mode inside the module ``host``.

    Commands and executables go through ``host`` (the running node_check); warnings are
    kept for this plan's result and passed on to ``host`` with the resource's name.
    Nothing that writes is offered: a class that tried would fail this plan.
    """

    check_mode = True

    def __init__(self, host, resource, params):
        self._host = host
        self._resource = resource
        self.params = params
        self._diff = host._diff
        self.warnings = []

    def run_command(self, args, **kwargs):
        return self._host.run_command(args, **kwargs)

    def get_bin_path(self, arg, required=False, opt_dirs=None):
        # AnsibleModule's own lookup, so a missing required executable fails this plan (self.fail_json).
        return AnsibleModule.get_bin_path(self, arg, required=required, opt_dirs=opt_dirs)

    def warn(self, warning):
        self.warnings.append(warning)
        self._host.warn('%s: %s' % (self._resource, warning))

    def _with_warnings(self, result):
        # As AnsibleModule's exit_json/fail_json put the module's warnings into its result.
        if self.warnings:
            result['warnings'] = list(self.warnings)
        return result

    def exit_result(self, result):
        """What exit_json(**result) returns to the controller."""
        result = dict(result)
        result.setdefault('changed', False)
        return self._with_warnings(result)

    def exit_json(self, **kwargs):
        raise PlanEnded(self.exit_result(kwargs), failed=False)

    def fail_json(self, msg, **kwargs):
        kwargs['failed'] = True
        kwargs['msg'] = msg
        raise PlanEnded(self._with_warnings(kwargs), failed=True)

    def _writes(self, name):
        self.fail_json(msg='%s called %s in check mode: node_check never changes the node (a bug in the module)'
                       % (self._resource, name))

    def atomic_move(self, *args, **kwargs):
        self._writes('atomic_move')

    def backup_local(self, *args, **kwargs):
        self._writes('backup_local')

    def preserved_copy(self, *args, **kwargs):
        self._writes('preserved_copy')


class NodeCheckError(Exception):
    """A resource's options are wrong or its plan failed: ``msg`` names the resource, ``plans`` what was planned."""

    def __init__(self, msg, resource, plans):
        super(NodeCheckError, self).__init__(msg)
        self.resource = resource
        self.plans = plans


class NodeCheck:
    """``NodeCheck(host).run()``: every resource in ``host.params`` planned in check mode; the node_check result.

    Every resource's options are validated before any is planned. A plan that fails ends
    the run (NodeCheckError) with the plans made until then and the failed one's result.
    """

    def __init__(self, host):
        self.host = host
        self.params = host.params

    def requests(self):
        """[(label, NodeModule, raw options)] in NODE_MODULES order; driver_bind once per entry."""
        requests = []
        for module in NODE_MODULES:
            given = self.params.get(module.name)
            if given is None:
                continue
            if module.name == 'driver_bind':
                requests.extend(('driver_bind[%d]' % index, module, entry) for index, entry in enumerate(given))
            else:
                requests.append((module.name, module, given))
        return requests

    def validate(self, requests):
        """The validated options per label; every problem of every resource in one NodeCheckError."""
        problems, wrong, validated = [], [], {}
        for label, module, options in requests:
            validated[label], errors = module.validate(options)
            if errors:
                wrong.append(label)
                problems.extend('%s: %s' % (label, error) for error in errors)
        if problems:
            raise NodeCheckError('%d problem(s) in the options, nothing was planned: %s' % (len(problems), '; '.join(problems)),
                                 resource=wrong[0], plans={})
        return validated

    def plan(self, label, module, params):
        """The result nfv.dpdk.<module> returns in check mode for ``params``, and whether it failed."""
        adapter = CheckModeModule(self.host, label, params)
        try:
            returned = module.implementation(adapter).run()
        except PlanEnded as ended:
            return ended.result, ended.failed
        # The classes whose main() passes run()'s return value to exit_json: the same result as theirs.
        return adapter.exit_result(returned), False

    def run(self):
        requests = self.requests()
        validated = self.validate(requests)
        plans = {}
        sriov_pfs = None
        for label, module, options in requests:
            params = validated[label]
            if module.name == 'driver_bind' and sriov_pfs is not None and 'sriov_plan' not in options:
                # The VFs sriov_vfs would create, so that their binding is planned too (as the role hands them over).
                params = dict(params, sriov_plan=sriov_pfs)
            result, failed = self.plan(label, module, params)
            if module.name == 'driver_bind':
                plans.setdefault('driver_bind', []).append(result)
            else:
                plans[label] = result
            if failed:
                raise NodeCheckError('%s: %s' % (label, result.get('msg', 'failed without a message')), label, plans)
            if module.name == 'sriov_vfs':
                sriov_pfs = result.get('pfs') or []
        return summarize(plans)


def plan_items(plans):
    """(label, result) of every plan, driver_bind entries as driver_bind[N]."""
    for name in NODE_MODULE_NAMES:
        if name not in plans:
            continue
        if name == 'driver_bind':
            for index, result in enumerate(plans[name]):
                yield 'driver_bind[%d]' % index, result
        else:
            yield name, plans[name]


def summarize(plans):
    """The node_check result: ``plans`` and which of them would change or wait for a reboot, said in ``msg``.

    Not ``results``: Ansible takes a module's ``results`` for a loop's and renames it ``ansible_module_results``.
    """
    items = list(plan_items(plans))
    would_change = [label for label, result in items if result.get('changed')]
    reboot_required = [label for label, result in items if result.get('reboot_required')]
    parts = ['planned %s' % (', '.join(label for label, _result in items) or 'nothing')]
    parts.append('would change: %s' % ', '.join(would_change) if would_change else 'nothing would change')
    parts.append('a reboot is required for: %s' % ', '.join(reboot_required) if reboot_required
                 else 'no reboot is required')
    return {'changed': False, 'plans': plans, 'would_change': would_change,
            'reboot_required': reboot_required, 'msg': '; '.join(parts)}
