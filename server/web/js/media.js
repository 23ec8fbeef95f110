// WebRTC for the browser client, as the protocol's media section says:
// one publishing connection (we offer; the server answers with a decision per
// source) and one subscribing connection (the server offers, now and whenever
// tracks come and go; we answer). ICE is not trickled: we wait for gathering
// to finish before sending an SDP. The only ICE servers are the TURN servers
// this server gives us when we are admitted (`admitted.ice_servers`, with a
// credential made for us; none unless the operator configured them): no public
// STUN server, so the browser contacts nobody but this server and its relays.

import { t } from './i18n.js';

function rtcConfig(iceServers) {
  return { iceServers: iceServers ?? [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };
}
const ICE_GATHERING_TIMEOUT_MS = 5000;
const SPEAKING_LEVEL = 0.04;

export class DeviceError extends Error {}

function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === 'complete') done(); };
    // Send what was gathered so far rather than wait forever on a slow interface.
    const timer = setTimeout(done, ICE_GATHERING_TIMEOUT_MS);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

function deviceSentence(error) {
  switch (error?.name) {
    case 'NotAllowedError':
      return t("The browser blocks the camera and microphone for this page. Allow them in the site's settings, or join without them.");
    case 'NotFoundError':
    case 'OverconstrainedError':
      return t('That camera or microphone was not found. Pick another one, or join without it.');
    case 'NotReadableError':
      return t('The camera or microphone is in use by another program. Close it, or join without it.');
    default:
      return t('The camera and microphone could not start ({problem}).', { problem: error?.message ?? error });
  }
}

/** The camera and microphone of this browser, with a level meter on the microphone. */
export class LocalMedia {
  constructor() {
    this.camera = null;
    this.microphone = null;
    this.audioContext = null;
    this.analyser = null;
    this.samples = null;
  }

  async open({ cameraId = '', microphoneId = '' } = {}) {
    this.stop();
    const video = cameraId === 'none' ? false
      : { deviceId: cameraId ? { exact: cameraId } : undefined, width: { ideal: 640 }, height: { ideal: 480 } };
    const audio = microphoneId === 'none' ? false
      : { deviceId: microphoneId ? { exact: microphoneId } : undefined, echoCancellation: true, noiseSuppression: true };
    if (!video && !audio) return;
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new DeviceError(t('This page cannot use a camera here (it needs HTTPS or localhost).'));
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video, audio });
    } catch (error) {
      // One of the two may still work alone: a meeting without a camera is still a meeting.
      if (video && audio && error.name !== 'NotAllowedError') {
        for (const alone of [{ audio }, { video }]) {
          try {
            stream = await navigator.mediaDevices.getUserMedia(alone);
            break;
          } catch { /* try the other */ }
        }
      }
      if (!stream) throw new DeviceError(deviceSentence(error));
    }
    this.camera = stream.getVideoTracks()[0] ?? null;
    this.microphone = stream.getAudioTracks()[0] ?? null;
    this.meter();
  }

  /** Opens a camera alone (the microphone stays as it is): to turn one on after joining. */
  async openCamera(cameraId = '') {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new DeviceError(t('This page cannot use a camera here (it needs HTTPS or localhost).'));
    }
    const video = { deviceId: cameraId ? { exact: cameraId } : undefined, width: { ideal: 640 }, height: { ideal: 480 } };
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video });
    } catch (error) {
      throw new DeviceError(deviceSentence(error));
    }
    this.camera?.stop();
    this.camera = stream.getVideoTracks()[0] ?? null;
    return this.camera;
  }

  meter() {
    if (!this.microphone || !window.AudioContext) return;
    this.audioContext ??= new AudioContext();
    const source = this.audioContext.createMediaStreamSource(new MediaStream([this.microphone]));
    this.analyser = this.audioContext.createAnalyser();
    this.analyser.fftSize = 512;
    this.samples = new Float32Array(this.analyser.fftSize);
    source.connect(this.analyser);
  }

  /** The microphone's level now, 0 to 1 (0 while the track is disabled). */
  level() {
    if (!this.analyser || !this.microphone?.enabled) return 0;
    if (this.audioContext.state === 'suspended') this.audioContext.resume().catch(() => {});
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const sample of this.samples) sum += sample * sample;
    return Math.min(1, Math.sqrt(sum / this.samples.length) * 4);
  }

  stream() {
    return new MediaStream([this.camera, this.microphone].filter(Boolean));
  }

  async devices() {
    const all = await navigator.mediaDevices.enumerateDevices();
    return {
      cameras: all.filter((device) => device.kind === 'videoinput' && device.deviceId),
      microphones: all.filter((device) => device.kind === 'audioinput' && device.deviceId),
    };
  }

  stop() {
    for (const track of [this.camera, this.microphone]) track?.stop();
    this.camera = null;
    this.microphone = null;
    this.analyser = null;
  }
}

/** Options for getDisplayMedia from the policy's screen_share section (window only by default). */
export function displayMediaOptions(screenShare) {
  const surfaces = screenShare?.surfaces?.length ? screenShare.surfaces : ['window'];
  const options = {
    video: { displaySurface: surfaces.includes('window') ? 'window' : surfaces[0] },
    monitorTypeSurfaces: surfaces.includes('monitor') ? 'include' : 'exclude',
    selfBrowserSurface: 'exclude',
    surfaceSwitching: 'exclude',
  };
  if (screenShare?.audio) options.audio = true;
  return options;
}

const SIMULCAST_LAYERS = [
  { rid: 'q', scaleResolutionDownBy: 4 },
  { rid: 'h', scaleResolutionDownBy: 2 },
  { rid: 'f', scaleResolutionDownBy: 1 },
];

/** Our publishing connection: microphone, camera and, while sharing, a screen. */
export class Publisher extends EventTarget {
  constructor(connection, iceServers = [], simulcast = false) {
    super();
    this.connection = connection;
    this.iceServers = iceServers;
    this.simulcast = simulcast; // the server takes the camera in layers (admitted.simulcast)
    this.pc = null;
    this.transceivers = {};
    this.surface = null;
    this.chain = Promise.resolve();
  }

  /** Publishes the local tracks; resolves with the server's decisions. */
  start(local) {
    this.pc = new RTCPeerConnection(rtcConfig(this.iceServers));
    this.pc.addEventListener('connectionstatechange', () => {
      this.dispatchEvent(new CustomEvent('state', { detail: this.pc.connectionState }));
    });
    if (local.microphone) this.add('microphone', local.microphone);
    if (local.camera) this.add('camera', local.camera);
    return Object.keys(this.transceivers).length ? this.negotiate() : Promise.resolve([]);
  }

  add(source, track) {
    const existing = this.transceivers[source];
    if (existing) {
      existing.direction = 'sendonly';
      return existing.sender.replaceTrack(track);
    }
    const init = { direction: 'sendonly' };
    // Three layers, a quarter, half and full size (RFC 8853 simulcast, rids q/h/f): the
    // server forwards each viewer the one its tile needs.
    if (source === 'camera' && this.simulcast) init.sendEncodings = SIMULCAST_LAYERS;
    this.transceivers[source] = this.pc.addTransceiver(track, init);
    return Promise.resolve();
  }

  /** Offers the whole list of sources again; one negotiation at a time. */
  negotiate() {
    const next = this.chain.then(() => this.offer());
    this.chain = next.catch(() => {});
    return next;
  }

  async offer() {
    const pc = this.pc;
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const tracks = [];
    for (const [source, transceiver] of Object.entries(this.transceivers)) {
      if (!transceiver.mid || !['sendonly', 'sendrecv'].includes(transceiver.direction)) continue;
      const info = { mid: transceiver.mid, source };
      if (source === 'screen' && this.surface) info.surface = this.surface;
      tracks.push(info);
    }
    let answer;
    try {
      answer = await this.connection.request({ type: 'publish', sdp: pc.localDescription.sdp, tracks });
    } catch (error) {
      await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
      throw error;
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    return answer.decisions ?? [];
  }

  /** Sends the camera (a track) or stops sending it (null); resolves with the decisions. */
  async setCamera(track) {
    const transceiver = this.transceivers.camera;
    if (!this.pc || this.pc.signalingState === 'closed') return [];
    if (!track) {
      if (!transceiver || transceiver.direction === 'inactive') return [];
      await transceiver.sender.replaceTrack(null);
      transceiver.direction = 'inactive';
      return this.negotiate();
    }
    await this.add('camera', track);
    return this.negotiate();
  }

  /** Starts publishing a screen (and its audio); resolves with the decision on the screen. */
  async startScreen(stream, surface) {
    this.surface = surface ?? null;
    await this.add('screen', stream.getVideoTracks()[0]);
    const audio = stream.getAudioTracks()[0];
    if (audio) await this.add('screen_audio', audio);
    const decisions = await this.negotiate();
    return {
      screen: decisions.find((decision) => decision.source === 'screen') ?? null,
      audio: decisions.find((decision) => decision.source === 'screen_audio') ?? null,
    };
  }

  /** Stops sending the screen; the re-offer marks its m-line inactive, which ends it. */
  async stopScreen() {
    let changed = false;
    for (const source of ['screen', 'screen_audio']) {
      const transceiver = this.transceivers[source];
      if (!transceiver || transceiver.direction === 'inactive') continue;
      await transceiver.sender.replaceTrack(null);
      transceiver.direction = 'inactive';
      changed = true;
    }
    if (changed && this.pc?.signalingState !== 'closed') await this.negotiate();
  }

  close() {
    this.pc?.close();
    this.pc = null;
  }
}

/**
 * Our subscribing connection. Emits 'track' ({participant, source, kind, track,
 * receiver}) for each forwarded track and 'trackended' when an offer drops it.
 */
export class Subscriber extends EventTarget {
  constructor(connection, iceServers = []) {
    super();
    this.connection = connection;
    this.iceServers = iceServers;
    this.pc = null;
    this.bound = new Map();
    this.chain = Promise.resolve();
  }

  async start() {
    this.pc = new RTCPeerConnection(rtcConfig(this.iceServers));
    this.pc.addEventListener('connectionstatechange', () => {
      this.dispatchEvent(new CustomEvent('state', { detail: this.pc?.connectionState }));
    });
    const offer = await this.connection.request({ type: 'subscribe' });
    await this.take(offer);
  }

  /** A `subscribe_offer` (the first, or a renegotiation the server started). */
  take(offer) {
    const next = this.chain.then(() => this.answer(offer));
    this.chain = next.catch((error) => {
      this.dispatchEvent(new CustomEvent('failed', { detail: error }));
    });
    return next;
  }

  async answer(offer) {
    const pc = this.pc;
    if (!pc) return;
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    this.connection.send({ type: 'subscribe_answer', sdp: pc.localDescription.sdp });
    this.bind(offer.tracks ?? []);
  }

  bind(tracks) {
    const offered = new Map(tracks.map((track) => [track.mid, track]));
    for (const [mid, entry] of this.bound) {
      const now = offered.get(mid);
      if (!now || now.participant !== entry.participant || now.source !== entry.source) {
        this.bound.delete(mid);
        this.dispatchEvent(new CustomEvent('trackended', { detail: entry }));
      }
    }
    for (const transceiver of this.pc.getTransceivers()) {
      const info = offered.get(transceiver.mid);
      if (!info || this.bound.has(transceiver.mid)) continue;
      const entry = { ...info, track: transceiver.receiver.track, receiver: transceiver.receiver };
      this.bound.set(transceiver.mid, entry);
      this.dispatchEvent(new CustomEvent('track', { detail: entry }));
    }
  }

  close() {
    for (const entry of this.bound.values()) {
      this.dispatchEvent(new CustomEvent('trackended', { detail: entry }));
    }
    this.bound.clear();
    this.pc?.close();
    this.pc = null;
  }
}

export { SPEAKING_LEVEL };
