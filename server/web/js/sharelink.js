// "Copy link" in the meeting: the participants' link (the meeting's address, never
// the host link nor any token), offered to everyone in the meeting when the policy
// lets anyone with the link ask to join (entry.identity "anyone"); with personal
// invites only, the bare link would only be refused.

import { byId, copyFrom } from './dom.js';

export class ShareLink {
  constructor(app) {
    this.app = app;
    byId('copy-share-link').addEventListener('click', (event) => copyFrom(byId('share-link-input'), event.currentTarget));
  }

  /** The participants' link: this page's address without its fragment or query. */
  get link() {
    return `${location.origin}/m/${encodeURIComponent(this.app.meetingId)}`;
  }

  render() {
    const shareable = this.app.view?.entry?.identity === 'anyone';
    byId('share-link-input').value = shareable ? this.link : '';
    byId('share-link').hidden = !shareable;
  }

  clear() {
    byId('share-link').hidden = true;
    byId('share-link-input').value = '';
  }
}
