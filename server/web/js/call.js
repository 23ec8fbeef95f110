// The call: our publishing and subscribing connections while admitted, the
// banner that says when media cannot run, and who is speaking: the others as the
// server decides it (its `speaking` message, from their microphones' audio levels),
// ourselves from our own microphone's level, measured here.

import { explained, isHost } from './audience.js';
import { byId } from './dom.js';
import { Publisher, SPEAKING_LEVEL, Subscriber } from './media.js';
import { toast } from './results.js';
import { t } from './i18n.js';

const SPEAKING_HOLD_MS = 700;
const OWN_LEVEL_MS = 200;

export class Call {
  constructor(app) {
    this.app = app;
    this.ownHeard = -Infinity;
    this.others = new Set();
    setInterval(() => this.speaking(), OWN_LEVEL_MS);
  }

  /** The server's `speaking` message: who among the others speaks now. */
  heardFromServer(participants) {
    this.others = new Set(participants);
    this.speaking();
  }

  banner(text) {
    const banner = byId('media-banner');
    banner.textContent = text ?? '';
    banner.hidden = !text;
  }

  failed(error) {
    this.app.mediaProblem = error.code === 'media_unavailable'
      ? t('This server runs without audio and video: chat, hands and the host tools work, video does not.')
      : t('Audio and video could not start: {problem}', { problem: error.message });
    this.banner(this.app.mediaProblem);
  }

  /** Subscribes to the others, then publishes our microphone and camera. */
  async start() {
    const { app } = this;
    this.stop();
    app.mediaProblem = null;
    this.banner(null);
    if (!window.RTCPeerConnection) {
      this.failed(new Error(t('this browser has no WebRTC')));
      return;
    }
    // The TURN servers of our admission (admitted.ice_servers), for a network without UDP.
    const subscriber = new Subscriber(app.connection, app.state.iceServers);
    subscriber.addEventListener('track', (event) => app.grid.attach(event.detail));
    subscriber.addEventListener('trackended', (event) => app.grid.detach(event.detail));
    subscriber.addEventListener('failed', (event) => this.failed(event.detail));
    const publisher = new Publisher(app.connection, app.state.iceServers, app.state.simulcast);
    app.subscriber = subscriber;
    app.publisher = publisher;
    try {
      await subscriber.start();
    } catch (error) {
      if (app.subscriber === subscriber) {
        this.failed(error);
        app.subscriber = null;
      }
      subscriber.close();
    }
    try {
      const decisions = await publisher.start(app.local);
      for (const decision of decisions.filter((each) => !each.allowed)) {
        toast(explained(decision.message, decision, isHost(app.state.role)), { refused: true });
      }
    } catch (error) {
      if (app.publisher === publisher) {
        this.failed(error);
        app.publisher = null;
      }
      publisher.close();
    }
  }

  stop() {
    const { app } = this;
    this.others = new Set();
    app.controls.stopShare({ tellServer: false });
    app.publisher?.close();
    app.subscriber?.close();
    app.publisher = null;
    app.subscriber = null;
  }

  /** Marks who is speaking: the others as the server said, ourselves from our microphone. */
  speaking() {
    const { app } = this;
    if (app.state.status !== 'admitted') return;
    const now = performance.now();
    const self = app.state.participantId;
    if (self && app.state.you && !app.state.you.muted && app.local.level() > SPEAKING_LEVEL) {
      this.ownHeard = now;
    }
    for (const entry of app.state.roster) {
      const speaking = entry.id === self
        ? now - this.ownHeard < SPEAKING_HOLD_MS
        : this.others.has(entry.id);
      app.grid.setSpeaking(entry.id, !entry.muted && speaking);
    }
  }
}
