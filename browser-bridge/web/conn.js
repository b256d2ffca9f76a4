// The page's connection: one WebRTC peer with the two pre-negotiated data
// channels of STANDARD.md 5, the session messages of 4.1 on the reliable
// one, snapshots (decoded into a SnapshotHistory and acknowledged) on the
// unreliable one. It keeps the counters the page shows in `stats`.

import {
  parseSchemaDesc, parseSnapshotHead, SnapshotHistory, FlotillaError, ChecksumError,
  encodeAction, encodeRate, encodeDetail, encodeDesync, encodeAcks, parseServerMessage, APPLIED, REASON_NAMES,
} from './js/flotilla/index.js';

/** What DTLS and SCTP add to each data-channel message (bridge.Overhead). */
export const OVERHEAD = 65;
/** How long a desync episode lasts before it is reported permanent (ms). */
const DESYNC_AFTER = 1000;
/** Bounds of the signaling request and of the channels opening (ms). */
const SIGNAL_TIMEOUT = 5000;
const OPEN_TIMEOUT = 10000;

/** A fresh set of counters. */
export function newStats() {
  return {
    state: 'idle', // idle, connecting, open, closed
    error: '',
    server: '', // host:port of the server the channels opened with (a mesh member may send the offer on)
    client: null, // the room's id for this client (Welcome)
    ship: null, // the avatar's id (the join's Result)
    welcome: null,
    frame: 0,
    entities: 0,
    accepted: 0,
    refused: 0,
    mismatches: 0, // checksum mismatches
    missingBaseline: 0,
    malformed: 0,
    desyncReports: 0,
    actionsSent: 0,
    applied: 0,
    fizzled: 0,
    lastFizzle: null, // reason of the newest fizzle
    rxMessages: 0,
    rxBytes: 0, // data-channel payload bytes received, both channels
    bytesPerSec: 0, // over the last second: payload plus OVERHEAD a message
    lastSnapshotBytes: 0,
    rate: { hz: 0, bytesPerSec: 0 }, // the last Rate asked for (0: server default)
    detail: 4, // the levels of detail asked for (4: all, the server's default)
  };
}

export class Connection {
  /**
   * @param {object} h callbacks: welcome(message), snapshot(accepted,
   *   bytes), event(text), closed(why); each optional.
   */
  constructor(h = {}) {
    this.h = h;
    this.stats = newStats();
    this.schema = null;
    this.history = null;
    this.pc = null;
    this.snaps = null;
    this.sess = null;
    this.seq = 0; // the newest action's seq
    this.arrivals = []; // [time ms, wire bytes] of the last second
    this.desync = null; // {since, permanent} of the open episode
    this.timer = null;
  }

  /** Loads the schema, makes the offer and opens the channels. */
  async connect() {
    const s = this.stats;
    s.state = 'connecting';
    try {
      const desc = await fetch('schema', { signal: AbortSignal.timeout(SIGNAL_TIMEOUT) });
      if (!desc.ok) throw new Error(`GET /schema: ${desc.status}`);
      this.schema = parseSchemaDesc(new Uint8Array(await desc.arrayBuffer()));
      this.history = new SnapshotHistory(this.schema);

      const pc = new RTCPeerConnection();
      this.pc = pc;
      this.snaps = pc.createDataChannel('snapshots', { negotiated: true, id: 0, ordered: false, maxRetransmits: 0 });
      this.sess = pc.createDataChannel('session', { negotiated: true, id: 1, ordered: true });
      for (const ch of [this.snaps, this.sess]) ch.binaryType = 'arraybuffer';
      this.snaps.onmessage = (m) => this.onSnapshot(new Uint8Array(m.data));
      this.sess.onmessage = (m) => this.onSession(new Uint8Array(m.data));
      this.sess.onclose = () => this.close('the session channel closed');
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === 'failed') this.close('the connection failed');
      };
      const opened = Promise.all([this.snaps, this.sess].map((ch) => new Promise((resolve) => {
        ch.addEventListener('open', resolve, { once: true });
      })));

      // The server is ICE-lite and answers at once: no need to wait for
      // this side's candidates. A mesh member that serves more than its
      // share answers 307 with a less loaded member's /rtc, which fetch
      // follows (that member allows any origin); the answer, and so the
      // channels, are then that member's.
      await pc.setLocalDescription(await pc.createOffer());
      const res = await fetch('rtc', {
        method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp,
        signal: AbortSignal.timeout(SIGNAL_TIMEOUT),
      });
      if (res.status !== 201) throw new Error(`POST /rtc: ${res.status} ${(await res.text()).trim()}`);
      s.server = new URL(res.url).host;
      await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
      let timeout;
      await Promise.race([opened, new Promise((_, reject) => {
        timeout = setTimeout(() => reject(new Error('the channels did not open')), OPEN_TIMEOUT);
      })]);
      clearTimeout(timeout);
      if (s.state !== 'connecting') return;
      s.state = 'open';
      this.timer = setInterval(() => this.tick(), 250);
    } catch (e) {
      this.close(e.message);
    }
  }

  /** Ends the connection (idempotent). */
  close(why) {
    const s = this.stats;
    if (s.state === 'closed') return;
    s.state = 'closed';
    s.error = why;
    clearInterval(this.timer);
    if (this.pc) this.pc.close();
    this.h.closed?.(why);
  }

  onSession(msg) {
    let m;
    try {
      m = parseServerMessage(msg);
    } catch (e) {
      if (!(e instanceof FlotillaError)) throw e;
      this.close(`bad message from the server: ${e.message}`);
      return;
    }
    this.count(msg.length);
    const s = this.stats;
    switch (m.type) {
      case 'welcome':
        if (m.schemaHashHex !== this.schema.hashHex) {
          this.close(`the server's schema ${m.schemaHashHex} is not /schema's ${this.schema.hashHex}`);
          return;
        }
        s.welcome = m;
        s.client = m.client;
        this.h.welcome?.(m);
        this.h.event?.(`welcome: client ${m.client}, ${m.snapshotHz} snapshots/s, ${m.bytesPerSec} B/s`);
        break;
      case 'result':
        if (m.seq === 0) {
          if (m.status === APPLIED) {
            s.ship = m.value;
            this.h.event?.(`joined: ship ${m.value}`);
          } else {
            this.h.event?.(`join fizzled (reason ${m.reason})`);
          }
        } else if (m.status === APPLIED) {
          s.applied++;
        } else {
          s.fizzled++;
          s.lastFizzle = m.reason;
        }
        break;
      case 'bye':
        this.close(`the server ended the session: ${REASON_NAMES[m.reason] ?? 'unknown'} (${m.reason})`);
        break;
    }
  }

  onSnapshot(b) {
    const s = this.stats;
    this.count(b.length);
    s.lastSnapshotBytes = b.length;
    if (s.state === 'closed') return;
    let acc;
    try {
      acc = this.history.receive(b);
    } catch (e) {
      if (!(e instanceof FlotillaError)) throw e;
      s.refused++;
      if (e instanceof ChecksumError) {
        s.mismatches++;
        this.startDesync(b);
      } else if (e.reason === 'missing-baseline') {
        s.missingBaseline++;
      } else {
        s.malformed++;
      }
      return;
    }
    // Only what was accepted is acknowledged (STANDARD 4.2, 5).
    if (this.snaps.readyState === 'open') this.snaps.send(encodeAcks(acc.seq));
    s.accepted++;
    s.frame = acc.frame;
    s.entities = acc.view.entities.length;
    this.desync = null;
    this.h.snapshot?.(acc, b.length);
  }

  /** A checksum mismatch opens a desync episode, reported once. */
  startDesync(b) {
    if (this.desync) return;
    const head = parseSnapshotHead(b);
    const base = this.history.at((head.seq - head.back) & 0xffff);
    const frame = head.form === 0 || !base ? head.frame : (base.frame + head.frame) >>> 0;
    this.desync = { since: performance.now(), seq: head.seq, frame, permanent: false };
    this.sendReliable(encodeDesync({ seq: head.seq, frame, permanent: false }));
    this.stats.desyncReports++;
  }

  tick() {
    const d = this.desync;
    if (d && !d.permanent && performance.now() - d.since > DESYNC_AFTER) {
      d.permanent = true;
      this.sendReliable(encodeDesync({ seq: d.seq, frame: d.frame, permanent: true }));
      this.stats.desyncReports++;
    }
    this.count(0);
  }

  /** Records a received message of n bytes (0: only ages the window). */
  count(n) {
    const now = performance.now();
    const s = this.stats;
    if (n > 0) {
      s.rxMessages++;
      s.rxBytes += n;
      this.arrivals.push([now, n + OVERHEAD]);
    }
    let i = 0;
    while (i < this.arrivals.length && now - this.arrivals[i][0] > 1000) i++;
    if (i > 0) this.arrivals.splice(0, i);
    s.bytesPerSec = this.arrivals.reduce((sum, a) => sum + a[1], 0);
  }

  sendReliable(msg) {
    if (this.sess && this.sess.readyState === 'open') this.sess.send(msg);
  }

  /**
   * Sends an action of the given kind for the player's ship (args[3] is
   * its id). Returns false when there is no ship yet.
   * @param {number} kind a fleet action kind.
   * @param {number[]} args up to three arguments.
   */
  act(kind, args) {
    const s = this.stats;
    if (s.state !== 'open' || s.ship === null) return false;
    this.seq = (this.seq % (2 ** 32 - 2)) + 1; // 0 and 2^32-1 are the server's
    this.sendReliable(encodeAction({ seq: this.seq, kind, args: [args[0] ?? 0, args[1] ?? 0, args[2] ?? 0, s.ship] }));
    s.actionsSent++;
    return true;
  }

  /** Asks for the entities of the tiers finest levels of detail only (1..4). */
  setDetail(tiers) {
    this.stats.detail = tiers;
    this.sendReliable(encodeDetail({ tiers }));
  }

  /** Asks for a snapshot rate and byte budget (0: the server's default). */
  setRate(hz, bytesPerSec) {
    this.stats.rate = { hz, bytesPerSec };
    this.sendReliable(encodeRate({ hz, bytesPerSec }));
  }
}
