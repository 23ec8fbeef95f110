// Every sentence the page shows goes through t(): gettext-style, the English
// text is the message id, so a string not yet translated still reads well.
//
//   t('Copy link')
//   t('{name} wants to share the screen', { name })
//
// Placeholders are {name}; values go in as text (the page never writes HTML
// from strings, see dom.js). `make messages` finds every t('...') (write the
// English as one quoted string, never a template literal or a sum) and every
// text of the HTML pages; tests/server/test_i18n_catalogs.py checks that each
// has a sentence in every catalog.
//
// The language: the one the person chose with the switch (remembered in this
// browser), else the first of the browser's languages the server has a
// catalog for, else English. The catalog comes from the server
// (/i18n/<language>.json, built from server/i18n/locales) before any other
// module of the page runs: this module awaits it at the top level, and every
// page's modules import it. The server writes its own sentences (refusals,
// notices) in the language the join names, the same one.

const STORAGE_KEY = 'meetwarden.language';
const SKIPPED = new Set(['SCRIPT', 'STYLE', 'CODE']);
// Mirrors server/i18n/extract_html.py: the attributes a page's text may sit in.
const ATTRIBUTES = ['title', 'alt', 'placeholder', 'aria-label'];

/** The language this server has for a BCP 47 tag (server/i18n/languages.py), or null. */
export function supported(tag) {
  const parts = String(tag ?? '').replace(/_/g, '-').toLowerCase().split('-');
  if (parts[0] === 'en') return 'en';
  const traditional = parts.slice(1).some((part) => ['hant', 'tw', 'hk', 'mo'].includes(part));
  if (parts[0] === 'zh' && !traditional) return 'zh-CN';
  return null;
}

function stored() {
  try { return localStorage.getItem(STORAGE_KEY); } catch { return null; }
}

function preferred() {
  const chosen = supported(stored());
  if (chosen) return chosen;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const language = supported(tag);
    if (language) return language;
  }
  return 'en';
}

/** The page's language: `en` or `zh-CN`. */
export const language = preferred();

let catalog = {};
let languages = [{ tag: 'en', name: 'English' }, { tag: 'zh-CN', name: '简体中文' }];

/** The sentence in the page's language, with {placeholders} filled in. */
export function t(text, params = {}) {
  const translated = catalog[text] || text;
  return translated.replace(/\{(\w+)\}/g, (whole, key) =>
    key in params ? String(params[key]) : whole);
}

/** Installs a catalog (message id -> translation); used by the loader. */
export function useCatalog(messages) {
  catalog = messages ?? {};
}

/** Headers that ask the server for its sentences in the page's language. */
export function languageHeaders(headers = {}) {
  return { ...headers, 'Accept-Language': language };
}

/** Translates what the HTML of a page says: text nodes and the labelling attributes,
 * except inside script, style, code and elements marked translate="no". */
export function translatePage(root = document.documentElement) {
  const skipped = (element) => SKIPPED.has(element.tagName) || element.closest('[translate="no"]');
  for (const element of root.querySelectorAll('*')) {
    if (skipped(element)) continue;
    for (const name of ATTRIBUTES) {
      const value = element.getAttribute(name);
      if (value) element.setAttribute(name, t(value.replace(/\s+/g, ' ').trim()));
    }
  }
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    const text = node.data.replace(/\s+/g, ' ').trim();
    if (!text || !parent || skipped(parent)) continue;
    const translated = t(text);
    if (translated !== text) {
      const [before] = node.data.match(/^\s*/);
      const [after] = node.data.match(/\s*$/);
      node.data = before + translated + after;
    }
  }
}

/** A language switch (label and select, in each language's own words): choosing
 * one remembers it in this browser and reloads the page in it. */
export function languageSwitch() {
  const select = document.createElement('select');
  select.id = 'language-switch';
  select.className = 'language-switch';
  for (const each of languages) {
    const option = new Option(each.name, each.tag, false, each.tag === language);
    option.lang = each.tag;
    select.append(option);
  }
  select.addEventListener('change', () => {
    try { localStorage.setItem(STORAGE_KEY, select.value); } catch { /* private mode */ }
    location.reload();
  });
  const label = document.createElement('label');
  label.className = 'language-label';
  label.htmlFor = select.id;
  label.textContent = t('Language');
  const wrapper = document.createElement('span');
  wrapper.className = 'language';
  wrapper.append(label, select);
  return wrapper;
}

/** Puts the language switch at the end of the page's top bar (once). */
export function mountLanguageSwitch() {
  const bar = document.querySelector('header.topbar');
  if (!bar || bar.querySelector('#language-switch')) return null;
  const control = languageSwitch();
  bar.append(control);
  return control;
}

try {
  const response = await fetch(`/i18n/${language}.json`, { headers: { Accept: 'application/json' } });
  if (response.ok) {
    const body = await response.json();
    useCatalog(body.messages);
    if (Array.isArray(body.languages)) languages = body.languages;
  }
} catch {
  // No catalog: the page reads in English, its message ids.
}
document.documentElement.lang = language;
translatePage();
