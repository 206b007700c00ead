// Small DOM helpers: element creation, accessible form fields, problem display.
import { ApiError } from './api';

export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown>;

/** Create an element. `on*` keys become event listeners; boolean attributes are set or omitted. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
      } else if (key === 'value' && 'value' in el) {
        (el as HTMLInputElement).value = String(value);
      } else if (value === true) {
        el.setAttribute(key, '');
      } else {
        el.setAttribute(key, String(value));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

let idCounter = 0;
export function uid(prefix = 'f'): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** Announce a message in the global polite live region. */
export function announce(message: string): void {
  const region = document.getElementById('status');
  if (!region) return;
  region.textContent = '';
  // Let assistive technology notice the change even when the text repeats.
  window.setTimeout(() => {
    region.textContent = message;
  }, 50);
}

// ---------------------------------------------------------------------------
// Forms

export interface FieldOptions {
  label: string;
  name: string;
  type?: string;
  autocomplete?: string;
  required?: boolean;
  hint?: string;
  value?: string;
  minlength?: number;
  maxlength?: number;
  placeholder?: string;
  inputmode?: string;
  /** For selects */
  options?: { value: string; label: string }[];
}

export interface Field {
  label: string;
  wrapper: HTMLDivElement;
  control: HTMLInputElement | HTMLSelectElement;
  error: HTMLParagraphElement;
  name: string;
}

export function field(opts: FieldOptions): Field {
  const id = uid(opts.name);
  const hintId = opts.hint ? `${id}-hint` : undefined;
  const errorId = `${id}-error`;
  let control: HTMLInputElement | HTMLSelectElement;
  if (opts.options) {
    control = h(
      'select',
      { id, name: opts.name, required: opts.required, autocomplete: opts.autocomplete },
      opts.options.map((o) => h('option', { value: o.value }, o.label)),
    );
    if (opts.value !== undefined) control.value = opts.value;
  } else {
    control = h('input', {
      id,
      name: opts.name,
      type: opts.type ?? 'text',
      autocomplete: opts.autocomplete,
      required: opts.required,
      minlength: opts.minlength,
      maxlength: opts.maxlength,
      placeholder: opts.placeholder,
      inputmode: opts.inputmode,
      value: opts.value,
    });
  }
  control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
  const error = h('p', { class: 'field-error', id: errorId, hidden: true });
  const wrapper = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, opts.label, opts.required ? null : h('span', { class: 'optional' }, ' (optional)')),
    opts.hint ? h('p', { class: 'field-hint', id: hintId }, opts.hint) : null,
    control,
    error,
  );
  return { label: opts.label, wrapper, control, error, name: opts.name };
}

/** A form with named fields, a form-level alert and API-problem display. */
export class FormController {
  readonly form: HTMLFormElement;
  readonly alert: HTMLDivElement;
  private readonly fields = new Map<string, Field>();
  private submitButton: HTMLButtonElement | null = null;

  constructor(attrs: Attrs = {}) {
    this.alert = h('div', { class: 'form-alert', role: 'alert', hidden: true });
    this.form = h('form', { novalidate: true, ...attrs }, this.alert);
  }

  add(...fields: Field[]): this {
    for (const f of fields) {
      this.fields.set(f.name, f);
      this.form.appendChild(f.wrapper);
    }
    return this;
  }

  addNode(node: Node): this {
    this.form.appendChild(node);
    return this;
  }

  submit(label: string): this {
    this.submitButton = h('button', { type: 'submit', class: 'button primary' }, label);
    this.form.appendChild(h('div', { class: 'form-actions' }, this.submitButton));
    return this;
  }

  get(name: string): Field {
    const f = this.fields.get(name);
    if (!f) throw new Error(`no field ${name}`);
    return f;
  }

  value(name: string): string {
    return this.get(name).control.value.trim();
  }

  rawValue(name: string): string {
    return this.get(name).control.value;
  }

  clearErrors(): void {
    this.alert.hidden = true;
    this.alert.textContent = '';
    for (const f of this.fields.values()) {
      f.error.hidden = true;
      f.error.textContent = '';
      f.control.removeAttribute('aria-invalid');
    }
  }

  fieldError(name: string, message: string): void {
    const f = this.fields.get(name);
    if (!f) return;
    f.error.textContent = message;
    f.error.hidden = false;
    f.control.setAttribute('aria-invalid', 'true');
  }

  formError(message: string): void {
    this.alert.textContent = message;
    this.alert.hidden = false;
  }

  /** Show an error thrown by the API: detail at the top, per-field messages next to inputs. */
  showError(err: unknown, fallback = 'Something went wrong. Please try again.'): void {
    if (err instanceof ApiError) {
      const unmatched: string[] = [];
      for (const fe of err.fieldErrors) {
        const f = this.fields.get(fe.field);
        // The API's messages are fragments ("is required"): lead with the field's label.
        if (f) this.fieldError(fe.field, /^[a-z]/.test(fe.message) ? `${f.label} ${fe.message}.`.replace(/\.\.$/, '.') : fe.message);
        else unmatched.push(fe.field ? `${fe.field}: ${fe.message}` : fe.message);
      }
      const allShown = err.fieldErrors.length > 0 && unmatched.length === 0;
      let message = allShown
        ? 'Please correct the fields marked below.'
        : err.problem.detail || err.problem.title || fallback;
      if (!allShown && !err.problem.detail && unmatched.length) message += ` ${unmatched.join('; ')}`;
      if (err.status === 429 && err.retryAfter !== null) {
        message += ` Please wait ${formatSeconds(err.retryAfter)} before trying again.`;
      }
      this.formError(message);
    } else {
      this.formError(err instanceof Error && err.message ? err.message : fallback);
    }
    this.focusFirstError();
  }

  /** Focus the first invalid field, or the alert. */
  focusFirstError(): void {
    for (const f of this.fields.values()) {
      if (f.control.getAttribute('aria-invalid') === 'true') {
        f.control.focus();
        return;
      }
    }
    if (!this.alert.hidden) {
      this.alert.tabIndex = -1;
      this.alert.focus();
    }
  }

  busy(isBusy: boolean): void {
    if (this.submitButton) {
      this.submitButton.disabled = isBusy;
      this.submitButton.setAttribute('aria-busy', String(isBusy));
    }
    this.form.setAttribute('aria-busy', String(isBusy));
  }

  /** Wire a submit handler with busy state and error display. */
  onSubmit(handler: () => Promise<void>): this {
    this.form.addEventListener('submit', async (event) => {
      event.preventDefault();
      this.clearErrors();
      this.busy(true);
      try {
        await handler();
      } catch (err) {
        this.showError(err);
      } finally {
        if (this.form.isConnected) this.busy(false);
      }
    });
    return this;
  }
}

/** Client-side check of a new password + confirmation. Returns true when valid. */
/** The "new password" and "confirm password" fields, named `password` and `password_confirmation`. */
export function newPasswordFields(hint: string): Field[] {
  return [
    field({ label: 'New password', name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 12, hint }),
    field({ label: 'Confirm password', name: 'password_confirmation', type: 'password', autocomplete: 'new-password', required: true }),
  ];
}

export function checkNewPassword(form: FormController, passwordField: string, confirmField: string): boolean {
  const password = form.rawValue(passwordField);
  const confirm = form.rawValue(confirmField);
  let ok = true;
  if ([...password].length < 12) {
    form.fieldError(passwordField, 'Use at least 12 characters.');
    ok = false;
  }
  if (password !== confirm) {
    form.fieldError(confirmField, 'The two passwords do not match.');
    ok = false;
  }
  if (!ok) form.focusFirstError();
  return ok;
}

// ---------------------------------------------------------------------------
// Formatting

const dateTimeFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });

/** Parse a server timestamp; one without an offset (e.g. `2026-11-28T05:13:47.123`) is UTC. */
export function parseTimestamp(iso: string): Date {
  // Keep milliseconds only: some engines reject nanosecond fractions.
  const trimmed = iso.replace(/(\.\d{3})\d+/, '$1');
  const hasZone = /([zZ]|[+-]\d{2}:?\d{2})$/.test(trimmed);
  return new Date(hasZone || !trimmed.includes('T') ? trimmed : `${trimmed}Z`);
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = parseTimestamp(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTimeFormat.format(d);
}

export function formatDate(isoDate: string | null | undefined): string {
  if (!isoDate) return '—';
  const d = new Date(`${isoDate.slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? isoDate : dateFormat.format(d);
}

export function timeElement(iso: string | null | undefined, dateOnly = false): HTMLElement | string {
  if (!iso) return '—';
  return h('time', { datetime: iso }, dateOnly ? formatDate(iso) : formatDateTime(iso));
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

export function capitalise(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

/** A status badge with a text label (colour is never the only cue). */
export function badge(text: string, tone: 'neutral' | 'good' | 'warn' | 'bad' = 'neutral'): HTMLSpanElement {
  return h('span', { class: `badge badge-${tone}` }, text);
}

/** A message block for loading and error states inside a view. */
export function errorPanel(err: unknown): HTMLElement {
  const message =
    err instanceof ApiError
      ? err.problem.detail || err.problem.title || `HTTP ${err.status}`
      : err instanceof Error
        ? err.message
        : 'Something went wrong.';
  return h('div', { class: 'panel panel-error', role: 'alert' }, h('p', null, message));
}
