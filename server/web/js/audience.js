// Who reads what: a participant reads the server's sentence; a host or co-host
// also reads the reason code and the rule that decided (docs/web-client.md).
// The codes are for the people who run the meeting and can change its policy;
// to everyone else they are noise.

import { t } from './i18n.js';

export function isHost(role) {
  return role === 'host' || role === 'cohost';
}

/** The sentence; for a host, followed by "(reason code, rule /pointer)". */
export function explained(sentence, { reason = '', rule = '' } = {}, host = false) {
  if (!host) return sentence;
  const codes = [
    reason ? t('reason {reason}', { reason }) : '',
    rule ? t('rule {rule}', { rule }) : '',
  ].filter(Boolean);
  return codes.length ? `${sentence} (${codes.join(', ')})` : sentence;
}
