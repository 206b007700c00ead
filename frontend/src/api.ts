// Plenum HTTP API client. Every screen talks to the server through this module.
// Same-origin JSON over fetch, cookie authentication (HttpOnly session cookie).
// Errors are RFC 9457 problem details: they are thrown as ApiError.

export type OrganisationKind = 'participant' | 'observer' | 'guest' | 'secretariat';
export type OrganisationStatus = 'active' | 'suspended' | 'withdrawn';

export const ORGANISATION_KINDS: readonly OrganisationKind[] = ['participant', 'observer', 'guest', 'secretariat'];
export const ORGANISATION_STATUSES: readonly OrganisationStatus[] = ['active', 'suspended', 'withdrawn'];

/** Database ids are 64-bit integers on the server (JSON numbers). */
export type Id = number;

export interface OrganisationRef {
  id: Id;
  name: string;
  short_code: string;
  kind: OrganisationKind;
  status: OrganisationStatus;
}

export interface Organisation extends OrganisationRef {
  admitted_on: string | null;
  countries: string[];
  created_at: string;
  updated_at: string;
}

export interface User {
  id: Id;
  email: string;
  display_name: string;
  is_admin: boolean;
  disabled: boolean;
  pending: boolean;
  created_at: string;
  organisation: OrganisationRef;
}

export interface Session {
  id: Id;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  user_agent: string | null;
  client_ip: string | null;
  current: boolean;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface AuthResult {
  token: string;
  user: User;
}

export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: FieldError[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly retryAfter: number | null;

  constructor(status: number, problem: Problem, retryAfter: number | null = null) {
    super(problem.detail || problem.title || `Request failed (HTTP ${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  get code(): string | undefined {
    return this.problem.code;
  }

  get fieldErrors(): FieldError[] {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

/** Listeners told when any request answers 401 (the session is gone). */
const unauthorisedListeners = new Set<() => void>();
export function onUnauthorised(listener: () => void): () => void {
  unauthorisedListeners.add(listener);
  return () => unauthorisedListeners.delete(listener);
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | null | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  /** Do not notify the unauthorised listeners on 401 (e.g. the login call itself). */
  quiet401?: boolean;
}

function buildUrl(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export async function request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, {
      title: 'Network error',
      detail: 'The server could not be reached. Check your connection and try again.',
      code: 'network_error',
    });
  }

  if (response.status === 204 || response.status === 205) return undefined as T;

  const text = await response.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }

  if (!response.ok) {
    const problem: Problem =
      data && typeof data === 'object'
        ? (data as Problem)
        : { title: response.statusText || 'Error', status: response.status, detail: text || undefined };
    const ra = response.headers.get('Retry-After');
    const retryAfter = ra !== null && /^\d+$/.test(ra.trim()) ? Number(ra.trim()) : null;
    const error = new ApiError(response.status, problem, retryAfter);
    if (response.status === 401 && !options.quiet401) {
      for (const l of unauthorisedListeners) l();
    }
    throw error;
  }
  return data as T;
}

/** Follow next_cursor until the end (bounded) and return every item. */
export async function listAll<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  maxPages = 50,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await fetchPage(cursor);
    all.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return all;
}

export interface NewOrganisation {
  kind: OrganisationKind;
  name: string;
  short_code: string;
  admitted_on?: string;
  countries?: string[];
}

export interface OrganisationPatch {
  name?: string;
  status?: OrganisationStatus;
  admitted_on?: string | null;
  countries?: string[];
}

export interface UserPatch {
  display_name?: string;
  disabled?: boolean;
  is_admin?: boolean;
}

export interface NewInvitation {
  email: string;
  name: string;
  organisation_id: Id;
}

export type DraftState = 'drafting' | 'locked';
export const DRAFT_STATES: readonly DraftState[] = ['drafting', 'locked'];

export interface DraftSummary {
  id: Id;
  title: string;
  reference: string | null;
  state: DraftState;
  created_at: string;
  updated_at: string;
}

/** Someone with the drafting room open (one entry per person, `connections` tabs/devices). */
export interface DraftParticipant {
  user_id: Id;
  name: string;
  organisation: string;
  connections: number;
}

export interface Draft extends DraftSummary {
  /** The current plain text. */
  text: string;
  connected: DraftParticipant[];
  /** May the caller edit right now (participant delegate, active organisation, draft not locked). */
  can_edit: boolean;
}

export interface NewDraft {
  title: string;
  reference?: string;
}

export interface DraftPatch {
  title?: string;
  state?: DraftState;
}

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

export const api = {
  // --- authentication ---
  login: (email: string, password: string) =>
    request<AuthResult>('POST', '/api/auth/login', { body: { email, password }, quiet401: true }),
  logout: () => request<void>('POST', '/api/auth/logout', { quiet401: true }),
  requestPasswordReset: (email: string) => request<unknown>('POST', '/api/auth/password-reset', { body: { email } }),
  confirmPasswordReset: (token: string, password: string) =>
    request<AuthResult>('POST', '/api/auth/password-reset/confirm', { body: { token, password } }),

  // --- me ---
  me: () => request<User>('GET', '/api/me', { quiet401: true }),
  sessions: (page: PageQuery = {}) => request<Page<Session>>('GET', '/api/me/sessions', { query: { ...page } }),
  revokeSession: (id: Id) => request<void>('DELETE', `/api/me/sessions/${encodeURIComponent(String(id))}`),
  revokeAllSessions: () => request<void>('DELETE', '/api/me/sessions'),

  // --- invitations ---
  invite: (invitation: NewInvitation) =>
    request<{ user: User; expires_at: string }>('POST', '/api/invitations', { body: invitation }),
  acceptInvitation: (token: string, password: string) =>
    request<AuthResult>('POST', '/api/invitations/accept', { body: { token, password } }),

  // --- organisations ---
  organisations: (page: PageQuery = {}) =>
    request<Page<Organisation>>('GET', '/api/organisations', { query: { ...page } }),
  allOrganisations: () => listAll<Organisation>((cursor) => api.organisations({ limit: 100, cursor })),
  organisation: (id: Id) => request<Organisation>('GET', `/api/organisations/${encodeURIComponent(String(id))}`),
  createOrganisation: (org: NewOrganisation) => request<Organisation>('POST', '/api/organisations', { body: org }),
  updateOrganisation: (id: Id, patch: OrganisationPatch) =>
    request<Organisation>('PATCH', `/api/organisations/${encodeURIComponent(String(id))}`, { body: patch }),

  // --- users ---
  users: (query: PageQuery & { organisation_id?: Id } = {}) =>
    request<Page<User>>('GET', '/api/users', { query: { ...query } }),
  allUsers: (organisationId?: Id) =>
    listAll<User>((cursor) => api.users({ limit: 100, cursor, organisation_id: organisationId })),
  user: (id: Id) => request<User>('GET', `/api/users/${encodeURIComponent(String(id))}`),
  updateUser: (id: Id, patch: UserPatch) =>
    request<User>('PATCH', `/api/users/${encodeURIComponent(String(id))}`, { body: patch }),

  // --- drafts ---
  drafts: (page: PageQuery = {}) => request<Page<DraftSummary>>('GET', '/api/drafts', { query: { ...page } }),
  allDrafts: () => listAll<DraftSummary>((cursor) => api.drafts({ limit: 100, cursor })),
  draft: (id: Id | string, signal?: AbortSignal) =>
    request<Draft>('GET', `/api/drafts/${encodeURIComponent(String(id))}`, { signal }),
  createDraft: (draft: NewDraft) => request<Draft>('POST', '/api/drafts', { body: draft }),
  updateDraft: (id: Id, patch: DraftPatch) =>
    request<Draft>('PATCH', `/api/drafts/${encodeURIComponent(String(id))}`, { body: patch }),
};

/** The y-websocket server URL of a draft's room; the provider appends `/<room>` (we use room `ws`). */
export function draftSocketBase(id: Id | string): string {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.host}/api/drafts/${encodeURIComponent(String(id))}`;
}
