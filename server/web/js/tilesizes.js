// The size we show each forwarded video at, told to the server (`tile_size`), which
// forwards the smallest simulcast layer that covers it. Measured with a
// ResizeObserver in device pixels (CSS size times devicePixelRatio), sent when a
// video starts playing and when its size changes, at most once per DEBOUNCE_MS
// per video, and only when the size differs from the last one sent.

const DEBOUNCE_MS = 300;
const MAX_SIDE = 16384;

export class TileSizes {
  /** `send` takes a client message (connection.send: no answer unless refused). */
  constructor(send) {
    this.send = send;
    this.watched = new Map(); // video -> { participant, source, timer, sent }
    this.observer = typeof ResizeObserver === 'function'
      ? new ResizeObserver((entries) => entries.forEach((entry) => this.later(entry.target)))
      : null;
  }

  observe(video, participant, source) {
    if (!this.observer || this.watched.has(video)) return;
    const watch = { participant, source, timer: null, sent: '' };
    this.watched.set(video, watch);
    this.observer.observe(video);
    video.addEventListener('loadeddata', () => {
      watch.sent = ''; // a new track in the tile: say its size again
      this.later(video);
    });
  }

  unobserve(video) {
    const watch = this.watched.get(video);
    if (!watch) return;
    clearTimeout(watch.timer);
    this.watched.delete(video);
    this.observer?.unobserve(video);
  }

  later(video) {
    const watch = this.watched.get(video);
    if (!watch) return;
    clearTimeout(watch.timer);
    watch.timer = setTimeout(() => this.report(video), DEBOUNCE_MS);
  }

  report(video) {
    const watch = this.watched.get(video);
    if (!watch || !video.srcObject || !video.isConnected) return;
    const ratio = window.devicePixelRatio || 1;
    const box = video.getBoundingClientRect();
    const width = Math.min(MAX_SIDE, Math.max(1, Math.round(box.width * ratio)));
    const height = Math.min(MAX_SIDE, Math.max(1, Math.round(box.height * ratio)));
    const key = `${width}x${height}`;
    if (key === watch.sent || box.width < 1 || box.height < 1) return;
    watch.sent = key;
    this.send({ type: 'tile_size', participant: watch.participant, source: watch.source, width, height });
  }
}
