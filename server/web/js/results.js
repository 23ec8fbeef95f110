// Every host action shows what it did: the engine's sentence, and when it was
// refused the reason code and the rule. Errors are shown too, never swallowed.

import { announce, formatTime, h } from './dom.js';
import { t } from './i18n.js';

const TOAST_MS = 6000;

export function toast(text, { refused = false } = {}) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const item = h('div', { class: refused ? 'toast refused' : 'toast' }, text);
  box.append(item);
  while (box.childElementCount > 4) box.firstElementChild.remove();
  setTimeout(() => item.remove(), TOAST_MS);
}

export class Results {
  constructor({ status, log, history }) {
    this.status = status;
    this.log = log;
    this.history = history;
  }

  /** The last result's sentence goes once it stops being true ("Bob was admitted", and
   * Bob is back in the waiting room). */
  recheck() {
    if (this.holds && !this.holds()) this.clearStatus();
  }

  clearStatus() {
    this.holds = null;
    this.status.textContent = '';
    this.status.className = 'console-status';
  }

  clear() {
    this.holds = null;
    this.status.textContent = '';
    this.status.className = 'console-status';
    this.log.replaceChildren();
    this.history.hidden = true;
  }

  /** Shows the answer to an action: a `result` message, or an error thrown by the request;
   * `holds` says whether a done action's sentence is still true. */
  show(label, answer, holds = null) {
    let text;
    let refused;
    if (answer instanceof Error) {
      refused = true;
      text = answer.code
        ? t('{action}: not done. {sentence} ({code})', { action: label, sentence: answer.message, code: answer.code })
        : t('{action}: not done. {sentence}', { action: label, sentence: answer.message });
    } else if (answer.allowed) {
      refused = false;
      text = answer.message || t('{action}: done.', { action: label });
    } else {
      refused = true;
      const details = [t('reason {reason}', { reason: answer.reason })];
      if (answer.rule) details.push(t('rule {rule}', { rule: answer.rule }));
      // The audit log holds the same decision: its id finds it there (audit search).
      if (answer.decision_id) details.push(t('decision {id}', { id: answer.decision_id.slice(0, 8) }));
      text = t('{action}: refused. {sentence} ({details})', {
        action: label, sentence: answer.message, details: details.join(t(', ')),
      });
    }
    this.holds = refused ? null : holds;
    this.status.textContent = text;
    this.status.className = `console-status ${refused ? 'refused' : 'allowed'}`;
    this.log.prepend(h('li', { class: refused ? 'refused' : 'allowed' },
      h('time', {}, formatTime(Date.now() / 1000)), ' ', text));
    while (this.log.childElementCount > 50) this.log.lastElementChild.remove();
    this.history.hidden = false;
    toast(text, { refused });
    announce(text, { assertive: refused });
  }
}
