import { api, ApiError, type DraftState, type DraftSummary, type NewDraft } from '../api';
import { app, navigate } from '../app';
import { announce, badge, clear, errorPanel, field, FormController, h, timeElement } from '../dom';
import type { View } from '../router';

export function draftStateBadge(state: DraftState): HTMLSpanElement {
  return state === 'locked' ? badge('Locked', 'warn') : badge('Drafting', 'good');
}

function draftsTable(drafts: DraftSummary[]): HTMLElement {
  if (drafts.length === 0) return h('p', null, 'No drafts yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', { class: 'visually-hidden' }, 'Drafts'),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'Title'),
        h('th', { scope: 'col' }, 'Reference'),
        h('th', { scope: 'col' }, 'State'),
        h('th', { scope: 'col' }, 'Last updated'),
      )),
      h('tbody', null, drafts.map((d) =>
        h('tr', null,
          h('th', { scope: 'row' }, h('a', { href: `/drafts/${encodeURIComponent(String(d.id))}` }, d.title)),
          h('td', null, d.reference || '—'),
          h('td', null, draftStateBadge(d.state)),
          h('td', null, timeElement(d.updated_at)),
        ),
      )),
    ),
  );
}

/** Who may start a draft: delegates of participants, and secretariat administrators. */
function mayCreate(): boolean {
  const user = app.user;
  if (!user) return false;
  return user.is_admin || user.organisation.kind === 'participant';
}

export const draftsView: View = {
  title: 'Drafts',
  access: 'user',
  async render(main, { isCurrent }) {
    const listHolder = h('div', null, h('p', { class: 'muted' }, 'Loading drafts…'));

    const reload = async () => {
      try {
        const drafts = await api.allDrafts();
        if (!isCurrent()) return;
        drafts.sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0));
        clear(listHolder);
        listHolder.append(draftsTable(drafts));
      } catch (err) {
        if (!isCurrent()) return;
        clear(listHolder);
        listHolder.append(errorPanel(err));
      }
    };

    let newDraftSection: HTMLElement | null = null;
    if (mayCreate()) {
      const form = new FormController({ 'aria-labelledby': 'new-draft-title' })
        .add(
          field({ label: 'Title', name: 'title', required: true, autocomplete: 'off', maxlength: 200,
            hint: 'For example: Administrative decision on peer review.' }),
          field({ label: 'Reference', name: 'reference', autocomplete: 'off', maxlength: 200,
            hint: 'The body or meeting it belongs to, for example: Brussels Plenary 2007.' }),
        )
        .submit('Create draft');
      form.onSubmit(async () => {
        const title = form.value('title');
        if (!title) {
          form.fieldError('title', 'Enter a title.');
          form.focusFirstError();
          return;
        }
        const body: NewDraft = { title };
        const reference = form.value('reference');
        if (reference) body.reference = reference;
        try {
          const created = await api.createDraft(body);
          announce(`Draft ${created.title} created.`);
          navigate(`/drafts/${encodeURIComponent(String(created.id))}`);
        } catch (err) {
          if (err instanceof ApiError && err.status === 403) {
            form.formError(err.problem.detail || 'You may not start a draft.');
            form.focusFirstError();
            return;
          }
          throw err;
        }
      });
      newDraftSection = h(
        'section',
        { class: 'panel', 'aria-labelledby': 'new-draft-title' },
        h('h2', { id: 'new-draft-title' }, 'New draft'),
        h('p', { class: 'muted' }, 'Start a text that delegations edit together in the drafting room.'),
        form.form,
      );
    }

    main.append(
      h('h1', null, 'Drafts'),
      h('section', { class: 'panel', 'aria-labelledby': 'draft-list-title' }, h('h2', { id: 'draft-list-title' }, 'All drafts'), listHolder),
    );
    if (newDraftSection) main.append(newDraftSection);
    await reload();
  },
};
