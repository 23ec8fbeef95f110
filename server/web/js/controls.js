// Your controls in the meeting: microphone, camera, hand, screen sharing.
//
// The server decides; these buttons ask and show the answer. While you are
// muted your microphone track is also disabled here, so no sound leaves the
// browser at all (the server would not forward it anyway). A screen is asked
// for only after the server says you may share now (a grant, or a role or
// policy that needs none); then a preview shows exactly what was captured,
// and only "Share this" publishes it and confirms it (confirm_share: the
// server forwards nothing of a screen before). Cancel, "Stop sharing" or the
// shared window closing end the share and its grant (stop_share).

import { explained, isHost } from './audience.js';
import { announce, byId, formatDuration } from './dom.js';
import { t } from './i18n.js';
import { displayMediaOptions } from './media.js';
import { toast } from './results.js';
import { SharePreview, capturedWords } from './sharepreview.js';

const UNMUTE_HINTS = {
  after_raised_hand: t('Raise your hand; the host will let you speak.'),
  host_only: t('Only the host can let you speak in this meeting.'),
};
// SelfState.camera: what the server's camera check sees (when the policy requires one).
const CAMERA_CHECK = {
  pending: [t('The host requires a working camera: the server is checking your video.'), false],
  missing: [t('The server receives no working video from your camera.'), true],
  lost: [t('Your video stopped, froze or went black: turn your camera back on.'), true],
};
const SURFACE_WORDS = { window: t('a window'), browser: t('a browser tab'), monitor: t('a whole screen') };

function setWhy(element, text, refused = false) {
  element.textContent = text;
  element.classList.toggle('refused', refused);
}

export class Controls {
  constructor(app) {
    this.app = app;
    this.sharing = null;
    this.previewing = null;
    this.preview = new SharePreview();
    this.shareNote = null;
    this.micNote = null;
    this.cameraNote = null;
    byId('mic-button').addEventListener('click', () => this.toggleMic());
    byId('camera-button').addEventListener('click', () => this.toggleCamera());
    byId('hand-button').addEventListener('click', () => this.toggleHand());
    byId('share-button').addEventListener('click', () => this.toggleShare());
    setInterval(() => this.renderShare(), 1000);
  }

  reset() {
    // Out of the meeting view: a share being previewed is given up here (the server
    // ended what it had with the view).
    this.preview.close();
    this.forgetNotes();
  }

  /** Refusals and answers shown under the buttons, once they may no longer be true
   * (a share being previewed goes on). */
  forgetNotes() {
    this.shareNote = null;
    this.micNote = null;
    this.cameraNote = null;
  }

  /** Our own state changed: a note holds only while it is still true. */
  youChanged(before, after) {
    if (!before) return;
    if (before.role !== after.role) {
      this.forgetNotes(); // what a participant was refused, a co-host may do (and the reverse)
      return;
    }
    // A refusal ("raise your hand") is over once the hand moves; "the host lets you
    // speak" holds while you may.
    const handMoved = before.hand_raised !== after.hand_raised && !after.may_unmute;
    if (before.muted !== after.muted || handMoved || (before.may_unmute && !after.may_unmute)) {
      this.micNote = null;
    }
  }

  /** The policy in force changed (or first arrived): earlier refusals and answers were
   * about the old one. The hints derived from the new one take their place. */
  viewChanged() {
    this.forgetNotes();
    this.render();
  }

  get host() {
    return isHost(this.you?.role);
  }

  get you() {
    return this.app.state.you;
  }

  render() {
    if (!this.you) return;
    this.renderMic();
    this.renderCamera();
    const hand = byId('hand-button');
    hand.textContent = this.you.hand_raised ? t('Lower hand') : t('Raise hand');
    hand.setAttribute('aria-pressed', this.you.hand_raised ? 'true' : 'false');
    this.renderShare();
  }

  renderMic() {
    const button = byId('mic-button');
    const why = byId('mic-why');
    const microphone = this.app.local.microphone;
    if (microphone) microphone.enabled = !this.you.muted;
    if (!microphone) {
      button.textContent = this.you.muted ? t('Unmute') : t('Mute');
      setWhy(why, t('You joined without a microphone; others cannot hear you.'));
    } else if (!this.you.muted) {
      button.textContent = t('Mute');
      setWhy(why, '');
    } else {
      button.textContent = t('Unmute');
      if (this.you.may_unmute) setWhy(why, this.micNote ?? '');
      else {
        const mode = this.app.view?.audio?.unmute ?? 'after_raised_hand';
        const hint = mode === 'after_raised_hand' && this.you.hand_raised
          ? t('Your hand is raised; the host will let you speak.')
          : UNMUTE_HINTS[mode] ?? '';
        setWhy(why, this.micNote ?? hint, Boolean(this.micNote));
      }
    }
  }

  async toggleMic() {
    const message = this.you.muted ? { type: 'request_unmute' } : { type: 'mute_self' };
    try {
      const result = await this.app.connection.request(message);
      this.micNote = result.allowed ? null : result.message;
      if (!result.allowed) announce(result.message, { assertive: true });
    } catch (error) {
      this.micNote = t('Not done: {problem}', { problem: error.message });
    }
    this.renderMic();
    byId('mic-why').classList.toggle('refused', Boolean(this.micNote));
  }

  /** The host asked you to unmute (you may now). */
  askedToUnmute() {
    this.micNote = t('The host lets you speak: press Unmute when you are ready.');
    this.renderMic();
  }

  renderCamera() {
    const button = byId('camera-button');
    const why = byId('camera-why');
    const camera = this.app.local.camera;
    const on = Boolean(camera?.enabled);
    button.textContent = on ? t('Turn camera off') : t('Turn camera on');
    button.setAttribute('aria-pressed', on ? 'true' : 'false');
    const required = this.app.view?.camera?.required && this.you.role === 'participant';
    const check = CAMERA_CHECK[this.you.camera];
    if (this.cameraNote) setWhy(why, this.cameraNote, true);
    else if (!on && required) {
      setWhy(why, t('The host requires your camera: without it you may be sent back to the waiting room.'), true);
    } else if (!camera) setWhy(why, t('Your camera is off.'));
    else setWhy(why, on ? (check?.[0] ?? '') : '', check?.[1] ?? false);
  }

  /** Turns the camera on (opening one if we joined without) or off; the server forwards
   * only what is published, so off stops sending it and the roster says so. */
  async toggleCamera() {
    const { local } = this.app;
    const button = byId('camera-button');
    const turnOn = !local.camera?.enabled;
    button.disabled = true;
    this.cameraNote = null;
    try {
      if (turnOn) await this.cameraOn();
      else await this.cameraOff();
    } catch (error) {
      this.cameraNote = t('Not done: {problem}', { problem: error.message });
    } finally {
      button.disabled = false;
    }
    this.app.grid.localCameraChanged();
    this.renderCamera();
    announce(this.cameraNote ?? (local.camera?.enabled ? t('Your camera is on.') : t('Your camera is off.')),
      { assertive: Boolean(this.cameraNote) });
  }

  async cameraOn() {
    const { app } = this;
    if (!app.local.camera) {
      const chosen = byId('camera-select').value;
      await app.local.openCamera(chosen === 'none' ? '' : chosen);
      app.grid.setSelf(app.state.participantId, app.local.camera);
    }
    app.local.camera.enabled = true;
    const decisions = await app.publisher?.setCamera(app.local.camera) ?? [];
    const refused = decisions.find((decision) => decision.source === 'camera' && !decision.allowed);
    if (refused) this.cameraNote = explained(refused.message, refused, this.host);
  }

  async cameraOff() {
    const { app } = this;
    // Nothing leaves the browser from now on, even before the server closes the gate.
    app.local.camera.enabled = false;
    if (app.connection?.open) await app.connection.request({ type: 'stop_publish', source: 'camera' });
    await app.publisher?.setCamera(null);
  }

  async toggleHand() {
    const message = this.you.hand_raised ? { type: 'lower_hand' } : { type: 'raise_hand' };
    try {
      const result = await this.app.connection.request(message);
      announce(result.message, { assertive: !result.allowed });
    } catch (error) {
      toast(t('Not done: {problem}', { problem: error.message }), { refused: true });
    }
  }

  // --- screen sharing -----------------------------------------------------------

  screenGrant() {
    return this.you?.grants?.find((grant) => grant.kind === 'screen') ?? null;
  }

  remaining(grant) {
    return grant.expires_at - (Date.now() / 1000 + this.app.clockOffset);
  }

  renderShare() {
    const button = byId('share-button');
    const why = byId('share-why');
    if (!this.you) return;
    const surfaces = this.app.view?.screen_share?.surfaces ?? ['window'];
    const onlyWindow = surfaces.length === 1 && surfaces[0] === 'window';
    button.textContent = this.sharing ? t('Stop sharing') : (onlyWindow ? t('Share a window') : t('Share your screen'));
    button.setAttribute('aria-pressed', this.sharing ? 'true' : 'false');
    button.disabled = Boolean(this.previewing);
    const grant = this.screenGrant();
    const time = grant ? formatDuration(this.remaining(grant)) : '';
    if (this.previewing) setWhy(why, t('Check the preview: nothing is shared until you confirm it.'));
    else if (this.sharing) {
      setWhy(why, grant ? t('You are sharing ({time} left on your permission).', { time }) : t('You are sharing.'));
    } else if (this.shareNote?.refused) {
      const text = grant
        ? t('{sentence} You may share for {time}.', { sentence: this.shareNote.text, time })
        : this.shareNote.text;
      setWhy(why, text, true);
    } else if (grant) setWhy(why, t('You may share for {time}.', { time }));
    else setWhy(why, this.shareNote?.text ?? '');
  }

  /** A host let us share: earlier notes ("the host has been asked") are over. */
  granted() {
    this.shareNote = null;
    this.renderShare();
  }

  note(text, refused) {
    this.shareNote = { text, refused };
    this.renderShare();
    announce(text, { assertive: refused });
  }

  async toggleShare() {
    if (this.sharing) {
      await this.stopShare({ tellServer: true });
      return;
    }
    let answer;
    try {
      answer = await this.app.connection.request({ type: 'request_share', kind: 'screen' });
    } catch (error) {
      this.note(t('Could not ask to share: {problem}', { problem: error.message }), true);
      return;
    }
    if (!answer.allowed) {
      this.note(answer.message, true);
      return;
    }
    if (answer.reason !== 'share_no_grant_needed') {
      this.note(answer.message, false);
      return;
    }
    await this.capture();
  }

  async capture() {
    const screenShare = this.app.view?.screen_share;
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia(displayMediaOptions(screenShare));
    } catch (error) {
      const text = error.name === 'NotAllowedError'
        ? t('Nothing is shared: no window was chosen.')
        : t('Nothing is shared: the browser could not capture ({problem}).', { problem: error.message });
      this.note(text, true);
      return;
    }
    const track = stream.getVideoTracks()[0];
    const surface = track.getSettings().displaySurface;
    const allowed = screenShare?.surfaces ?? ['window'];
    if (surface && !allowed.includes(surface)) {
      for (const each of stream.getTracks()) each.stop();
      const words = allowed.map((each) => SURFACE_WORDS[each]).join(t(' or '));
      this.note(t('This meeting allows sharing {allowed} only; you chose {chosen}.', {
        allowed: words, chosen: SURFACE_WORDS[surface] ?? surface,
      }), true);
      return;
    }
    if (!this.app.publisher) {
      for (const each of stream.getTracks()) each.stop();
      await this.giveUp();
      this.note(this.app.mediaProblem ?? t('Audio and video are not connected, so nothing can be shared.'), true);
      return;
    }
    this.previewing = stream;
    this.renderShare();
    try {
      await this.confirmInPreview(stream, surface);
    } finally {
      this.previewing = null;
      this.preview.close();
      this.renderShare();
    }
  }

  /** The preview: nothing is sent until "Share this"; then the screen is published and
   * confirmed. A refusal that can be waited out (someone else is sharing) keeps the
   * preview open; Cancel, or the capture ending, gives the share up. */
  async confirmInPreview(stream, surface) {
    this.preview.show(stream);
    let decisions = null;
    for (;;) {
      const choice = await this.preview.choice();
      if (choice !== 'share' || this.previewing !== stream) {
        for (const each of stream.getTracks()) each.stop();
        if (this.previewing === stream) {
          await this.giveUp();
          this.note(t('Nothing was shared.'), false);
        }
        if (decisions) await this.app.publisher?.stopScreen().catch(() => {});
        return;
      }
      this.preview.busy(true);
      let result;
      try {
        decisions ??= await this.app.publisher.startScreen(stream, surface);
        if (decisions.screen && !decisions.screen.allowed) {
          await this.endRefused(stream, explained(decisions.screen.message, decisions.screen, this.host));
          return;
        }
        result = await this.app.connection.request({ type: 'confirm_share' });
      } catch (error) {
        await this.endRefused(stream, explained(t('Nothing is shared: {problem}', { problem: error.message }), { reason: error.code }, this.host));
        return;
      }
      if (result.allowed) {
        this.started(stream, decisions);
        return;
      }
      if (result.reason !== 'share_limit_reached') {
        await this.endRefused(stream, explained(result.message, result, this.host));
        return;
      }
      this.preview.busy(false);
      this.preview.note(result.message, true);
    }
  }

  /** Confirmed: the others see it now, and one button stops it. */
  started(stream, decisions) {
    const track = stream.getVideoTracks()[0];
    this.sharing = stream;
    this.shareNote = null;
    track.addEventListener('ended', () => this.stopShare({ tellServer: true }));
    this.app.grid.showLocalScreen(track, capturedWords(track));
    if (decisions.audio && !decisions.audio.allowed) {
      for (const each of stream.getAudioTracks()) each.stop();
      toast(decisions.audio.message, { refused: true });
    }
    this.preview.close();
    this.renderShare();
    byId('share-button').focus();
    announce(t('You are sharing {what}.', { what: capturedWords(track) }));
  }

  /** The server refused the share: nothing goes on, and the sharer reads why. */
  async endRefused(stream, text) {
    for (const each of stream.getTracks()) each.stop();
    this.preview.close();
    try {
      await this.app.publisher?.stopScreen();
    } catch { /* a connection that closed has no screen to stop */ }
    this.note(text, true);
  }

  /** Gives up a share that never started (the preview's Cancel): its grant goes with it. */
  async giveUp() {
    if (!this.app.connection?.open) return;
    try {
      await this.app.connection.request({ type: 'stop_share' });
    } catch { /* the grant ends on the server when the connection does */ }
  }

  /** Ends our share: the tracks, the preview, and (unless the server ended it) the grant. */
  async stopShare({ tellServer }) {
    const stream = this.sharing;
    if (!stream) return;
    this.sharing = null;
    for (const track of stream.getTracks()) track.stop();
    this.app.grid.hideLocalScreen();
    this.renderShare();
    if (tellServer && this.app.connection?.open) {
      try {
        const result = await this.app.connection.request({ type: 'stop_share' });
        if (result.message) announce(result.message);
      } catch { /* the share is over here; the server ends it with the track */ }
    }
    try {
      await this.app.publisher?.stopScreen();
    } catch { /* a connection that closed has no screen to stop */ }
  }

  /** The host revoked our grant, or it expired: the server stopped forwarding already. */
  grantEnded(notice) {
    this.shareNote = { text: notice.text, refused: true };
    if (this.previewing) { // the preview ends too: there is nothing left to confirm
      this.previewing = null;
      this.preview.close();
    }
    this.stopShare({ tellServer: false });
    this.renderShare();
  }
}
