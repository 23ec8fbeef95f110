// Building the page from data, always as text.
//
// Nothing here (or anywhere in the client) writes HTML from a string: names,
// chat and every sentence from the server go in as text nodes. The server's
// Content-Security-Policy requires Trusted Types, so an innerHTML assignment
// with a string would throw in Chromium rather than render.

import { t } from './i18n.js';

/** An element with properties, attributes and children (strings become text nodes). */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key === 'text') element.textContent = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      element.addEventListener(key.slice(2), value);
    } else if (typeof value !== 'string' && key in element) element[key] = value;
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

/** Appends children: elements, strings (as text), arrays of either; skips null. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces every child of an element. */
export function fill(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

export function show(element, visible) {
  element.hidden = !visible;
}

let liveTimer = 0;

/** Says something to screen readers (and shows it in the page's status line). */
export function announce(text, { assertive = false } = {}) {
  const region = document.getElementById(assertive ? 'live-alert' : 'live-status');
  if (!region) return;
  // Clearing first makes a repeated sentence be read again.
  region.textContent = '';
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => { region.textContent = text; }, 50);
}

/** Moves focus to a heading or section (made focusable for the purpose). */
export function focusOn(element) {
  if (!element) return;
  if (!element.hasAttribute('tabindex')) element.setAttribute('tabindex', '-1');
  element.focus({ preventScroll: false });
}

export function initials(name) {
  const words = String(name).trim().split(/\s+/u).filter(Boolean);
  const letters = words.slice(0, 2).map((word) => Array.from(word)[0] ?? '');
  return letters.join('').toUpperCase() || '?';
}

export function formatDuration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(total / 60);
  const rest = String(total % 60).padStart(2, '0');
  if (minutes >= 60) {
    return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}:${rest}`;
  }
  return `${minutes}:${rest}`;
}

export function formatTime(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleTimeString([], {
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

/** Saves text as a file the browser downloads. */
export function download(filename, blob) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const copyTimers = new WeakMap();

/** Copies an input's text, saying so on the button; where the clipboard is not
 * available (an insecure origin, a refused permission) the text is selected instead. */
export async function copyFrom(input, button) {
  button.dataset.label ??= button.textContent;
  clearTimeout(copyTimers.get(button));
  try {
    await navigator.clipboard.writeText(input.value);
    button.textContent = t('Copied');
  } catch {
    input.focus();
    input.select();
    button.textContent = t('Press Ctrl+C to copy');
  }
  announce(button.textContent);
  copyTimers.set(button, setTimeout(() => { button.textContent = button.dataset.label; }, 2500));
}
