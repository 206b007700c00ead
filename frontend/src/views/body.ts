// One body: its warnings, who is in office and who takes over next, the chairmanship timeline,
// its members and mandate; and, for those who manage it, the forms that change all of these.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Id, type Member, type PlenumBody, type Term } from '../api';
import type { ViewProps } from '../router';
import { announce } from '../status';
import { Badge, ErrorPanel, Loading, PageHeading, Time } from '../ui/common';
import { Field, Form, useForm } from '../ui/forms';
import { capitalise } from '../ui/format';
import { isAbort, useResource, useUnmountSignal, type ResourceHandle } from '../ui/hooks';
import { bodyHref } from './bodies';
import { kindLabel, orgName, ruleLabel, TermDates, TermHolder } from './body-common';
import { AddTermForm, ChangeTermForm, EditBodyForm, MemberForm } from './body-forms';
import { BodyTimeline } from './body-timeline';
import { NotFoundView } from './errors';

function Warnings({ body }: { body: PlenumBody }) {
  if (!body.warnings?.length) return null;
  return h(
    'section',
    { class: 'panel panel-warning', 'aria-labelledby': 'warnings-title' },
    h('h2', { id: 'warnings-title' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), 'Needs attention'),
    h(
      'ul',
      { class: 'warning-list' },
      body.warnings.map((w, i) =>
        h(
          'li',
          { key: `${w.code}-${i}` },
          w.message,
          w.handover_on ? h('span', null, ' (handover on ', h(Time, { iso: w.handover_on, dateOnly: true }), ')') : null,
        ),
      ),
    ),
  );
}

function TermLine({ term }: { term: Term }) {
  return h('span', null, h(TermHolder, { term }), h('span', { class: 'muted' }, ', '), h('span', { class: 'muted' }, h(TermDates, { term })));
}

/** Switch the acting chair (the vice-chair standing in for the chair) on or off. */
function ActingChairControl({ body, onChanged }: { body: PlenumBody; onChanged: () => void }) {
  const form = useForm();
  const signal = useUnmountSignal();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const acting = body.in_office.acting_chair;
  if (acting) {
    const end = async () => {
      if (busy) return;
      setBusy(true);
      setError('');
      try {
        await api.clearActingChair(body.id, signal);
        announce('The acting chairmanship has ended.');
        onChanged();
      } catch (err) {
        if (isAbort(err)) return;
        setError(err instanceof ApiError ? err.problem.detail || err.message : 'The acting chairmanship could not be ended.');
      } finally {
        if (!signal.aborted) setBusy(false);
      }
    };
    return h(
      'div',
      { class: 'acting-chair-control' },
      h('h3', { id: 'acting-chair-title' }, 'Acting chair'),
      error ? h('p', { class: 'form-alert', role: 'alert' }, error) : null,
      h(
        'button',
        { type: 'button', class: 'button danger', 'aria-disabled': busy ? 'true' : undefined, onClick: () => void end() },
        'End the acting chairmanship',
      ),
    );
  }
  if (!body.in_office.vice_chair) {
    return h(
      'div',
      { class: 'acting-chair-control' },
      h('h3', { id: 'acting-chair-title' }, 'Acting chair'),
      h('p', { class: 'muted' }, 'There is no vice-chair in office who could act as chair.'),
    );
  }
  return h(
    'div',
    { class: 'acting-chair-control' },
    h('h3', { id: 'acting-chair-title' }, 'Acting chair'),
    h('p', { class: 'muted' }, 'When the chair cannot act, the vice-chair acts as chair until this is switched off.'),
    h(
      Form,
      {
        form,
        labelledBy: 'acting-chair-title',
        submitLabel: 'Make the vice-chair acting chair',
        onSubmit: async (values) => {
          const reason = values.get('reason');
          if (!reason) {
            form.fieldError('reason', 'Give the reason.');
            form.focusFirstError();
            return;
          }
          await api.setActingChair(body.id, reason, signal);
          announce('The vice-chair is now acting chair.');
          form.reset();
          onChanged();
        },
      },
      h(Field, { form, label: 'Reason', name: 'reason', required: true, rows: 2, maxLength: 2000, hint: 'Kept in the audit log.' }),
    ),
  );
}

function InOfficeSection({ body, onChanged }: { body: PlenumBody; onChanged: () => void }) {
  const o = body.in_office;
  const chairs = o.chairs ?? [];
  const next = body.next_handover;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'in-office-title' },
    h('h2', { id: 'in-office-title' }, 'In office'),
    h(
      'dl',
      { class: 'details' },
      h(
        'div',
        null,
        h('dt', null, chairs.length > 1 ? 'Co-chairs' : 'Chair'),
        h('dd', null, chairs.length ? chairs.map((t) => h('div', { key: t.id }, h(TermLine, { term: t }))) : 'None'),
      ),
      h('div', null, h('dt', null, 'Vice-chair'), h('dd', null, o.vice_chair ? h(TermLine, { term: o.vice_chair }) : 'None')),
      o.acting_chair
        ? h(
            'div',
            null,
            h('dt', null, 'Acting chair'),
            h(
              'dd',
              null,
              h(TermHolder, { term: o.acting_chair.term }),
              h('div', { class: 'muted small' }, 'Since ', h(Time, { iso: o.acting_chair.since }), ` — ${o.acting_chair.reason}`),
            ),
          )
        : null,
      h(
        'div',
        null,
        h('dt', null, 'Next handover'),
        h(
          'dd',
          null,
          next
            ? [
                h('div', { key: 'on' }, h(Time, { iso: next.on, dateOnly: true })),
                h(
                  'div',
                  { key: 'who', class: 'small' },
                  next.outgoing.length ? next.outgoing.map((t) => orgName(t.organisation)).join(' and ') : 'Nobody',
                  ' hands over to ',
                  next.incoming.length ? next.incoming.map((t) => orgName(t.organisation)).join(' and ') : 'nobody yet',
                ),
              ]
            : 'None planned',
        ),
      ),
    ),
    body.can_set_acting_chair ? h(ActingChairControl, { body, onChanged }) : null,
  );
}

function MembersTable({ body, onEdit, onRemoved }: { body: PlenumBody; onEdit: (m: Member) => void; onRemoved: () => void }) {
  const signal = useUnmountSignal();
  const [busy, setBusy] = useState<Id | null>(null);
  const members = body.members ?? [];
  if (!members.length) return h('p', null, 'No members yet.');
  const remove = async (m: Member) => {
    if (busy !== null) return;
    setBusy(m.organisation.id);
    try {
      await api.removeMember(body.id, m.organisation.id, signal);
      announce(`${m.organisation.name} is no longer a member.`);
      onRemoved();
    } catch (err) {
      if (isAbort(err)) return;
      announce(`Could not remove ${m.organisation.name}: ${err instanceof Error ? err.message : 'error'}`);
    } finally {
      if (!signal.aborted) setBusy(null);
    }
  };
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', { class: 'visually-hidden' }, `Members of ${body.short_name}`),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Organisation'),
          h('th', { scope: 'col' }, 'Kind'),
          h('th', { scope: 'col' }, 'Member since'),
          h('th', { scope: 'col' }, 'Until'),
          h('th', { scope: 'col' }, 'Standing'),
          body.can_manage ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')) : null,
        ),
      ),
      h(
        'tbody',
        null,
        members.map((m) =>
          h(
            'tr',
            { key: m.organisation.id },
            h('th', { scope: 'row' }, orgName(m.organisation)),
            h('td', null, capitalise(m.organisation.kind)),
            h('td', null, h(Time, { iso: m.since, dateOnly: true })),
            h('td', null, h(Time, { iso: m.until ?? null, dateOnly: true })),
            h('td', null, m.provisional ? h(Badge, { tone: 'warn' }, 'Provisional') : h(Badge, { tone: 'good' }, 'Full member')),
            body.can_manage
              ? h(
                  'td',
                  { class: 'actions' },
                  h(
                    'span',
                    { class: 'button-group' },
                    h(
                      'button',
                      { type: 'button', class: 'button small', 'aria-label': `Change membership of ${m.organisation.name}`, onClick: () => onEdit(m) },
                      'Change',
                    ),
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'button small danger',
                        'aria-label': `Remove ${m.organisation.name}`,
                        'aria-disabled': busy === m.organisation.id ? 'true' : undefined,
                        onClick: () => void remove(m),
                      },
                      'Remove',
                    ),
                  ),
                )
              : null,
          ),
        ),
      ),
    ),
  );
}

function MembersSection({ body, onChanged }: { body: PlenumBody; onChanged: () => void }) {
  // Bumped by a row's "Change" button: the member form starts again on that organisation.
  const [editing, setEditing] = useState<{ orgId: Id | null; round: number }>({ orgId: null, round: 0 });
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'members-title' },
    h('h2', { id: 'members-title' }, 'Members'),
    h(MembersTable, {
      body,
      onEdit: (m) => setEditing((e) => ({ orgId: m.organisation.id, round: e.round + 1 })),
      onRemoved: onChanged,
    }),
    body.can_manage
      ? h(
          'div',
          { class: 'subsection' },
          h('h3', { id: 'member-form-title' }, 'Add or change a member'),
          h(MemberForm, { key: editing.round, body, initialOrg: editing.orgId, focusOnMount: editing.round > 0, onSaved: onChanged }),
        )
      : null,
  );
}

function MandateSection({ body, bodies }: { body: PlenumBody; bodies: { id: number; short_name: string }[] }) {
  const r = body.rotation;
  const source = r.source_body_id != null ? bodies.find((b) => b.id === r.source_body_id) : undefined;
  const order = (r.order ?? [])
    .map((id) => body.members.find((m) => m.organisation.id === id)?.organisation.short_code ?? `#${id}`)
    .join(', ');
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'mandate-title' },
    h('h2', { id: 'mandate-title' }, 'Mandate and rules'),
    body.mandate ? h('p', { class: 'mandate' }, body.mandate) : h('p', { class: 'muted' }, 'No mandate recorded.'),
    h(
      'dl',
      { class: 'details' },
      h('div', null, h('dt', null, 'Set up on'), h('dd', null, h(Time, { iso: body.created_on, dateOnly: true }))),
      h('div', null, h('dt', null, 'Ends on'), h('dd', null, body.ends_on ? h(Time, { iso: body.ends_on, dateOnly: true }) : 'Not set')),
      h('div', null, h('dt', null, 'Time zone'), h('dd', null, body.time_zone)),
      h('div', null, h('dt', null, 'Observers'), h('dd', null, body.observers_may_join ? (body.observers_may_chair ? 'May join and chair' : 'May join, not chair') : 'May not join')),
      h('div', null, h('dt', null, 'Rotation'), h('dd', null, ruleLabel(r.rule))),
      h('div', null, h('dt', null, 'Term'), h('dd', null, `${r.term_months} months`)),
      h('div', null, h('dt', null, 'Successor warning'), h('dd', null, `${r.lead_days} days before a handover`)),
      r.rule === 'fixed_rotation' ? h('div', null, h('dt', null, 'Rotation order'), h('dd', null, order || 'Not set')) : null,
      r.rule === 'previous_chair_of'
        ? h('div', null, h('dt', null, 'Chair comes from'), h('dd', null, source ? source.short_name : 'Not set'))
        : null,
    ),
  );
}

function BodyPage({ body, terms, reload }: { body: PlenumBody; terms: ResourceHandle<Term[]>; reload: () => void }) {
  const bodies = useResource((signal) => api.bodies(signal), [body.id]);
  const allBodies = bodies.state.status === 'ready' ? bodies.state.value : [];
  const parent = body.parent_id != null ? allBodies.find((b) => b.id === body.parent_id) : undefined;
  const ended = body.ends_on != null && body.ends_on < body.in_office.date;
  const termState = terms.state;
  return h(
    'div',
    null,
    h(
      'nav',
      { 'aria-label': 'Breadcrumb' },
      h(
        'p',
        { class: 'breadcrumb' },
        h('a', { href: '/bodies' }, 'Bodies'),
        parent ? [' › ', h('a', { key: 'p', href: bodyHref(parent.id) }, parent.short_name)] : null,
      ),
    ),
    h(PageHeading, { class: 'body-heading' }, body.name, ' ', h('span', { class: 'muted' }, `(${body.short_name})`)),
    h(
      'p',
      { class: 'body-meta' },
      h(Badge, null, kindLabel(body.kind)),
      ended ? h(Badge, { tone: 'warn' }, 'Ended') : null,
      h('span', { class: 'muted' }, `Today in ${body.time_zone}: `, h(Time, { iso: body.in_office.date, dateOnly: true })),
    ),
    h(Warnings, { body }),
    h(InOfficeSection, { body, onChanged: reload }),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'timeline-title' },
      h('h2', { id: 'timeline-title' }, 'Chairmanship timeline'),
      termState.status === 'loading'
        ? h(Loading, null, 'Loading terms…')
        : termState.status === 'error'
          ? h(ErrorPanel, { error: termState.error })
          : h(BodyTimeline, { bodyName: body.short_name, terms: termState.value, today: body.in_office.date }),
      body.can_manage && termState.status === 'ready'
        ? [
            h(
              'div',
              { key: 'add', class: 'subsection' },
              h('h3', { id: 'add-term-title' }, 'Add a term'),
              h(AddTermForm, { body, onSaved: reload }),
            ),
            termState.value.length
              ? h(
                  'div',
                  { key: 'change', class: 'subsection' },
                  h('h3', { id: 'change-term-title' }, 'Change a term'),
                  h(ChangeTermForm, { body, terms: termState.value, onSaved: reload }),
                )
              : null,
          ]
        : null,
    ),
    h(MembersSection, { body, onChanged: reload }),
    h(MandateSection, { body, bodies: allBodies }),
    body.can_manage
      ? h(
          'section',
          { class: 'panel', 'aria-labelledby': 'edit-body-title' },
          h('h2', { id: 'edit-body-title' }, 'Change this body'),
          h(EditBodyForm, { body, bodies: allBodies, onSaved: reload }),
        )
      : null,
  );
}

export function BodyView({ route }: ViewProps) {
  const id = /^\d+$/.test(route.id ?? '') ? Number(route.id) : null;
  const body = useResource((signal) => (id === null ? Promise.reject(new ApiError(404, { title: 'Not found' })) : api.body(id, signal)), [id]);
  const terms = useResource((signal) => (id === null ? Promise.resolve([]) : api.terms(id, signal)), [id]);
  const reload = () => {
    body.reload();
    terms.reload();
  };
  const state = body.state;
  const shortName = state.status === 'ready' ? state.value.short_name : null;
  // The router names the page "Body"; once it is known, name it after the body.
  useEffect(() => {
    if (shortName) document.title = `${shortName} · Bodies · Plenum`;
  }, [shortName]);
  if (state.status === 'loading') return h(Loading, null, 'Loading the body…');
  if (state.status === 'error') {
    if (state.error instanceof ApiError && state.error.status === 404) return h(NotFoundView, null);
    return h('div', null, h(PageHeading, null, 'Body'), h(ErrorPanel, { error: state.error }));
  }
  return h(BodyPage, { body: state.value, terms, reload });
}
