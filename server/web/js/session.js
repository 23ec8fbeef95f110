// The signed-in host: who, the CSRF token their requests carry, signing out.
//
// The session itself is an HttpOnly cookie that no script can read; what a
// page needs is the session's CSRF token, which the server gives only to this
// origin's pages (GET /api/session) and checks, with the Origin header, on
// every request that changes something.

import { language, t } from './i18n.js';

const CSRF_HEADER = 'X-CSRF-Token';

/** The session ({username, csrf_token, expires_at}), or null when not signed in. */
export async function currentSession() {
  const response = await fetch('/api/session', { cache: 'no-store' });
  if (response.status === 401) return null;
  if (!response.ok) throw new Error(t('the server answered {status}', { status: response.status }));
  return response.json();
}

/** Headers for a request that changes something, as the signed-in host. */
export function csrfHeaders(session, headers = {}) {
  return { ...headers, [CSRF_HEADER]: session?.csrf_token ?? '', 'Accept-Language': language };
}

/** Ends the session on the server, then shows the sign-in page. */
export async function signOut(session) {
  await fetch('/api/session', { method: 'DELETE', headers: csrfHeaders(session) });
  location.assign('/sign-in');
}

/** The server's sentence from a problem+json answer. */
export async function problemOf(response) {
  const problem = await response.json().catch(() => ({}));
  return {
    reason: problem.reason ?? '',
    field: problem.field ?? '',
    detail: problem.detail ?? t('The server answered {status}.', { status: response.status }),
  };
}
