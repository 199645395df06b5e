#!/usr/bin/env python3
"""Check a built collection tarball (ansible-galaxy collection build) before anyone installs it.

    check_collection_tarball.py dist/nfv-dpdk-0.1.0.tar.gz

Lists the files the tarball ships, then fails (exit 1, one line per problem) when:

- it ships a file only the repository can use (Makefile, Molecule, tests, lint and
  pytest configuration, the lab, benchmarks, developer tools and docs);
- it lacks a file a user needs (README.md, LICENSE, meta/runtime.yml, ...), or docs/
  holds no document;
- a file it ships refers to a path it lacks: ``{{ role_path }}/...`` in a role,
  ``{{ playbook_dir }}/...`` in a playbook, import_playbook, include_tasks /
  import_tasks / include_vars files, include_role / import_role / role
  dependencies on this collection's roles, relative links in Markdown, and paths
  of the repository (lab/, molecule/, tests/, ...) named in role, playbook, meta or
  image files. A templated part of a path (``{{ backend }}.yml``) matches any
  name, and at least one shipped file must match.

Markdown prose (not a link) that names a repository path the tarball lacks is
listed as a note: the README is also the repository's front page, so it may talk
about the lab or `make test`.
"""

import argparse
import fnmatch
import json
import posixpath
import re
import sys
import tarfile

import yaml

# Paths only the repository can use: their tools, configuration and tests need the
# whole work tree (and a lab node), not an installed collection.
DEVELOPER_ONLY = (
    'Makefile', 'ansible.cfg', 'pytest.ini', 'conftest.py', '.ansible-lint', '.yamllint', '.gitignore',
    'requirements-test.txt', 'constraints-test.txt', 'docs/DEVELOPING.md',
    'molecule/*', 'tests/*', 'lab/*', 'bench/*', 'tools/*', '.ci/*', '.venv/*', '.github/*',
    '*/__pycache__/*', '*.pyc', 'dpdk-report/*', 'changelogs/.plugin-cache.yaml',
)
# What a user of the installed collection needs (images/testpmd: the testpmd role builds its image from it).
REQUIRED = ('MANIFEST.json', 'FILES.json', 'README.md', 'LICENSE', 'meta/runtime.yml', 'requirements.txt',
            'bindep.txt', 'changelogs/changelog.yaml', 'images/testpmd/Containerfile')
# Top-level directories of the repository, for paths named in the files the tarball ships.
REPOSITORY_DIRS = ('molecule', 'lab', 'tests', 'tools', 'bench', '.ci', 'docs', 'images', 'roles', 'playbooks',
                   'plugins', 'meta', 'changelogs')
COLLECTION = 'nfv.dpdk'

_JINJA = re.compile(r'\{\{.*?\}\}|\{%.*?%\}')
# The path after the variable may hold more Jinja ({{ role_path }}/files/{{ name }}.sh).
_ROLE_PATH = re.compile(r'''\{\{\s*(role_path|playbook_dir)\s*\}\}(/(?:\{\{.*?\}\}|[^\s"'`,;)\]{])*)'''
                        r'''|\b(role_path|playbook_dir)\s*~\s*["'](/[^"']*)["']''')
_MARKDOWN_LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
_REPOSITORY_PATH = re.compile(r'(?<![\w./${}-])((?:%s)/[\w./{}*-]*)' % '|'.join(re.escape(d) for d in REPOSITORY_DIRS))
_TASK_INCLUDES = ('include_tasks', 'import_tasks', 'include_vars')
_ROLE_INCLUDES = ('include_role', 'import_role')
_PLAYBOOK_IMPORTS = ('import_playbook',)
_YAML = ('.yml', '.yaml')


class Tarball:
    """The file names of a collection tarball and the text of its text files."""

    def __init__(self, path):
        self.files = {}
        self.dirs = set()
        with tarfile.open(path, 'r:*') as tar:
            for member in tar.getmembers():
                name = posixpath.normpath(member.name)
                if name.startswith('./'):
                    name = name[2:]
                if member.isdir():
                    self.dirs.add(name)
                    continue
                if not member.isfile():
                    continue
                data = tar.extractfile(member).read()
                try:
                    self.files[name] = data.decode('utf-8')
                except UnicodeDecodeError:
                    self.files[name] = None
        for name in self.files:
            parent = posixpath.dirname(name)
            while parent:
                self.dirs.add(parent)
                parent = posixpath.dirname(parent)

    def has(self, path):
        """A shipped file or directory; ``*`` (from a templated part) matches within one path segment."""
        path = posixpath.normpath(path).rstrip('/')
        if '*' not in path:
            return path in self.files or path in self.dirs
        pattern = re.compile('^%s$' % '[^/]*'.join(re.escape(part) for part in path.split('*')))
        return any(pattern.match(name) for name in list(self.files) + sorted(self.dirs))


def untemplate(path):
    """A path with each Jinja expression turned into a wildcard."""
    return _JINJA.sub('*', path)


def resolve(base_dir, relative):
    """``relative`` from ``base_dir`` inside the collection, or None when it leaves the collection."""
    path = posixpath.normpath(posixpath.join(base_dir, relative))
    return None if path == '..' or path.startswith('../') or path.startswith('/') else path


def role_of(name):
    """The role directory (roles/<role>) a shipped file belongs to, or None."""
    parts = name.split('/')
    return '/'.join(parts[:2]) if len(parts) > 2 and parts[0] == 'roles' else None


def shipped_problems(tarball):
    problems = []
    for pattern in DEVELOPER_ONLY:
        matched = sorted(name for name in tarball.files if fnmatch.fnmatchcase(name, pattern))
        if matched:
            problems.append('%s: the tarball ships %d file(s) only the repository can use (%s%s); add it to '
                            'build_ignore in galaxy.yml' % (pattern, len(matched), ', '.join(matched[:3]),
                                                            ', ...' if len(matched) > 3 else ''))
    for name in REQUIRED:
        if name not in tarball.files:
            problems.append('%s: missing, a collection user needs it' % name)
    docs = [name for name in tarball.files if name.startswith('docs/') and name.endswith(('.md', '.rst', '.txt'))]
    if not docs:
        problems.append('docs/: %s: the tarball has no user documentation'
                        % ('empty' if 'docs' in tarball.dirs else 'missing'))
    return problems


def _walk(data):
    """Every mapping in a parsed YAML document."""
    if isinstance(data, dict):
        yield data
        for value in data.values():
            for found in _walk(value):
                yield found
    elif isinstance(data, list):
        for item in data:
            for found in _walk(item):
                yield found


def _action(mapping, names):
    """The value of the first key that is one of ``names``, bare or ansible.builtin.-qualified."""
    for name in names:
        for key in (name, 'ansible.builtin.' + name, 'ansible.legacy.' + name):
            if key in mapping:
                return name, mapping[key]
    return None, None


def _file_arg(value):
    if isinstance(value, dict):
        value = value.get('file') or value.get('name')
    return value if isinstance(value, str) else None


def _own_role(value):
    """The role name when ``value`` names a role of this collection."""
    if isinstance(value, dict):
        value = value.get('name') or value.get('role')
    if isinstance(value, str) and value.startswith(COLLECTION + '.'):
        return value[len(COLLECTION) + 1:]
    return None


def yaml_references(tarball, name, text):
    """(what, path) of each file a YAML file includes or imports, as paths in the tarball."""
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        return [], ['%s: not valid YAML: %s' % (name, str(exc).splitlines()[0])]
    references, problems = [], []
    here = posixpath.dirname(name)
    role = role_of(name)
    for document in documents:
        for mapping in _walk(document):
            kind, value = _action(mapping, _TASK_INCLUDES)
            target = _file_arg(value)
            if target and not target.startswith('/'):
                # Ansible looks next to the including file, then in the role's tasks/ (vars/ for include_vars).
                subdir = 'vars' if kind == 'include_vars' else 'tasks'
                candidates = [resolve(here, untemplate(target))]
                if role:
                    candidates.append(resolve(posixpath.join(role, subdir), untemplate(target)))
                references.append((kind, target, sorted(set(c for c in candidates if c))))
            kind, value = _action(mapping, _PLAYBOOK_IMPORTS)
            if isinstance(value, str):
                if value.startswith(COLLECTION + '.'):
                    short = value[len(COLLECTION) + 1:]
                    candidates = ['playbooks/%s.yml' % short, 'playbooks/%s.yaml' % short]
                elif re.match(r'^[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_.]+$', value) and not value.endswith(_YAML):
                    continue  # a playbook of another collection
                else:
                    candidates = [resolve(here, untemplate(value))]
                references.append((kind, value, [c for c in candidates if c]))
            kind, value = _action(mapping, _ROLE_INCLUDES)
            own = _own_role(value)
            if own:
                written = value if isinstance(value, str) else value.get('name') or value.get('role')
                references.append((kind, written, ['roles/%s' % own]))
        if isinstance(document, dict) and role and name == role + '/meta/main.yml':
            for dependency in document.get('dependencies') or []:
                own = _own_role(dependency)
                if own:
                    references.append(('role dependency', own, ['roles/%s' % own]))
        if isinstance(document, list):
            for play in document:
                if isinstance(play, dict):
                    for entry in play.get('roles') or []:
                        own = _own_role(entry)
                        if own:
                            references.append(('play role', own, ['roles/%s' % own]))
    return references, problems


def text_references(name, text):
    """(what, as written, path in the tarball or None) of each role_path / playbook_dir relative path."""
    references = []
    role = role_of(name)
    for match in _ROLE_PATH.finditer(text):
        variable = match.group(1) or match.group(3)
        relative = (match.group(2) or match.group(4)).rstrip('.:')
        if variable == 'role_path':
            if not role:
                continue  # role_path outside a role is the including role's: nothing to check here
            base = role
        else:
            if role or not name.startswith('playbooks/'):
                continue  # a role's playbook_dir is the user's playbook directory
            base = posixpath.dirname(name)
        references.append((variable, match.group(0), resolve(base, untemplate(relative).lstrip('/'))))
    return references


def markdown_links(name, text):
    """(link, path in the tarball or None) of each relative link of a Markdown file."""
    links = []
    here = posixpath.dirname(name)
    for match in _MARKDOWN_LINK.finditer(text):
        target = match.group(1)
        if re.match(r'^[a-z][a-z0-9+.-]*:', target, re.I) or target.startswith('#'):
            continue  # a URL, or an anchor in the same document
        path = target.split('#', 1)[0]
        if path:
            links.append((target, resolve(here, path) if not path.startswith('/') else None))
    return links


def repository_paths(text):
    """Paths of the repository (lab/..., tests/...) a text names, without trailing punctuation."""
    found = []
    for match in _REPOSITORY_PATH.finditer(text):
        path = match.group(1).rstrip('.,:;')
        if path not in found:
            found.append(path)
    return found


def _mentioned(name, path):
    """Where a path named in a file may be: from the collection root, or from the file's role (meta/main.yml)."""
    role = role_of(name)
    return [path] + ([resolve(role, path)] if role else [])


def reference_problems(tarball):
    problems, notes = [], []
    for name in sorted(tarball.files):
        text = tarball.files[name]
        if text is None or name in ('MANIFEST.json', 'FILES.json'):
            continue
        for variable, written, path in text_references(name, text):
            if path is None or not tarball.has(path):
                problems.append('%s: %s refers to %s, which the tarball lacks' % (name, written, path or 'outside it'))
        if name.endswith(_YAML) and not name.startswith('changelogs/'):
            references, yaml_problems = yaml_references(tarball, name, text)
            problems.extend(yaml_problems)
            for kind, written, candidates in references:
                if not any(tarball.has(c) for c in candidates):
                    problems.append('%s: %s %s: the tarball has no %s' % (name, kind, written, ' or '.join(candidates)
                                                                            or 'such path inside the collection'))
        if name.endswith('.md'):
            for target, path in markdown_links(name, text):
                if path is None or not tarball.has(path):
                    problems.append('%s: links to %s, which the tarball lacks' % (name, target))
            for path in repository_paths(text):
                if not any(tarball.has(untemplate(c)) for c in _mentioned(name, path)):
                    notes.append('%s: mentions %s (not in the tarball)' % (name, path))
        elif name.split('/')[0] in ('roles', 'playbooks', 'meta', 'images') and not name.endswith('.py'):
            # Role, playbook, meta and image files run on a user's machine: a path they name must be there.
            for path in repository_paths(text):
                if not any(tarball.has(untemplate(c)) for c in _mentioned(name, path)):
                    problems.append('%s: names %s, which the tarball lacks' % (name, path))
    return problems, notes


def check(path):
    """(files, problems, notes) of the tarball at ``path``."""
    tarball = Tarball(path)
    problems = shipped_problems(tarball)
    reference, notes = reference_problems(tarball)
    return sorted(tarball.files), problems + reference, notes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('tarball')
    parser.add_argument('--json', action='store_true', help='print files, problems and notes as JSON')
    args = parser.parse_args(argv)
    try:
        files, problems, notes = check(args.tarball)
    except (OSError, tarfile.TarError) as exc:
        print('%s: cannot read the tarball: %s' % (args.tarball, exc), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({'files': files, 'problems': problems, 'notes': notes}, indent=2))
    else:
        print('%s ships %d files:' % (args.tarball, len(files)))
        for name in files:
            print('  ' + name)
        for note in notes:
            print('note: ' + note)
        for problem in problems:
            print('problem: ' + problem, file=sys.stderr)
        print('%s: %s' % (args.tarball, '%d problem(s)' % len(problems) if problems else 'no problems'),
              file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
