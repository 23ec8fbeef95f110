// The Files panel: share a file, see what the server decided, download what
// others shared.
//
// The server decides every file (who may share, the size, what the content
// really is); this panel says beforehand what the policy allows you (the
// participant view's file_share and your grants), and afterwards shows the
// server's answer: its sentence, reason code and rule. Names, types and
// senders are text, never HTML. Downloads go through fetch with the token in
// a header and are saved from a Blob under the sanitised name.

import { isHost } from './audience.js';
import { announce, byId, download, fill, formatDuration, h } from './dom.js';
import { FileRefusal, TransferError, fetchFile, fileToken, sendFile } from './filetransfer.js';
import { t } from './i18n.js';

const MAX_LISTED = 200;

/** The server's way of writing sizes (policies/rules/files.py), so limits read alike. */
export function formatSize(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return bytes === 1 ? t('1 byte') : t('{count} bytes', { count: bytes });
}

/** The sentence of a refusal, and for a host its reason code and rule (a participant
 * reads the sentence only). */
function refusalParts(error, host) {
  // A transfer that got no answer has no reason code from the server: its sentence says it all.
  const codes = error instanceof TransferError || !host ? [] : [error.code, error.rule].filter(Boolean);
  let sentence = error.message;
  if (error instanceof FileRefusal && error.retryAfter) {
    sentence = t('{sentence} Try again in {seconds} seconds.', { sentence, seconds: error.retryAfter });
  }
  return { sentence, codes };
}

function codeLine(codes) {
  if (!codes.length) return null;
  const parts = codes.flatMap((code, index) => [index ? t(', ') : '', h('code', {}, code)]);
  return h('span', { class: 'file-codes' }, ' ', t('('), parts, t(')'));
}

export class Files {
  constructor(app) {
    this.app = app;
    this.listed = new Set();
    this.unread = 0;
    this.note = null; // { text, refused }: an answer about permission (asked the host, grant ended)
    this.busy = false;
    this.transfer = null;
    this.hadGrant = false;
    this.generation = 0; // bumped when the meeting view is cleared: late answers are dropped
    byId('file-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.share();
    });
    byId('file-ask').addEventListener('click', () => this.ask());
    byId('file-cancel').addEventListener('click', () => this.transfer?.abort());
    byId('file-input').addEventListener('change', () => {
      this.setResult(null); // the last file's answer is not about this one
      this.render();
    });
    setInterval(() => { if (this.app.state.status === 'admitted') this.render(); }, 1000);
  }

  get you() {
    return this.app.state.you;
  }

  clear() {
    this.generation += 1;
    this.transfer?.abort();
    this.transfer = null;
    this.busy = false;
    this.listed.clear();
    this.note = null;
    this.hadGrant = false;
    byId('file-list').replaceChildren();
    byId('file-empty').hidden = false;
    byId('file-input').value = '';
    this.showProgress(null);
    this.setResult(null);
    this.seen();
  }

  // --- may I share? ---------------------------------------------------------------

  remaining(grant) {
    return grant.expires_at - (Date.now() / 1000 + this.app.clockOffset);
  }

  grant() {
    return this.you?.grants?.find((each) => each.kind === 'file' && this.remaining(each) > 0) ?? null;
  }

  /** What the policy lets you do now, and why not (the engine's own sentences). */
  permission() {
    if (!this.you) return { may: false, why: '' };
    const mode = this.app.view?.file_share?.allowed;
    if (mode === 'nobody') return { may: false, why: t('Nobody may share files in this meeting.') };
    // Before the view arrives the server alone decides: let people try.
    if (mode === undefined || mode === 'anyone' || isHost(this.you.role)) return { may: true, why: '' };
    if (mode === 'host_only') return { may: false, why: t('Only the host may share files in this meeting.') };
    const grant = this.grant();
    if (!grant) return { may: false, why: t('Ask the host for permission to share files first.'), ask: true };
    return { may: true, why: t('You may share files for {time}.', { time: formatDuration(this.remaining(grant)) }) };
  }

  render() {
    if (!this.you) return;
    const permission = this.permission();
    const granted = Boolean(this.grant());
    if (granted && !this.hadGrant) this.note = null; // a new grant: "the host has been asked" is over
    this.hadGrant = granted;
    const input = byId('file-input');
    input.disabled = !permission.may || this.busy;
    byId('file-send').disabled = !permission.may || this.busy;
    byId('file-ask').hidden = !permission.ask || this.busy;
    byId('file-cancel').hidden = !this.busy;
    const rules = this.app.view?.file_share;
    const chosen = input.files?.[0];
    // Said before sending, since the whole file would go for nothing; the server decides anyway.
    const tooLarge = permission.may && rules && chosen && chosen.size > rules.max_bytes
      ? t('{file} is {size}; files here can be at most {limit}, so the server will refuse it.', {
        file: chosen.name, size: formatSize(chosen.size), limit: formatSize(rules.max_bytes),
      })
      : '';
    const why = byId('file-why');
    why.textContent = this.note?.text ?? ([permission.why, tooLarge].filter(Boolean).join(' '));
    why.classList.toggle('refused', Boolean(this.note?.refused || tooLarge));
    if (rules) {
      input.accept = rules.types.join(',');
      byId('file-limits').textContent = t('Up to {limit}; accepted: {types}. The server checks what each file really is; programs and scripts are never accepted.', {
        limit: formatSize(rules.max_bytes), types: rules.types.join(', '),
      });
    }
  }

  /** The policy in force changed (or first arrived): an earlier answer about permission
   * ("the host has been asked", "your permission ended") was about the old one. */
  viewChanged() {
    this.note = null;
    this.render();
  }

  /** The host revoked our file grant, or it ran out. */
  grantEnded(notice) {
    this.note = { text: notice.text, refused: true };
    this.render();
  }

  async ask() {
    let text;
    let refused;
    try {
      const answer = await this.app.connection.request({ type: 'request_share', kind: 'file' });
      text = answer.message;
      refused = !answer.allowed;
    } catch (error) {
      text = t('Could not ask the host: {problem}', { problem: error.message });
      refused = true;
    }
    this.note = { text, refused };
    this.render();
    announce(text, { assertive: refused });
  }

  // --- sharing ----------------------------------------------------------------------

  async share() {
    const input = byId('file-input');
    const file = input.files?.[0];
    if (!file) {
      this.setResult({ refused: true, lead: t('No file was chosen.'), sentence: t('Choose a file to share first.') });
      input.focus();
      return;
    }
    if (this.busy) return;
    const generation = this.generation;
    this.busy = true;
    this.setResult(null);
    this.showProgress({ stage: 'asking', name: file.name });
    this.render();
    try {
      const { token, uploadPath } = await fileToken(this.app.connection);
      if (generation !== this.generation) return; // left the meeting meanwhile: send nothing
      this.transfer = sendFile({
        path: uploadPath,
        token,
        file,
        onProgress: (sent, total) => this.showProgress({ stage: 'sending', name: file.name, sent, total }),
        onSent: () => this.showProgress({ stage: 'checking', name: file.name }),
      });
      this.showProgress({ stage: 'sending', name: file.name, sent: 0, total: file.size });
      const shared = await this.transfer.done;
      if (generation !== this.generation) return;
      input.value = '';
      this.add({ ...shared, sender: this.app.state.participantId, sender_name: this.you?.name ?? '' });
      const sentence = shared.decision?.message || t('Your file is shared.');
      this.setResult({ refused: false, lead: t('{file}:', { file: shared.name }), sentence });
    } catch (error) {
      if (generation !== this.generation) return;
      const { sentence, codes } = refusalParts(error, isHost(this.you?.role));
      this.setResult({ refused: true, lead: t('{file} was not shared:', { file: file.name }), sentence, codes });
    } finally {
      if (generation === this.generation) this.finishUpload();
    }
  }

  finishUpload() {
    this.transfer = null;
    this.busy = false;
    this.showProgress(null);
    this.render();
  }

  showProgress(state) {
    const box = byId('file-progress');
    const bar = byId('file-progress-bar');
    const label = byId('file-progress-label');
    box.hidden = !state;
    box.dataset.stage = state?.stage ?? '';
    if (!state) return;
    if (state.stage === 'sending' && state.total > 0) {
      bar.max = state.total;
      bar.value = state.sent;
      const percent = Math.floor((100 * state.sent) / state.total);
      label.textContent = t('Sending {file}: {percent} % ({sent} of {total})', {
        file: state.name, percent, sent: formatSize(state.sent), total: formatSize(state.total),
      });
      return;
    }
    bar.removeAttribute('value'); // indeterminate: the server is working, the amount is unknown
    label.textContent = state.stage === 'checking'
      ? t('The server is checking {file}…', { file: state.name })
      : t('Getting ready to send {file}…', { file: state.name });
    if (state.stage !== 'sending') announce(label.textContent);
  }

  /** The latest result: `lead` and the server's `sentence`, then `(reason, rule)` when refused. */
  setResult(result) {
    const box = byId('file-result');
    if (!result) {
      box.replaceChildren();
      box.className = 'file-result';
      return;
    }
    box.className = `file-result ${result.refused ? 'refused' : 'allowed'}`;
    fill(box,
      h('span', { class: 'file-lead' }, result.lead), ' ',
      h('span', { class: 'file-sentence' }, result.sentence),
      codeLine(result.codes ?? []));
    announce(box.textContent, { assertive: result.refused });
  }

  // --- the list of shared files --------------------------------------------------------

  /** A `file_shared` message (or our own upload's answer): someone's file passed the checks. */
  add(message) {
    if (this.listed.has(message.file_id)) return;
    this.listed.add(message.file_id);
    const mine = message.sender === this.app.state.participantId;
    const status = h('p', { class: 'file-item-status' });
    const button = h('button', {
      type: 'button', class: 'small', 'aria-label': t('Download {file}', { file: message.name }),
    }, t('Download'));
    button.addEventListener('click', () => this.downloadFile(message, button, status));
    const list = byId('file-list');
    list.prepend(h('li', { class: 'file-item', dataset: { fileId: message.file_id } },
      h('div', { class: 'file-head' },
        h('span', { class: 'file-name' }, message.name),
        button),
      h('p', { class: 'file-meta hint' },
        h('span', { class: 'file-size' }, formatSize(message.size)), t(', '),
        h('span', { class: 'file-type' }, message.content_type), t(', from '),
        h('span', { class: 'file-sender' }, mine ? t('you') : message.sender_name)),
      status));
    while (list.childElementCount > MAX_LISTED) list.lastElementChild.remove();
    byId('file-empty').hidden = true;
    if (!mine) {
      announce(t('{name} shared a file: {file}.', { name: message.sender_name, file: message.name }));
      if (byId('panel-files').hidden || !this.app.side.isShown) {
        this.unread += 1;
        byId('files-count').textContent = String(this.unread);
        byId('files-count').hidden = false;
      }
    }
  }

  seen() {
    this.unread = 0;
    byId('files-count').hidden = true;
  }

  async downloadFile(message, button, status) {
    button.disabled = true;
    status.className = 'file-item-status';
    status.textContent = t('Downloading…');
    try {
      const { token } = await fileToken(this.app.connection);
      const blob = await fetchFile({ meetingId: this.app.meetingId, fileId: message.file_id, token });
      download(message.name, blob);
      status.textContent = t('Downloaded ({size}).', { size: formatSize(blob.size) });
    } catch (error) {
      const { sentence, codes } = refusalParts(error, isHost(this.you?.role));
      status.className = 'file-item-status refused';
      fill(status, t('Not downloaded: {sentence}', { sentence }), codeLine(codes));
      announce(status.textContent, { assertive: true });
    } finally {
      button.disabled = false;
    }
  }
}
