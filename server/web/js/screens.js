// The page's four screens (join, waiting, meeting, ended), what the join
// screen shows (devices, a refusal and what to do next) and the ended screen.

import { announce, byId, focusOn, h, show } from './dom.js';
import { t } from './i18n.js';
import { ENDED, nextStepFor } from './words.js';

const HEADINGS = { join: 'join-title', waiting: 'waiting-title', meeting: 'meeting-title', ended: 'ended-title' };

export function showScreen(name) {
  for (const screen of Object.keys(HEADINGS)) show(byId(`screen-${screen}`), screen === name);
  document.body.dataset.screen = name; // the meeting fills the window (app.css)
  focusOn(byId(HEADINGS[name]));
}

let titleBase = t('Join a meeting · meetwarden');
let waitingCount = 0;

function renderTitle() {
  document.title = waitingCount
    ? t('({count}) waiting · {title}', { count: waitingCount, title: titleBase })
    : titleBase;
}

/** For hosts: how many wait, in the tab's title (seen from another tab too). */
export function setWaitingCount(count) {
  waitingCount = count;
  renderTitle();
}

/** The meeting's name and lock, only once admitted (the waiting room learns nothing). */
export function setTopbar(meeting) {
  byId('meeting-name').textContent = meeting ? (meeting.name || t('Meeting')) : '';
  titleBase = meeting
    ? t('{meeting} · meetwarden', { meeting: meeting.name || t('Meeting') })
    : t('Join a meeting · meetwarden');
  renderTitle();
  const lock = byId('lock-state');
  lock.hidden = !meeting;
  lock.textContent = meeting?.locked ? t('Locked') : t('Unlocked');
}

/** The "Rule: /pointer (reason code)" line under a refusal: filled for hosts, else empty. */
function showCodes(prefix, { rule = '', reason = '' }) {
  byId(`${prefix}-rule`).hidden = !rule;
  byId(`${prefix}-rule-pointer`).textContent = rule;
  byId(`${prefix}-reason`).textContent = rule ? reason : '';
}

export function joinBusy(busy) {
  const button = byId('join-button');
  button.disabled = busy;
  button.textContent = busy ? t('Joining…') : t('Join');
}

/** A refused join: the server's sentence and what to do next; for a host (joining with
 * the host link) also the rule and reason code. */
export function showRefusal(refusal, { host = false } = {}) {
  byId('refusal-message').textContent = refusal.message || t('The server refused to let you in.');
  showCodes('refusal', host ? refusal : {});
  byId('refusal-next').textContent = nextStepFor(refusal);
  byId('join-refusal').hidden = false;
  if (refusal.reason?.startsWith('name_')) {
    byId('join-name').setAttribute('aria-invalid', 'true');
    byId('join-name').setAttribute('aria-describedby', 'join-name-hint refusal-message refusal-next');
  }
  focusOn(byId('join-refusal'));
  announce(t('{sentence} {next}', { sentence: refusal.message, next: nextStepFor(refusal) }), { assertive: true });
}

export function clearRefusal() {
  byId('join-refusal').hidden = true;
  byId('join-name').removeAttribute('aria-invalid');
  byId('join-name').setAttribute('aria-describedby', 'join-name-hint');
}

/** Out of the meeting: denied, removed, banned, ended, left, or the connection lost
 * (the rule and reason code for a host only). */
export function showEnded(dismissal, { host = false } = {}) {
  const [title, next, rejoin] = ENDED[dismissal.why] ?? ENDED.removed;
  byId('ended-title').textContent = title;
  byId('ended-message').textContent = dismissal.message;
  showCodes('ended', host ? dismissal : {});
  byId('ended-next').textContent = next;
  byId('rejoin-button').hidden = !rejoin;
  byId('connection-state').textContent = '';
  showScreen('ended');
  announce(t('{title}. {sentence}', { title, sentence: dismissal.message }), { assertive: true });
}

// --- the camera and microphone on the join page --------------------------------------

async function fillDevices(local) {
  let found;
  try {
    found = await local.devices();
  } catch {
    return;
  }
  for (const [select, list, words] of [
    [byId('camera-select'), found.cameras,
      { default: t('Default camera'), numbered: t('camera {number}'), none: t('No camera') }],
    [byId('mic-select'), found.microphones,
      { default: t('Default microphone'), numbered: t('microphone {number}'), none: t('No microphone') }],
  ]) {
    const current = select.value;
    select.replaceChildren(h('option', { value: '' }, words.default),
      ...list.map((device, index) => h('option', { value: device.deviceId },
        device.label || words.numbered.replace('{number}', String(index + 1)))),
      h('option', { value: 'none' }, words.none));
    select.value = current;
  }
}

/** Opens the chosen camera and microphone; the preview shows the camera. */
export async function openDevices(local) {
  const status = byId('device-status');
  try {
    await local.open({ cameraId: byId('camera-select').value, microphoneId: byId('mic-select').value });
    status.textContent = '';
  } catch (error) {
    status.textContent = error.message;
  }
  const stream = local.camera ? new MediaStream([local.camera]) : null;
  byId('preview').srcObject = stream;
  byId('waiting-preview').srcObject = stream;
  byId('preview-off').hidden = Boolean(local.camera);
  await fillDevices(local);
}

export function meterLoop(local) {
  if (!byId('screen-join').hidden) byId('mic-level').value = local.level();
  requestAnimationFrame(() => meterLoop(local));
}
