# -*- coding: utf-8 -*-
# Copyright: (c) 2026, GameOps release engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# This module_utils is PRIVATE to gameops.elastic_release; its API may change without notice.
"""Undoing a change, as an ordinary write.

`UndoIntent` undoes one change whole: every release the change touched (a release it removed
included) returns to what it held before, in one transaction, with its release node's bookkeeping
(`package`, `services`, `appended`, `moved`) and /default_release. Each field goes back only if it
still holds what the change left (`_release/changes.revert`); a field a later change altered makes
the undo refuse, naming that change and the command that undoes it first (undo newest first: never
a mixed map). The undo is guarded like every write (one owner, at least one owner) and is itself a
change, so undoing it redoes the change.

Revisions written before changes were recorded (formats 1 and 2) are restored as they were: a
move's revision by the inverse move; another revision by restoring the state it holds, in every
release whose revision carries the same transaction id. No Ansible imports here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .._release.changes import ABSENT, adopted, changed_keys, delta_touches, label, revert
from .._release.names import DEFAULT_RELEASE_PATH, KINDS, OWNED_KINDS, history_path, validate_admin_root, validate_release
from .._release.revisions import (legacy_state, list_changes, read_history, read_records, read_revision,
                                  revision_name)
from .._release.snapshot import parse_default
from .._zk.base import ZkError
from .change import Change, Target
from .guard import OwnershipConflict
from .move import inverse
from .publish import PublishIntent

ROLLBACK = 'ansible-playbook -i inventory playbooks/rollback.yml -e release=%s -e change=%s'


class UndoRefused(ZkError):
    """An undo that would mix the map (a later change touched the same items), or split a change."""


def _bytes(text):
    return text.encode('utf-8', 'surrogateescape') if isinstance(text, str) else text


class UndoIntent(object):
    """Undo a change of `release`: the one named by `change` (an id, or a prefix of one), the one
    recorded in `revision`, or by default the release's newest change."""

    def __init__(self, release, admin_root, change=None, revision=None):
        self.release = validate_release(release)
        self.admin_root = validate_admin_root(admin_root)
        self.asked_change = change
        self.asked_revision = revision
        self.row = None         # the undone revision's row (see changes.change_rows)
        self.legacy = None      # the legacy intent, for revisions written before changes
        self.removes = False    # whether the undo removes `release`
        self.moves = None       # for a move, the items moved back: {from, to, sections, servers}

    # -- which change ----------------------------------------------------------------------------
    def _choose(self, session):
        """(revision name, record with its bulk) of the change to undo, chosen once."""
        history, index = read_history(session, self.release, self.admin_root)
        if not history:
            raise ZkError('release %s has no kept changes under %s'
                          % (self.release, history_path(self.admin_root, self.release)))
        if self.asked_change:
            name = self._by_change(session, history, index)
        else:
            name = revision_name(history, self.release, self.asked_revision)
        rows = list_changes(session, self.release, self.admin_root)
        self.row = dict(next((r for r in rows if r['revision'] == name), {'revision': name}))
        return read_revision(session, self.release, self.admin_root, name)

    def _by_change(self, session, history, index):
        wanted = str(self.asked_change).strip()
        found = [n for n in history if (index.get(n) or {}).get('change', '').startswith(wanted)] if len(wanted) >= 6 else []
        if not found:
            legacy = [n for n in history if n not in index]
            docs = read_records(session, self.release, self.admin_root, legacy) if legacy else {}
            found = [n for n, d in sorted(docs.items()) if len(wanted) >= 6 and (d.get('txn') or '').startswith(wanted)]
        if len(found) != 1:
            kept = ', '.join(r['change'] or r['revision'] for r in list_changes(session, self.release, self.admin_root))
            raise ZkError('release %s has %s change %s (kept changes: %s; list them with ansible-playbook -i inventory '
                          'playbooks/rollback.yml -e release=%s -e list_revisions=true)'
                          % (self.release, 'no' if not found else 'more than one', wanted, kept or 'none', self.release))
        return found[0]

    # -- the plan --------------------------------------------------------------------------------
    def plan(self, ctx):
        if self.row is None:
            self.name, self.record = self._choose(ctx.session)
        record = self.record
        if record.get('format', 1) < 3:
            return self._legacy(ctx)
        cid = record.get('change')
        touched = record.get('releases') or {self.release: {'revision': self.name}}
        if self.asked_revision is not None and not self.asked_change and len(touched) > 1:
            raise UndoRefused('revision %s of release %s is part of change %s, which also touched %s: a change is undone '
                              'whole, never one release of it; nothing was written. Undo the change: %s'
                              % (self.name, self.release, cid, ', '.join(sorted(r for r in touched if r != self.release)),
                                 ROLLBACK % (self.release, cid)))
        records = {self.release: record}
        for other, entry in sorted(touched.items()):
            if other == self.release:
                continue
            got = read_records(ctx.session, other, self.admin_root, [entry.get('revision')], bulk=True)
            if not got:
                raise UndoRefused('cannot undo change %s whole: its revision %s of release %s is no longer kept (older '
                                  'than the kept window, -e keep_changes=); nothing was written'
                                  % (cid, entry.get('revision'), other))
            records[other] = got[entry.get('revision')]
        change = Change(self.release, 'undo', 'undo change %s' % cid)
        change.undoes = cid
        change.verified = 'full'
        conflicts = []
        for release, rec in sorted(records.items()):
            snap = ctx.snapshot(release)
            delta = dict(rec.get('delta') or {})
            skip = adopted(delta, rec.get('meta'), snap.meta_raw)
            if skip:
                delta['versions'] = dict((v, p) for v, p in delta['versions'].items() if v not in skip)
            out = revert(snap.state, snap.meta_raw if snap.exists else None, delta, rec.get('meta'))
            touchers = self._touchers(ctx, release, rec, cid)
            found = {}
            # A field the change altered that a later change touched is the later change's, whatever its value.
            for key in changed_keys(delta, rec.get('meta')) + out.conflicts:
                later = [doc for doc in touchers if doc.get('format', 1) < 3 or
                         delta_touches(doc.get('delta') or {}, doc.get('meta'), key)]
                if later or key in out.conflicts:
                    found.setdefault(key, later[-1] if later else None)
            conflicts.extend((release, key, doc) for key, doc in sorted(found.items(), key=lambda kv: kv[0]))
            target = Target(release, out.state, 'undo')
            target.keep_package = True
            target.meta_raw = out.meta_raw
            target.meta_fields = out.meta_fields or None
            change.add(target)
        self._default(record, change, conflicts, next(iter(ctx.snaps.values())))
        if conflicts:
            raise UndoRefused(self._later(cid, conflicts))
        self._guard(ctx, change, records)
        main = change.target(self.release)
        self.removes = main is not None and not main.state['exists']
        moves = record.get('moves')
        if isinstance(moves, dict):
            self.moves = dict((k, list(moves.get(k) or [])) for k in OWNED_KINDS)
            self.moves.update({'from': moves.get('to'), 'to': moves.get('from')})
        change.main = self.release
        change.notes.update(undone_change=cid, undone_releases=sorted(records))
        return change

    def _touchers(self, ctx, release, rec, cid):
        """The later revisions of `release` whose changes still stand, oldest first: a field one of them
        touched is theirs now. A change and its undo cancel out (a chain of undos of one change stands
        when it is odd); the undos and redos of this change itself are judged by the fields' values."""
        history, dummy = read_history(ctx.session, release, self.admin_root)
        later = [n for n in history if n > rec.get('revision')]
        docs = read_records(ctx.session, release, self.admin_root, later, bulk=True) if later else {}
        root_of, chains = {cid: cid}, {}
        for name in later:
            doc = docs.get(name)
            if doc is None:
                continue
            undone = doc.get('undoes')
            root = root_of.get(undone, undone) if undone else doc.get('change') or name
            root_of[doc.get('change') or name] = root
            chains.setdefault(root, []).append(doc)
        out = []
        for root, chain in chains.items():
            if root != cid and len(chain) % 2 == 1:
                out.extend(chain)
        return sorted(out, key=lambda doc: doc.get('revision') or '')

    def _default(self, record, change, conflicts, snap):
        """/default_release as before the change, when the change wrote it and nothing wrote it since."""
        pair = record.get('default')
        if not pair:
            return
        before, after = (ABSENT if v is ABSENT else _bytes(v) for v in pair)
        now = snap.default_raw if snap.default_stat is not None else ABSENT
        if now == after and now != before:
            if before is ABSENT:
                change.remove_default = True
            else:
                change.indicator = before
        elif now != before:
            conflicts.append((None, ('default',), None))
        named = None if change.remove_default else parse_default(change.indicator) if change.indicator is not None \
            else snap.default_release
        for target in change.targets:
            if not target.state['exists'] and target.release == named:
                raise UndoRefused('refusing to undo change %s: it would remove release %s, which %s names as the '
                                  'default release; nothing was written'
                                  % (record.get('change'), target.release, DEFAULT_RELEASE_PATH))

    def _guard(self, ctx, change, records):
        """One owner: what the undo gives back must have no other owner outside the change."""
        rmap = ctx.map()
        default = parse_default(change.indicator) if change.indicator is not None else ctx.default_release
        found = []
        for target in change.targets:
            if not target.state['exists']:
                continue
            current = ctx.snapshot(target.release).state
            for kind in KINDS:
                if kind == 'versions' and target.release == default:
                    continue
                for name in sorted(set(target.state[kind]) - set(current[kind] if current['exists'] else ())):
                    others = [r for r in rmap.owners(kind, name) if r not in records and
                              (kind in OWNED_KINDS or r != default)]
                    if others:
                        found.append((kind, name, others))
        if found:
            raise OwnershipConflict(self.release, found, 'undo change %s' % change.undoes)

    def _later(self, cid, conflicts):
        """The refusal naming, for each field a later change altered, the newest such change."""
        parts, commands = [], []
        for release, key, doc in conflicts:
            if release is None:
                parts.append('%s was written since' % DEFAULT_RELEASE_PATH)
            elif doc is None:
                parts.append('%s was changed outside this collection (or by a change no longer kept)'
                             % label(release, key))
            else:
                later = doc.get('change') or (doc.get('txn') or '')[:12]
                parts.append('%s was changed by change %s (%s, %s)' % (label(release, key), later,
                                                                       doc.get('change_action') or doc.get('action'),
                                                                       doc.get('time')))
                command = ROLLBACK % (release, later)
                if command not in commands:
                    commands.append(command)
        return ('refusing to undo change %s: later changes touched the same items: %s; nothing was written. Undo '
                'newest first%s' % (cid, '; '.join(parts[:20]), (': ' + '; then '.join(commands)) if commands else ''))

    # -- revisions written before changes --------------------------------------------------------
    def _legacy(self, ctx):
        record = self.record
        if record.get('moves'):
            self.legacy = inverse(record['moves'], origin=record.get('txn', '')[:12] or None)
            change = self.legacy.plan(ctx)
            self.moves = dict(change.notes.get('moved') or {}, **{'from': self.legacy.source,
                                                                  'to': self.legacy.destination})
            change.undoes = (record.get('txn') or '')[:12] or None
            return change
        partners = self._partners(ctx.session, record.get('txn'))
        states = dict((release, legacy_state(doc)) for release, doc in partners.items())
        states[self.release] = legacy_state(record)
        if len(states) == 1:
            self.legacy = PublishIntent(self.release, states[self.release], mode='replace', action='undo',
                                        package=self.row.get('holds_package'), verify='full')
            change = self.legacy.plan(ctx)
        else:
            change = Change(self.release, 'undo', 'undo change %s' % record.get('txn', '')[:12])
            for release, state in sorted(states.items()):
                change.add(Target(release, state, 'undo'))
            self._guard(ctx, change, states)
        self.removes = not states[self.release]['exists']
        change.undoes = (record.get('txn') or '')[:12] or None
        return change

    def _partners(self, session, txn):
        """{release: record} of the other releases' revisions written by the same transaction."""
        if not txn:
            return {}
        out = {}
        root = '%s/history' % self.admin_root
        for other in sorted(session.children(root) or []):
            if other == self.release:
                continue
            history, index = read_history(session, other, self.admin_root)
            legacy = [n for n in history if n not in index]
            for name, doc in read_records(session, other, self.admin_root, legacy, bulk=True).items():
                if doc.get('txn') == txn:
                    out[other] = doc
        return out
