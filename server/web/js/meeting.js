// The meeting page (/m/{id}): join, the waiting room, the meeting, and for
// hosts the console. One socket (connection.js); the screens follow what the
// server says: waiting, admitted, join_refused, dismissed, back_to_waiting_room.

import { AuditLog } from './audit.js';
import { isHost } from './audience.js';
import { Call } from './call.js';
import { Chat } from './chat.js';
import { Connection } from './connection.js';
import { Controls } from './controls.js';
import {
  fetchEntryRules, showCameraRequirement, showEntryRules, showWaitingCamera,
} from './entry.js';
import { announce, byId, h, show } from './dom.js';
import { Files } from './files.js';
import { Grid } from './grid.js';
import { TileSizes } from './tilesizes.js';
import { LocalMedia } from './media.js';
import { entryOrigin, isGone, moveTo, takeMove } from './moving.js';
import { People } from './people.js';
import { PolicyTab } from './policytab.js';
import { Results, toast } from './results.js';
import { ShareLink } from './sharelink.js';
import { sidePanel } from './sidepanel.js';
import { setUpTabs } from './tabs.js';
import { WaitingPrompt } from './waiting.js';
import {
  clearRefusal, joinBusy, meterLoop, openDevices, setTopbar, showEnded, showRefusal, showScreen,
} from './screens.js';
import { language, languageHeaders, mountLanguageSwitch, t } from './i18n.js';

const RECONNECT_DELAYS_MS = [1000, 2000, 4000, 8000, 15000];
const CLOSE_REPLACED = 4009; // meetwarden.protocol: the same person joined elsewhere; never fight it

const meetingId = decodeURIComponent(location.pathname.split('/m/')[1] ?? '');
const keys = {
  host: `meetwarden.host.${meetingId}`,
  invite: `meetwarden.invite.${meetingId}`,
  device: `meetwarden.device.${meetingId}`,
  name: 'meetwarden.name',
};

// The host token and an invite come in the link's fragment (never sent to a
// server); keep them for this tab and take them out of the address bar.
// A page that moved here from another node brings its join too (moving.js).
const carried = (function readFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get('host')) sessionStorage.setItem(keys.host, params.get('host'));
  if (params.get('invite')) sessionStorage.setItem(keys.invite, params.get('invite'));
  const move = takeMove(params, meetingId);
  if (location.hash) history.replaceState(null, '', location.pathname);
  return move;
}());

const app = {
  meetingId,
  hostToken: sessionStorage.getItem(keys.host),
  invite: sessionStorage.getItem(keys.invite),
  connection: null,
  state: freshState(),
  names: new Map(),
  view: null,
  clockOffset: 0,
  local: new LocalMedia(),
  publisher: null,
  subscriber: null,
  mediaProblem: null,
  async act(message, label, holds = null) {
    try {
      const result = await app.connection.request(message);
      app.results.show(label, result, holds);
      app.audit.refreshSoon();
      return result;
    } catch (error) {
      app.results.show(label, error);
      return null;
    }
  },
  /** A host admits someone waiting; "was admitted" holds until they wait again. */
  admit(entry) {
    let left = false;
    const holds = () => {
      const waits = app.state.waiting.some((each) => each.id === entry.id);
      if (!waits) left = true;
      return !(left && waits);
    };
    return app.act({ type: 'admit', participant: entry.id }, t('Admit {name}', { name: entry.name }), holds);
  },
};

function freshState() {
  return {
    status: 'join', participantId: null, role: null, you: null, roster: [], waiting: [],
    meeting: null, resumeToken: null, refusal: null, dismissal: null, userLeft: false,
    join: null, attempt: 0, iceServers: [],
  };
}

app.results = new Results({ status: byId('console-status'), log: byId('result-log'), history: byId('result-history') });
app.grid = new Grid({ grid: byId('grid'), screens: byId('screens'), audio: byId('audio-sinks') });
app.grid.tileSizes = new TileSizes((message) => app.connection?.send(message));
function tabShown(name) {
  if (name === 'chat') app.chat.seen();
  if (name === 'files') app.files.seen();
}
const tabs = setUpTabs(byId('tabs'), (name) => {
  tabShown(name);
  if (name === 'audit') app.audit.load();
});
app.side = sidePanel(byId('tabs'), () => tabShown(tabs.current()));
app.chat = new Chat(app, {
  log: byId('chat-log'), form: byId('chat-form'), input: byId('chat-input'), why: byId('chat-why'),
  count: byId('chat-count'), isVisible: () => tabs.current() === 'chat' && app.side.isShown,
});
app.people = new People(app);
app.waitingPrompt = new WaitingPrompt(app);
app.policyTab = new PolicyTab(app);
app.audit = new AuditLog(app);
app.files = new Files(app);
app.controls = new Controls(app);
app.shareLink = new ShareLink(app);
app.call = new Call(app);

// --- joining -------------------------------------------------------------------

async function startJoin(event) {
  event?.preventDefault();
  joinBusy(true);
  // The rules shown first (the server decides the join by them either way).
  await Promise.all([app.devicesReady, app.entryRulesShown.catch(() => {})]);
  clearRefusal();
  const name = byId('join-name').value.trim();
  // The server writes its sentences (refusals, notices) in the page's language.
  const join = { name, language };
  const password = byId('join-password').value;
  if (app.hostToken) join.host_token = app.hostToken;
  else if (app.invite) join.invite = app.invite;
  else if (password) join.password = password;
  app.local.audioContext?.resume().catch(() => {});
  app.state = { ...freshState(), join };
  openConnection(join);
}

function openConnection(join) {
  const deviceToken = localStorage.getItem(keys.device);
  const message = { ...join };
  if (deviceToken) message.device_token = deviceToken;
  if (app.state.resumeToken) message.resume_token = app.state.resumeToken;
  const connection = new Connection(meetingId);
  app.connection = connection;
  connection.addEventListener('message', (event) => receive(event.detail));
  connection.addEventListener('close', (event) => closed(connection, event.detail));
  connection.connect(message);
}

// --- what the server says ------------------------------------------------------------

function remember(entries) {
  for (const entry of entries) app.names.set(entry.id, entry.name);
}

/** A list after a roster_update or waiting_update: each entry in place of the one with its
 * id, or at the end; the removed ids gone. */
function updated(list, { entries, removed }) {
  const fresh = new Map(entries.map((entry) => [entry.id, entry]));
  const gone = new Set(removed);
  const kept = list.filter((entry) => !gone.has(entry.id)).map((entry) => {
    const next = fresh.get(entry.id) ?? entry;
    fresh.delete(entry.id);
    return next;
  });
  return [...kept, ...fresh.values()];
}

function receive(message) {
  const { state } = app;
  switch (message.type) {
    case 'welcome':
      state.participantId = message.participant_id;
      state.role = message.role;
      // Single use: each welcome brings the one token that resumes this place next time.
      if (message.resume_token) state.resumeToken = message.resume_token;
      localStorage.setItem(keys.device, message.device_token);
      // The name the server let in is the one to offer next time (a refused one is not).
      if (state.join?.name) rememberName(state.join.name);
      break;
    case 'waiting':
      enterWaiting(message.message);
      break;
    case 'admitted':
      enterMeeting(message);
      break;
    case 'join_refused':
      state.refusal = message;
      break;
    case 'moved':
      state.moved = message.server;
      break;
    case 'dismissed':
      state.dismissal = message;
      break;
    case 'back_to_waiting_room':
      // Said on the waiting screen that follows, not in a toast over it.
      state.sentBack = message.message;
      state.sentBackReason = message.reason;
      leaveMeetingView();
      break;
    case 'roster_update':
      state.roster = updated(state.roster, message);
      remember(message.entries);
      app.grid.update(state.roster);
      app.people.render();
      app.chat.people(state.roster);
      break;
    case 'waiting_list':
      state.waiting = message.waiting;
      remember(message.waiting);
      app.people.render();
      break;
    case 'waiting_update':
      state.waiting = updated(state.waiting, message);
      remember(message.entries);
      app.people.render();
      break;
    case 'you':
      takeYou(message.you);
      break;
    case 'meeting': {
      const revision = state.meeting?.policy_revision;
      state.meeting = message.meeting;
      topbar();
      app.people.render();
      if (revision !== message.meeting.policy_revision) fetchView();
      break;
    }
    case 'policy':
      app.policyTab.take(message);
      break;
    case 'notice':
      notice(message);
      break;
    case 'chat':
      app.chat.add(message);
      break;
    case 'subscribe_offer':
      app.subscriber?.take(message);
      break;
    case 'file_shared':
      app.files.add(message);
      break;
    case 'speaking':
      app.call.heardFromServer(message.participants);
      break;
    case 'error':
      if (state.status === 'join') state.refusal = { reason: message.code, rule: '', message: message.message };
      // An answer to what was sent while still in the meeting (a subscribe answer, say)
      // says nothing true once out of it: never a red toast on the waiting or ended screen.
      else if (state.status === 'admitted' && !state.dismissal) {
        const problem = message.message;
        toast(isHost(state.role)
          ? t('The server could not take a message: {problem} ({code})', { problem, code: message.code })
          : t('The server could not take a message: {problem}', { problem }), { refused: true });
      }
      break;
    default:
      break;
  }
}

function takeYou(you) {
  const before = app.state.you;
  app.state.you = you;
  app.state.role = you.role;
  if (before && before.role !== you.role) {
    setHostTabs();
    app.people.render();
    fetchView();
  }
  app.controls.youChanged(before, you);
  const hadGrant = before?.grants?.some((grant) => grant.kind === 'screen');
  if (!hadGrant && you.grants.some((grant) => grant.kind === 'screen')) app.controls.granted();
  app.controls.render();
  app.files.render();
}

function notice(message) {
  switch (message.topic) {
    case 'hand_raised':
    case 'share_requested':
      app.people.addRequest(message);
      break;
    case 'grant_revoked':
    case 'grant_expired':
      if (message.about === app.state.participantId || !message.about) {
        if (message.kind === 'file') app.files.grantEnded(message);
        else app.controls.grantEnded(message);
      }
      break;
    case 'asked_to_unmute':
      app.controls.askedToUnmute();
      break;
    default:
      break;
  }
  if (message.text) {
    toast(message.text);
    announce(message.text);
  }
}

function enterWaiting(text) {
  leaveMeetingView();
  app.state.status = 'waiting';
  app.state.attempt = 0;
  const why = app.state.sentBack ? `${app.state.sentBack} ` : '';
  app.state.sentBack = null;
  byId('waiting-message').textContent = why + (text || t('The host will let you in soon.'));
  showLanguageSwitch(false);
  waitingCamera();
  byId('connection-state').textContent = '';
  joinBusy(false);
  topbar();
  showScreen('waiting');
  announce(t('You are in the waiting room. The host will let you in.'));
}

function setHostTabs() {
  const host = ['host', 'cohost'].includes(app.state.role);
  tabs.setVisible('policy', host);
  tabs.setVisible('audit', host && Boolean(app.hostToken));
  byId('tab-rules').hidden = false;
}

function enterMeeting(admitted) {
  const { state } = app;
  const resumed = state.status === 'reconnecting';
  state.status = 'admitted';
  state.attempt = 0;
  state.meeting = admitted.meeting;
  state.roster = admitted.roster;
  state.resumeToken = admitted.resume_token;
  state.iceServers = admitted.ice_servers ?? [];
  state.simulcast = admitted.simulcast === true;
  remember(admitted.roster);
  byId('connection-state').textContent = '';
  joinBusy(false);
  app.grid.setSelf(state.participantId, app.local.camera);
  takeYou(admitted.you);
  app.grid.update(state.roster);
  topbar();
  setHostTabs();
  app.people.render();
  app.chat.people(state.roster);
  app.controls.render();
  if (!resumed) showScreen('meeting');
  showLanguageSwitch(false);
  fetchView();
  app.call.start();
  announce(resumed ? t('You are back in the meeting.') : t('You are in the meeting.'));
}

/** Out of the meeting view: nothing of the meeting stays on screen. */
function leaveMeetingView() {
  app.call.stop();
  app.grid.clear();
  app.chat.clear();
  app.people.clear();
  app.results.clear();
  app.files.clear();
  app.controls.reset();
  app.waitingPrompt.clear();
  app.shareLink.clear();
  app.side.clear();
  byId('toasts').replaceChildren();
  Object.assign(app.state, { roster: [], waiting: [], meeting: null });
  app.view = null;
  byId('rules-list').replaceChildren();
  topbar();
}

/** Joins again on another node's page: the one that holds the meeting, or the link's. */
function move(server, gone = false) {
  const { state } = app;
  return moveTo(server, meetingId, {
    join: state.join, resumeToken: state.resumeToken, hostToken: app.hostToken, invite: app.invite, gone,
  });
}

const MOVE_RETRY_MS = 1000;
const MOVE_RETRIES = 30;

/** Sent back to the node this page just left because it stopped answering: until the
 * cluster sees it gone (a few seconds), ask here again rather than go there. */
function askAgainHere() {
  const { state } = app;
  state.moved = null;
  state.moveRetries = (state.moveRetries ?? 0) + 1;
  if (state.moveRetries > MOVE_RETRIES) return false;
  byId('connection-state').textContent = t('Connection lost; reconnecting…');
  setTimeout(() => openConnection(state.join), MOVE_RETRY_MS);
  return true;
}

function closed(connection, { code }) {
  if (connection !== app.connection) return;
  const { state } = app;
  if (state.moved && isGone(state.moved, meetingId) && askAgainHere()) return;
  if (state.moved && move(state.moved)) return;
  if (state.dismissal) {
    leaveMeetingView();
    ended(state.dismissal);
  } else if (state.refusal) {
    joinBusy(false);
    showScreen('join');
    showRefusal(state.refusal, { host: Boolean(app.hostToken) });
  } else if (state.userLeft) {
    leaveMeetingView();
    ended({ why: 'left', message: t('You left the meeting.'), reason: '', rule: '' });
  } else if (code === CLOSE_REPLACED) {
    leaveMeetingView();
    ended({ why: 'replaced', message: t('You joined this meeting from another window.'), reason: '', rule: '' });
  } else if (state.status === 'join') {
    joinBusy(false);
    showRefusal({
      reason: '', rule: '', message: t('Could not reach the meeting (the connection closed, code {code}).', { code }),
    });
  } else {
    reconnect();
  }
}

function topbar() {
  setTopbar(app.state.status === 'admitted' ? app.state.meeting : null);
}

function ended(dismissal) {
  const host = Boolean(app.hostToken) || isHost(app.state.role);
  app.state.status = 'ended';
  showEnded(dismissal, { host });
  showLanguageSwitch(true);
}

/** The language is chosen before joining: the server writes a person's sentences in the
 * language their join named, so the switch (which reloads the page) is offered only
 * outside the meeting. */
function showLanguageSwitch(visible) {
  if (languageControl) languageControl.hidden = !visible;
}

function reconnect() {
  const { state } = app;
  app.call.stop();
  if (state.attempt >= RECONNECT_DELAYS_MS.length) {
    leaveMeetingView();
    ended({ why: 'lost', message: t('The connection to the meeting was lost.'), reason: '', rule: '' });
    return;
  }
  const entry = entryOrigin(meetingId);
  if (state.attempt >= 2 && entry && entry !== location.origin && move(entry, true)) {
    return; // this node is gone: the link's node knows which one holds the meeting now
  }
  state.status = 'reconnecting';
  const delay = RECONNECT_DELAYS_MS[state.attempt];
  state.attempt += 1;
  byId('connection-state').textContent = t('Connection lost; reconnecting…');
  announce(t('The connection was lost; reconnecting.'), { assertive: true });
  setTimeout(() => openConnection(state.join), delay);
}

// --- the policy as it concerns this participant ---------------------------------------

async function fetchView() {
  const token = app.state.resumeToken;
  if (!token) return;
  const sent = Date.now() / 1000;
  try {
    const response = await fetch(`/api/meetings/${encodeURIComponent(meetingId)}/participant-view`, {
      headers: languageHeaders({ Authorization: `Bearer ${token}` }),
    });
    if (!response.ok) return;
    const view = await response.json();
    const received = Date.now() / 1000;
    app.view = view;
    app.clockOffset = view.server_time - (sent + received) / 2;
    byId('rules-list').replaceChildren(...view.rules.map((rule) => h('li', { dataset: { rule: rule.rule } },
      h('span', { class: 'sentence' }, rule.text))));
    app.chat.setRule(view.chat.allowed, app.state.role, view.chat.private);
    app.controls.viewChanged(view);
    app.files.viewChanged(view);
    app.shareLink.render();
  } catch {
    // The controls fall back to the private defaults (a window only, muted until allowed).
  }
}

// --- leaving -----------------------------------------------------------------------

async function leave() {
  app.state.userLeft = true;
  try {
    await app.connection.request({ type: 'leave' }, 5000);
  } catch { /* the socket closes either way */ }
  app.connection.close();
}

// --- start -------------------------------------------------------------------------

// --- the name used last time ------------------------------------------------------

function rememberName(name) {
  localStorage.setItem(keys.name, name);
}

/** "Remembered from your last meeting" holds while the field has that name. */
function showRemembered() {
  const remembered = localStorage.getItem(keys.name);
  show(byId('join-name-remembered'), Boolean(remembered) && byId('join-name').value === remembered);
}

function offerRememberedName() {
  const remembered = localStorage.getItem(keys.name);
  if (remembered && !byId('join-name').value) byId('join-name').value = remembered;
  showRemembered();
}

byId('forget-name').addEventListener('click', () => {
  localStorage.removeItem(keys.name);
  byId('join-name').value = '';
  showRemembered();
  byId('join-name').focus();
  announce(t('Your name is forgotten in this browser.'));
});

const languageControl = mountLanguageSwitch();
offerRememberedName();
show(byId('join-as-host'), Boolean(app.hostToken));
show(byId('join-with-invite'), !app.hostToken && Boolean(app.invite));
show(byId('password-field'), !app.hostToken && !app.invite);
byId('join-form').addEventListener('submit', startJoin);
joinBusy(false); // the Join button starts disabled in the page, until this listens
// Until the entry rules are shown the button is marked unavailable: the requirements box
// above the form and the password field they hide move it, and a press must land where it
// was aimed (a layout shift under the pointer). Not `disabled`: Enter in the form still
// joins, and the join waits for the rules (startJoin).
byId('join-button').setAttribute('aria-disabled', 'true');
// A refusal about the name stops being true as the name is retyped, and so does
// "remembered" once it is another name.
byId('join-name').addEventListener('input', () => {
  if (byId('join-name').getAttribute('aria-invalid') === 'true') clearRefusal();
  showRemembered();
});
const who = () => ({ host: Boolean(app.hostToken), invite: Boolean(app.invite) });
function devicesChanged() {
  app.devicesReady = openDevices(app.local).then(() => {
    showCameraRequirement(app.entryRules, app.local, who());
    waitingCamera();
  });
}
function waitingCamera() {
  showWaitingCamera(app.entryRules, app.local, app.state.sentBackReason, who());
}
for (const select of [byId('camera-select'), byId('mic-select')]) {
  select.addEventListener('change', devicesChanged);
}
byId('waiting-camera-on').addEventListener('click', () => {
  if (byId('camera-select').value === 'none') byId('camera-select').value = '';
  devicesChanged();
});
byId('leave-button').addEventListener('click', leave);
byId('waiting-leave').addEventListener('click', leave);
byId('rejoin-button').addEventListener('click', () => {
  app.state = freshState();
  clearRefusal();
  showScreen('join');
});
setInterval(() => { if (app.state.status === 'admitted') app.people.render(); }, 15000);
if (!meetingId) showRefusal({ reason: '', rule: '', message: t('This link has no meeting in it.') });
app.entryRules = null;
devicesChanged();
app.entryRulesShown = fetchEntryRules(meetingId).then((rules) => {
  app.entryRules = rules;
  showEntryRules(rules, who());
  showCameraRequirement(rules, app.local, who());
}).finally(() => byId('join-button').removeAttribute('aria-disabled'));
meterLoop(app.local);
if (carried) joinAfterMove(carried);

/** The join this page was moved here with, sent at once: the person pressed Join already. */
async function joinAfterMove({ join, resumeToken }) {
  byId('join-name').value = join.name ?? '';
  joinBusy(true);
  await app.devicesReady;
  app.state = { ...freshState(), join, resumeToken };
  openConnection(join);
}
