// The page: connects, draws the world, flies the player's ship, tunes the
// snapshot rate, budget and levels of detail, and charts the bandwidth. window.flotilla
// exposes the counters (conn.js's stats) for tests and the curious.

import { Connection } from './conn.js';
import { Chart, fmtBytes } from './chart.js';
import { drawWorld, fieldsOf, position } from './draw.js';

// Fleet's action kinds and cards (sim/fleet/actions.go, cards.go).
const KIND_THRUST = 2;
const KIND_TURN = 3;
const KIND_FIRE = 4;
const CARD_LASER = 1;
const LASER_RANGE = 100; // units
const TURN_STEP = 65536 / 16; // a 16th of a turn a key press

// Fizzle reasons by number: sim's (sim/action.go), fleet's (from 32) and
// the server's (from 240).
const FIZZLES = {
  1: 'wrong frame', 2: 'unknown kind', 3: 'bad args', 4: 'not owner', 5: 'full', 6: 'no entity',
  32: 'cooling down', 33: 'no target', 34: 'out of range', 35: 'unknown card', 36: 'stunned',
  37: 'destroyed, respawning', 38: 'wrong team', 240: 'busy', 241: 'gone', 242: 'reserved',
};

const $ = (id) => document.getElementById(id);
const world = $('world');
const g = world.getContext('2d');
const chart = new Chart($('rate'), $('sizes'));
const hz = $('hz');
const bps = $('bps');
const detail = $('detail');
// What each Detail keeps (protocol.Detail), with the demo game's rings of
// tiles around the ship for each tier (demowire.DefaultInterest).
const DETAILS = {
  1: 'full only (1 ring)', 2: 'to medium (2 rings)', 3: 'to low (3 rings)', 4: 'all, to blip (5 rings)',
};

let F = null; // the schema's field numbers
let view = { entities: [], events: [] };
let beams = [];
let scale = 0.9; // pixels a unit
let center = [0, 0];
let tile = 0;

const conn = new Connection({
  snapshot(acc, bytes) {
    view = acc.view;
    chart.snapshot(bytes);
    for (const ev of acc.view.events) {
      // Combat events: source and target ids (fields 1 and 2 of "combat").
      beams.push({ source: ev.values[1], target: ev.values[2], alpha: 1 });
    }
    if (beams.length > 64) beams = beams.slice(-64);
  },
  event(text) { log(text); },
  welcome(w) {
    // The sliders start at what the server gives a client that asks for
    // nothing else.
    hz.value = w.snapshotHz;
    bps.value = w.bytesPerSec;
    showTuning();
  },
  closed(why) { log(why, true); },
});
window.flotilla = conn.stats;

function log(text, bad = false) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('bad', bad);
}

function myShip() {
  const id = conn.stats.ship;
  if (id === null) return null;
  return view.entities.find((e) => e.id === id) ?? null;
}

function turnBy(delta) {
  const me = myShip();
  if (!me || me.lod > 1) return;
  const h = Math.round((me.values[F.ship.f.heading] / 1024) * 65536);
  conn.act(KIND_TURN, [(((h + delta) % 65536) + 65536) % 65536]);
}

function turnToward(wx, wy) {
  const me = myShip();
  if (!me) return;
  const p = position(F, me);
  let a = Math.atan2(wy - p[1], wx - p[0]);
  if (a < 0) a += 2 * Math.PI;
  conn.act(KIND_TURN, [Math.round((a / (2 * Math.PI)) * 65536) % 65536]);
}

function fire() {
  const me = myShip();
  if (!me) return;
  const p = position(F, me);
  const team = me.values[F.ship.f.team];
  let best = null;
  let bestD = Infinity;
  for (const e of view.entities) {
    if (e.kind !== F.ship.kind || e.id === me.id || e.values[F.ship.f.team] === team) continue;
    const q = position(F, e);
    if (!q) continue;
    const d = Math.hypot(q[0] - p[0], q[1] - p[1]);
    if (d < bestD) {
      best = e;
      bestD = d;
    }
  }
  if (!best || bestD > LASER_RANGE) {
    log(`no enemy within laser range (${LASER_RANGE} units)`);
    return;
  }
  conn.act(KIND_FIRE, [CARD_LASER, best.id]);
}

function press(key) {
  switch (key) {
    case 'w': case 'ArrowUp': conn.act(KIND_THRUST, [127]); break;
    case 's': case 'ArrowDown': conn.act(KIND_THRUST, [0]); break;
    case 'a': case 'ArrowLeft': turnBy(TURN_STEP); break;
    case 'd': case 'ArrowRight': turnBy(-TURN_STEP); break;
    case ' ': fire(); break;
    case '+': case '=': scale = Math.min(8, scale * 1.25); break;
    case '-': scale = Math.max(0.05, scale / 1.25); break;
    default: return false;
  }
  return true;
}

window.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement) return;
  if (press(e.key)) e.preventDefault();
});
for (const b of document.querySelectorAll('button[data-key]')) {
  b.addEventListener('click', () => press(b.dataset.key));
}
world.addEventListener('click', (e) => {
  const r = world.getBoundingClientRect();
  const x = ((e.clientX - r.left) * world.width) / r.width;
  const y = ((e.clientY - r.top) * world.height) / r.height;
  turnToward(center[0] + (x - world.width / 2) / scale, center[1] - (y - world.height / 2) / scale);
});
world.addEventListener('wheel', (e) => {
  e.preventDefault();
  scale = Math.min(8, Math.max(0.05, scale * (e.deltaY < 0 ? 1.1 : 1 / 1.1)));
}, { passive: false });

// Tuning: a Rate message a moment after the sliders stop.
let rateTimer = 0;
function showTuning() {
  $('hz-out').textContent = `${hz.value} /s`;
  $('bps-out').textContent = `${fmtBytes(Number(bps.value))}/s`;
  $('detail-out').textContent = DETAILS[detail.value];
}
function tune() {
  showTuning();
  clearTimeout(rateTimer);
  rateTimer = setTimeout(() => conn.setRate(Number(hz.value), Number(bps.value)), 150);
}
hz.addEventListener('input', tune);
bps.addEventListener('input', tune);
// Detail: a Detail message a moment after the slider stops.
let detailTimer = 0;
detail.addEventListener('input', () => {
  showTuning();
  clearTimeout(detailTimer);
  detailTimer = setTimeout(() => conn.setDetail(Number(detail.value)), 150);
});
$('reset').addEventListener('click', () => {
  const w = conn.stats.welcome;
  if (w) {
    hz.value = w.snapshotHz;
    bps.value = w.bytesPerSec;
  }
  detail.value = 4;
  showTuning();
  conn.setRate(0, 0);
  conn.setDetail(4);
});
showTuning();

function budget() {
  const s = conn.stats;
  if (s.rate.bytesPerSec > 0) return s.rate.bytesPerSec;
  return s.welcome ? s.welcome.bytesPerSec : 0;
}

function counters() {
  const s = conn.stats;
  const rows = [
    ['state', s.state],
    ['client / ship', `${s.client ?? '–'} / ${s.ship ?? '–'}`],
    ['frame', s.frame],
    ['entities in view', s.entities],
    ['snapshots accepted', s.accepted],
    ['snapshots refused', s.refused, s.refused > 0],
    ['checksum mismatches', s.mismatches, s.mismatches > 0],
    ['actions applied', s.applied],
    ['actions fizzled', s.lastFizzle === null ? s.fizzled : `${s.fizzled} (last: ${FIZZLES[s.lastFizzle] ?? s.lastFizzle})`],
    ['received', `${fmtBytes(s.bytesPerSec)}/s, ${fmtBytes(s.rxBytes)} in all`],
    ['last snapshot', `${s.lastSnapshotBytes} B`],
  ];
  $('counters').innerHTML = rows
    .map(([k, v, bad]) => `<tr><td>${k}</td><td${bad ? ' class="bad"' : ''}>${v}</td></tr>`).join('');
}

function frame() {
  if (F) {
    const me = myShip();
    if (me) center = position(F, me) ?? center;
    drawWorld(g, { F, view, center, scale, tile, ship: conn.stats.ship, beams });
    for (const b of beams) b.alpha -= 0.04;
    beams = beams.filter((b) => b.alpha > 0);
  }
  requestAnimationFrame(frame);
}

setInterval(() => {
  chart.sample(conn.stats.bytesPerSec);
  chart.draw(budget());
  counters();
}, 250);

(async () => {
  await conn.connect();
  if (conn.schema) {
    F = fieldsOf(conn.schema);
    tile = tileSize(conn.stats.welcome);
  }
  if (conn.stats.state === 'open') {
    log(conn.stats.server === location.host ? 'connected: waiting for a ship' : `connected to ${conn.stats.server}, a less loaded server of the mesh: waiting for a ship`);
  }
  const wait = setInterval(() => {
    if (conn.stats.state !== 'open') return clearInterval(wait);
    if (conn.stats.ship !== null) {
      log(`flying ship ${conn.stats.ship}: W thrust, A/D turn, Space fire`);
      clearInterval(wait);
    }
    if (!tile) tile = tileSize(conn.stats.welcome);
  }, 200);
  requestAnimationFrame(frame);
})();

// The demo game's params in the Welcome: [tile size] [world radius]
// (uvarints, raw sim.Fixed with 16 fraction bits). 0 when unknown.
function tileSize(w) {
  if (!w || w.game.length === 0) return 0;
  let v = 0;
  for (let i = 0, s = 0; i < w.game.length; i++, s += 7) {
    v += (w.game[i] & 0x7f) * 2 ** s;
    if (w.game[i] < 0x80) break;
  }
  return v / 65536;
}
