// The route table, and the component that shows the view of the current location.
import { h, type ComponentChildren, type FunctionComponent } from 'preact';
import { useErrorBoundary, useEffect, useLayoutEffect } from 'preact/hooks';
import type { User } from './api';
import { location, navigate, type Location } from './navigation';
import { currentUser, homeFor, userKnown } from './session';
import { Loading, PageHeading, errorMessage } from './ui/common';
import { LoginView } from './views/login';
import { InvitationView } from './views/invitation';
import { ResetPasswordView } from './views/reset-password';
import { AccountView } from './views/account';
import { OrganisationsView } from './views/organisations';
import { UsersView } from './views/users';
import { ForbiddenView, NotFoundView } from './views/errors';
import { DraftsView } from './views/drafts';
import { DraftRoomView } from './views/draft-room';
import { OurRecommendationsView, RecommendationsView } from './views/recommendations';
import { RecommendationView } from './views/recommendation';
import { StocktakingView } from './views/stocktaking';
import { ReviewVisitView, ReviewVisitsView } from './views/review-visits';
import { DecisionView, DecisionsView } from './views/decisions';
import { HomeView } from './views/home';
import { MeetingsView } from './views/meetings';
import { MeetingView } from './views/meeting';
import { BodiesView } from './views/bodies';
import { BodyView } from './views/body';

export interface ViewProps {
  params: URLSearchParams;
  /** Named groups of a pattern route (e.g. `id` of /drafts/{id}). */
  route: Record<string, string>;
}

interface Route {
  title: string;
  /** 'public' pages are for anyone; 'guest' pages redirect signed-in users home; 'user'/'admin' need sign-in. */
  access: 'public' | 'guest' | 'user' | 'admin';
  view: FunctionComponent<ViewProps>;
}

const routes: Record<string, Route> = {
  '/': { title: 'Today', access: 'user', view: HomeView },
  '/login': { title: 'Sign in', access: 'guest', view: LoginView },
  '/invitation': { title: 'Accept your invitation', access: 'public', view: InvitationView },
  '/reset-password': { title: 'Reset your password', access: 'public', view: ResetPasswordView },
  '/account': { title: 'My account', access: 'user', view: AccountView },
  '/bodies': { title: 'Bodies', access: 'user', view: BodiesView },
  '/meetings': { title: 'Meetings', access: 'user', view: MeetingsView },
  '/drafts': { title: 'Drafts', access: 'user', view: DraftsView },
  '/decisions': { title: 'Decisions', access: 'user', view: DecisionsView },
  '/recommendations': { title: 'Recommendations', access: 'user', view: RecommendationsView },
  '/stocktaking': { title: 'Stocktaking', access: 'user', view: StocktakingView },
  '/review-visits': { title: 'Review visits', access: 'user', view: ReviewVisitsView },
  '/admin/organisations': { title: 'Organisations', access: 'admin', view: OrganisationsView },
  '/admin/users': { title: 'Users', access: 'admin', view: UsersView },
};

/** Routes with a path parameter, tried after the exact routes. */
const patternRoutes: { pattern: RegExp; route: Route }[] = [
  { pattern: /^\/drafts\/(?<id>[^/]+)$/, route: { title: 'Drafting room', access: 'user', view: DraftRoomView } },
  { pattern: /^\/decisions\/(?<id>[^/]+)$/, route: { title: 'Decision', access: 'user', view: DecisionView } },
  { pattern: /^\/bodies\/(?<id>[^/]+)$/, route: { title: 'Body', access: 'user', view: BodyView } },
  { pattern: /^\/meetings\/(?<id>[^/]+)$/, route: { title: 'Meeting', access: 'user', view: MeetingView } },
  { pattern: /^\/recommendations\/(?<id>[^/]+)$/, route: { title: 'Recommendation', access: 'user', view: RecommendationView } },
  { pattern: /^\/review-visits\/(?<id>[^/]+)$/, route: { title: 'Review visit', access: 'user', view: ReviewVisitView } },
  { pattern: /^\/participants\/(?<id>[^/]+)\/recommendations$/, route: { title: 'Our recommendations', access: 'user', view: OurRecommendationsView } },
];

const notFound: Route = { title: 'Page not found', access: 'public', view: NotFoundView };
const forbidden: Route = { title: 'Not allowed', access: 'user', view: ForbiddenView };

function matchRoute(path: string): { route: Route; groups: Record<string, string> } {
  const exact = routes[path];
  if (exact) return { route: exact, groups: {} };
  for (const { pattern, route } of patternRoutes) {
    const m = pattern.exec(path);
    if (m) {
      const groups: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) {
        try {
          groups[k] = decodeURIComponent(v);
        } catch {
          groups[k] = v;
        }
      }
      return { route, groups };
    }
  }
  return { route: notFound, groups: {} };
}

type Decision = { kind: 'redirect'; to: string } | { kind: 'show'; route: Route; groups: Record<string, string> };

/** What the current location shows to this user, or where it sends them. */
function decide(loc: Location, user: User | null): Decision {
  // Home is "Today"; signed out, straight to sign-in (no ?next= for the front door).
  if (loc.path === '/' && !user) return { kind: 'redirect', to: '/login' };
  const { route, groups } = matchRoute(loc.path);
  if ((route.access === 'user' || route.access === 'admin') && !user) {
    return { kind: 'redirect', to: `/login?next=${encodeURIComponent(loc.path + loc.search)}` };
  }
  // Signed-in users have nothing to do on the sign-in page; invitation and
  // password-reset pages stay reachable (a link may be for another account).
  if (route.access === 'guest' && user) return { kind: 'redirect', to: homeFor(user) };
  if (route.access === 'admin' && user && !user.is_admin) return { kind: 'show', route: forbidden, groups };
  return { kind: 'show', route, groups };
}

/** Shows what a view throws while rendering instead of a blank page. */
function ErrorBoundary({ children }: { children?: ComponentChildren }) {
  const [error] = useErrorBoundary();
  if (error) {
    return h(
      'div',
      { class: 'panel panel-error', role: 'alert' },
      h(PageHeading, null, 'Something went wrong'),
      h('p', null, errorMessage(error)),
    );
  }
  return children;
}

/** The view of the current location (inside `<main>`). */
export function Routed() {
  const loc = location.value;
  const user = currentUser.value;
  const known = userKnown.value;
  const decision: Decision | null = known ? decide(loc, user) : null;
  const redirectTo = decision?.kind === 'redirect' ? decision.to : null;
  const title = decision?.kind === 'show' ? decision.route.title : null;
  const key = loc.path + loc.search;

  useLayoutEffect(() => {
    if (redirectTo) navigate(redirectTo, { replace: true });
  }, [redirectTo]);
  useEffect(() => {
    if (title) document.title = `${title} · Plenum`;
  }, [title, key]);

  if (!decision) return h(Loading, null, 'Loading…');
  if (decision.kind === 'redirect') return null;
  const params = new URLSearchParams(loc.search);
  return h(ErrorBoundary, { key }, h(decision.route.view, { params, route: decision.groups }));
}

