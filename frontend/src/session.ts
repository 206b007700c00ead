// Who is signed in: the one piece of state every view shares.
import { signal } from '@preact/signals';
import { api, ApiError, type User } from './api';
import { navigate } from './navigation';
import { announce } from './status';

/** The signed-in user, or null. */
export const currentUser = signal<User | null>(null);
/** True once /api/me has answered at least once. */
export const userKnown = signal(false);

export function setUser(user: User | null): void {
  currentUser.value = user;
  userKnown.value = true;
}

/** Ask the server who is signed in (a 401 means nobody). */
export async function refreshUser(signal?: AbortSignal): Promise<User | null> {
  try {
    setUser(await api.me(signal));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) setUser(null);
    else throw err;
  }
  return currentUser.value;
}

/** Where a user lands after signing in or on `/`. */
export function homeFor(_user: User): string {
  return '/';
}

/** Sign out here (whatever the server says, the UI forgets the user) and go to sign-in. */
export async function signOut(): Promise<void> {
  try {
    await api.logout();
  } catch {
    // The session may already be gone.
  }
  setUser(null);
  navigate('/login', { replace: true });
  announce('You have signed out.');
}
