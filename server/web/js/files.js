// File sharing: the place for the file UI. The server's file routes come with
// the file-sharing issue; until then this lists the `file_shared` messages the
// protocol already defines (names as text). Still to come here: pick a file,
// upload it (the policy's file_share.max_bytes and types are in the
// participant view), show it accepted or refused with the reason, download.

import { byId, h } from './dom.js';

function size(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

export class Files {
  constructor(app) {
    this.app = app;
  }

  clear() {
    byId('file-list').replaceChildren();
    byId('files').hidden = true;
  }

  /** A `file_shared` message: someone's file passed the checks. */
  add(message) {
    byId('files').hidden = false;
    byId('file-list').append(h('li', { dataset: { fileId: message.file_id } },
      h('span', { class: 'person-name' }, message.name), ' ',
      h('span', { class: 'hint' }, `${size(message.size)}, ${message.content_type}, from ${message.sender_name}`)));
  }
}
