import './style.css';
import { onUnauthorised } from './api';
import { app, installLinkInterception, navigate } from './app';
import { announce } from './dom';
import { startRouter } from './router';

// When the session disappears (expired, revoked elsewhere), go back to sign-in.
onUnauthorised(() => {
  if (!app.user) return;
  app.setUser(null);
  const next = window.location.pathname + window.location.search;
  navigate(`/login?next=${encodeURIComponent(next)}`, { replace: true });
  announce('Your session has ended. Please sign in again.');
});

installLinkInterception();
startRouter();
