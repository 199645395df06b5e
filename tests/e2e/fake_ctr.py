# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for containerd's ``ctr`` for the dpdk_testpmd role's containerd image transport.

No containerd is touched: the images "imported" are kept in ``ctr-state.json`` next to this
script and every call is appended to ``ctr-calls.jsonl`` there. What it checks like ctr does:
the ``--address`` must be a unix socket, the namespace is given, ``images import`` reads a
real docker-archive (manifest.json, RepoTags, the config blob) and names the image after its
RepoTags with the config digest as image id, ``images ls -q`` applies ``labels."<key>"=="<value>"``
and ``name=="<ref>"`` filters, ``images label`` sets a label on an image that exists.

    python3 fake_ctr.py --address /run/containerd/containerd.sock --namespace k8s.io images import image.tar
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re
import stat
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
STATE = os.path.join(HERE, 'ctr-state.json')
CALLS = os.path.join(HERE, 'ctr-calls.jsonl')
FILTER = re.compile(r'^(name|labels\."([^"]+)")=="([^"]*)"$')


def load():
    if not os.path.exists(STATE):
        return {}
    with open(STATE) as handle:
        return json.load(handle)


def save(state):
    with open(STATE, 'w') as handle:
        json.dump(state, handle, indent=1, sort_keys=True)


def fail(message):
    sys.stderr.write('ctr: %s\n' % message)
    return 1


def import_archive(images, path):
    with tarfile.open(path) as archive:
        manifest = json.load(archive.extractfile('manifest.json'))
        imported = []
        for entry in manifest:
            config = archive.extractfile(entry['Config']).read()
            image_id = 'sha256:' + hashlib.sha256(config).hexdigest()
            for layer in entry['Layers']:
                archive.getmember(layer)  # KeyError for an archive without its layers
            for ref in entry.get('RepoTags') or []:
                images[ref] = {'config_digest': image_id, 'labels': {}}
                imported.append(ref)
    if not imported:
        raise ValueError('no RepoTags in %s' % path)
    return imported


def main(argv):
    with open(CALLS, 'a') as handle:
        handle.write(json.dumps(argv) + '\n')
    address = namespace = None
    while argv and argv[0].startswith('-'):
        option = argv.pop(0)
        if option in ('--address', '-a'):
            address = argv.pop(0)
        elif option in ('--namespace', '-n'):
            namespace = argv.pop(0)
        else:
            return fail('unknown global option %s' % option)
    try:
        is_socket = stat.S_ISSOCK(os.stat(address).st_mode)
    except (OSError, TypeError):
        is_socket = False
    if not is_socket:
        return fail('failed to dial "%s": connection error: no such socket' % address)
    if not namespace:
        return fail('namespace is required')
    if len(argv) < 2 or argv[0] not in ('images', 'image', 'i'):
        return fail('usage: ctr images (ls|import|label) ...')
    state = load()
    images = state.setdefault(namespace, {})
    command, args = argv[1], argv[2:]
    if command in ('ls', 'list'):
        quiet = '-q' in args
        wanted = []
        for item in args:
            if item == '-q':
                continue
            match = FILTER.match(item)
            if not match:
                return fail('bad filter %r' % item)
            wanted.append(match.groups())
        for ref, image in sorted(images.items()):
            if all((ref == value) if field == 'name' else image['labels'].get(label) == value
                   for field, label, value in wanted):
                sys.stdout.write((ref if quiet else '%s %s' % (ref, image['config_digest'])) + '\n')
        return 0
    if command == 'import':
        try:
            refs = import_archive(images, args[-1])
        except (IndexError, KeyError, OSError, ValueError, tarfile.TarError) as exc:
            return fail('import failed: %s' % exc)
        save(state)
        for ref in refs:
            sys.stdout.write('unpacking %s (%s)...done\n' % (ref, images[ref]['config_digest']))
        return 0
    if command == 'label':
        if len(args) < 2 or args[0] not in images:
            return fail('image %r: not found' % (args[0] if args else None))
        for pair in args[1:]:
            key, value = pair.split('=', 1)
            images[args[0]]['labels'][key] = value
        save(state)
        sys.stdout.write(' '.join(args[1:]) + '\n')
        return 0
    return fail('unknown images command %s' % command)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
