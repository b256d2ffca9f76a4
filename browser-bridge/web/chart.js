// The live chart: bytes per second received (payload plus DTLS/SCTP
// overhead) over the last 30 s against the budget asked for, and the size
// of each recent snapshot.

const SECONDS = 30;
const SAMPLES_PER_SEC = 4;

export class Chart {
  /** @param {HTMLCanvasElement} rate @param {HTMLCanvasElement} sizes */
  constructor(rate, sizes) {
    this.rate = rate;
    this.sizes = sizes;
    this.samples = []; // bytes per second, newest last
    this.snapshots = []; // snapshot sizes, newest last
  }

  sample(bytesPerSec) {
    this.samples.push(bytesPerSec);
    if (this.samples.length > SECONDS * SAMPLES_PER_SEC) this.samples.shift();
  }

  snapshot(bytes) {
    this.snapshots.push(bytes);
    if (this.snapshots.length > 120) this.snapshots.shift();
  }

  /** Redraws both; budget is the bytes per second asked for (0: unknown). */
  draw(budget) {
    this.drawRate(budget);
    this.drawSizes();
  }

  drawRate(budget) {
    const g = this.rate.getContext('2d');
    const { width: W, height: H } = this.rate;
    g.clearRect(0, 0, W, H);
    const top = Math.max(1000, budget * 1.2, ...this.samples) * 1.05;
    const y = (v) => H - 14 - (v / top) * (H - 20);
    g.strokeStyle = '#2a3145';
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(0, H - 14);
    g.lineTo(W, H - 14);
    g.stroke();
    if (budget > 0) {
      g.setLineDash([4, 4]);
      g.strokeStyle = '#e5c07b';
      g.beginPath();
      g.moveTo(0, y(budget));
      g.lineTo(W, y(budget));
      g.stroke();
      g.setLineDash([]);
      g.fillStyle = '#e5c07b';
      g.font = '10px system-ui, sans-serif';
      g.fillText(`budget ${fmtBytes(budget)}/s`, 4, y(budget) - 3);
    }
    const n = SECONDS * SAMPLES_PER_SEC;
    g.strokeStyle = '#4fb3ff';
    g.lineWidth = 1.5;
    g.beginPath();
    this.samples.forEach((v, i) => {
      const x = W - ((this.samples.length - 1 - i) / (n - 1)) * W;
      if (i === 0) g.moveTo(x, y(v));
      else g.lineTo(x, y(v));
    });
    g.stroke();
    g.fillStyle = '#8893a8';
    g.font = '10px system-ui, sans-serif';
    g.fillText(`last ${SECONDS} s`, 4, H - 3);
    const last = this.samples.at(-1) ?? 0;
    g.fillStyle = '#4fb3ff';
    g.fillText(`${fmtBytes(last)}/s`, W - 60, 12);
  }

  drawSizes() {
    const g = this.sizes.getContext('2d');
    const { width: W, height: H } = this.sizes;
    g.clearRect(0, 0, W, H);
    const top = Math.max(64, ...this.snapshots);
    const bw = W / 120;
    g.fillStyle = '#7bd88f';
    this.snapshots.forEach((v, i) => {
      const h = (v / top) * (H - 14);
      g.fillRect(W - (this.snapshots.length - i) * bw, H - h, Math.max(1, bw - 1), h);
    });
    g.fillStyle = '#8893a8';
    g.font = '10px system-ui, sans-serif';
    g.fillText(`snapshot sizes (max ${top} B)`, 4, 10);
  }
}

/** 1234 → "1.2 kB". */
export function fmtBytes(n) {
  if (n < 1000) return `${Math.round(n)} B`;
  if (n < 1e6) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1e6).toFixed(2)} MB`;
}
