// Every sentence the page shows goes through t(): gettext-style, the English
// text is the message id, so a string not yet translated still reads well.
//
//   t('Copy link')
//   t('{name} wants to share the screen', { name })
//
// Placeholders are {name}; values go in as text (the page never writes HTML
// from strings, see dom.js). The catalogs (English and Simplified Chinese) are
// loaded here; a test checks that every t('...') in the client has a
// translation in every catalog.

let catalog = {};

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
