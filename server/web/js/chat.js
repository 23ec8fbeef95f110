// Chat: messages are text (textContent), never HTML; links are not made
// clickable (a chat that auto-linked UNC paths leaked Windows credentials).
//
// A message goes to everyone, or privately to one person picked in "To": the
// people the policy's chat.private lets you write to (nobody; the host and
// co-hosts; everyone). The server delivers a private message to its recipient
// and echoes it to you, nobody else; both sides show it marked as private.

import { formatTime, h } from './dom.js';
import { t } from './i18n.js';

const MAX_SHOWN = 500;
const EVERYONE = '';

export class Chat {
  constructor(app, { log, form, input, why, count, isVisible }) {
    this.app = app;
    this.log = log;
    this.input = input;
    this.why = why;
    this.count = count;
    this.isVisible = isVisible;
    this.unread = 0;
    this.rule = { allowed: 'everyone', private: 'hosts' };
    this.role = 'participant';
    this.to = h('select', { id: 'chat-to' });
    this.toRow = h('div', { class: 'chat-to', hidden: true },
      h('label', { for: 'chat-to' }, t('To')), this.to);
    form.prepend(this.toRow);
    this.to.addEventListener('change', () => this.recipientChanged());
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
    this.to.replaceChildren();
    this.toRow.hidden = true;
    this.recipientChanged();
  }

  /** What the policy says about chat, before anyone tries. */
  setRule(allowed, role, privately = 'hosts') {
    const host = role === 'host' || role === 'cohost';
    this.rule = { allowed, private: privately };
    this.role = role;
    if (allowed === 'nobody') this.why.textContent = t('Chat is off in this meeting.');
    else if (allowed === 'host_only' && !host) this.why.textContent = t('Only the host can chat in this meeting.');
    else if (!this.why.classList.contains('refused')) this.why.textContent = '';
    this.people(this.app.state.roster ?? []);
  }

  /** Who may be written to privately: the policy's chat.private, for your role. */
  recipients(roster) {
    const me = this.app.state.participantId;
    const host = (entry) => entry.role === 'host' || entry.role === 'cohost';
    const { allowed, private: privately } = this.rule;
    if (allowed === 'nobody' || privately === 'off') return [];
    if (allowed === 'host_only' && !host({ role: this.role })) return [];
    const others = roster.filter((entry) => entry.id !== me);
    if (privately === 'everyone' || host({ role: this.role })) return others;
    return others.filter(host);
  }

  /** The roster changed: the "To" list follows it (someone who left can no longer be
   * picked, and a message to them would go to everyone, so you are told). */
  people(roster) {
    const chosen = this.to.value;
    const people = this.recipients(roster);
    const options = [h('option', { value: EVERYONE }, t('Everyone'))];
    for (const entry of people) {
      const label = entry.role === 'participant' ? entry.name
        : t('{name} ({role})', { name: entry.name, role: entry.role === 'host' ? t('host') : t('co-host') });
      options.push(h('option', { value: entry.id }, label));
    }
    this.to.replaceChildren(...options);
    this.toRow.hidden = people.length === 0;
    if (chosen && people.some((entry) => entry.id === chosen)) this.to.value = chosen;
    else if (chosen) {
      this.why.textContent = t('{name} cannot be written to privately now; your next message goes to everyone.',
        { name: this.app.names.get(chosen) ?? t('That person') });
      this.why.classList.remove('refused');
    }
    this.recipientChanged();
  }

  recipientChanged() {
    const to = this.to.value;
    const text = to
      ? t('Private message to {name}', { name: this.app.names.get(to) ?? '' })
      : t('Message to everyone');
    this.input.placeholder = text;
    this.input.setAttribute('aria-label', text);
  }

  async send() {
    const text = this.input.value.trim();
    if (!text) return;
    const message = { type: 'chat', text };
    if (this.to.value) message.to = this.to.value;
    try {
      const result = await this.app.connection.request(message);
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

  /** A private message says so on both sides: to whom (yours), or that it is to you. */
  privately(message, mine) {
    if (!message.to) return null;
    const text = mine
      ? t('privately to {name}', { name: this.app.names.get(message.to) ?? t('someone') })
      : t('privately to you');
    return h('span', { class: 'chat-privately' }, text);
  }

  add(message) {
    const mine = message.sender === this.app.state.participantId;
    const classes = [mine ? 'chat-mine' : 'chat-other', message.to ? 'chat-private' : ''];
    const item = h('li', { class: classes.join(' ').trim(), dataset: { private: message.to ? 'true' : 'false' } },
      h('span', { class: 'chat-sender' }, mine ? t('You') : message.sender_name),
      this.privately(message, mine),
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
