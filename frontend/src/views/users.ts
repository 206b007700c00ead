import { api, type Organisation, type User } from '../api';
import { app } from '../app';
import { announce, badge, capitalise, clear, errorPanel, field, FormController, h } from '../dom';
import type { View } from '../router';

function userStatus(user: User): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (user.pending) out.push(badge('Invitation pending', 'warn'));
  if (user.disabled) out.push(badge('Disabled', 'bad'));
  if (!user.pending && !user.disabled) out.push(badge('Active', 'good'));
  return out;
}

function toggleButton(user: User, onChanged: (u: User) => void): HTMLElement | string {
  if (app.user && app.user.id === user.id) return h('span', { class: 'muted small' }, 'You');
  const action = user.disabled ? 'Enable' : 'Disable';
  const button = h(
    'button',
    {
      type: 'button',
      class: user.disabled ? 'button small' : 'button small danger',
      'aria-label': `${action} ${user.display_name}`,
      onclick: async () => {
        button.disabled = true;
        try {
          const updated = await api.updateUser(user.id, { disabled: !user.disabled });
          announce(`${updated.display_name} is now ${updated.disabled ? 'disabled' : 'enabled'}.`);
          onChanged(updated);
        } catch (err) {
          button.disabled = false;
          announce(`Could not update ${user.display_name}: ${err instanceof Error ? err.message : 'error'}`);
        }
      },
    },
    action,
  );
  return button;
}

function usersTable(users: User[], onChanged: (u: User) => void): HTMLElement {
  if (users.length === 0) return h('p', null, 'No users yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', { class: 'visually-hidden' }, 'Users'),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'Name'),
        h('th', { scope: 'col' }, 'Email'),
        h('th', { scope: 'col' }, 'Organisation'),
        h('th', { scope: 'col' }, 'Administrator'),
        h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
      )),
      h('tbody', null, users.map((u) =>
        h('tr', null,
          h('th', { scope: 'row' }, u.display_name),
          h('td', null, u.email),
          h('td', null, u.organisation.name, ' ', h('span', { class: 'muted' }, `(${u.organisation.short_code})`)),
          h('td', null, u.is_admin ? 'Yes' : 'No'),
          h('td', null, h('span', { class: 'badges' }, userStatus(u))),
          h('td', { class: 'actions' }, toggleButton(u, onChanged)),
        ),
      )),
    ),
  );
}

export const usersView: View = {
  title: 'Users',
  access: 'admin',
  async render(main, { isCurrent }) {
    const listHolder = h('div', null, h('p', { class: 'muted' }, 'Loading users…'));
    let users: User[] = [];
    const draw = () => {
      clear(listHolder);
      listHolder.append(usersTable(users, (updated) => {
        users = users.map((u) => (u.id === updated.id ? updated : u));
        draw();
      }));
    };
    const reload = async () => {
      try {
        users = await api.allUsers();
        if (!isCurrent()) return;
        draw();
      } catch (err) {
        if (!isCurrent()) return;
        clear(listHolder);
        listHolder.append(errorPanel(err));
      }
    };

    let organisations: Organisation[] = [];
    try {
      organisations = await api.allOrganisations();
    } catch (err) {
      if (!isCurrent()) return;
      main.append(h('h1', null, 'Users'), errorPanel(err));
      return;
    }
    if (!isCurrent()) return;
    const invitable = organisations.filter((o) => o.status === 'active');

    const form = new FormController({ 'aria-labelledby': 'invite-title' })
      .add(
        field({ label: 'Email', name: 'email', type: 'email', required: true, autocomplete: 'off' }),
        field({ label: 'Name', name: 'name', required: true, autocomplete: 'off', hint: 'As it should appear in meetings.' }),
        field({
          label: 'Organisation',
          name: 'organisation_id',
          required: true,
          options: [
            { value: '', label: 'Choose an organisation…' },
            ...invitable.map((o) => ({ value: String(o.id), label: `${o.name} (${o.short_code}) — ${capitalise(o.kind)}` })),
          ],
        }),
      )
      .submit('Send invitation');

    form.onSubmit(async () => {
      const email = form.value('email');
      const name = form.value('name');
      const organisationId = form.value('organisation_id');
      if (!email) form.fieldError('email', 'Enter an email address.');
      if (!name) form.fieldError('name', 'Enter a name.');
      if (!organisationId) form.fieldError('organisation_id', 'Choose an organisation.');
      if (!email || !name || !organisationId) {
        form.focusFirstError();
        return;
      }
      const result = await api.invite({ email, name, organisation_id: Number(organisationId) });
      announce(`Invitation sent to ${result.user.email}.`);
      form.form.reset();
      await reload();
    });

    main.append(
      h('h1', null, 'Users'),
      h('section', { class: 'panel', 'aria-labelledby': 'user-list-title' }, h('h2', { id: 'user-list-title' }, 'All users'), listHolder),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'invite-title' },
        h('h2', { id: 'invite-title' }, 'Invite a delegate'),
        h('p', { class: 'muted' }, 'The delegate receives an email with a link to choose a password.'),
        invitable.length ? form.form : h('p', null, 'Create an active organisation first.'),
      ),
    );
    await reload();
  },
};
