// Live policy edit for hosts: the policy in force (from the `policy` message),
// changed with `update_policy`. A refused update shows each error at its
// field; the policy in force stays. When the policy in force asks what this
// server cannot do (a scan, and the server was restarted without clamd), the
// console says so, and the Policy tab carries a mark.

import { announce, byId, h } from './dom.js';
import { PolicyEditor } from './editor.js';
import { JsonSyntaxError } from './jsonlocate.js';
import { t } from './i18n.js';

function pretty(policy) {
  return `${JSON.stringify(policy, null, 2)}\n`;
}

export class PolicyTab {
  constructor(app) {
    this.app = app;
    this.inForce = null;
    this.revision = null;
    this.editor = null;
    this.result = byId('policy-result');
    byId('apply-policy').addEventListener('click', () => this.apply());
    byId('reset-policy').addEventListener('click', () => this.reset());
  }

  ensureEditor() {
    this.editor ??= new PolicyEditor(byId('live-policy-mount'), {
      label: t('The policy in force (JSON)'),
      live: true,
      hint: t('Change it and apply: the server checks it first. Errors are marked at their field.'),
    });
    this.editor.root.addEventListener('explained', (event) => this.explained(event.detail));
    return this.editor;
  }

  get dirty() {
    return this.editor !== null && this.inForce !== null && this.editor.text !== pretty(this.inForce);
  }

  /** The `policy` message: the policy in force and its revision. */
  take(message) {
    const wasDirty = this.dirty;
    const editor = this.ensureEditor();
    // Our own update coming back is not someone else's change.
    const ours = editor.parsed !== null
      && JSON.stringify(editor.parsed.value) === JSON.stringify(message.policy);
    this.inForce = message.policy;
    this.revision = message.revision;
    byId('policy-revision').textContent = t('(revision {revision})', { revision: message.revision });
    if (!wasDirty || ours) {
      editor.text = pretty(message.policy);
    } else {
      this.say(t('The policy in force changed (revision {revision}) while you were editing. "Undo my changes" loads it.', {
        revision: message.revision,
      }), false);
    }
  }

  /** The server's explain answer for the editor's text: flags the policy in force. */
  explained(answer) {
    if (this.dirty) return; // about the host's draft, shown in the editor itself
    const problems = answer.unsupported ?? [];
    const warned = this.result.dataset.unsupported === 'true';
    this.markTab(problems.length > 0);
    if (problems.length) {
      const list = problems.map((problem) => `${problem.pointer}${t(': ')}${problem.message}`).join(t('; '));
      this.say(t('The policy in force asks what this server cannot do: {problems}.', { problems: list }), true);
      this.result.dataset.unsupported = 'true';
      if (!warned) announce(t('The policy in force asks for something this server cannot do; see the Policy tab.'));
    } else if (warned) {
      this.say('', null);
      delete this.result.dataset.unsupported;
    }
  }

  markTab(on) {
    const tab = byId('tab-policy');
    let mark = tab.querySelector('.policy-unsupported');
    if (on && !mark) {
      mark = h('span', { class: 'tab-count policy-unsupported', title: t('This server cannot do all the policy asks') }, '!');
      tab.append(mark);
    } else if (!on && mark) {
      mark.remove();
    }
  }

  reset() {
    if (this.inForce === null) return;
    this.ensureEditor().text = pretty(this.inForce);
    this.say(t('Your changes were undone: the editor shows the policy in force.'), false);
  }

  say(text, refused) {
    this.result.textContent = text;
    this.result.className = `console-status ${refused === null ? '' : refused ? 'refused' : 'allowed'}`;
  }

  async apply() {
    const editor = this.ensureEditor();
    let policy;
    try {
      policy = editor.value();
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error;
      editor.render();
      this.say(t('Not applied: the text is not valid JSON ({problem}).', { problem: error.message }), true);
      editor.focus();
      return;
    }
    if (editor.errors.some((error) => error.code === 'duplicate_key')) {
      this.say(t('Not applied: a key appears twice; keep one.'), true);
      return;
    }
    const result = await this.app.act({ type: 'update_policy', policy }, t('Change the policy'));
    if (!result) {
      this.say(t('Not applied: the server did not take the request.'), true);
      return;
    }
    if (result.allowed) {
      editor.showErrors([]);
      this.say(t('{sentence} Everyone in the meeting is now under the new policy.', { sentence: result.message }), false);
    } else {
      this.say(result.rule
        ? t('Not applied: {sentence} (rule {rule})', { sentence: result.message, rule: result.rule })
        : t('Not applied: {sentence}', { sentence: result.message }), true);
      if (result.errors?.length) {
        editor.showErrors(result.errors, { unsupported: result.reason === 'policy_unsupported' });
        editor.focusPointer(result.errors[0].pointer);
      }
    }
  }
}
