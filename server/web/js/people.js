// The People panel: who is in the meeting, and for hosts and co-hosts the
// console: the waiting list (admit, deny, admit all), requests (raised hands,
// requests to share), and per-person actions (mute, let speak, co-host,
// grant or revoke screen and file sharing with an expiry, remove, ban).
// Every action's result is shown (results.js); the server decides them all.

import { append, byId, copyFrom, h } from './dom.js';
import { waitedFor, whyWaiting } from './waiting.js';
import { languageHeaders, t } from './i18n.js';

const ROLE_NAMES = { host: t('Host'), cohost: t('Co-host'), participant: '' };
const GRANT_LENGTHS = [
  ['', t("The policy's default")],
  ['60', t('1 minute')],
  ['300', t('{count} minutes', { count: 5 })],
  ['900', t('{count} minutes', { count: 15 })],
  ['1800', t('{count} minutes', { count: 30 })],
  ['3600', t('1 hour')],
];
const CONFIRM_MS = 6000;

/** A button that asks for a second press before it acts (no blocking dialogs). */
function confirmButton(label, confirmLabel, action, className = 'small danger') {
  const button = h('button', { type: 'button', class: className }, label);
  let timer = 0;
  const reset = () => {
    clearTimeout(timer);
    button.textContent = label;
    delete button.dataset.confirming;
  };
  button.addEventListener('click', () => {
    if (button.dataset.confirming) {
      reset();
      action();
      return;
    }
    button.dataset.confirming = 'true';
    button.textContent = confirmLabel;
    timer = setTimeout(reset, CONFIRM_MS);
  });
  button.addEventListener('blur', () => setTimeout(() => {
    if (document.activeElement !== button) reset();
  }, 200));
  return button;
}

function grantMessage(participant, kind, select) {
  const message = { type: 'grant', participant, kind };
  if (select.value) message.seconds = Number(select.value);
  return message;
}

export class People {
  constructor(app) {
    this.app = app;
    this.rows = new Map();
    this.requests = new Map();
    this.grantLength = null;
    byId('admit-all-button').addEventListener('click', () => this.app.act({ type: 'admit_all' }, t('Admit everyone')));
    byId('mute-all-button').addEventListener('click', () => this.app.act({ type: 'mute_all' }, t('Mute everyone')));
    byId('lock-button').addEventListener('click', () => {
      const locked = Boolean(this.app.state.meeting?.locked);
      this.app.act({ type: 'lock', locked: !locked }, locked ? t('Unlock') : t('Lock'));
    });
    const end = confirmButton(t('End the meeting'), t('Press again to end it for everyone'),
      () => this.app.act({ type: 'end_meeting' }, t('End the meeting')), 'danger');
    end.id = 'end-button';
    byId('end-button').replaceWith(end);
    byId('invite-button').addEventListener('click', () => this.createInvite());
    byId('copy-invite').addEventListener('click', (event) => copyFrom(byId('invite-link'), event.target));
  }

  get isHost() {
    return ['host', 'cohost'].includes(this.app.state.role);
  }

  clear() {
    this.rows.clear();
    this.requests.clear();
    byId('roster').replaceChildren();
    byId('waiting-list').replaceChildren();
    byId('requests').replaceChildren();
  }

  render() {
    const { roster, waiting, meeting } = this.app.state;
    byId('host-tools').hidden = !this.isHost;
    byId('roster-count').textContent = t('({count})', { count: roster.length });
    this.renderRoster(roster);
    this.app.waitingPrompt.render(waiting, this.isHost);
    this.app.results.recheck();
    if (!this.isHost) return;
    const lock = byId('lock-button');
    lock.setAttribute('aria-pressed', meeting?.locked ? 'true' : 'false');
    lock.textContent = meeting?.locked ? t('Unlock the meeting') : t('Lock the meeting');
    byId('invite-button').hidden = !this.app.hostToken;
    this.renderWaiting(waiting);
    for (const [key, request] of this.requests) {
      const person = roster.find((entry) => entry.id === request.about);
      const stale = !person || (request.topic === 'hand_raised' && !person.hand_raised);
      if (stale) {
        request.element.remove();
        this.requests.delete(key);
      }
    }
  }

  renderWaiting(waiting) {
    const list = byId('waiting-list');
    byId('waiting-count').textContent = t('({count})', { count: waiting.length });
    byId('waiting-empty').hidden = waiting.length > 0;
    byId('admit-all-button').hidden = waiting.length === 0;
    const badge = byId('people-count');
    badge.textContent = waiting.length ? t('{count} waiting', { count: waiting.length }) : '';
    badge.hidden = waiting.length === 0;
    // Rows are kept by person: the waiting time ticks (waiting.js) under a focused button.
    const rows = new Map([...list.children].map((row) => [row.dataset.participantId, row]));
    const wanted = waiting.map((entry) => {
      const key = `${entry.id}/${entry.name}/${entry.reason}/${entry.connected}`;
      const kept = rows.get(entry.id);
      if (kept?.dataset.key === key) return kept;
      return h('li', { class: 'waiting-entry', dataset: { participantId: entry.id, key } },
        h('span', { class: 'person-name' }, entry.name),
        h('span', { class: 'hint waiting-time' }, waitedFor(entry, this.app.clockOffset)),
        entry.connected === false ? h('span', { class: 'hint' }, t('reconnecting…')) : null,
        h('span', { class: 'hint waiting-why' }, whyWaiting(entry)),
        h('button', {
          type: 'button', class: 'small primary', 'aria-label': t('Admit {name}', { name: entry.name }),
          onclick: () => this.app.admit(entry),
        }, t('Admit')),
        h('button', {
          type: 'button', class: 'small danger', 'aria-label': t('Deny {name}', { name: entry.name }),
          onclick: () => this.app.act({ type: 'deny', participant: entry.id }, t('Deny {name}', { name: entry.name })),
        }, t('Deny')));
    });
    wanted.forEach((row, index) => {
      if (list.children[index] !== row) list.insertBefore(row, list.children[index] ?? null);
    });
    while (list.children.length > wanted.length) list.lastElementChild.remove();
  }

  renderRoster(roster) {
    const list = byId('roster');
    for (const [id, row] of this.rows) {
      if (!roster.some((entry) => entry.id === id)) {
        row.element.remove();
        this.rows.delete(id);
      }
    }
    // A row is moved only when it is out of place: moving a row takes the focus from the
    // button in it (an armed "Press again to remove", a screen reader's place), and a
    // roster update comes whenever anyone mutes, shares or raises a hand.
    roster.forEach((entry, index) => {
      const row = this.rows.get(entry.id) ?? this.createRow(entry);
      this.updateRow(row, entry);
      if (list.children[index] !== row.element) {
        list.insertBefore(row.element, list.children[index] ?? null);
      }
    });
  }

  createRow(entry) {
    const row = {
      name: h('span', { class: 'person-name' }),
      role: h('span', { class: 'badge' }),
      states: h('span', { class: 'states' }),
      actions: null,
    };
    row.element = h('li', { class: 'person', dataset: { participantId: entry.id } },
      h('div', { class: 'person-head' }, row.name, row.role, row.states));
    this.rows.set(entry.id, row);
    return row;
  }

  updateRow(row, entry) {
    const self = entry.id === this.app.state.participantId;
    row.name.textContent = self ? t('{name} (you)', { name: entry.name }) : entry.name;
    row.role.textContent = ROLE_NAMES[entry.role];
    row.role.hidden = !ROLE_NAMES[entry.role];
    const states = [entry.muted ? t('muted') : t('unmuted')];
    if (entry.connected === false) states.unshift(t('reconnecting…'));
    if (entry.hand_raised) states.push(t('hand raised'));
    if (entry.publishing?.includes('screen')) states.push(t('sharing a screen'));
    if (entry.publishing?.includes('camera')) states.push(t('camera on'));
    row.states.textContent = states.join(' · ');
    const wantActions = this.isHost && !self && entry.role !== 'host';
    if (wantActions && !row.actions) {
      row.actions = this.actionsFor(entry);
      row.element.append(row.actions.element);
    } else if (!wantActions && row.actions) {
      row.actions.element.remove();
      row.actions = null;
    }
    if (row.actions) {
      row.actions.summary.textContent = t('Actions for {name}', { name: entry.name });
      // The buttons are plain verbs; their group says whom they act on.
      row.actions.group.setAttribute('aria-label', t('Actions for {name}', { name: entry.name }));
      row.actions.role.textContent = entry.role === 'cohost' ? t('Make participant') : t('Make co-host');
      row.actions.entry = entry;
      // Offer only what would do something: a raised hand to lower, a grant to revoke.
      row.actions.lowerHand.hidden = !entry.hand_raised;
      const grants = entry.grants ?? [];
      row.actions.revokeScreen.hidden = !grants.includes('screen');
      row.actions.revokeFiles.hidden = !grants.includes('file');
    }
  }

  actionsFor(entry) {
    const id = entry.id;
    const actions = { entry };
    const name = () => actions.entry.name;
    // Each label is a sentence with {name} in it, the person acted on.
    const act = (message, label) => this.app.act(message, label.replace('{name}', name()));
    const length = h('select', { id: `grant-length-${id}` },
      GRANT_LENGTHS.map(([value, text]) => h('option', { value }, text)));
    actions.summary = h('summary', {});
    actions.role = h('button', {
      type: 'button', class: 'small',
      onclick: () => act({
        type: 'set_role', participant: id, role: actions.entry.role === 'cohost' ? 'participant' : 'cohost',
      }, actions.entry.role === 'cohost' ? t('Make participant: {name}') : t('Make co-host: {name}')),
    });
    actions.group = h('div', { role: 'group' });
    actions.lowerHand = h('button', { type: 'button', class: 'small', onclick: () => act({ type: 'lower_hand', participant: id }, t('Lower the hand of {name}')) }, t('Lower hand'));
    actions.revokeScreen = h('button', { type: 'button', class: 'small', onclick: () => act({ type: 'revoke', participant: id, kind: 'screen' }, t('Stop screen sharing: {name}')) }, t('Revoke screen sharing'));
    actions.revokeFiles = h('button', { type: 'button', class: 'small', onclick: () => act({ type: 'revoke', participant: id, kind: 'file' }, t('Stop files: {name}')) }, t('Revoke files'));
    actions.element = h('details', {},
      actions.summary,
      actions.group);
    append(actions.group, [
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', onclick: () => act({ type: 'mute', participant: id }, t('Mute {name}')) }, t('Mute')),
        h('button', { type: 'button', class: 'small', onclick: () => act({ type: 'ask_to_unmute', participant: id }, t('Let speak: {name}')) }, t('Let them speak')),
        actions.lowerHand,
        actions.role),
      h('div', { class: 'grant-row' },
        h('label', { for: length.id }, t('Sharing allowed for')),
        length,
        h('button', { type: 'button', class: 'small', onclick: () => act(grantMessage(id, 'screen', length), t('Allow screen sharing: {name}')) }, t('Allow screen sharing')),
        actions.revokeScreen,
        h('button', { type: 'button', class: 'small', onclick: () => act(grantMessage(id, 'file', length), t('Allow files: {name}')) }, t('Allow files')),
        actions.revokeFiles),
      h('div', { class: 'actions' },
        confirmButton(t('Remove'), t('Press again to remove'), () => act({ type: 'remove', participant: id }, t('Remove {name}'))),
        confirmButton(t('Ban'), t('Press again to ban'), () => act({ type: 'ban', participant: id }, t('Ban {name}')))),
    ]);
    actions.length = length;
    return actions;
  }

  /** A notice for hosts that asks for something: a raised hand, a request to share. */
  addRequest(notice) {
    if (!this.isHost || !notice.about) return;
    const key = `${notice.topic}/${notice.about}`;
    this.requests.get(key)?.element.remove();
    const about = notice.about;
    const done = () => {
      this.requests.get(key)?.element.remove();
      this.requests.delete(key);
    };
    const buttons = [];
    if (notice.topic === 'hand_raised') {
      buttons.push(h('button', {
        type: 'button', class: 'small primary',
        onclick: async () => {
          const label = t('Let speak: {name}', { name: this.app.names.get(about) ?? '' });
          const result = await this.app.act({ type: 'ask_to_unmute', participant: about }, label);
          if (result?.allowed) done();
        },
      }, t('Let them speak')));
      buttons.push(h('button', {
        type: 'button', class: 'small',
        onclick: async () => {
          const label = t('Lower hand: {name}', { name: this.app.names.get(about) ?? '' });
          const result = await this.app.act({ type: 'lower_hand', participant: about }, label);
          if (result?.allowed) done();
        },
      }, t('Lower their hand')));
    } else {
      const kind = notice.kind === 'file' ? 'file' : 'screen';
      const length = this.rows.get(about)?.actions?.length;
      buttons.push(h('button', {
        type: 'button', class: 'small primary',
        onclick: async () => {
          const message = length ? grantMessage(about, kind, length) : { type: 'grant', participant: about, kind };
          const name = this.app.names.get(about) ?? '';
          const label = kind === 'file'
            ? t('Allow files: {name}', { name })
            : t('Allow screen sharing: {name}', { name });
          const result = await this.app.act(message, label);
          if (result?.allowed) done();
        },
      }, kind === 'file' ? t('Allow files') : t('Allow screen sharing')));
      buttons.push(h('button', { type: 'button', class: 'small', onclick: done }, t('Dismiss')));
    }
    const element = h('li', { dataset: { topic: notice.topic, participantId: about } },
      h('span', {}, notice.text), ...buttons);
    byId('requests').append(element);
    this.requests.set(key, { element, topic: notice.topic, about });
  }

  async createInvite() {
    const role = 'participant';
    try {
      const response = await fetch(`/api/meetings/${encodeURIComponent(this.app.meetingId)}/invites`, {
        method: 'POST',
        headers: languageHeaders({ Authorization: `Bearer ${this.app.hostToken}`, 'Content-Type': 'application/json' }),
        body: JSON.stringify({ role }),
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(answer.detail ?? t('the server answered {status}', { status: response.status }));
      byId('invite-link').value = answer.join_url;
      byId('invite-box').hidden = false;
      this.app.results.show(t('Invite'), { allowed: true, message: t('An invite link was created; it is valid for a day.') });
    } catch (error) {
      this.app.results.show(t('Invite'), error);
    }
  }
}
