import './style.css';
import { h, render } from 'preact';
import { onUnauthorised } from './api';
import { installLinkInterception, navigate } from './navigation';
import { currentUser, refreshUser, setUser } from './session';
import { App } from './shell';
import { announce } from './status';

// When the session disappears (expired, revoked elsewhere), go back to sign-in.
onUnauthorised(() => {
  if (!currentUser.value) return;
  setUser(null);
  const next = window.location.pathname + window.location.search;
  navigate(`/login?next=${encodeURIComponent(next)}`, { replace: true });
  announce('Your session has ended. Please sign in again.');
});

installLinkInterception();
refreshUser().catch(() => setUser(null));
render(h(App, null), document.getElementById('app') as HTMLElement);
