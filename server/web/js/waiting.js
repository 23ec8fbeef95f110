// For hosts and co-hosts: who is waiting to join, and why. Like Zoom and Jitsi,
// someone waiting is hard to miss: a prompt above the meeting with Admit and
// Deny (Admit all when several), the tab's title ("(1) waiting · ..."), an
// announcement for screen readers, and a waiting time that ticks.

import { announce, byId, formatDuration, h } from './dom.js';
import { t } from './i18n.js';
import { setWaitingCount } from './screens.js';

// WaitingEntry.reason: why this person waits, in words (hosts also see the code and rule).
const WHY = {
  waiting_for_host: t('Asks to join.'),
  camera_missing: t('Sent back: no working video arrived from their camera.'),
  camera_still_lost: t('Sent back: their camera did not come back in time.'),
  camera_lost: t('Sent back: their camera stopped.'),
};

/** Why a person waits, for hosts: the sentence, then the reason code and rule. */
export function whyWaiting(entry) {
  const reason = entry.reason ?? 'waiting_for_host';
  const sentence = WHY[reason] ?? t('Sent back to the waiting room.');
  if (reason === 'waiting_for_host') return sentence;
  return entry.rule
    ? t('{sentence} (reason {reason}, rule {rule})', { sentence, reason, rule: entry.rule })
    : t('{sentence} (reason {reason})', { sentence, reason });
}

/** "waiting 0:42": since the person last went into the waiting room (their join, or the
 * moment they were sent back), on the server's clock. */
export function waitedFor(entry, clockOffset = 0) {
  const now = Date.now() / 1000 + clockOffset;
  return t('waiting {time}', { time: formatDuration(now - entry.waiting_since) });
}

export class WaitingPrompt {
  constructor(app) {
    this.app = app;
    this.known = new Set();
    this.waiting = [];
    setInterval(() => this.tick(), 1000);
  }

  clear() {
    this.known.clear();
    this.waiting = [];
    byId('waiting-prompt').hidden = true;
    setWaitingCount(0);
  }

  /** The waiting list changed (or the role did): the prompt, the title, an announcement. */
  render(waiting, isHost) {
    const people = isHost ? waiting : [];
    const fresh = people.filter((entry) => !this.known.has(entry.id));
    this.known = new Set(people.map((entry) => entry.id));
    this.waiting = people;
    setWaitingCount(people.length);
    const prompt = byId('waiting-prompt');
    prompt.hidden = people.length === 0;
    if (!people.length) return;
    const act = (message, label) => this.app.act(message, label);
    const actions = byId('waiting-prompt-actions');
    if (people.length === 1) {
      const [entry] = people;
      byId('waiting-prompt-text').textContent = t('{name} is waiting to join.', { name: entry.name });
      byId('waiting-prompt-why').textContent = `${whyWaiting(entry)} · ${this.waited(entry)}`;
      actions.replaceChildren(
        h('button', {
          type: 'button', class: 'primary', 'aria-describedby': 'waiting-prompt-text',
          onclick: () => this.app.admit(entry),
        }, t('Admit')),
        h('button', {
          type: 'button', class: 'danger', 'aria-describedby': 'waiting-prompt-text',
          onclick: () => act({ type: 'deny', participant: entry.id }, t('Deny {name}', { name: entry.name })),
        }, t('Deny')),
        h('button', { type: 'button', onclick: () => this.showList() }, t('See the waiting list')),
      );
    } else {
      byId('waiting-prompt-text').textContent = t('{count} people are waiting to join.', { count: people.length });
      byId('waiting-prompt-why').textContent = people.map((entry) => entry.name).join(t(', '));
      actions.replaceChildren(
        h('button', {
          type: 'button', class: 'primary',
          onclick: () => act({ type: 'admit_all' }, t('Admit everyone')),
        }, t('Admit all')),
        h('button', { type: 'button', onclick: () => this.showList() }, t('See who')),
      );
    }
    if (fresh.length === 1) {
      announce(t('{name} is waiting to join. {why}', { name: fresh[0].name, why: whyWaiting(fresh[0]) }), { assertive: true });
    } else if (fresh.length > 1) {
      announce(t('{count} more people are waiting to join.', { count: fresh.length }), { assertive: true });
    }
  }

  waited(entry) {
    return waitedFor(entry, this.app.clockOffset);
  }

  showList() {
    this.app.side.open();
    byId('tab-people').click();
    byId('waiting-list-title').scrollIntoView({ block: 'nearest' });
  }

  /** Every second: the waiting times, in the prompt and in the list. */
  tick() {
    if (!this.waiting.length) return;
    if (this.waiting.length === 1) {
      const [entry] = this.waiting;
      byId('waiting-prompt-why').textContent = `${whyWaiting(entry)} · ${this.waited(entry)}`;
    }
    for (const entry of this.waiting) {
      const time = document.querySelector(`#waiting-list [data-participant-id="${CSS.escape(entry.id)}"] .waiting-time`);
      if (time) time.textContent = this.waited(entry);
    }
  }
}
