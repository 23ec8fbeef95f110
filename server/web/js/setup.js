// The set-up page: a one-time link (#token=...) makes a host account.
//
// The token stays in the fragment, which the browser never sends; it is
// removed from the address bar at once, and sent only in the body of the
// request that uses it up.

import { announce, byId } from './dom.js';
import { problemOf } from './session.js';
import { languageHeaders, mountLanguageSwitch, t } from './i18n.js';

const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
if (location.hash) history.replaceState(null, '', location.pathname);

function fieldError(name, text) {
  const box = byId(`${name}-error`);
  box.textContent = text;
  box.hidden = !text;
  const input = byId(name);
  if (text) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function showError(text) {
  const box = byId('setup-error');
  box.textContent = text;
  box.hidden = false;
  announce(text, { assertive: true });
}

async function setUp(event) {
  event.preventDefault();
  byId('setup-error').hidden = true;
  for (const name of ['username', 'password', 'password-again']) fieldError(name, '');
  const username = byId('username').value.trim().toLowerCase();
  const password = byId('password').value;
  if (password !== byId('password-again').value) {
    fieldError('password-again', t('The two passwords differ.'));
    byId('password-again').focus();
    return;
  }
  const button = byId('set-up');
  button.disabled = true;
  try {
    const response = await fetch('/api/accounts', {
      method: 'POST',
      headers: languageHeaders({ 'Content-Type': 'application/json' }),
      body: JSON.stringify({ token, username, password }),
    });
    if (!response.ok) {
      const problem = await problemOf(response);
      if (problem.field) {
        fieldError(problem.field, problem.detail);
        byId(problem.field).focus();
        announce(problem.detail, { assertive: true });
      } else {
        showError(problem.detail);
      }
      return;
    }
    location.assign('/');
  } catch (error) {
    showError(t('Could not reach the server: {problem}.', { problem: error.message }));
  } finally {
    button.disabled = false;
  }
}

mountLanguageSwitch();
byId('setup-form').addEventListener('submit', setUp);
// Disabled in the page until now, so that the form never submits natively (a password in a URL).
if (!token) {
  byId('no-token').hidden = false;
} else {
  byId('set-up').disabled = false;
  byId('username').focus();
}
