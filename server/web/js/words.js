// What to do next, in plain words, after a refusal or a dismissal. The
// sentence itself always comes from the server; this only adds the next step.

import { t } from './i18n.js';

const NEXT_STEPS = {
  join_failed: t('Check the meeting link and the password, then join again.'),
  too_many_attempts: t('Wait a few minutes, then join again.'),
  name_missing: t('Type your name, then join again.'),
  name_too_short: t('Type your first and last name, then join again.'),
  name_too_long: t('Shorten your name, then join again.'),
  name_not_a_name: t('Type your name in letters, then join again.'),
  name_invalid_characters: t('Remove invisible or special characters from your name, then join again.'),
  name_blocked_word: t('Choose a name without that word, then join again.'),
  name_lookalike: t('Use your own name: it must not look like the host\'s. Then join again.'),
  name_symbols: t('Type your name in letters, without digits or symbols, then join again.'),
  meeting_locked: t('The host has locked the meeting. Ask the host to unlock it, then join again.'),
  meeting_full: t('The meeting is full. Try again later, or ask the host.'),
  waiting_room_full: t('The waiting room is full. Try again later.'),
  waiting_room_source_full: t('Many people from your network are waiting already. Try again later.'),
  invite_required: t('Open the personal invite link the host sent you, then join again.'),
  invite_in_use: t('Someone is in with this invite. Ask the host for your own invite.'),
  banned: t('You cannot rejoin this meeting.'),
  meeting_ended: t('The meeting is over; you can close this page.'),
  already_in_meeting: t('You are already in this meeting in another window.'),
};

export function nextStepFor(refusal) {
  return NEXT_STEPS[refusal.reason] ?? t('Check the link and try again, or ask the host.');
}

/** why -> [title, what next, whether "Join again" is offered] */
export const ENDED = {
  denied: [t('The host did not let you in'), t('You can ask the host, then join again.'), true],
  removed: [t('You were removed from the meeting'), t("Joining again may be refused: the host's policy decides."), true],
  banned: [t('You were removed and cannot rejoin'), t('This meeting is closed to you.'), false],
  left: [t('You left the meeting'), t('You can join again while the meeting goes on.'), true],
  camera: [t('You were removed: no working camera'), t('Check your camera, then join again.'), true],
  policy: [t("The meeting's rules changed"), t('Join again to see whether the new rules let you in.'), true],
  ended: [t('The meeting has ended'), t('You can close this page.'), false],
  lost: [t('The connection was lost'), t('Check your network, then join again.'), true],
  replaced: [t('You joined from another window'), t('This window left the meeting; the other one is in it.'), true],
};
