import { h } from 'preact';
import { useState } from 'preact/hooks';
import { api, type Organisation, type User } from '../api';
import { currentUser } from '../session';
import { announce } from '../status';
import { Badge, ErrorPanel, Loading, PageHeading } from '../ui/common';
import { capitalise } from '../ui/format';
import { Field, Form, useForm, type FormValues } from '../ui/forms';
import { isAbort, useResource, useUnmountSignal } from '../ui/hooks';

function UserStatus({ user }: { user: User }) {
  return h(
    'span',
    { class: 'badges' },
    user.pending ? h(Badge, { tone: 'warn' }, 'Invitation pending') : null,
    user.disabled ? h(Badge, { tone: 'bad' }, 'Disabled') : null,
    !user.pending && !user.disabled ? h(Badge, { tone: 'good' }, 'Active') : null,
  );
}

/** Enable or disable an account; the button stays in place (and keeps the focus). */
function ToggleButton({ user, onChanged }: { user: User; onChanged: (u: User) => void }) {
  const signal = useUnmountSignal();
  const [busy, setBusy] = useState(false);
  if (currentUser.value?.id === user.id) return h('span', { class: 'muted small' }, 'You');
  const action = user.disabled ? 'Enable' : 'Disable';
  const toggle = async () => {
    if (busy) return;
    setBusy(true);
    try {
      const updated = await api.updateUser(user.id, { disabled: !user.disabled }, signal);
      announce(`${updated.display_name} is now ${updated.disabled ? 'disabled' : 'enabled'}.`);
      onChanged(updated);
    } catch (err) {
      if (isAbort(err)) return;
      announce(`Could not update ${user.display_name}: ${err instanceof Error ? err.message : 'error'}`);
    } finally {
      if (!signal.aborted) setBusy(false);
    }
  };
  return h(
    'button',
    {
      type: 'button',
      class: user.disabled ? 'button small' : 'button small danger',
      // aria-disabled rather than disabled: a disabled button would drop the keyboard focus.
      'aria-disabled': busy ? 'true' : undefined,
      'aria-label': `${action} ${user.display_name}`,
      onClick: () => void toggle(),
    },
    action,
  );
}

function UsersTable({ users, onChanged }: { users: User[]; onChanged: (u: User) => void }) {
  if (users.length === 0) return h('p', null, 'No users yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', { class: 'visually-hidden' }, 'Users'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Name'),
          h('th', { scope: 'col' }, 'Email'),
          h('th', { scope: 'col' }, 'Organisation'),
          h('th', { scope: 'col' }, 'Administrator'),
          h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
        ),
      ),
      h(
        'tbody',
        null,
        users.map((u) =>
          h(
            'tr',
            { key: u.id },
            h('th', { scope: 'row' }, u.display_name),
            h('td', null, u.email),
            h('td', null, u.organisation.name, ' ', h('span', { class: 'muted' }, `(${u.organisation.short_code})`)),
            h('td', null, u.is_admin ? 'Yes' : 'No'),
            h('td', null, h(UserStatus, { user: u })),
            h('td', { class: 'actions' }, h(ToggleButton, { user: u, onChanged })),
          ),
        ),
      ),
    ),
  );
}

function InviteForm({ organisations, onInvited }: { organisations: Organisation[]; onInvited: () => void }) {
  const form = useForm();
  const signal = useUnmountSignal();
  const invitable = organisations.filter((o) => o.status === 'active');
  if (!invitable.length) return h('p', null, 'Create an active organisation first.');

  const submit = async (values: FormValues) => {
    const email = values.get('email');
    const name = values.get('name');
    const organisationId = values.get('organisation_id');
    if (!email) form.fieldError('email', 'Enter an email address.');
    if (!name) form.fieldError('name', 'Enter a name.');
    if (!organisationId) form.fieldError('organisation_id', 'Choose an organisation.');
    if (!email || !name || !organisationId) {
      form.focusFirstError();
      return;
    }
    const result = await api.invite({ email, name, organisation_id: Number(organisationId) }, signal);
    announce(`Invitation sent to ${result.user.email}.`);
    form.reset();
    onInvited();
  };

  return h(
    Form,
    { form, labelledBy: 'invite-title', submitLabel: 'Send invitation', onSubmit: submit },
    h(Field, { form, label: 'Email', name: 'email', type: 'email', required: true, autocomplete: 'off' }),
    h(Field, { form, label: 'Name', name: 'name', required: true, autocomplete: 'off', hint: 'As it should appear in meetings.' }),
    h(Field, {
      form,
      label: 'Organisation',
      name: 'organisation_id',
      required: true,
      options: [
        { value: '', label: 'Choose an organisation…' },
        ...invitable.map((o) => ({ value: String(o.id), label: `${o.name} (${o.short_code}) — ${capitalise(o.kind)}` })),
      ],
    }),
  );
}

export function UsersView() {
  const users = useResource((signal) => api.allUsers(undefined, signal), []);
  const organisations = useResource((signal) => api.allOrganisations(signal), []);
  const onChanged = (updated: User) => users.update((all) => all.map((u) => (u.id === updated.id ? updated : u)));
  const list = users.state;
  const orgs = organisations.state;
  return h(
    'div',
    null,
    h(PageHeading, null, 'Users'),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'user-list-title' },
      h('h2', { id: 'user-list-title' }, 'All users'),
      list.status === 'loading'
        ? h(Loading, null, 'Loading users…')
        : list.status === 'error'
          ? h(ErrorPanel, { error: list.error })
          : h(UsersTable, { users: list.value, onChanged }),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'invite-title' },
      h('h2', { id: 'invite-title' }, 'Invite a delegate'),
      h('p', { class: 'muted' }, 'The delegate receives an email with a link to choose a password.'),
      orgs.status === 'loading'
        ? h(Loading, null, 'Loading organisations…')
        : orgs.status === 'error'
          ? h(ErrorPanel, { error: orgs.error })
          : h(InviteForm, { organisations: orgs.value, onInvited: users.reload }),
    ),
  );
}
