// The host's first page: write a policy, create the meeting, get the links.

import { announce, byId, copyFrom, focusOn, h } from './dom.js';
import { PolicyEditor } from './editor.js';
import { JsonSyntaxError } from './jsonlocate.js';
import { csrfHeaders, currentSession, signOut } from './session.js';
import { languageHeaders, mountLanguageSwitch, t } from './i18n.js';

const STARTER = `{
  "version": 1,
  "name": ${JSON.stringify(t('My meeting'))},
  "entry": {
    "password": false,
    "waiting_room": {"enabled": true}
  },
  "audio": {"mute_on_entry": true, "unmute": "after_raised_hand"},
  "screen_share": {"allowed": "with_grant", "surfaces": ["window"]},
  "chat": {"allowed": "everyone"}
}
`;

let session = null;
// A failed creation's message is about what was sent: once the host changes the policy
// or the password it no longer holds (the editor checks the new text as it is typed).
const editor = new PolicyEditor(byId('editor-mount'), { onChange: () => edited() });
const examples = new Map();

function edited() {
  clearPasswordError();
  clearCreateError();
}

function clearCreateError() {
  const box = byId('create-error');
  box.hidden = true;
  box.replaceChildren();
}

function clearPasswordError() {
  const box = byId('password-error');
  box.hidden = true;
  box.textContent = '';
  byId('password').removeAttribute('aria-invalid');
}

async function loadExamples() {
  const select = byId('example');
  try {
    const response = await fetch('/api/policies/examples', { headers: languageHeaders() });
    if (!response.ok) throw new Error(t('the server answered {status}', { status: response.status }));
    const { examples: list } = await response.json();
    for (const example of list) {
      examples.set(example.id, example);
      select.append(h('option', { value: example.id }, example.name));
    }
  } catch (error) {
    byId('start-status').textContent = t('Could not load the examples: {problem}.', { problem: error.message });
  }
}

function useExample() {
  const example = examples.get(byId('example').value);
  if (!example) {
    byId('start-status').textContent = t('Choose an example first.');
    byId('example').focus();
    return;
  }
  editor.text = `${JSON.stringify(example.policy, null, 2)}\n`;
  byId('start-status').textContent = t('Loaded the example "{name}". Change it as you need.', { name: example.name });
  editor.focus();
}

async function useFile(event) {
  const [file] = event.target.files;
  if (!file) return;
  if (file.size > 256 * 1024) {
    byId('start-status').textContent = t('{file} is larger than a policy can be (256 KiB).', { file: file.name });
    return;
  }
  editor.text = await file.text();
  byId('start-status').textContent = t('Loaded {file}.', { file: file.name });
  editor.focus();
}

function showProblem(problem, status) {
  const box = byId('create-error');
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  // Valid, but asking what this server cannot do (a scan without clamd).
  const unsupported = problem.reason === 'policy_unsupported';
  box.replaceChildren(
    h('p', {}, h('strong', {}, problem.title ?? t('The server answered {status}', { status })), t(': '), problem.detail ?? ''),
    errors.length ? h('p', {}, unsupported
      ? t('Each is marked at its field in the policy above, with how to fix it.')
      : t('Each error is marked at its field in the policy above.')) : null,
    problem.reason ? h('p', { class: 'hint' }, t('Reason: '), h('code', {}, problem.reason)) : null,
  );
  box.hidden = false;
  if (errors.length) editor.showErrors(errors, { unsupported });
  const passwordErrors = errors.filter((error) => error.pointer === '/entry/password'
    && (error.code === 'contradiction' || error.code === 'invalid_value'));
  if (passwordErrors.length) {
    const field = byId('password-error');
    field.textContent = passwordErrors.map((error) => error.message).join(t('; '));
    field.hidden = false;
    byId('password').setAttribute('aria-invalid', 'true');
    byId('password').focus();
  } else if (errors.length) {
    editor.focusPointer(errors[0].pointer);
  }
  announce(t('The meeting was not created: {problem}', { problem: problem.detail ?? status }), { assertive: true });
}

async function create(event) {
  event.preventDefault();
  clearCreateError();
  let policy;
  try {
    policy = editor.value();
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    editor.render();
    showProblem({
      title: t('Not valid JSON'),
      detail: t('{problem}; it is marked in the policy.', { problem: error.message }),
    }, 0);
    editor.focus();
    return;
  }
  const password = byId('password').value;
  const button = byId('create');
  button.disabled = true;
  try {
    // The editor's text is sent as written (duplicate keys and all): the server judges it.
    const body = `{"policy": ${editor.text.trim() || '{}'}${password ? `, "password": ${JSON.stringify(password)}` : ''}}`;
    const response = await fetch('/api/meetings', {
      method: 'POST', headers: csrfHeaders(session, { 'Content-Type': 'application/json' }), body,
    });
    if (response.status === 401) {
      location.assign('/sign-in'); // the session ended (signed out elsewhere, or expired)
      return;
    }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      showProblem(answer, response.status);
      return;
    }
    showCreated(answer, policy);
  } catch (error) {
    showProblem({ title: t('Could not reach the server'), detail: error.message }, 0);
  } finally {
    button.disabled = false;
  }
}

function showCreated(created) {
  const hostLink = `${location.origin}/m/${encodeURIComponent(created.meeting_id)}#host=${encodeURIComponent(created.host_token)}`;
  byId('join-link').value = created.join_url;
  byId('host-link').value = hostLink;
  byId('open-host').href = hostLink;
  byId('created').hidden = false;
  focusOn(byId('created-title'));
  announce(t('The meeting is ready. Copy the link for participants, then open the meeting as host.'));
}

mountLanguageSwitch();
byId('use-example').addEventListener('click', useExample);
byId('upload').addEventListener('change', useFile);
byId('create-form').addEventListener('submit', create);
byId('password').addEventListener('input', edited);
byId('copy-join').addEventListener('click', (event) => copyFrom(byId('join-link'), event.target));
byId('copy-host').addEventListener('click', (event) => copyFrom(byId('host-link'), event.target));
editor.text = STARTER;
loadExamples();

async function showAccount() {
  session = await currentSession().catch(() => null);
  if (!session) {
    location.assign('/sign-in');
    return;
  }
  byId('account-name').textContent = session.username;
  byId('account').hidden = false;
  byId('sign-out').addEventListener('click', () => signOut(session));
  // Disabled in the page until now: no native submit, and no request sent before the
  // session's CSRF token is known (a click that early was refused as "Missing CSRF token").
  byId('create').disabled = false;
}

showAccount();
