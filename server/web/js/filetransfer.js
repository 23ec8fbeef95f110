// Files over HTTP (docs/files.md): a token from the socket, an upload, a download.
//
// The token says who is asking and is bound to this socket's connection; it
// goes in the Authorization header only, never in an address (addresses end
// up in logs and histories). A fresh token is asked for before each request,
// as tokens.py advises: it is checked when a request starts, and a reconnect
// ends every token of the old connection.
//
// The upload is an XMLHttpRequest, not fetch: fetch reports no upload progress
// (and streams a request body only over HTTP/2). The browser streams the File
// from disk; its type, guessed by the browser from the name, is what we claim,
// and the server judges the content anyway.

import { language, languageHeaders, t } from './i18n.js';

/** A refusal from the file endpoints: problem+json with a sentence, reason code and rule. */
export class FileRefusal extends Error {
  constructor({ status, reason = '', rule = '', detail = '', retryAfter = null }) {
    super(detail || t('The server answered {status}.', { status }));
    this.status = status;
    this.code = reason;
    this.rule = rule;
    this.retryAfter = retryAfter;
  }
}

/** A transfer that did not get an answer from the server (the connection failed, or it was cancelled). */
export class TransferError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function refusalFrom(status, statusText, contentType, text, retryAfter) {
  let problem = null;
  if (/^application\/(problem\+)?json/u.test(contentType ?? '')) {
    try {
      problem = JSON.parse(text);
    } catch {
      problem = null;
    }
  }
  if (!problem || typeof problem !== 'object') {
    // Not ours (a proxy's page, say): say what came back rather than nothing.
    return new FileRefusal({
      status,
      detail: t('The server answered {status} without saying why.', { status: `${status}${statusText ? ` ${statusText}` : ''}` }),
    });
  }
  const seconds = Number.parseInt(retryAfter ?? '', 10);
  return new FileRefusal({
    status,
    reason: String(problem.reason ?? ''),
    rule: String(problem.rule ?? ''),
    detail: String(problem.detail ?? problem.title ?? ''),
    retryAfter: Number.isFinite(seconds) ? seconds : null,
  });
}

/** Asks the meeting's socket for a file token: `{ token, expiresAt, uploadPath }`. */
export async function fileToken(connection) {
  if (!connection) throw new TransferError('closed', t('You are not connected to the meeting.'));
  const answer = await connection.request({ type: 'file_token' });
  if (answer.type !== 'file_token') {
    // A refused request is a `result`; show its sentence and rule like any refusal.
    throw new FileRefusal({ status: 0, reason: answer.reason, rule: answer.rule, detail: answer.message });
  }
  const path = String(answer.upload_path ?? '');
  if (!path.startsWith('/') || path.startsWith('//')) {
    // Only ever this server: the token must not be sent anywhere else.
    throw new TransferError('bad_answer', t('The server gave an upload address that is not on this server.'));
  }
  return { token: answer.token, expiresAt: answer.expires_at, uploadPath: path };
}

/**
 * Uploads a File. Returns `{ done, abort }`: `done` resolves with the server's
 * 201 body (`file_id`, `name`, `size`, `content_type`, `decision`...) and
 * rejects with a FileRefusal or a TransferError. `onProgress(sent, total)`
 * follows the bytes; `onSent()` says every byte is out and the server is
 * checking the file.
 */
export function sendFile({ path, token, file, onProgress, onSent }) {
  const request = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    request.upload.addEventListener('progress', (event) => {
      onProgress?.(event.loaded, event.lengthComputable ? event.total : file.size);
    });
    request.upload.addEventListener('load', () => onSent?.());
    request.addEventListener('load', () => {
      const contentType = request.getResponseHeader('Content-Type');
      if (request.status === 201) {
        try {
          resolve(JSON.parse(request.responseText));
        } catch {
          reject(new TransferError('bad_answer', t('The server accepted the file but its answer could not be read.')));
        }
        return;
      }
      reject(refusalFrom(request.status, request.statusText, contentType, request.responseText,
        request.getResponseHeader('Retry-After')));
    });
    request.addEventListener('error', () => reject(new TransferError(
      'network', t('The connection to the server failed during the upload; nothing was shared.'))));
    request.addEventListener('abort', () => reject(new TransferError(
      'cancelled', t('You cancelled the upload; nothing was shared.'))));
  });
  // `?name=` is the declared name (the server sanitises it for display); the
  // Content-Type is the File's own type when the browser knows one.
  request.open('POST', `${path}?name=${encodeURIComponent(file.name)}`);
  request.setRequestHeader('Authorization', `Bearer ${token}`);
  request.setRequestHeader('Accept-Language', language);
  request.send(file);
  return { done, abort: () => request.abort() };
}

/** Downloads a shared file as a Blob (the caller saves it under the sanitised name). */
export async function fetchFile({ meetingId, fileId, token }) {
  let response;
  try {
    response = await fetch(
      `/api/meetings/${encodeURIComponent(meetingId)}/files/${encodeURIComponent(fileId)}`,
      { headers: languageHeaders({ Authorization: `Bearer ${token}` }), cache: 'no-store' },
    );
  } catch (error) {
    throw new TransferError('network', t('The download failed: {problem}', { problem: error.message }));
  }
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    throw refusalFrom(response.status, response.statusText, response.headers.get('Content-Type'), text,
      response.headers.get('Retry-After'));
  }
  try {
    return await response.blob();
  } catch (error) {
    throw new TransferError('network', t('The download stopped before the end: {problem}', { problem: error.message }));
  }
}
