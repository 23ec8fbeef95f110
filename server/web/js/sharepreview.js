// The preview before a screen share: the sharer sees exactly what was captured
// (the live window, tab or screen, as the others would see it) and confirms it,
// as a careful host is told to check a window before it goes out. Nothing has
// left the browser while the preview shows; the server forwards the screen only
// after "Share this" (confirm_share), whatever a client sends.
//
// A modal <dialog>: focus moves into it, Escape is Cancel, and it says what
// it shows in words as well as in pictures.

import { announce, h } from './dom.js';
import { t } from './i18n.js';

function surfaceWords(surface) {
  switch (surface) {
    case 'window': return t('a window');
    case 'browser': return t('a browser tab');
    case 'monitor': return t('your whole screen');
    default: return t('a screen');
  }
}

/** What was captured, as the label under the preview says it. */
export function capturedWords(track) {
  return surfaceWords(track.getSettings().displaySurface);
}

export class SharePreview {
  constructor() {
    this.dialog = null;
    this.settle = null;
    this.stream = null;
  }

  build() {
    this.video = h('video', {
      autoplay: true, playsInline: true, muted: true, dataset: { source: 'share-preview' },
    });
    this.what = h('p', { id: 'share-preview-what', class: 'share-preview-what' });
    this.why = h('p', { id: 'share-preview-why', class: 'why', role: 'status' });
    this.confirm = h('button', { type: 'button', id: 'share-preview-confirm', class: 'primary' }, t('Share this'));
    this.cancel = h('button', { type: 'button', id: 'share-preview-cancel' }, t('Cancel'));
    this.dialog = h('dialog', {
      id: 'share-preview', class: 'share-preview', 'aria-labelledby': 'share-preview-title',
      'aria-describedby': 'share-preview-what',
    },
    h('h2', { id: 'share-preview-title' }, t('Check what you are about to share')),
    this.what,
    h('div', { class: 'share-preview-frame' }, this.video),
    h('p', { class: 'hint' }, t('Nobody sees it until you press Share this. Close what should stay private first.')),
    this.why,
    h('div', { class: 'row' }, this.confirm, this.cancel));
    this.confirm.addEventListener('click', () => this.settle?.('share'));
    this.cancel.addEventListener('click', () => this.settle?.('cancel'));
    // Escape closes a modal dialog: that is Cancel.
    this.dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      this.settle?.('cancel');
    });
    document.body.append(this.dialog);
  }

  get open() {
    return Boolean(this.dialog?.open);
  }

  /** Shows the captured stream, live, with what it is in words. */
  show(stream) {
    if (!this.dialog) this.build();
    this.stream = stream;
    this.video.srcObject = stream;
    this.what.textContent = t('You are about to share {what}, shown here as the others will see it.',
      { what: capturedWords(stream.getVideoTracks()[0]) });
    this.note('');
    this.busy(false);
    if (!this.dialog.open) this.dialog.showModal();
    this.confirm.focus();
    announce(this.what.textContent);
  }

  /** The sharer's next choice: 'share' or 'cancel' ('cancel' too when the capture ends
   * on its own, or close() is called). */
  choice() {
    const track = this.stream?.getVideoTracks()[0];
    if (!this.open || !track || track.readyState === 'ended') return Promise.resolve('cancel');
    return new Promise((resolve) => {
      const ended = () => this.settle?.('cancel');
      track.addEventListener('ended', ended, { once: true });
      this.settle = (choice) => {
        track.removeEventListener('ended', ended);
        this.settle = null;
        resolve(choice);
      };
    });
  }

  note(text, refused = false) {
    if (!this.why) return;
    this.why.textContent = text;
    this.why.classList.toggle('refused', refused);
    if (text) announce(text, { assertive: refused });
  }

  busy(on) {
    if (!this.confirm) return;
    this.confirm.disabled = on;
    this.confirm.textContent = on ? t('Sharing…') : t('Share this');
  }

  close() {
    this.settle?.('cancel');
    if (this.dialog?.open) this.dialog.close();
    if (this.video) this.video.srcObject = null;
    this.stream = null;
  }
}
