# -*- coding: utf-8 -*-
"""Run Ansible modules in-process and answer their commands, for unit tests."""

import contextlib
import fnmatch
import json

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings

# The collection supports ansible-core 2.16 (meta/runtime.yml) and is tested on 2.16
# and 2.19 (make unit-core216): the two APIs below arrived in 2.19.
try:
    from ansible.module_utils import _internal as ansible_internal
except ImportError:  # before 2.19 modules have no controller mode to leave
    ansible_internal = None
try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # before 2.19: what AnsibleModule reads its arguments from
    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


class ModuleExit(Exception):
    """Raised in place of exit_json/fail_json; carries the module's result."""

    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result)
        self.result = result
        self.failed = failed


class ModuleResult(dict):
    """The dict a module returned, plus ``failed`` and a readable ``msg``."""

    @property
    def failed(self):
        return bool(self.get('failed'))

    @property
    def changed(self):
        return bool(self.get('changed'))


def _add_warnings(result):
    # As AnsibleModule.exit_json does: the module's warnings go into its result.
    warnings = ansible_warnings.get_warning_messages()
    if warnings:
        result['warnings'] = list(warnings)
    return result


def _exit_json(self, **kwargs):
    kwargs.setdefault('changed', False)
    raise ModuleExit(_add_warnings(kwargs), failed=False)


def _fail_json(self, msg, **kwargs):
    kwargs['failed'] = True
    kwargs['msg'] = msg
    raise ModuleExit(_add_warnings(kwargs), failed=True)


def _forget_warnings():
    # Each real module run is a new process; in-process runs share these globals.
    ansible_warnings._global_warnings.clear()
    ansible_warnings._global_deprecations.clear()


class ModuleRunner:
    """``runner(module, args, check_mode=False, diff=False)`` -> ModuleResult.

    The module's main() runs in this process; exit_json and fail_json are
    intercepted, so a test sees exactly the result Ansible would get.
    """

    def __init__(self, monkeypatch):
        # Once any test imports controller code (filters, ansible.errors), module
        # warnings would go to the controller's Display; a module on a target
        # never runs in controller mode.
        if ansible_internal is not None:
            monkeypatch.setattr(ansible_internal, 'is_controller', False)
        monkeypatch.setattr(basic.AnsibleModule, 'exit_json', _exit_json)
        monkeypatch.setattr(basic.AnsibleModule, 'fail_json', _fail_json)

    def __call__(self, module, args=None, check_mode=False, diff=False):
        args = dict(args or {})
        args['_ansible_check_mode'] = check_mode
        args['_ansible_diff'] = diff
        _forget_warnings()
        with patch_module_args(args):
            try:
                module.main()
            except ModuleExit as exc:
                result = ModuleResult(exc.result)
                # Everything a module returns must survive Ansible's JSON encoding.
                json.dumps(result, default=str)
                return result
        raise AssertionError('%s.main() returned without exit_json or fail_json' % module.__name__)


class CommandDouble:
    """A recorded stand-in for AnsibleModule.run_command.

    ``on(argv_pattern, rc=0, out='', err='', effect=None)`` registers an answer
    for commands whose argv matches (fnmatch per element, '*' matches one
    element, a trailing '**' any rest). Unexpected commands fail the test, so a
    module can never run a real command on the test machine by accident.
    ``effect(argv)`` may change the fake tree, as the real command would.
    get_bin_path finds only the executables named with ``provide()``.
    """

    def __init__(self):
        self.calls = []
        self._answers = []
        self.binaries = {}

    def install(self, monkeypatch):
        double = self

        def run_command(module_self, args, **kwargs):
            return double.run(args, **kwargs)

        def get_bin_path(module_self, arg, required=False, opt_dirs=None):
            path = double.binaries.get(arg)
            if path is None and required:
                module_self.fail_json(msg='Failed to find required executable "%s"' % arg)
            return path
        monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
        monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', get_bin_path)

    def provide(self, *names, **paths):
        """Make get_bin_path find these executables (in /usr/bin unless a path is given)."""
        for name in names:
            self.binaries[name] = '/usr/bin/' + name
        self.binaries.update(paths)
        return self

    def on(self, pattern, rc=0, out='', err='', effect=None):
        self._answers.insert(0, (list(pattern), rc, out, err, effect))
        return self

    @staticmethod
    def _matches(pattern, argv):
        if pattern and pattern[-1] == '**':
            head = pattern[:-1]
            return len(argv) >= len(head) and all(fnmatch.fnmatchcase(a, p) for p, a in zip(head, argv))
        return len(pattern) == len(argv) and all(fnmatch.fnmatchcase(a, p) for p, a in zip(pattern, argv))

    def run(self, args, **kwargs):
        if isinstance(args, str):
            raise AssertionError('commands must be argument lists, not shell strings: %r' % args)
        argv = [str(a) for a in args]
        self.calls.append(argv)
        for pattern, rc, out, err, effect in self._answers:
            if self._matches(pattern, argv):
                if effect is not None:
                    effect(argv)
                return rc, out, err
        raise AssertionError('unexpected command: %r (register it with commands.on([...]))' % (argv,))

    def ran(self, pattern):
        """Calls that match ``pattern``."""
        pattern = list(pattern)
        return [argv for argv in self.calls if self._matches(pattern, argv)]
