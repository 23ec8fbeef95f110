// The video grid: one tile per person in the meeting (names as text), a large
// tile per shared screen, and a hidden <audio> per microphone. Tiles are kept
// and updated in place, so that video elements keep playing across roster
// changes.

import { h, initials } from './dom.js';
import { t } from './i18n.js';

const ROLE_NAMES = { host: t('Host'), cohost: t('Co-host') };

export class Grid {
  constructor({ grid, screens, audio }) {
    this.gridElement = grid;
    this.screensElement = screens;
    this.audioElement = audio;
    this.selfId = null;
    this.tiles = new Map();
    this.screens = new Map();
    this.sinks = new Map();
    this.roster = new Map();
    this.cameraTracks = new Map();
    this.localScreen = null;
    this.tileSizes = null; // a TileSizes: tells the server the size of each forwarded video
  }

  clear() {
    for (const tile of this.tiles.values()) tile.element.remove();
    for (const screen of this.screens.values()) screen.element.remove();
    for (const sink of this.sinks.values()) sink.remove();
    this.tiles.clear();
    this.screens.clear();
    this.sinks.clear();
    this.roster.clear();
    this.cameraTracks.clear();
  }

  setSelf(id, localCamera) {
    this.selfId = id;
    if (localCamera) this.cameraTracks.set(id, localCamera);
  }

  /** The roster in force: tiles appear, change and go. */
  update(roster) {
    this.roster = new Map(roster.map((entry) => [entry.id, entry]));
    for (const [id, tile] of this.tiles) {
      if (!this.roster.has(id)) {
        this.tileSizes?.unobserve(tile.video);
        tile.element.remove();
        this.tiles.delete(id);
      }
    }
    const ordered = [...roster].sort((a, b) => {
      if (a.id === this.selfId) return -1;
      if (b.id === this.selfId) return 1;
      return a.name.localeCompare(b.name);
    });
    ordered.forEach((entry, index) => {
      const tile = this.tiles.get(entry.id) ?? this.createTile(entry.id);
      this.renderTile(tile, entry);
      // Move a tile only when it is out of place: playing videos are left alone.
      const there = this.gridElement.children[index];
      if (there !== tile.element) this.gridElement.insertBefore(tile.element, there ?? null);
    });
    for (const id of this.screens.keys()) this.renderScreen(id);
  }

  createTile(id) {
    const self = id === this.selfId;
    const video = h('video', {
      autoplay: true, playsInline: true, muted: true,
      dataset: { participantId: id, source: 'camera' },
    });
    const tile = {
      video,
      avatar: h('div', { class: 'avatar', 'aria-hidden': 'true' }),
      name: h('span', { class: 'name' }),
      role: h('span', { class: 'badge' }),
      muted: h('span', { class: 'state-muted' }, t('Muted')),
      hand: h('span', { class: 'state-hand' }, t('Hand raised')),
      speaking: h('span', { class: 'state-speaking' }, t('Speaking')),
    };
    tile.element = h('li', { class: self ? 'tile self' : 'tile', dataset: { participantId: id } },
      video, tile.avatar,
      h('div', { class: 'label' }, tile.name, tile.role, tile.muted, tile.hand, tile.speaking));
    video.addEventListener('resize', () => this.refreshVideo(id));
    video.addEventListener('loadeddata', () => this.refreshVideo(id));
    if (!self) this.tileSizes?.observe(video, id, 'camera');
    this.tiles.set(id, tile);
    const track = this.cameraTracks.get(id);
    if (track) video.srcObject = new MediaStream([track]);
    return tile;
  }

  renderTile(tile, entry) {
    const self = entry.id === this.selfId;
    tile.name.textContent = self ? t('{name} (you)', { name: entry.name }) : entry.name;
    tile.avatar.textContent = initials(entry.name);
    tile.role.textContent = ROLE_NAMES[entry.role] ?? '';
    tile.role.hidden = !ROLE_NAMES[entry.role];
    tile.muted.hidden = !entry.muted;
    tile.hand.hidden = !entry.hand_raised;
    tile.speaking.hidden = !tile.element.classList.contains('speaking');
    const states = [ROLE_NAMES[entry.role], entry.muted ? t('muted') : t('not muted'),
      entry.hand_raised ? t('hand raised') : null].filter(Boolean);
    tile.element.setAttribute('aria-label', t('{who}: {states}', {
      who: self ? t('{name} (you)', { name: entry.name }) : entry.name, states: states.join(t(', ')),
    }));
    this.refreshVideo(entry.id);
  }

  refreshVideo(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    const track = this.cameraTracks.get(id);
    const live = Boolean(track) && track.readyState === 'live' && (id === this.selfId ? track.enabled : true);
    tile.element.classList.toggle('has-video', live && tile.video.videoWidth > 0);
  }

  /** The local camera was turned on or off. */
  localCameraChanged() {
    this.refreshVideo(this.selfId);
  }

  /** A forwarded track from the subscribing connection. */
  attach(entry) {
    const stream = new MediaStream([entry.track]);
    if (entry.kind === 'audio') {
      const key = `${entry.participant}/${entry.source}`;
      this.sinks.get(key)?.remove();
      const sink = h('audio', { autoplay: true, dataset: { participantId: entry.participant, source: entry.source } });
      sink.srcObject = stream;
      this.sinks.set(key, sink);
      this.audioElement.append(sink);
      sink.play?.().catch(() => {});
      return;
    }
    if (entry.source === 'camera') {
      this.cameraTracks.set(entry.participant, entry.track);
      const tile = this.tiles.get(entry.participant);
      if (tile) tile.video.srcObject = stream;
      entry.track.addEventListener('unmute', () => this.refreshVideo(entry.participant));
      this.refreshVideo(entry.participant);
      return;
    }
    this.screens.set(entry.participant, { track: entry.track, element: null });
    this.renderScreen(entry.participant);
  }

  detach(entry) {
    if (entry.kind === 'audio') {
      const key = `${entry.participant}/${entry.source}`;
      this.sinks.get(key)?.remove();
      this.sinks.delete(key);
      return;
    }
    if (entry.source === 'camera') {
      if (this.cameraTracks.get(entry.participant) === entry.track) this.cameraTracks.delete(entry.participant);
      const tile = this.tiles.get(entry.participant);
      if (tile && tile.video.srcObject?.getVideoTracks()[0] === entry.track) tile.video.srcObject = null;
      this.refreshVideo(entry.participant);
      return;
    }
    const screen = this.screens.get(entry.participant);
    if (screen?.track === entry.track) {
      screen.element?.remove();
      this.screens.delete(entry.participant);
    }
  }

  /** A screen tile shows while its track is offered and the roster says it is forwarded. */
  renderScreen(id) {
    const screen = this.screens.get(id);
    if (!screen) return;
    const person = this.roster.get(id);
    const forwarded = person?.publishing?.includes('screen') ?? false;
    if (!forwarded) {
      screen.element?.remove();
      screen.element = null;
      return;
    }
    if (!screen.element) {
      const video = h('video', {
        autoplay: true, playsInline: true, muted: true,
        dataset: { participantId: id, source: 'screen' },
      });
      video.srcObject = new MediaStream([screen.track]);
      this.tileSizes?.observe(video, id, 'screen');
      screen.element = h('li', { class: 'tile screen has-video', dataset: { participantId: id, source: 'screen' } },
        video, h('div', { class: 'label' }, h('span', { class: 'name' })));
    }
    const label = t("{name}'s shared window", { name: person.name });
    screen.element.querySelector('.name').textContent = label;
    screen.element.setAttribute('aria-label', label);
    if (!screen.element.isConnected) this.screensElement.append(screen.element);
  }

  /** Our own share, shown to us as a preview (it never comes back from the server). */
  showLocalScreen(track, name) {
    this.hideLocalScreen();
    const video = h('video', { autoplay: true, playsInline: true, muted: true, dataset: { source: 'local-screen' } });
    video.srcObject = new MediaStream([track]);
    this.localScreen = h('li', { class: 'tile screen has-video', dataset: { source: 'local-screen' }, 'aria-label': t('Your shared window') },
      video, h('div', { class: 'label' }, h('span', { class: 'name' }, t('You are sharing ({surface})', { surface: name }))));
    this.screensElement.prepend(this.localScreen);
  }

  hideLocalScreen() {
    this.localScreen?.remove();
    this.localScreen = null;
  }

  setSpeaking(id, speaking) {
    const tile = this.tiles.get(id);
    if (!tile || tile.element.classList.contains('speaking') === speaking) return;
    tile.element.classList.toggle('speaking', speaking);
    tile.speaking.hidden = !speaking;
  }
}
