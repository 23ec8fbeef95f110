// The sign-in page: username and password, then the create page.

import { announce, byId, focusOn } from './dom.js';
import { currentSession, problemOf } from './session.js';
import { languageHeaders, mountLanguageSwitch, t } from './i18n.js';

function showError(text) {
  const box = byId('sign-in-error');
  box.textContent = text;
  box.hidden = false;
  announce(text, { assertive: true });
}

async function signIn(event) {
  event.preventDefault();
  byId('sign-in-error').hidden = true;
  const username = byId('username').value.trim();
  const password = byId('password').value;
  if (!username || !password) {
    showError(t('Enter your username and your password.'));
    byId(username ? 'password' : 'username').focus();
    return;
  }
  const button = byId('sign-in');
  button.disabled = true;
  try {
    const response = await fetch('/api/session', {
      method: 'POST',
      headers: languageHeaders({ 'Content-Type': 'application/json' }),
      body: JSON.stringify({ username, password }),
    });
    if (!response.ok) {
      const problem = await problemOf(response);
      showError(problem.detail);
      byId('password').value = '';
      byId('password').focus();
      return;
    }
    location.assign('/');
  } catch (error) {
    showError(t('Could not reach the server: {problem}.', { problem: error.message }));
  } finally {
    button.disabled = false;
  }
}

async function start() {
  mountLanguageSwitch();
  byId('sign-in-form').addEventListener('submit', signIn);
  byId('sign-in').disabled = false; // disabled in the page until now: no native submit
  const session = await currentSession().catch(() => null);
  // The form works while the session is asked for: someone already typing in it keeps the
  // focus where they put it, and what they type goes on landing there.
  const untouched = document.activeElement === null || document.activeElement === document.body;
  if (session) {
    byId('signed-in-name').textContent = session.username;
    byId('signed-in').hidden = false;
    if (untouched) focusOn(byId('signed-in-title'));
  } else if (untouched) {
    byId('username').focus();
  }
}

start();
