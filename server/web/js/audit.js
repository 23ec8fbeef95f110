// The audit log for the host: every decision with its reason and rule,
// filtered on the server (person, event, allowed, reason) and by text here,
// and downloadable as the JSON Lines that `meetwarden policy simulate` replays.
// It needs the host token (REST, Authorization: Bearer); co-hosts have none.

import { byId, download, formatTime, h } from './dom.js';
import { languageHeaders, t } from './i18n.js';

const EVENT_WORDS = {
  join_requested: t('join'), left: t('left'), admit: t('admit'), admit_all: t('admit all'), deny: t('deny'),
  remove: t('remove'), ban: t('ban'), lock: t('lock'), set_role: t('role change'), end_meeting: t('end meeting'),
  policy_update: t('policy update'), rename: t('rename'), hand_raised: t('hand raised'),
  hand_lowered: t('hand lowered'), unmute_requested: t('unmute'), self_muted: t('mute self'), mute: t('mute'),
  mute_all: t('mute all'), ask_to_unmute: t('let speak'), publish_requested: t('publish'),
  publish_stopped: t('stop publishing'), share_requested: t('asks to share'), grant: t('grant'),
  revoke: t('revoke'), grant_expired: t('grant expired'), file_upload_requested: t('file upload'),
  file_offered: t('file offered'), chat: t('chat'), camera_frames: t('camera frames'),
  camera_lost: t('camera lost'), camera_restored: t('camera back'), camera_check_due: t('camera check'),
  camera_grace_expired: t('camera grace over'),
};

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
    events.replaceChildren(h('option', { value: '' }, t('Any event')),
      ...[...this.eventTypes].sort().map((type) => h('option', { value: type }, EVENT_WORDS[type] ?? type)));
    events.value = current;
    byId('audit-reasons').replaceChildren(...[...this.reasons].sort().map((reason) => h('option', { value: reason })));
  }

  who(entry) {
    const name = (id) => this.app.names.get(id)
      ?? (id === entry.participant ? entry.event.name : undefined)
      ?? ({ owner: t('the host (REST)'), timer: t('a timer'), media: t('the media check') }[id] ?? id);
    const parts = [];
    if (entry.actor && entry.actor !== entry.participant) parts.push(`${name(entry.actor)} →`);
    if (entry.participant) parts.push(name(entry.participant));
    return parts.join(' ') || '—';
  }

  render() {
    const text = byId('audit-text').value.trim().toLowerCase();
    const rows = [...this.entries].reverse().filter((entry) => {
      if (!text) return true;
      const haystack = [entry.decision_id, entry.event.type, entry.decision.reason, entry.decision.rule,
        entry.decision.message, this.who(entry)].join(' ').toLowerCase();
      return haystack.includes(text);
    });
    byId('audit-rows').replaceChildren(...rows.map((entry) => h('tr', {
      class: entry.decision.allowed ? 'allowed' : 'refused', dataset: { reason: entry.decision.reason },
    },
    h('td', {}, h('time', { datetime: new Date(entry.at * 1000).toISOString() }, formatTime(entry.at))),
    h('td', {}, EVENT_WORDS[entry.event.type] ?? entry.event.type),
    h('td', {}, this.who(entry)),
    h('td', { class: 'decision' }, entry.decision.allowed ? t('allowed') : t('refused')),
    h('td', {}, h('code', {}, entry.decision.reason)),
    h('td', {}, entry.decision.rule ? h('code', {}, entry.decision.rule) : '—'),
    h('td', {}, entry.decision.message))));
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
