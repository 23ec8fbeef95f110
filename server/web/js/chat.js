// Chat: messages are text (textContent), never HTML; links are not made
// clickable (a chat that auto-linked UNC paths leaked Windows credentials).

import { formatTime, h } from './dom.js';
import { t } from './i18n.js';

const MAX_SHOWN = 500;

export class Chat {
  constructor(app, { log, form, input, why, count, isVisible }) {
    this.app = app;
    this.log = log;
    this.input = input;
    this.why = why;
    this.count = count;
    this.isVisible = isVisible;
    this.unread = 0;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.send();
    });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
  }

  clear() {
    this.log.replaceChildren();
    this.why.textContent = '';
    this.unread = 0;
    this.count.hidden = true;
  }

  /** What the policy says about chat, before anyone tries. */
  setRule(allowed, role) {
    const host = role === 'host' || role === 'cohost';
    if (allowed === 'nobody') this.why.textContent = t('Chat is off in this meeting.');
    else if (allowed === 'host_only' && !host) this.why.textContent = t('Only the host can chat in this meeting.');
    else if (!this.why.classList.contains('refused')) this.why.textContent = '';
  }

  async send() {
    const text = this.input.value.trim();
    if (!text) return;
    try {
      const result = await this.app.connection.request({ type: 'chat', text });
      if (result.allowed) {
        this.input.value = '';
        this.why.textContent = '';
        this.why.classList.remove('refused');
      } else {
        this.why.textContent = result.message;
        this.why.classList.add('refused');
      }
    } catch (error) {
      this.why.textContent = t('Not sent: {problem}', { problem: error.message });
      this.why.classList.add('refused');
    }
  }

  add(message) {
    const mine = message.sender === this.app.state.participantId;
    const item = h('li', { class: mine ? 'chat-mine' : 'chat-other' },
      h('span', { class: 'chat-sender' }, mine ? t('You') : message.sender_name),
      message.to ? h('span', { class: 'hint' }, t('(privately)'), ' ') : null,
      h('time', { class: 'chat-time', datetime: new Date(message.at * 1000).toISOString() }, formatTime(message.at)),
      h('div', { class: 'chat-text' }, message.text));
    this.log.append(item);
    while (this.log.childElementCount > MAX_SHOWN) this.log.firstElementChild.remove();
    this.log.scrollTop = this.log.scrollHeight;
    if (!mine && !this.isVisible()) {
      this.unread += 1;
      this.count.textContent = String(this.unread);
      this.count.hidden = false;
    }
  }

  seen() {
    this.unread = 0;
    this.count.hidden = true;
  }
}
