// Who reads what: a participant reads the server's sentence; a host or co-host
// also reads the reason code and the rule that decided (docs/web-client.md).
// The codes are for the people who run the meeting and can change its policy;
// to everyone else they are noise.

import { t } from './i18n.js';

export function isHost(role) {
  return role === 'host' || role === 'cohost';
}

/** The sentence; for a host, followed by "(reason code, rule /pointer)" (each language
 * writes the brackets its own way, so the whole is one sentence of the catalog). */
export function explained(sentence, { reason = '', rule = '' } = {}, host = false) {
  if (!host) return sentence;
  if (reason && rule) return t('{sentence} (reason {reason}, rule {rule})', { sentence, reason, rule });
  if (reason) return t('{sentence} (reason {reason})', { sentence, reason });
  if (rule) return t('{sentence} (rule {rule})', { sentence, rule });
  return sentence;
}
