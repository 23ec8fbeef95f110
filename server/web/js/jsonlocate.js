// A JSON parser that remembers where each value is, so that an error the
// server reports at a JSON pointer (RFC 6901) can be shown at that field in
// the text, and the field under the caret can be named.
//
// It follows RFC 8259 and, like the server, treats a duplicate key as an
// error (Jitsi JSA-2023-0001 was a duplicate key read differently by two
// parsers). The server stays the judge of what is valid; this only locates.

import { t } from './i18n.js';

export class JsonSyntaxError extends Error {
  constructor(message, offset) {
    super(message);
    this.offset = offset;
  }
}

export function escapePointerPart(key) {
  return String(key).replaceAll('~', '~0').replaceAll('/', '~1');
}

export function unescapePointerPart(part) {
  return part.replaceAll('~1', '/').replaceAll('~0', '~');
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Parser {
  constructor(text) {
    this.text = text;
    this.at = 0;
    /** pointer -> {start, end, keyStart} of the value (and of its key, in an object) */
    this.spans = new Map();
    this.duplicates = [];
  }

  fail(message, offset = this.at) {
    throw new JsonSyntaxError(message, offset);
  }

  skip() {
    while (this.at < this.text.length && WHITESPACE.has(this.text[this.at])) this.at += 1;
  }

  document() {
    this.skip();
    const value = this.value('', undefined);
    this.skip();
    if (this.at < this.text.length) this.fail(t('unexpected text after the end of the document'));
    return value;
  }

  value(pointer, keyStart) {
    this.skip();
    const start = this.at;
    const char = this.text[this.at];
    let value;
    if (char === '{') value = this.object(pointer);
    else if (char === '[') value = this.array(pointer);
    else if (char === '"') value = this.string();
    else if (char === '-' || (char >= '0' && char <= '9')) value = this.number();
    else if (this.text.startsWith('true', this.at)) { this.at += 4; value = true; }
    else if (this.text.startsWith('false', this.at)) { this.at += 5; value = false; }
    else if (this.text.startsWith('null', this.at)) { this.at += 4; value = null; }
    else if (char === undefined) this.fail(t('the document ends where a value was expected'));
    else this.fail(t('unexpected {char} where a value was expected', { char: JSON.stringify(char) }));
    this.spans.set(pointer, { start, end: this.at, keyStart: keyStart ?? start });
    return value;
  }

  object(pointer) {
    this.at += 1;
    const result = {};
    const seen = new Set();
    this.skip();
    if (this.text[this.at] === '}') { this.at += 1; return result; }
    for (;;) {
      this.skip();
      if (this.text[this.at] !== '"') this.fail(t('expected a key in double quotes'));
      const keyStart = this.at;
      const key = this.string();
      const child = `${pointer}/${escapePointerPart(key)}`;
      if (seen.has(key)) {
        this.duplicates.push({ pointer: child, start: keyStart, end: this.at });
      }
      seen.add(key);
      this.skip();
      if (this.text[this.at] !== ':') this.fail(t('expected ":" after the key'));
      this.at += 1;
      const value = this.value(child, keyStart);
      Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
      this.skip();
      const next = this.text[this.at];
      if (next === ',') { this.at += 1; continue; }
      if (next === '}') { this.at += 1; return result; }
      this.fail(t('expected "," or "}" after a value in an object'));
    }
  }

  array(pointer) {
    this.at += 1;
    const result = [];
    this.skip();
    if (this.text[this.at] === ']') { this.at += 1; return result; }
    for (;;) {
      result.push(this.value(`${pointer}/${result.length}`));
      this.skip();
      const next = this.text[this.at];
      if (next === ',') { this.at += 1; continue; }
      if (next === ']') { this.at += 1; return result; }
      this.fail(t('expected "," or "]" after a value in a list'));
    }
  }

  string() {
    this.at += 1;
    let out = '';
    for (;;) {
      const char = this.text[this.at];
      if (char === undefined) this.fail(t('a string is not closed'));
      if (char === '"') { this.at += 1; return out; }
      if (char < ' ') this.fail(t('a control character inside a string must be escaped'));
      if (char === '\\') {
        const code = this.text[this.at + 1];
        if (code === 'u') {
          const hex = this.text.slice(this.at + 2, this.at + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(t('{escape} needs four hexadecimal digits', { escape: '\\u' }));
          out += String.fromCharCode(parseInt(hex, 16));
          this.at += 6;
        } else if (code in ESCAPES) {
          out += ESCAPES[code];
          this.at += 2;
        } else {
          this.fail(t('unknown escape {escape}', { escape: `\\${code ?? ''}` }));
        }
        continue;
      }
      out += char;
      this.at += 1;
    }
  }

  number() {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (!match || match[0] === '-') this.fail(t('not a valid number'));
    this.at += match[0].length;
    return Number(match[0]);
  }
}

/**
 * Parses JSON text. Returns {value, spans, duplicates}; throws JsonSyntaxError
 * (with the offset of the problem) when the text is not JSON.
 */
export function parseLocated(text) {
  const parser = new Parser(text);
  const value = parser.document();
  return { value, spans: parser.spans, duplicates: parser.duplicates };
}

/** The span of a pointer, or of its nearest ancestor that is in the text. */
export function spanOf(spans, pointer) {
  let current = pointer;
  for (;;) {
    const span = spans.get(current);
    if (span) return { span, pointer: current, exact: current === pointer };
    if (current === '') return null;
    current = current.slice(0, current.lastIndexOf('/'));
  }
}

/** The deepest pointer whose member (key and value) contains the offset. */
export function pointerAt(spans, offset) {
  let best = null;
  let bestSize = Infinity;
  for (const [pointer, span] of spans) {
    if (span.keyStart <= offset && offset <= span.end) {
      const size = span.end - span.keyStart;
      if (size < bestSize || (size === bestSize && pointer.length > (best?.length ?? -1))) {
        best = pointer;
        bestSize = size;
      }
    }
  }
  return best;
}

/** 1-based line and column of an offset. */
export function lineColumn(text, offset) {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset && index < text.length; index += 1) {
    if (text[index] === '\n') { line += 1; lineStart = index + 1; }
  }
  return { line, column: offset - lineStart + 1 };
}
