// What to do next, in plain words, after a refusal or a dismissal. The
// sentence itself always comes from the server; this only adds the next step.

const NEXT_STEPS = {
  join_failed: 'Check the meeting link and the password, then join again.',
  too_many_attempts: 'Wait a few minutes, then join again.',
  name_missing: 'Type your name, then join again.',
  name_too_short: 'Type your first and last name, then join again.',
  name_too_long: 'Shorten your name, then join again.',
  name_not_a_name: 'Type your name in letters, then join again.',
  name_invalid_characters: 'Remove invisible or special characters from your name, then join again.',
  name_blocked_word: 'Choose a name without that word, then join again.',
  name_lookalike: 'Use your own name: it must not look like the host\'s. Then join again.',
  name_symbols: 'Type your name in letters, without digits or symbols, then join again.',
  meeting_locked: 'The host has locked the meeting. Ask the host to unlock it, then join again.',
  meeting_full: 'The meeting is full. Try again later, or ask the host.',
  waiting_room_full: 'The waiting room is full. Try again later.',
  waiting_room_source_full: 'Many people from your network are waiting already. Try again later.',
  invite_required: 'Open the personal invite link the host sent you, then join again.',
  invite_in_use: 'Someone is in with this invite. Ask the host for your own invite.',
  banned: 'You cannot rejoin this meeting.',
  meeting_ended: 'The meeting is over; you can close this page.',
  already_in_meeting: 'You are already in this meeting in another window.',
};

export function nextStepFor(refusal) {
  return NEXT_STEPS[refusal.reason] ?? 'Check the link and try again, or ask the host.';
}

/** why -> [title, what next, whether "Join again" is offered] */
export const ENDED = {
  denied: ['The host did not let you in', 'You can ask the host, then join again.', true],
  removed: ['You were removed from the meeting', "Joining again may be refused: the host's policy decides.", true],
  banned: ['You were removed and cannot rejoin', 'This meeting is closed to you.', false],
  left: ['You left the meeting', 'You can join again while the meeting goes on.', true],
  camera: ['You were removed: no working camera', 'Check your camera, then join again.', true],
  policy: ["The meeting's rules changed", 'Join again to see whether the new rules let you in.', true],
  ended: ['The meeting has ended', 'You can close this page.', false],
  lost: ['The connection was lost', 'Check your network, then join again.', true],
  replaced: ['You joined from another window', 'This window left the meeting; the other one is in it.', true],
};
