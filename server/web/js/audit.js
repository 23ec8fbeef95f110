// The audit log for the host: every decision with its sentence, reason code and
// rule, filtered on the server (person, action, allowed, reason) and by text here,
// and downloadable as the JSON Lines that `meetwarden policy simulate` replays.
// It needs the host token (REST, Authorization: Bearer); co-hosts have none.

import { byId, download, formatTime, h } from './dom.js';
import { languageHeaders, t } from './i18n.js';

// One vocabulary for the Action column and its filter: each row is something asked of
// the meeting (by a person, a timer or the camera check), said as that request, and the
// Decision column says whether it was allowed, why, and by which rule. (Functions, so
// that each sentence is a t('...') call that reads the catalog in force.)
const ACTIONS = {
  join_requested: () => t('Join'),
  left: () => t('Leave'),
  disconnected: () => t('Lose the connection'),
  resumed: () => t('Resume after a dropped connection'),
  reconnect_expired: () => t('Give up a dropped connection'),
  admit: () => t('Admit'),
  admit_all: () => t('Admit everyone'),
  deny: () => t('Deny entry'),
  remove: () => t('Remove'),
  ban: () => t('Ban'),
  lock: () => t('Lock or unlock'),
  set_role: () => t('Change a role'),
  end_meeting: () => t('End the meeting'),
  policy_update: () => t('Change the policy'),
  rename: () => t('Rename'),
  hand_raised: () => t('Raise a hand'),
  hand_lowered: () => t('Lower a hand'),
  unmute_requested: () => t('Unmute'),
  self_muted: () => t('Mute oneself'),
  mute: () => t('Mute'),
  mute_all: () => t('Mute everyone'),
  ask_to_unmute: () => t('Let speak'),
  publish_requested: () => t('Send audio or video'),
  publish_stopped: () => t('Stop sending'),
  share_requested: () => t('Ask to share'),
  share_confirmed: () => t('Share the previewed screen'),
  grant: () => t('Allow sharing'),
  revoke: () => t('Revoke sharing'),
  grant_expired: () => t('End a permission that ran out'),
  file_upload_requested: () => t('Upload a file'),
  file_offered: () => t('Share a file'),
  file_download_requested: () => t('Download a file'),
  chat: () => t('Send a chat message'),
  camera_frames: () => t('Report camera video'),
  camera_lost: () => t('Report a lost camera'),
  camera_restored: () => t('Report a camera back'),
  camera_check_due: () => t('Check the camera'),
  camera_grace_expired: () => t('End the camera grace time'),
};
const SOURCES = {
  microphone: () => t('Send the microphone'),
  camera: () => t('Send the camera'),
  screen: () => t('Send a screen'),
  screen_audio: () => t("Send a screen's audio"),
};
const STOPS = {
  microphone: () => t('Stop the microphone'),
  camera: () => t('Stop the camera'),
  screen: () => t('Stop a screen'),
  screen_audio: () => t("Stop a screen's audio"),
};
// Who acted when it was not a person.
const ACTORS = {
  owner: () => t('Host (over the API)'),
  timer: () => t('Timer'),
  media: () => t('Camera check'),
};

function actionName(type) {
  return ACTIONS[type]?.() ?? type;
}

/** What this row asked, a little more precisely than its type where the event says
 * (nameOf: a participant id's name, if known). */
function actionOf(event, nameOf = () => undefined) {
  if (event.type === 'lock') return event.locked === false ? t('Unlock') : t('Lock');
  if (event.type === 'chat' && event.to) {
    const name = nameOf(event.to);
    return name ? t('Send a private message to {name}', { name }) : t('Send a private message');
  }
  if (event.type === 'publish_requested' && SOURCES[event.source]) return SOURCES[event.source]();
  if (event.type === 'publish_stopped' && STOPS[event.source]) return STOPS[event.source]();
  return actionName(event.type);
}

/** Codes and pointers break at their separators, never inside a word. */
function breakable(text) {
  return String(text).split(/(?<=[/_.])/u).flatMap((part, index) => (index ? [h('wbr'), part] : [part]));
}

export class AuditLog {
  constructor(app) {
    this.app = app;
    this.entries = [];
    this.loading = null;
    this.eventTypes = new Set();
    this.reasons = new Set();
    byId('audit-filters').addEventListener('submit', (event) => {
      event.preventDefault();
      this.load();
    });
    byId('audit-text').addEventListener('input', () => this.render());
    byId('audit-download').addEventListener('click', () => this.download());
  }

  get available() {
    return Boolean(this.app.hostToken);
  }

  query() {
    const params = new URLSearchParams();
    const participant = byId('audit-participant').value;
    const eventType = byId('audit-event').value;
    const allowed = byId('audit-decision').value;
    const reason = byId('audit-reason').value.trim();
    if (participant) params.set('participant', participant);
    if (eventType) params.set('event_type', eventType);
    if (allowed) params.set('allowed', allowed);
    if (reason) params.set('reason', reason);
    return params;
  }

  async fetchAudit(path, params) {
    const url = `/api/meetings/${encodeURIComponent(this.app.meetingId)}/${path}?${params}`;
    const response = await fetch(url, { headers: languageHeaders({ Authorization: `Bearer ${this.app.hostToken}` }) });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.detail ?? t('the server answered {status}', { status: response.status }));
    }
    return response;
  }

  async load() {
    const status = byId('audit-status');
    if (!this.available) {
      status.textContent = t('The audit log opens with the host link; co-hosts do not see it.');
      return;
    }
    this.updatePeople();
    status.textContent = t('Loading…');
    try {
      const params = this.query();
      params.set('limit', '2000');
      const response = await this.fetchAudit('audit', params);
      this.entries = (await response.json()).entries;
      for (const entry of this.entries) {
        this.eventTypes.add(entry.event.type);
        this.reasons.add(entry.decision.reason);
      }
      this.updateChoices();
      this.render();
    } catch (error) {
      status.textContent = t('Could not load the audit log: {problem}', { problem: error.message });
    }
  }

  /** Reloads if the panel is open (after an action of ours, say). */
  refreshSoon() {
    clearTimeout(this.timer);
    if (byId('panel-audit').hidden) return;
    this.timer = setTimeout(() => this.load(), 400);
  }

  updatePeople() {
    const select = byId('audit-participant');
    const current = select.value;
    const options = [...this.app.names].sort((a, b) => a[1].localeCompare(b[1]));
    select.replaceChildren(h('option', { value: '' }, t('Anyone')),
      ...options.map(([id, name]) => h('option', { value: id }, name)));
    select.value = current;
  }

  updateChoices() {
    const events = byId('audit-event');
    const current = events.value;
    const choices = [...this.eventTypes].map((type) => [type, actionName(type)])
      .sort((a, b) => a[1].localeCompare(b[1]));
    events.replaceChildren(h('option', { value: '' }, t('Any action')),
      ...choices.map(([type, words]) => h('option', { value: type }, words)));
    events.value = current;
    byId('audit-reasons').replaceChildren(...[...this.reasons].sort().map((reason) => h('option', { value: reason })));
  }

  /** The person concerned, and who acted on them when it was someone else. */
  who(entry) {
    const name = (id) => this.app.names.get(id)
      ?? (id === entry.participant ? entry.event.name : undefined)
      ?? ACTORS[id]?.() ?? id;
    const person = entry.participant ? name(entry.participant) : '';
    const actor = entry.actor && entry.actor !== entry.participant ? name(entry.actor) : '';
    return { person: person || actor || t('The meeting'), by: person ? actor : '' };
  }

  row(entry) {
    const { decision } = entry;
    const { person, by } = this.who(entry);
    const codes = [
      decision.reason ? [t('Reason'), ' ', h('code', {}, breakable(decision.reason))] : null,
      decision.rule ? [t('rule'), ' ', h('code', {}, breakable(decision.rule))] : null,
    ].filter(Boolean);
    return h('tr', {
      class: decision.allowed ? 'allowed' : 'refused', dataset: { reason: decision.reason },
    },
    h('td', { class: 'time' }, h('time', { datetime: new Date(entry.at * 1000).toISOString() }, formatTime(entry.at))),
    h('td', {}, h('span', { class: 'audit-person' }, person),
      by ? h('span', { class: 'audit-by' }, t('by {name}', { name: by })) : null),
    h('td', {}, h('span', { class: 'audit-action' }, actionOf(entry.event, (id) => this.app.names.get(id)))),
    h('td', { class: 'decision' },
      h('strong', { class: 'verdict' }, decision.allowed ? t('Allowed') : t('Refused')), ' ',
      // The log keeps each sentence as written when decided, in English (a record reads
      // the same for every reader); the words around it are the page's language.
      h('span', { class: 'audit-sentence', lang: 'en' }, decision.message),
      codes.length ? h('span', { class: 'audit-codes' }, codes.flatMap((code, index) => (index ? [t(', '), code] : [code]))) : null));
  }

  render() {
    const text = byId('audit-text').value.trim().toLowerCase();
    const rows = [...this.entries].reverse().filter((entry) => {
      if (!text) return true;
      const { person, by } = this.who(entry);
      const haystack = [entry.decision_id, entry.event.type, actionOf(entry.event, (id) => this.app.names.get(id)), entry.decision.reason,
        entry.decision.rule, entry.decision.message, entry.decision.allowed ? t('Allowed') : t('Refused'),
        person, by].join(' ').toLowerCase();
      return haystack.includes(text);
    });
    byId('audit-rows').replaceChildren(...rows.map((entry) => this.row(entry)));
    byId('audit-status').textContent = t('{shown} of {count} decisions shown, newest first.', {
      shown: rows.length, count: this.entries.length,
    });
  }

  async download() {
    const status = byId('audit-status');
    if (!this.available) {
      status.textContent = t('The audit log opens with the host link; co-hosts do not see it.');
      return;
    }
    try {
      const response = await this.fetchAudit('audit.jsonl', this.query());
      const blob = await response.blob();
      download(`meetwarden-audit-${this.app.meetingId.slice(0, 8)}.jsonl`, blob);
      status.textContent = t('Downloaded the audit log (JSON Lines, with the filters above).');
    } catch (error) {
      status.textContent = t('Could not download the audit log: {problem}', { problem: error.message });
    }
  }
}
