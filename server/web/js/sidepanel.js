// The side panel (chat, files, people, rules; the host's tools) as a drawer on
// narrow screens. Beside the video it is always shown and the toggle is hidden
// (app.css); on a phone the controls' "Chat and people" button opens it over the
// video, Escape or the button closes it, and the button counts what is unread
// in its tabs so nothing waits unseen behind it.

import { byId } from './dom.js';

const NARROW = '(max-width: 62rem)';

export class SidePanel {
  constructor({ layout, toggle, count, tabs, onOpen }) {
    this.layout = layout;
    this.toggle = toggle;
    this.count = count;
    this.tabs = tabs;
    this.onOpen = onOpen;
    this.narrow = matchMedia(NARROW);
    toggle.addEventListener('click', () => this.setOpen(!this.isOpen));
    layout.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.isOpen && this.narrow.matches) {
        this.setOpen(false);
        toggle.focus();
      }
    });
    // The tabs' own counts (unread chat, new files, people waiting) add up on the button.
    new MutationObserver(() => this.renderCount())
      .observe(tabs, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['hidden'] });
  }

  get isOpen() {
    return this.layout.classList.contains('side-open');
  }

  /** Whether a person can see the panel now: always beside the video, on a phone when open. */
  get isShown() {
    return !this.narrow.matches || this.isOpen;
  }

  setOpen(open) {
    this.layout.classList.toggle('side-open', open);
    this.toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    this.renderCount();
    if (open) {
      this.onOpen?.();
      if (this.narrow.matches) this.tabs.querySelector('[aria-selected="true"]')?.focus();
    }
  }

  /** Opens the panel (on a phone), for something a person asked to see in it. */
  open() {
    if (!this.isOpen) this.setOpen(true);
  }

  renderCount() {
    const total = [...this.tabs.querySelectorAll('.tab-count')]
      .filter((badge) => !badge.hidden)
      .reduce((sum, badge) => sum + (Number.parseInt(badge.textContent, 10) || 0), 0);
    this.count.textContent = String(total);
    this.count.hidden = total === 0 || this.isOpen;
  }

  clear() {
    this.setOpen(false);
  }
}

export function sidePanel(tabs, onOpen) {
  return new SidePanel({
    layout: byId('meeting-layout'), toggle: byId('side-toggle'), count: byId('side-count'), tabs, onOpen,
  });
}
