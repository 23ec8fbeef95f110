// Another node holds the meeting (docs/operating.md, "Many machines"): the page moves
// there and joins again, or, when the node that held it is gone, goes back to the
// node of the link, which knows the new one. What the join needs travels in the new
// address's fragment, which the browser never sends to a server, and is taken out of
// the address bar as soon as the page reads it (meeting.js, readFragment).

const ENTRY_KEY = 'meetwarden.entry';

/** The origin of the link this tab came in through, if the page moved since. */
export function entryOrigin(meetingId) {
  return sessionStorage.getItem(`${ENTRY_KEY}.${meetingId}`);
}

/** What a move carried to this page: { join, resumeToken } or null. */
export function takeMove(params, meetingId) {
  if (params.get('entry')) sessionStorage.setItem(`${ENTRY_KEY}.${meetingId}`, params.get('entry'));
  const join = params.get('join');
  if (!join) return null;
  try {
    return { join: JSON.parse(join), resumeToken: params.get('resume') || null };
  } catch {
    return null;
  }
}

/** Loads the meeting page of `server` (an http(s) base URL), joining there as `join`. */
export function moveTo(server, meetingId, { join, resumeToken, hostToken, invite }) {
  let target;
  try {
    target = new URL(`/m/${encodeURIComponent(meetingId)}`, server);
  } catch {
    return false;
  }
  if (!['http:', 'https:'].includes(target.protocol)) return false;
  const params = new URLSearchParams();
  params.set('entry', entryOrigin(meetingId) ?? location.origin);
  if (hostToken) params.set('host', hostToken);
  if (invite) params.set('invite', invite);
  if (join) params.set('join', JSON.stringify(join));
  if (resumeToken) params.set('resume', resumeToken);
  target.hash = params.toString();
  location.replace(target.toString());
  return true;
}
