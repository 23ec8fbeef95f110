// The policy editor: JSON text with errors shown at the field they point to,
// help for the field under the caret (from the policy's JSON Schema), and the
// policy in plain words as the server explains it.
//
// Used to create a meeting and, in the host console, to change the policy of
// a live meeting. The server is the judge: every error shown comes from it
// (POST /api/policies/explain answers with the same pointers as creating a
// meeting or updating its policy), except a JSON syntax error, shown at once.
// A valid policy that asks what this server cannot do (a malware scan without
// clamd) is explained in plain words, and each such problem is shown at its
// field like an error: creating the meeting or applying it would be refused.

import { fill, h } from './dom.js';
import { JsonSyntaxError, lineColumn, parseLocated, pointerAt, spanOf } from './jsonlocate.js';
import { languageHeaders, t } from './i18n.js';

let schemaPromise = null;

function loadSchema() {
  schemaPromise ??= fetch('/api/policies/schema')
    .then((response) => (response.ok ? response.json() : null))
    .catch(() => null);
  return schemaPromise;
}

function resolve(schema, node) {
  let current = node;
  for (let depth = 0; current && depth < 8; depth += 1) {
    const reference = current.$ref ?? current.allOf?.[0]?.$ref
      ?? current.anyOf?.find((option) => option.$ref)?.$ref;
    if (!reference) return current;
    const target = schema.$defs?.[reference.split('/').pop()];
    current = target ? { ...target, description: current.description ?? target.description, default: current.default ?? target.default } : null;
  }
  return current;
}

/** The schema of the field at a JSON pointer, or null. */
function fieldSchema(schema, pointer) {
  if (!schema) return null;
  let node = resolve(schema, schema);
  for (const part of pointer.split('/').slice(1)) {
    if (!node) return null;
    const next = node.properties?.[part] ?? (/^\d+$/.test(part) ? node.items : undefined);
    node = next ? resolve(schema, next) : null;
  }
  return node;
}

function describeField(node) {
  if (!node) return '';
  const parts = [];
  if (node.description) parts.push(node.description);
  const choices = node.enum ?? node.items?.enum;
  if (choices) {
    parts.push(t('Choices: {choices}.', { choices: choices.map((c) => JSON.stringify(c)).join(', ') }));
  }
  if (node.minimum !== undefined || node.maximum !== undefined) {
    parts.push(t('From {minimum} to {maximum}.', { minimum: node.minimum ?? '…', maximum: node.maximum ?? '…' }));
  }
  if (node.default !== undefined && typeof node.default !== 'object') {
    parts.push(t('Default: {value}.', { value: JSON.stringify(node.default) }));
  }
  return parts.join(' ');
}

let editorCount = 0;

export class PolicyEditor {
  /**
   * @param {HTMLElement} mount where the editor goes
   * @param {{label?: string, hint?: string, onChange?: Function}} options
   */
  constructor(mount, { label = t('Policy (JSON)'), hint = '', onChange = null, live = false } = {}) {
    editorCount += 1;
    const id = `policy-editor-${editorCount}`;
    this.id = id;
    this.onChange = onChange;
    this.live = live;
    this.errors = [];
    this.parsed = null;
    this.explainSequence = 0;
    this.explainTimer = 0;
    this.schema = null;
    loadSchema().then((schema) => { this.schema = schema; this.updateHelp(); });

    this.textarea = h('textarea', {
      id: `${id}-text`,
      class: 'code-input',
      spellcheck: 'false',
      autocapitalize: 'off',
      autocomplete: 'off',
      wrap: 'off',
      rows: '18',
      'aria-describedby': `${id}-hint ${id}-errors ${id}-help`,
    });
    this.backdrop = h('div', { class: 'code-backdrop', 'aria-hidden': 'true' });
    this.gutter = h('div', { class: 'code-gutter', 'aria-hidden': 'true' });
    this.help = h('p', { id: `${id}-help`, class: 'field-help' });
    this.errorBox = h('div', { id: `${id}-errors`, class: 'editor-errors', hidden: true });
    this.plainList = h('ul', { class: 'plain-words-list' });
    this.plainStatus = h('p', { class: 'plain-words-status', role: 'status' });
    this.root = h('div', { class: 'policy-editor' },
      h('div', { class: 'editor-column' },
        h('label', { for: this.textarea.id, class: 'field-label' }, label),
        h('p', { id: `${id}-hint`, class: 'hint' },
          hint || t('JSON. Every field has a private default, so {empty} is a valid, strict policy. Errors are marked at their field; the line under the text names the field at the cursor.', { empty: '{}' })),
        h('div', { class: 'code-wrap' },
          this.gutter,
          h('div', { class: 'code-area' }, this.backdrop, this.textarea)),
        this.help,
        this.errorBox),
      h('section', { class: 'plain-words', 'aria-labelledby': `${id}-plain-title` },
        h('h3', { id: `${id}-plain-title` }, t('What this policy will do')),
        this.plainStatus,
        this.plainList));
    fill(mount, this.root);

    this.textarea.addEventListener('input', () => this.changed());
    this.textarea.addEventListener('scroll', () => this.syncScroll());
    for (const name of ['keyup', 'click', 'focus', 'select']) {
      this.textarea.addEventListener(name, () => this.updateHelp());
    }
    this.render();
  }

  get text() {
    return this.textarea.value;
  }

  set text(value) {
    this.textarea.value = value;
    this.changed();
  }

  /** The parsed document; throws JsonSyntaxError when the text is not JSON. */
  value() {
    return parseLocated(this.text).value;
  }

  focus() {
    this.textarea.focus();
  }

  changed() {
    this.parse();
    this.render();
    this.scheduleExplain();
    this.onChange?.(this);
  }

  parse() {
    try {
      this.parsed = parseLocated(this.text);
      this.syntaxError = null;
      this.errors = this.parsed.duplicates.map((duplicate) => ({
        pointer: duplicate.pointer,
        code: 'duplicate_key',
        message: t('this key appears twice; keep one'),
      }));
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error;
      this.parsed = null;
      this.syntaxError = error;
      this.errors = [];
    }
  }

  /**
   * Shows errors the server reported ({pointer, code, message}); [] clears them.
   * `unsupported`: the policy is valid but this server cannot do what they say, so
   * its plain words stay.
   */
  showErrors(errors, { unsupported = false } = {}) {
    if (!this.parsed && !this.syntaxError) this.parse();
    this.errors = errors.map((error) => ({ ...error, unsupported }));
    this.render();
    if (errors.length && !unsupported) {
      fill(this.plainList);
      this.plainStatus.textContent = errors.length === 1
        ? t('Fix the error to see what this policy will do.')
        : t('Fix the {count} errors to see what this policy will do.', { count: errors.length });
    }
  }

  /** Marks: [{start, end, pointer, message, line}] for the errors in the current text. */
  locate() {
    const text = this.text;
    if (this.syntaxError) {
      const start = Math.min(this.syntaxError.offset, Math.max(0, text.length - 1));
      const { line } = lineColumn(text, start);
      return [{
        start, end: Math.min(text.length, start + 1), pointer: '', line, exact: true,
        code: 'not_json', message: t('not valid JSON: {problem}', { problem: this.syntaxError.message }),
      }];
    }
    return this.errors.map((error) => {
      const found = this.parsed ? spanOf(this.parsed.spans, error.pointer) : null;
      if (!found) return { ...error, start: 0, end: Math.min(1, text.length), line: 1, exact: false };
      const { span, exact } = found;
      // An absent field (its default applies) is shown at the object that would hold it.
      const start = span.keyStart;
      const end = exact ? span.end : Math.min(span.end, (text.indexOf('\n', start) + 1 || span.end));
      return { ...error, start, end, line: lineColumn(text, start).line, exact };
    });
  }

  render() {
    const text = this.text;
    const marks = this.locate().sort((a, b) => a.start - b.start);
    this.marks = marks;
    // The backdrop mirrors the text; error ranges are <mark>s behind the transparent text.
    const pieces = [];
    let at = 0;
    for (const mark of marks) {
      if (mark.start < at) continue;
      pieces.push(text.slice(at, mark.start));
      pieces.push(h('mark', { class: 'error-mark', dataset: { pointer: mark.pointer, message: mark.message } },
        text.slice(mark.start, Math.max(mark.end, mark.start + 1)) || ' '));
      at = Math.max(mark.end, mark.start + 1);
    }
    pieces.push(text.slice(at), '\n ');
    fill(this.backdrop, pieces);

    const lines = text.split('\n').length;
    const errorLines = new Set(marks.map((mark) => mark.line));
    const numbers = [];
    for (let line = 1; line <= lines; line += 1) {
      numbers.push(h('span', {
        class: errorLines.has(line) ? 'gutter-line has-error' : 'gutter-line',
        dataset: { line: String(line) },
      }, errorLines.has(line) ? `! ${line}` : String(line)));
    }
    fill(this.gutter, numbers);

    this.textarea.setAttribute('aria-invalid', marks.length ? 'true' : 'false');
    this.renderErrorList(marks);
    this.syncScroll();
    this.updateHelp();
  }

  renderErrorList(marks) {
    if (!marks.length) {
      this.errorBox.hidden = true;
      fill(this.errorBox);
      return;
    }
    const text = this.text;
    const lineStarts = [0];
    for (let index = 0; index < text.length; index += 1) {
      if (text[index] === '\n') lineStarts.push(index + 1);
    }
    const items = marks.map((mark) => {
      const lineText = text.slice(lineStarts[mark.line - 1] ?? 0, (lineStarts[mark.line] ?? text.length + 1) - 1);
      const where = mark.pointer ? mark.pointer : t('the document');
      return h('li', { class: 'editor-error', dataset: { pointer: mark.pointer, line: String(mark.line) } },
        h('button', {
          type: 'button',
          class: 'link-button',
          onclick: () => this.select(mark),
        }, t('Line {line}', { line: mark.line }), t(', '), h('code', {}, where)),
        t(': '),
        h('span', { class: 'error-message' }, mark.message),
        mark.exact ? null : h('span', { class: 'hint' }, ' ', t('(not written in the policy: its default applies; add it here)')),
        h('pre', { class: 'error-excerpt', 'aria-hidden': 'true' }, lineText.trimEnd() || ' '));
    });
    const count = marks.length === 1 ? t('1 problem') : t('{count} problems', { count: marks.length });
    let title = this.live
      ? t('{count} in the policy (the one in force stays until this is fixed):', { count })
      : t('{count} in the policy:', { count });
    if (marks.every((mark) => mark.unsupported)) {
      title = t('This server cannot do what the policy asks ({count}); fix it here or on the server:', { count });
    }
    fill(this.errorBox,
      h('p', { class: 'error-title' }, title),
      h('ol', {}, items));
    this.errorBox.hidden = false;
  }

  /** Selects an error's field in the text and puts the caret there. */
  select(mark) {
    this.textarea.focus();
    this.textarea.setSelectionRange(mark.start, mark.end);
    const lineHeight = parseFloat(getComputedStyle(this.textarea).lineHeight) || 20;
    this.textarea.scrollTop = Math.max(0, (mark.line - 3) * lineHeight);
    this.syncScroll();
    this.updateHelp();
  }

  /** Selects the field at a pointer (or its nearest written ancestor). */
  focusPointer(pointer) {
    const mark = this.marks?.find((candidate) => candidate.pointer === pointer);
    if (mark) this.select(mark);
  }

  syncScroll() {
    this.backdrop.scrollTop = this.textarea.scrollTop;
    this.backdrop.scrollLeft = this.textarea.scrollLeft;
    this.gutter.scrollTop = this.textarea.scrollTop;
  }

  updateHelp() {
    if (!this.parsed) {
      this.help.textContent = this.syntaxError
        ? t('Not valid JSON yet (line {line}): {problem}.', {
          line: lineColumn(this.text, this.syntaxError.offset).line, problem: this.syntaxError.message,
        })
        : '';
      return;
    }
    const pointer = pointerAt(this.parsed.spans, this.textarea.selectionStart) ?? '';
    const here = (this.marks ?? []).find((mark) => mark.pointer === pointer);
    fill(this.help);
    if (!pointer) {
      this.help.textContent = t('Put the cursor on a field to read what it does.');
      return;
    }
    this.help.append(h('code', {}, pointer), t(': '));
    if (here) {
      this.help.append(h('strong', { class: 'error-message' }, t('Error: {problem}', { problem: here.message })));
    } else {
      this.help.append(describeField(fieldSchema(this.schema, pointer)) || t('A field of the policy.'));
    }
  }

  scheduleExplain() {
    clearTimeout(this.explainTimer);
    if (!this.parsed) {
      fill(this.plainList);
      this.plainStatus.textContent = t('Fix the JSON to see what this policy will do.');
      return;
    }
    this.explainTimer = setTimeout(() => this.explain(), 350);
  }

  /** Asks the server what the policy will do; its errors are shown at their fields. */
  async explain() {
    const sequence = ++this.explainSequence;
    const body = this.text;
    let response;
    let answer;
    try {
      response = await fetch('/api/policies/explain', {
        method: 'POST', headers: languageHeaders({ 'Content-Type': 'application/json' }), body,
      });
      answer = await response.json();
    } catch (error) {
      if (sequence === this.explainSequence) {
        this.plainStatus.textContent = t('Could not check the policy: {problem}', { problem: error.message });
      }
      return;
    }
    if (sequence !== this.explainSequence || body !== this.text) return;
    if (response.ok) {
      // Valid; what this server cannot do is still marked at its field.
      this.errors = (answer.unsupported ?? []).map((problem) => ({ ...problem, unsupported: true }));
      this.render();
      this.plainStatus.textContent = '';
      fill(this.plainList, answer.rules.map((rule) => h('li', { dataset: { rule: rule.rule } },
        h('span', { class: 'sentence' }, rule.text), ' ', h('code', { class: 'rule' }, rule.rule))));
      this.root.dispatchEvent(new CustomEvent('explained', { detail: answer }));
    } else if (Array.isArray(answer.errors)) {
      this.showErrors(answer.errors);
    } else {
      this.plainStatus.textContent = answer.detail ?? t('The server answered {status}.', { status: response.status });
    }
  }
}
