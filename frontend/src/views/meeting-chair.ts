// The chair's console of a meeting: its state (convene, open, close, cancel), the item on the
// floor ("Next item", and per item "Make current" / "Done" / "Defer"), the agenda (add, change,
// delete and reorder items, by drag and drop or with the buttons, adopt it), the documents and
// drafts of each item, guests, and the meeting's own details. Every answer the server gives is
// applied to the shared live feed at once; the live events that follow confirm it.
import { useSignal, type Signal } from '@preact/signals';
import { h, type ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  api,
  ApiError,
  documentHref,
  PURPOSES,
  uploadDocument,
  type AgendaItem,
  type AgendaItemUpdate,
  type DraftSummary,
  type Id,
  type Meeting,
  type MeetingUpdate,
  type NewAgendaItem,
  type Organisation,
  type Purpose,
} from '../api';
import type { MeetingFeed } from '../meeting-live';
import { announce } from '../status';
import { errorMessage } from '../ui/common';
import { Checkbox, Field, Form, useForm, type FormState, type FormValues } from '../ui/forms';
import { isAbort, useUnmountSignal } from '../ui/hooks';
import { wholeNumber } from './bodies';
import { formatBytes, isTimeZone, purposeLabel, utcToZonedInput, zonedToUtc } from './meeting-common';

// ---------------------------------------------------------------------------
// The console's shared state

export interface ChairCtx {
  meetingId: Id;
  feed: MeetingFeed;
  signal: AbortSignal;
  /** The action running now (one at a time), by key. */
  busy: Signal<string | null>;
  /** Error messages by place: 'console', or `item-<id>`. */
  errors: Signal<Record<string, string>>;
  /** Runs a request: busy while it runs, its message announced, its error shown at `where`. */
  run: (where: string, key: string, action: () => Promise<string | void>) => Promise<boolean>;
  /** Drag and drop of agenda items. */
  dragging: Signal<Id | null>;
  dropTarget: Signal<{ id: Id; where: 'before' | 'after' } | null>;
}

export function useChair(feed: MeetingFeed, meetingId: Id): ChairCtx {
  const signal = useUnmountSignal();
  const busy = useSignal<string | null>(null);
  const errors = useSignal<Record<string, string>>({});
  const dragging = useSignal<Id | null>(null);
  const dropTarget = useSignal<{ id: Id; where: 'before' | 'after' } | null>(null);
  return useMemo<ChairCtx>(() => {
    const setError = (where: string, message: string | null) => {
      const next = { ...errors.peek() };
      if (message) next[where] = message;
      else delete next[where];
      errors.value = next;
    };
    return {
      meetingId,
      feed,
      signal,
      busy,
      errors,
      dragging,
      dropTarget,
      run: async (where, key, action) => {
        if (busy.peek() !== null) return false;
        busy.value = key;
        setError(where, null);
        try {
          const message = await action();
          if (message) announce(message);
          return true;
        } catch (err) {
          if (!isAbort(err)) setError(where, errorMessage(err));
          return false;
        } finally {
          if (!signal.aborted) busy.value = null;
        }
      },
    };
  }, [feed, meetingId]);
}

/** An error of the console at `where`, as an alert (announced when it appears). */
export function ChairError({ ctx, where }: { ctx: ChairCtx; where: string }) {
  const message = ctx.errors.value[where];
  return h('p', { class: 'form-alert', role: 'alert', hidden: !message }, message ?? '');
}

/** A button of the console: aria-disabled (keeps the focus) while another action runs. */
function ActionButton({
  ctx,
  label,
  name,
  onClick,
  tone,
  disabled,
  action,
  itemId,
}: {
  ctx: ChairCtx;
  label: string;
  name?: string;
  onClick: () => void;
  tone?: 'primary' | 'danger' | 'small' | 'small danger';
  disabled?: boolean;
  action?: string;
  itemId?: Id;
}) {
  const off = disabled || ctx.busy.value !== null;
  return h(
    'button',
    {
      type: 'button',
      class: `button${tone ? ` ${tone}` : ''}`,
      'aria-label': name,
      'aria-disabled': off ? 'true' : undefined,
      'data-action': action,
      'data-item': itemId,
      onClick: () => {
        if (!off) onClick();
      },
    },
    label,
  );
}

/** Puts the focus back on an item's control once the agenda has been drawn again. */
function focusItemControl(itemId: Id, action: string): void {
  window.setTimeout(() => {
    const root = document.getElementById(`agenda-item-${itemId}`);
    if (!root) return;
    const wanted = root.querySelector<HTMLElement>(`[data-item="${itemId}"][data-action="${action}"]:not([aria-disabled="true"])`);
    const fallback =
      root.querySelector<HTMLElement>(`[data-item="${itemId}"][data-action]:not([aria-disabled="true"])`) ??
      root.querySelector<HTMLElement>('.agenda-item-head');
    (wanted ?? fallback)?.focus();
  }, 50);
}

// ---------------------------------------------------------------------------
// The agenda's order

type Move = 'up' | 'down' | 'indent' | 'outdent';

/** Where an item goes: its new parent and its 0-based place among its new siblings. */
export function planMove(items: AgendaItem[], item: AgendaItem, move: Move): { parentId: Id | null; position: number } | null {
  const siblings = items.filter((i) => (i.parent_id ?? null) === (item.parent_id ?? null));
  const index = siblings.findIndex((i) => i.id === item.id);
  switch (move) {
    case 'up':
      return index > 0 ? { parentId: item.parent_id ?? null, position: index - 1 } : null;
    case 'down':
      return index >= 0 && index < siblings.length - 1 ? { parentId: item.parent_id ?? null, position: index + 1 } : null;
    case 'indent': {
      if (index <= 0) return null;
      const previous = siblings[index - 1];
      return { parentId: previous.id, position: items.filter((i) => i.parent_id === previous.id).length };
    }
    case 'outdent': {
      if (item.parent_id == null) return null;
      const parent = items.find((i) => i.id === item.parent_id);
      if (!parent) return null;
      const aunts = items.filter((i) => (i.parent_id ?? null) === (parent.parent_id ?? null));
      return { parentId: parent.parent_id ?? null, position: aunts.findIndex((i) => i.id === parent.id) + 1 };
    }
  }
}

function isWithin(items: AgendaItem[], id: Id, ancestor: Id): boolean {
  let cur = items.find((i) => i.id === id);
  while (cur) {
    if (cur.id === ancestor) return true;
    cur = cur.parent_id != null ? items.find((i) => i.id === cur!.parent_id) : undefined;
  }
  return false;
}

async function moveTo(ctx: ChairCtx, item: AgendaItem, parentId: Id | null, position: number, focusAction: string | null) {
  const ok = await ctx.run(`item-${item.id}`, `move-${item.id}`, async () => {
    const agenda = await api.moveItem(ctx.meetingId, item.id, parentId, position, ctx.signal);
    ctx.feed.applyAgenda(agenda);
    const moved = agenda.items.find((i) => i.id === item.id);
    return moved ? `Item “${item.title}” is now item ${moved.number}.` : 'The agenda was reordered.';
  });
  if (ok && focusAction) focusItemControl(item.id, focusAction);
}

const MOVE_LABELS: Record<Move, string> = { up: 'Move up', down: 'Move down', indent: 'Indent', outdent: 'Outdent' };

/** Props that make an item's head draggable and a place to drop another item. */
export function dragProps(item: AgendaItem, items: AgendaItem[], ctx: ChairCtx) {
  const target = ctx.dropTarget.value;
  const where = target?.id === item.id ? target.where : null;
  return {
    draggable: true,
    class: `agenda-item-head draggable${where ? ` drop-${where}` : ''}`,
    onDragStart: (e: DragEvent) => {
      e.stopPropagation();
      ctx.dragging.value = item.id;
      e.dataTransfer?.setData('text/plain', String(item.id));
      if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
    },
    onDragEnd: () => {
      ctx.dragging.value = null;
      ctx.dropTarget.value = null;
    },
    onDragOver: (e: DragEvent) => {
      const dragged = ctx.dragging.peek();
      if (dragged === null || isWithin(items, item.id, dragged)) return;
      e.preventDefault();
      e.stopPropagation();
      const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
      const half: 'before' | 'after' = e.clientY < box.top + box.height / 2 ? 'before' : 'after';
      const now = ctx.dropTarget.peek();
      if (now?.id !== item.id || now.where !== half) ctx.dropTarget.value = { id: item.id, where: half };
    },
    onDragLeave: () => {
      if (ctx.dropTarget.peek()?.id === item.id) ctx.dropTarget.value = null;
    },
    onDrop: (e: DragEvent) => {
      e.preventDefault();
      e.stopPropagation();
      const dragged = ctx.dragging.peek();
      const place = ctx.dropTarget.peek();
      ctx.dragging.value = null;
      ctx.dropTarget.value = null;
      if (dragged === null || !place || isWithin(items, item.id, dragged)) return;
      const moving = items.find((i) => i.id === dragged);
      if (!moving) return;
      const siblings = items.filter((i) => (i.parent_id ?? null) === (item.parent_id ?? null) && i.id !== dragged);
      const index = siblings.findIndex((i) => i.id === item.id);
      void moveTo(ctx, moving, item.parent_id ?? null, place.where === 'before' ? index : index + 1, null);
    },
  };
}

/** The next pending item after the one on the floor (or the first pending one), in agenda order. */
export function nextPendingItem(items: AgendaItem[]): AgendaItem | null {
  const current = items.findIndex((i) => i.state === 'current');
  return items.slice(current + 1).find((i) => i.state === 'pending') ?? null;
}

// ---------------------------------------------------------------------------
// Per-item controls

async function makeCurrent(ctx: ChairCtx, item: AgendaItem | null, where: string) {
  await ctx.run(where, item ? `current-${item.id}` : 'current-none', async () => {
    const agenda = await api.setCurrentItem(ctx.meetingId, item ? item.id : null, ctx.signal);
    ctx.feed.applyAgenda(agenda);
    // The page's live region says what is on the floor now (for everyone alike).
  });
}

async function setItemState(ctx: ChairCtx, item: AgendaItem, state: 'done' | 'deferred' | 'pending') {
  await ctx.run(`item-${item.id}`, `state-${item.id}`, async () => {
    const updated = await api.updateItem(item.id, { state }, ctx.signal);
    ctx.feed.applyItem(updated);
    const words = { done: 'done', deferred: 'deferred', pending: 'pending again' }[state];
    return `Item ${item.number} is ${words}.`;
  });
}

/** The buttons of one agenda item: the floor, and the order. */
export function ItemControls({ item, items, ctx, inSession }: { item: AgendaItem; items: AgendaItem[]; ctx: ChairCtx; inSession: boolean }) {
  const of = `, item ${item.number}`;
  const moves = (['up', 'down', 'indent', 'outdent'] as Move[]).map((m) => {
    const plan = planMove(items, item, m);
    return h(ActionButton, {
      key: m,
      ctx,
      label: MOVE_LABELS[m],
      name: `${MOVE_LABELS[m]}${of}`,
      tone: 'small',
      action: m,
      itemId: item.id,
      disabled: plan === null,
      onClick: () => {
        if (plan) void moveTo(ctx, item, plan.parentId, plan.position, m);
      },
    });
  });
  return h(
    'div',
    { class: 'agenda-actions' },
    inSession
      ? h(
          'span',
          { class: 'button-group' },
          item.state !== 'current'
            ? h(ActionButton, {
                ctx,
                label: 'Make current',
                name: `Make current${of}`,
                tone: 'small',
                action: 'current',
                itemId: item.id,
                onClick: () => void makeCurrent(ctx, item, `item-${item.id}`),
              })
            : null,
          item.state !== 'done'
            ? h(ActionButton, { ctx, label: 'Done', name: `Done${of}`, tone: 'small', action: 'done', itemId: item.id, onClick: () => void setItemState(ctx, item, 'done') })
            : null,
          item.state !== 'deferred' && item.state !== 'done'
            ? h(ActionButton, { ctx, label: 'Defer', name: `Defer${of}`, tone: 'small', action: 'defer', itemId: item.id, onClick: () => void setItemState(ctx, item, 'deferred') })
            : null,
          item.state === 'deferred' || (item.state === 'done' && !inSession)
            ? h(ActionButton, { ctx, label: 'Back to pending', name: `Back to pending${of}`, tone: 'small', action: 'pending', itemId: item.id, onClick: () => void setItemState(ctx, item, 'pending') })
            : null,
        )
      : null,
    h('span', { class: 'button-group' }, moves),
    h(ChairError, { ctx, where: `item-${item.id}` }),
  );
}

/** An inline "are you sure?" that takes the focus, with the confirming and the backing-out buttons. */
function Confirm({
  question,
  yes,
  no,
  onYes,
  onNo,
  ctx,
}: {
  question: string;
  yes: string;
  no: string;
  onYes: () => void;
  onNo: () => void;
  ctx: ChairCtx;
}) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => ref.current?.focus(), []);
  const id = useMemo(() => `confirm-${Math.random().toString(36).slice(2)}`, []);
  return h(
    'div',
    { class: 'confirm', role: 'group', 'aria-labelledby': id },
    h('p', { id, class: 'confirm-question' }, question),
    h(
      'span',
      { class: 'button-group' },
      h('button', { ref, type: 'button', class: 'button danger', 'aria-disabled': ctx.busy.value !== null ? 'true' : undefined, onClick: () => ctx.busy.peek() === null && onYes() }, yes),
      h('button', { type: 'button', class: 'button', onClick: onNo }, no),
    ),
  );
}

function itemFields(form: FormState, item: AgendaItem | null, items: AgendaItem[]) {
  return [
    h(Field, { key: 'title', form, label: 'Title', name: 'title', required: true, autocomplete: 'off', maxLength: 300, value: item?.title }),
    item
      ? null
      : h(Field, {
          key: 'parent',
          form,
          label: 'Under',
          name: 'parent_id',
          value: '',
          hint: 'A sub-item is numbered under its parent (2.1, 2.2…).',
          options: [{ value: '', label: 'Top level' }, ...items.map((i) => ({ value: String(i.id), label: `${i.number}. ${i.title}` }))],
        }),
    h(Field, {
      key: 'purpose',
      form,
      label: 'Purpose',
      name: 'purpose',
      value: item?.purpose ?? 'for_discussion',
      options: PURPOSES.map((p) => ({ value: p, label: purposeLabel(p) })),
    }),
    h(Field, { key: 'presenter', form, label: 'Presented by', name: 'presenter', autocomplete: 'off', maxLength: 200, value: item?.presenter, hint: 'An organisation or a body, for example: the Chair, WGM.' }),
    h(Field, {
      key: 'duration',
      form,
      label: 'Duration in minutes',
      name: 'duration_minutes',
      type: 'number',
      value: item?.duration_minutes != null ? String(item.duration_minutes) : undefined,
    }),
    h(Checkbox, {
      key: 'closed',
      form,
      label: 'Closed session',
      name: 'closed_session',
      checked: item?.closed_session ?? false,
      hint: 'Observers and guests do not see a closed-session item at all.',
    }),
    h(Field, { key: 'description', form, label: 'Description', name: 'description', rows: 3, maxLength: 20000, value: item?.description, hint: 'Markdown.' }),
  ];
}

function readItem(form: FormState, values: FormValues): (NewAgendaItem & AgendaItemUpdate) | null {
  const title = values.get('title');
  if (!title) form.fieldError('title', 'Enter a title.');
  const duration = wholeNumber(form, values, 'duration_minutes', 1);
  if (!title || duration === null) {
    form.focusFirstError();
    return null;
  }
  return {
    title,
    purpose: values.get('purpose') as Purpose,
    presenter: values.get('presenter'),
    description: values.raw('description'),
    duration_minutes: duration ?? null,
    closed_session: values.checked('closed_session'),
  };
}

function EditItemForm({ item, items, ctx }: { item: AgendaItem; items: AgendaItem[]; ctx: ChairCtx }) {
  const form = useForm();
  const titleId = `edit-item-${item.id}-title`;
  return h(
    'div',
    { class: 'subsection' },
    h('h3', { id: titleId }, `Change item ${item.number}`),
    h(
      Form,
      {
        form,
        labelledBy: titleId,
        submitLabel: 'Save item',
        onSubmit: async (values) => {
          const patch = readItem(form, values);
          if (!patch) return;
          const updated = await api.updateItem(item.id, patch, ctx.signal);
          ctx.feed.applyItem(updated);
          announce(`Item ${updated.number} saved.`);
        },
      },
      itemFields(form, item, items),
    ),
  );
}

function DocumentsManager({ item, ctx }: { item: AgendaItem; ctx: ChairCtx }) {
  const form = useForm();
  const titleId = `docs-item-${item.id}-title`;
  const removeDoc = (id: Id, filename: string) =>
    void ctx.run(`item-${item.id}`, `doc-${id}`, async () => {
      await api.deleteDocument(id, ctx.signal);
      const agenda = ctx.feed.agenda.peek();
      const current = agenda?.items.find((i) => i.id === item.id);
      if (current) ctx.feed.applyItem({ ...current, documents: current.documents.filter((d) => d.id !== id) });
      return `${filename} deleted.`;
    });
  return h(
    'div',
    { class: 'subsection' },
    h('h3', { id: titleId }, `Documents of item ${item.number}`),
    item.documents.length
      ? h(
          'ul',
          { class: 'document-list' },
          item.documents.map((d) =>
            h(
              'li',
              { key: d.id },
              h('a', { href: documentHref(d.id), download: d.filename }, d.filename),
              h('span', { class: 'muted small' }, ` ${formatBytes(d.size)} `),
              h(ActionButton, { ctx, label: 'Delete', name: `Delete ${d.filename}`, tone: 'small danger', onClick: () => removeDoc(d.id, d.filename) }),
            ),
          ),
        )
      : null,
    h(
      Form,
      {
        form,
        labelledBy: titleId,
        submitLabel: 'Upload',
        onSubmit: async () => {
          const input = form.element?.querySelector<HTMLInputElement>('input[type="file"]');
          const file = input?.files?.[0];
          if (!file) {
            form.fieldError('file', 'Choose a file.');
            form.focusFirstError();
            return;
          }
          try {
            const doc = await uploadDocument(item.id, file, ctx.signal);
            const current = ctx.feed.agenda.peek()?.items.find((i) => i.id === item.id);
            if (current && !current.documents.some((d) => d.id === doc.id)) {
              ctx.feed.applyItem({ ...current, documents: [...current.documents, doc] });
            }
            form.reset();
            announce(`${doc.filename} uploaded to item ${item.number}.`);
          } catch (err) {
            if (err instanceof ApiError && [413, 415, 422].includes(err.status) && !err.fieldErrors.length) {
              const fallback =
                err.status === 413 ? 'The file is too large.' : err.status === 415 ? 'Files of this type are not accepted.' : 'The file was refused.';
              form.fieldError('file', err.problem.detail || fallback);
              form.formError('The file was not uploaded.');
              form.focusFirstError();
              return;
            }
            throw err;
          }
        },
      },
      h(Field, { form, label: 'File', name: 'file', type: 'file', required: true, aliases: ['filename', 'content_type', 'body'], hint: 'PDF, Office or OpenDocument files (docx, xlsx, pptx, odt, ods), PNG or JPEG images, or text (txt, md, csv).' }),
    ),
  );
}

function DraftsManager({ item, ctx }: { item: AgendaItem; ctx: ChairCtx }) {
  const form = useForm();
  const [drafts, setDrafts] = useState<DraftSummary[] | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    api.allDrafts(controller.signal).then(setDrafts, () => setDrafts([]));
    return () => controller.abort();
  }, []);
  const titleId = `drafts-item-${item.id}-title`;
  const linked = new Set(item.drafts.map((d) => d.id));
  const available = (drafts ?? []).filter((d) => !linked.has(d.id));
  const unlink = (id: Id, title: string) =>
    void ctx.run(`item-${item.id}`, `unlink-${id}`, async () => {
      await api.unlinkDraft(item.id, id, ctx.signal);
      const current = ctx.feed.agenda.peek()?.items.find((i) => i.id === item.id);
      if (current) ctx.feed.applyItem({ ...current, drafts: current.drafts.filter((d) => d.id !== id) });
      return `${title} is no longer linked to item ${item.number}.`;
    });
  return h(
    'div',
    { class: 'subsection' },
    h('h3', { id: titleId }, `Drafts of item ${item.number}`),
    item.drafts.length
      ? h(
          'ul',
          { class: 'document-list' },
          item.drafts.map((d) =>
            h('li', { key: d.id }, h('a', { href: `/drafts/${encodeURIComponent(String(d.id))}` }, d.title), ' ', h(ActionButton, { ctx, label: 'Unlink', name: `Unlink ${d.title}`, tone: 'small', onClick: () => unlink(d.id, d.title) })),
          ),
        )
      : null,
    drafts === null
      ? h('p', { class: 'muted' }, 'Loading drafts…')
      : available.length === 0
        ? h('p', { class: 'muted' }, 'No other draft to link.')
        : h(
            Form,
            {
              form,
              labelledBy: titleId,
              submitLabel: 'Link draft',
              onSubmit: async (values) => {
                const id = Number(values.get('draft_id'));
                const draft = available.find((d) => d.id === id);
                if (!draft) return;
                await api.linkDraft(item.id, id, ctx.signal);
                const current = ctx.feed.agenda.peek()?.items.find((i) => i.id === item.id);
                if (current) ctx.feed.applyItem({ ...current, drafts: [...current.drafts, { id: draft.id, title: draft.title, stage: draft.stage }] });
                announce(`${draft.title} linked to item ${item.number}.`);
              },
            },
            h(Field, { form, label: 'Draft', name: 'draft_id', options: available.map((d) => ({ value: String(d.id), label: d.title })) }),
          ),
  );
}

/** "Change item N": the item's details, documents, drafts, and its deletion (behind a disclosure). */
export function ItemManage({ item, items, ctx }: { item: AgendaItem; items: AgendaItem[]; ctx: ChairCtx }) {
  const [open, setOpen] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const deleteButton = useRef<HTMLButtonElement>(null);
  const remove = async () => {
    const ok = await ctx.run(`item-${item.id}`, `delete-${item.id}`, async () => {
      await api.deleteItem(item.id, ctx.signal);
      const agenda = ctx.feed.agenda.peek();
      if (agenda) ctx.feed.applyAgenda({ ...agenda, items: agenda.items.filter((i) => !isWithin(agenda.items, i.id, item.id)) });
      // The numbers after it change: take the agenda as the server has it.
      ctx.feed.applyAgenda(await api.agenda(ctx.meetingId, ctx.signal));
      return `Item “${item.title}” deleted.`;
    });
    if (ok) document.getElementById('agenda-title')?.focus();
    else setConfirming(false);
  };
  return h(
    'details',
    { class: 'item-manage', onToggle: (e: Event) => setOpen((e.currentTarget as HTMLDetailsElement).open) },
    h('summary', null, `Change item ${item.number}, its documents and drafts`),
    open
      ? [
          h(EditItemForm, { key: 'edit', item, items, ctx }),
          h(DocumentsManager, { key: 'docs', item, ctx }),
          h(DraftsManager, { key: 'drafts', item, ctx }),
          h(
            'div',
            { key: 'delete', class: 'subsection' },
            confirming
              ? h(Confirm, {
                  ctx,
                  question: `Delete item ${item.number}, “${item.title}”${items.some((i) => i.parent_id === item.id) ? ', with its sub-items' : ''}?`,
                  yes: 'Yes, delete it',
                  no: 'No, keep it',
                  onYes: () => void remove(),
                  onNo: () => {
                    setConfirming(false);
                    window.setTimeout(() => deleteButton.current?.focus(), 0);
                  },
                })
              : h('button', { ref: deleteButton, type: 'button', class: 'button small danger', onClick: () => setConfirming(true) }, `Delete item ${item.number}`),
          ),
        ]
      : null,
  );
}

// ---------------------------------------------------------------------------
// The console

type Transition = 'convene' | 'open' | 'close' | 'cancel';

const TRANSITIONS: Record<Transition, { label: string; done: string; confirm?: { question: string; yes: string; no: string } }> = {
  convene: { label: 'Convene meeting', done: 'The meeting is convened.' },
  open: { label: 'Open meeting', done: 'The meeting is open: it is in session.' },
  close: {
    label: 'Close meeting',
    done: 'The meeting is closed.',
    confirm: { question: 'Close the meeting? The session ends and the item on the floor is left as it is.', yes: 'Yes, close the meeting', no: 'No, keep it open' },
  },
  cancel: {
    label: 'Cancel meeting',
    done: 'The meeting is cancelled.',
    confirm: { question: 'Cancel the meeting? Everyone invited will see it as cancelled.', yes: 'Yes, cancel the meeting', no: 'No, keep it' },
  },
};

export function ChairConsole({ meeting, items, ctx }: { meeting: Meeting; items: AgendaItem[]; ctx: ChairCtx }) {
  const [confirming, setConfirming] = useState<Transition | null>(null);
  const transition = async (t: Transition) => {
    const ok = await ctx.run('console', t, async () => {
      const fn = { convene: api.convene, open: api.open, close: api.close, cancel: api.cancel }[t];
      ctx.feed.applyMeeting(await fn(ctx.meetingId, ctx.signal));
      return TRANSITIONS[t].done;
    });
    setConfirming(null);
    if (ok) document.getElementById('console-title')?.focus();
  };
  const possible: Transition[] =
    meeting.state === 'draft' ? ['convene', 'cancel'] : meeting.state === 'convened' ? ['open', 'cancel'] : meeting.state === 'in_session' ? ['close'] : [];
  const inSession = meeting.state === 'in_session';
  const next = nextPendingItem(items);
  const current = items.find((i) => i.state === 'current') ?? null;
  const adoptable = meeting.agenda_state === 'proposed' && meeting.state !== 'closed' && meeting.state !== 'cancelled';

  return h(
    'section',
    { class: 'panel chair-console', 'aria-labelledby': 'console-title' },
    h('h2', { id: 'console-title', tabIndex: -1 }, 'Chair’s console'),
    h(ChairError, { ctx, where: 'console' }),
    confirming
      ? h(Confirm, {
          ctx,
          ...TRANSITIONS[confirming].confirm!,
          onYes: () => void transition(confirming),
          onNo: () => {
            const which = confirming;
            setConfirming(null);
            window.setTimeout(() => document.querySelector<HTMLElement>(`[data-transition="${which}"]`)?.focus(), 0);
          },
        })
      : null,
    inSession
      ? h(
          'div',
          { class: 'console-row' },
          h(ActionButton, {
            ctx,
            label: 'Next item',
            name: next ? `Next item: ${next.number}. ${next.title}` : 'Next item (none pending)',
            tone: 'primary',
            disabled: next === null,
            onClick: () => void makeCurrent(ctx, next, 'console'),
          }),
          next ? h('span', { class: 'muted' }, `Next: ${next.number}. ${next.title}`) : h('span', { class: 'muted' }, 'No pending item left.'),
          current
            ? h(ActionButton, { ctx, label: 'Clear the floor', name: 'Clear the floor (no item current)', onClick: () => void makeCurrent(ctx, null, 'console') })
            : null,
        )
      : null,
    h(
      'div',
      { class: 'console-row' },
      possible.map((t) =>
        h(
          'button',
          {
            key: t,
            type: 'button',
            'data-transition': t,
            class: t === 'cancel' || t === 'close' ? 'button danger' : 'button primary',
            'aria-disabled': ctx.busy.value !== null ? 'true' : undefined,
            onClick: () => {
              if (ctx.busy.peek() !== null) return;
              if (TRANSITIONS[t].confirm) setConfirming(t);
              else void transition(t);
            },
          },
          TRANSITIONS[t].label,
        ),
      ),
      adoptable
        ? h(ActionButton, {
            ctx,
            label: 'Adopt agenda',
            onClick: () =>
              void ctx.run('console', 'adopt', async () => {
                ctx.feed.applyAgenda(await api.adoptAgenda(ctx.meetingId, ctx.signal));
                return 'The agenda is adopted. Changes from now on are listed as amendments.';
              }),
          })
        : null,
    ),
    meeting.state === 'closed' || meeting.state === 'cancelled'
      ? h('p', { class: 'muted' }, `The meeting is ${meeting.state}: its agenda can no longer be changed.`)
      : h('p', { class: 'muted small' }, 'Reorder the agenda by dragging an item by its title, or with the Move up, Move down, Indent and Outdent buttons of each item.'),
  );
}

// ---------------------------------------------------------------------------
// Forms of the console

export function AddItemForm({ items, ctx }: { items: AgendaItem[]; ctx: ChairCtx }) {
  const form = useForm();
  return h(
    Form,
    {
      form,
      labelledBy: 'add-item-title',
      submitLabel: 'Add item',
      onSubmit: async (values) => {
        const item = readItem(form, values);
        if (!item) return;
        const parent = values.get('parent_id');
        if (parent) item.parent_id = Number(parent);
        const created = await api.addItem(ctx.meetingId, item, ctx.signal);
        const agenda = ctx.feed.agenda.peek();
        if (agenda && !agenda.items.some((i) => i.id === created.id)) ctx.feed.applyAgenda({ ...agenda, items: [...agenda.items, created] });
        form.reset();
        announce(`Item ${created.number}, ${created.title}, added.`);
        form.element?.querySelector<HTMLElement>('[name="title"]')?.focus();
        // Keep the depth-first order the server keeps.
        try {
          ctx.feed.applyAgenda(await api.agenda(ctx.meetingId, ctx.signal));
        } catch {
          // The live feed brings it anyway.
        }
      },
    },
    itemFields(form, null, items),
  );
}

export function InviteGuestForm({ meeting, ctx }: { meeting: Meeting; ctx: ChairCtx }) {
  const form = useForm();
  const [orgs, setOrgs] = useState<Organisation[] | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    api.allOrganisations(controller.signal).then(setOrgs, () => setOrgs([]));
    return () => controller.abort();
  }, []);
  const invited = new Set(meeting.invitations.map((i) => i.organisation.id));
  const candidates = (orgs ?? []).filter((o) => !invited.has(o.id) && o.status === 'active' && o.kind !== 'secretariat');
  // Guest organisations first: they are who this is for.
  candidates.sort((a, b) => Number(b.kind === 'guest') - Number(a.kind === 'guest') || a.name.localeCompare(b.name));
  if (orgs === null) return h('p', { class: 'muted' }, 'Loading organisations…');
  if (!candidates.length) return h('p', { class: 'muted' }, 'Every organisation is invited already.');
  return h(
    Form,
    {
      form,
      labelledBy: 'invite-guest-title',
      submitLabel: 'Invite',
      onSubmit: async (values) => {
        const id = Number(values.get('organisation_id'));
        const org = candidates.find((o) => o.id === id);
        if (!org) return;
        await api.inviteGuest(ctx.meetingId, id, ctx.signal);
        ctx.feed.applyMeeting(await api.meeting(ctx.meetingId, ctx.signal));
        announce(`${org.name} is invited as a guest.`);
      },
    },
    h(Field, {
      form,
      label: 'Organisation',
      name: 'organisation_id',
      aliases: ['organisation'],
      options: candidates.map((o) => ({ value: String(o.id), label: `${o.name} (${o.short_code})${o.kind === 'guest' ? ' — guest' : ''}` })),
    }),
  );
}

export function UninviteButton({ meeting, organisation, ctx }: { meeting: Meeting; organisation: { id: Id; name: string }; ctx: ChairCtx }) {
  return h(ActionButton, {
    ctx,
    label: 'Withdraw',
    name: `Withdraw the invitation of ${organisation.name}`,
    tone: 'small danger',
    onClick: () =>
      void ctx.run('invitations', `uninvite-${organisation.id}`, async () => {
        await api.uninviteGuest(meeting.id, organisation.id, ctx.signal);
        ctx.feed.applyMeeting(await api.meeting(meeting.id, ctx.signal));
        return `The invitation of ${organisation.name} is withdrawn.`;
      }),
  });
}

export function EditMeetingForm({ meeting, ctx }: { meeting: Meeting; ctx: ChairCtx }) {
  const form = useForm();
  const tz = meeting.time_zone;
  return h(
    Form,
    {
      form,
      labelledBy: 'edit-meeting-title',
      submitLabel: 'Save changes',
      onSubmit: async (values) => {
        const patch: MeetingUpdate = {};
        const title = values.get('title');
        const zone = values.get('time_zone');
        if (!title) form.fieldError('title', 'Enter a title.');
        if (!zone || !isTimeZone(zone)) form.fieldError('time_zone', 'Enter a time zone, for example Europe/Brussels.');
        const starts = zonedToUtc(values.get('starts_at'), zone);
        const ends = zonedToUtc(values.get('ends_at'), zone);
        if (!starts) form.fieldError('starts_at', 'Enter when the meeting starts.');
        if (!ends) form.fieldError('ends_at', 'Enter when the meeting ends.');
        if (starts && ends && ends <= starts) form.fieldError('ends_at', 'The meeting must end after it starts.');
        if (Object.keys(form.errors.value).length) {
          form.focusFirstError();
          return;
        }
        patch.title = title;
        patch.venue = values.get('venue');
        patch.online_url = values.get('online_url') || null;
        patch.time_zone = zone;
        patch.starts_at = starts;
        patch.ends_at = ends;
        ctx.feed.applyMeeting(await api.updateMeeting(meeting.id, patch, ctx.signal));
        announce('The meeting details are saved.');
      },
    },
    h(Field, { form, label: 'Title', name: 'title', required: true, autocomplete: 'off', maxLength: 200, value: meeting.title }),
    h(Field, { form, label: 'Venue', name: 'venue', autocomplete: 'off', maxLength: 200, value: meeting.venue ?? '' }),
    h(Field, { form, label: 'Online meeting link', name: 'online_url', type: 'url', autocomplete: 'off', value: meeting.online_url ?? '' }),
    h(Field, { form, label: 'Time zone', name: 'time_zone', required: true, autocomplete: 'off', value: tz, hint: 'The times below are in this zone.' }),
    h(Field, { form, label: 'Starts', name: 'starts_at', type: 'datetime-local', required: true, value: utcToZonedInput(meeting.starts_at, tz) }),
    h(Field, { form, label: 'Ends', name: 'ends_at', type: 'datetime-local', required: true, value: utcToZonedInput(meeting.ends_at, tz) }),
  );
}

/** A short list of documents for reading (everyone). */
export function DocumentLinks({ item }: { item: AgendaItem }): ComponentChildren {
  if (!item.documents.length) return null;
  return h(
    'ul',
    { class: 'document-list', 'aria-label': `Documents of item ${item.number}` },
    item.documents.map((d) =>
      h(
        'li',
        { key: d.id },
        h('a', { href: documentHref(d.id), download: d.filename }, d.filename),
        h('span', { class: 'muted small' }, ` (${formatBytes(d.size)})`),
      ),
    ),
  );
}
