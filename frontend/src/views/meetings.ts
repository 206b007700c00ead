// The meetings: those in session, upcoming and past, for all bodies or one; and the form that
// schedules a new one (for a body's chair and the secretariat; the server has the last word).
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, MEETING_KINDS, type BodySummary, type Id, type MeetingKind, type MeetingSummary, type MeetingWhen, type NewMeeting } from '../api';
import { navigate } from '../navigation';
import type { ViewProps } from '../router';
import { currentUser } from '../session';
import { announce } from '../status';
import { ErrorPanel, Loading, PageHeading } from '../ui/common';
import { Field, Form, useForm, type FormValues } from '../ui/forms';
import { isAbort, useResource, useUnmountSignal } from '../ui/hooks';
import {
  CurrentItemLine,
  MeetingStateBadge,
  MeetingWhenText,
  isTimeZone,
  meetingHref,
  meetingKindLabel,
  zonedToUtc,
} from './meeting-common';

const GROUPS: { when: MeetingWhen; title: string; empty: string }[] = [
  { when: 'in_session', title: 'In session', empty: 'No meeting is in session.' },
  { when: 'upcoming', title: 'Upcoming', empty: 'No meeting is planned.' },
  { when: 'past', title: 'Past', empty: 'No past meetings.' },
];

function MeetingsTable({ meetings, caption, live }: { meetings: MeetingSummary[]; caption: string; live: boolean }) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', { class: 'visually-hidden' }, caption),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Meeting'),
          h('th', { scope: 'col' }, 'Body'),
          h('th', { scope: 'col' }, 'When'),
          h('th', { scope: 'col' }, 'Where'),
          h('th', { scope: 'col' }, live ? 'On the floor' : 'State'),
        ),
      ),
      h(
        'tbody',
        null,
        meetings.map((m) =>
          h(
            'tr',
            { key: m.id },
            h('th', { scope: 'row' }, h('a', { href: meetingHref(m.id) }, m.title), h('div', { class: 'muted small' }, meetingKindLabel(m.kind))),
            h('td', null, m.body_short_name),
            h('td', null, h(MeetingWhenText, { meeting: m, short: true })),
            h('td', null, m.venue || (m.online_url ? 'Online' : '—')),
            h('td', null, live ? h(CurrentItemLine, { current: m.current_item }) : h(MeetingStateBadge, { state: m.state })),
          ),
        ),
      ),
    ),
  );
}

function MeetingGroup({ when, title, empty, bodyId }: { when: MeetingWhen; title: string; empty: string; bodyId: Id | null }) {
  const list = useResource((signal) => api.meetings(when, bodyId ?? undefined, signal), [when, bodyId]);
  // Meetings in session change under our eyes: refresh them now and then.
  useEffect(() => {
    if (when !== 'in_session') return undefined;
    const timer = window.setInterval(() => list.reload(), 15_000);
    return () => window.clearInterval(timer);
  }, [when, bodyId]);
  const state = list.state;
  const id = `meetings-${when}`;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': id },
    h('h2', { id }, title),
    state.status === 'loading'
      ? h(Loading, null, 'Loading meetings…')
      : state.status === 'error'
        ? h(ErrorPanel, { error: state.error })
        : state.value.length
          ? h(MeetingsTable, { meetings: state.value, caption: `${title} meetings`, live: when === 'in_session' })
          : h('p', { class: 'muted' }, empty),
  );
}

/** Who sees the form: administrators and the delegates of an organisation that chairs (or acts as chair of) a body. */
function chairedBodies(bodies: BodySummary[]): BodySummary[] {
  const user = currentUser.value;
  if (!user) return [];
  if (user.is_admin) return bodies;
  return bodies.filter(
    (b) =>
      (b.in_office.chairs ?? []).some((t) => t.organisation.id === user.organisation.id) ||
      b.in_office.acting_chair?.term.organisation.id === user.organisation.id,
  );
}

function NewMeetingForm({ bodies, initialBody }: { bodies: BodySummary[]; initialBody: Id | null }) {
  const form = useForm();
  const signal = useUnmountSignal();
  const first = initialBody !== null && bodies.some((b) => b.id === initialBody) ? initialBody : bodies[0]?.id ?? null;
  const [bodyId, setBodyId] = useState<Id | null>(first);
  // Typed into the time zone field: the body's zone no longer replaces it.
  const tzTouched = useRef(false);
  // A meeting is held, by default, in the time zone of its body.
  useEffect(() => {
    if (bodyId === null) return undefined;
    const controller = new AbortController();
    api.body(bodyId, controller.signal).then(
      (b) => {
        const input = form.element?.querySelector<HTMLInputElement>('input[name="time_zone"]');
        if (input && !tzTouched.current) input.value = b.time_zone;
      },
      () => undefined,
    );
    return () => controller.abort();
  }, [bodyId]);

  const submit = async (values: FormValues) => {
    const title = values.get('title');
    const tz = values.get('time_zone');
    const starts = values.get('starts_at');
    const ends = values.get('ends_at');
    if (!title) form.fieldError('title', 'Enter a title.');
    if (!tz) form.fieldError('time_zone', 'Enter a time zone, for example Europe/Brussels.');
    else if (!isTimeZone(tz)) form.fieldError('time_zone', 'This is not a time zone this browser knows; use a name such as Europe/Brussels.');
    const startsAt = starts ? zonedToUtc(starts, tz) : null;
    const endsAt = ends ? zonedToUtc(ends, tz) : null;
    if (!starts) form.fieldError('starts_at', 'Enter when the meeting starts.');
    if (!ends) form.fieldError('ends_at', 'Enter when the meeting ends.');
    if (startsAt && endsAt && endsAt <= startsAt) form.fieldError('ends_at', 'The meeting must end after it starts.');
    if (Object.keys(form.errors.value).length) {
      form.focusFirstError();
      return;
    }
    if (!startsAt || !endsAt) {
      form.formError('The dates could not be read.');
      form.focusFirstError();
      return;
    }
    const meeting: NewMeeting = {
      body_id: Number(values.get('body_id')),
      kind: values.get('kind') as MeetingKind,
      title,
      time_zone: tz,
      starts_at: startsAt,
      ends_at: endsAt,
    };
    const venue = values.get('venue');
    if (venue) meeting.venue = venue;
    const online = values.get('online_url');
    if (online) meeting.online_url = online;
    try {
      const created = await api.createMeeting(meeting, signal);
      announce(`Meeting ${created.title} created.`);
      navigate(meetingHref(created.id));
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) {
        form.formError(err.problem.detail || 'You may not schedule meetings of this body.');
        form.focusFirstError();
        return;
      }
      throw err;
    }
  };

  return h(
    Form,
    { form, labelledBy: 'new-meeting-title', submitLabel: 'Create meeting', onSubmit: submit },
    h(Field, {
      form,
      label: 'Body',
      name: 'body_id',
      required: true,
      value: first === null ? '' : String(first),
      onValue: (v) => setBodyId(v ? Number(v) : null),
      options: bodies.map((b) => ({ value: String(b.id), label: `${b.short_name} — ${b.name}` })),
    }),
    h(Field, {
      form,
      label: 'Kind',
      name: 'kind',
      required: true,
      value: 'plenary',
      options: MEETING_KINDS.map((k) => ({ value: k, label: meetingKindLabel(k) })),
    }),
    h(Field, { form, label: 'Title', name: 'title', required: true, autocomplete: 'off', maxLength: 200, hint: 'For example: Brussels Plenary 2007.' }),
    h(Field, { form, label: 'Venue', name: 'venue', autocomplete: 'off', maxLength: 200 }),
    h(Field, { form, label: 'Online meeting link', name: 'online_url', type: 'url', autocomplete: 'off', hint: 'An https:// address.' }),
    h(
      'div',
      { onInput: () => (tzTouched.current = true) },
      h(Field, {
        form,
        label: 'Time zone',
        name: 'time_zone',
        required: true,
        autocomplete: 'off',
        value: 'UTC',
        hint: 'Where the meeting is held, for example Europe/Brussels. The times below are in this zone.',
      }),
    ),
    h(Field, { form, label: 'Starts', name: 'starts_at', type: 'datetime-local', required: true }),
    h(Field, { form, label: 'Ends', name: 'ends_at', type: 'datetime-local', required: true }),
  );
}

function BodyFilter({ bodies, bodyId, onChange }: { bodies: BodySummary[]; bodyId: Id | null; onChange: (id: Id | null) => void }) {
  return h(
    'div',
    { class: 'field filter-field' },
    h('label', { for: 'meeting-body-filter' }, 'Show meetings of'),
    h(
      'select',
      {
        id: 'meeting-body-filter',
        value: bodyId === null ? '' : String(bodyId),
        onChange: (e: Event) => {
          const v = (e.currentTarget as HTMLSelectElement).value;
          onChange(v ? Number(v) : null);
        },
      },
      h('option', { value: '' }, 'All bodies'),
      bodies.map((b) => h('option', { key: b.id, value: String(b.id) }, `${b.short_name} — ${b.name}`)),
    ),
  );
}

export function MeetingsView({ params }: ViewProps) {
  const fromUrl = params.get('body_id');
  const [bodyId, setBodyId] = useState<Id | null>(fromUrl && /^\d+$/.test(fromUrl) ? Number(fromUrl) : null);
  const bodies = useResource((signal) => api.bodies(signal), []);
  const allBodies = bodies.state.status === 'ready' ? bodies.state.value : [];
  const mayChair = chairedBodies(allBodies);
  const choose = (id: Id | null) => {
    setBodyId(id);
    // The address follows the filter (so it can be shared), without a navigation.
    const url = id === null ? '/meetings' : `/meetings?body_id=${id}`;
    window.history.replaceState(null, '', url);
    const body = allBodies.find((b) => b.id === id);
    announce(body ? `Showing the meetings of ${body.short_name}.` : 'Showing the meetings of all bodies.');
  };

  return h(
    'div',
    null,
    h(PageHeading, null, 'Meetings'),
    bodies.state.status === 'error' && !isAbort(bodies.state.error) ? h(ErrorPanel, { error: bodies.state.error }) : null,
    h(
      'div',
      { class: 'panel compact' },
      h(BodyFilter, { bodies: allBodies, bodyId, onChange: choose }),
    ),
    GROUPS.map((g) => h(MeetingGroup, { key: g.when, ...g, bodyId })),
    mayChair.length
      ? h(
          'section',
          { class: 'panel', 'aria-labelledby': 'new-meeting-title' },
          h('h2', { id: 'new-meeting-title' }, 'New meeting'),
          h('p', { class: 'muted' }, 'The chair of a body, or the secretariat, schedules its meetings. A new meeting starts as a draft until it is convened.'),
          h(NewMeetingForm, { bodies: mayChair, initialBody: bodyId }),
        )
      : null,
  );
}
