// What a guest must bring, said before they join (GET /api/meetings/{id}/entry:
// a password, a full name, a camera, the waiting room; nothing else of the
// meeting), and in the waiting room a way to turn on a camera the host requires.

import { byId, h, show } from './dom.js';
import { t } from './i18n.js';

const CAMERA_REASONS = new Set(['camera_missing', 'camera_still_lost', 'camera_lost']);

const ENTRY_RULES_WAIT_MS = 10000;

/** The entry rules of this meeting, or null when the server could not say (within
 * ENTRY_RULES_WAIT_MS: the Join button waits for them). */
export async function fetchEntryRules(meetingId) {
  if (!meetingId) return null;
  try {
    const response = await fetch(`/api/meetings/${encodeURIComponent(meetingId)}/entry`, {
      signal: AbortSignal.timeout(ENTRY_RULES_WAIT_MS),
    });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

/** The join page's list of requirements, for a guest (hosts and invites skip some). */
export function showEntryRules(rules, { host, invite }) {
  if (!rules) return;
  const items = [];
  if (rules.password && !host && !invite) items.push(t('The meeting password, from the host.'));
  if (rules.full_name?.required) {
    items.push(t('Your full name: at least {count} words, as the host will see it.', {
      count: rules.full_name.min_words,
    }));
  }
  if (rules.camera?.required && !host) {
    items.push(t('A working camera: the host requires video from everyone.'));
  }
  if (rules.waiting_room && !host) items.push(t('A moment in the waiting room, until the host lets you in.'));
  byId('join-rules-list').replaceChildren(...items.map((text) => h('li', {}, text)));
  show(byId('join-rules'), items.length > 0);
  if (!rules.password) show(byId('password-field'), false);
}

/** Whether a camera the meeting requires is missing from this guest's choice. */
export function cameraMissing(rules, local, { host }) {
  return Boolean(rules?.camera?.required && !host && !local.camera);
}

/** Under the camera choice: say that this meeting needs one, while none is chosen. */
export function showCameraRequirement(rules, local, who) {
  const note = byId('camera-required');
  const missing = cameraMissing(rules, local, who);
  note.textContent = missing
    ? t('This meeting requires a camera. Without one you will be sent back to the waiting room: pick a camera.')
    : '';
  show(note, missing);
}

/** In the waiting room: if a camera is what kept (or sends) this person out, a way to turn it on. */
export function showWaitingCamera(rules, local, sentBackReason, who) {
  const needed = CAMERA_REASONS.has(sentBackReason) || cameraMissing(rules, local, who);
  const off = !local.camera;
  show(byId('waiting-camera'), needed && off);
  show(byId('waiting-camera-ok'), needed && !off);
  show(byId('waiting-preview-off'), off);
  byId('waiting-camera-why').textContent = CAMERA_REASONS.has(sentBackReason)
    ? t('The host requires a working camera. Turn yours on; the host can then let you in again.')
    : t('This meeting requires a camera. Turn yours on before the host lets you in.');
}
