// Draws a view of the demo game on a canvas. Field meanings and
// quantization are protocol/demowire/schema.go's: ship and torpedo x, y at
// 1/16 unit (tiers 0 and 1), ship lx, ly in whole units (tier 2), bx, by
// in 16-unit cells (tier 3, a sensor blip), a 10-bit heading; bodies at
// 1/32 unit, or whole units at low detail. World y points up.

/** Team colours, by team number. */
export const TEAM_COLORS = ['#4fb3ff', '#ff7a59', '#7bd88f', '#e5c07b', '#c678dd', '#56d4c8', '#ff6b9a', '#b0b0b0'];

/** Field numbers of the demo schema, looked up by name once. */
export function fieldsOf(schema) {
  const kind = (name) => {
    const k = schema.kindIndex(name);
    const f = {};
    const max = {};
    if (k >= 0) {
      schema.entities[k].fields.forEach((fd, i) => {
        f[fd.name] = i;
        max[fd.name] = fd.max;
      });
    }
    return { kind: k, f, max };
  };
  return { ship: kind('ship'), torpedo: kind('torpedo'), body: kind('body') };
}

/**
 * The world position of an entity in units, or null when its tier carries
 * none.
 */
export function position(F, e) {
  const v = e.values;
  if (e.kind === F.ship.kind || e.kind === F.torpedo.kind) {
    const f = e.kind === F.ship.kind ? F.ship.f : F.torpedo.f;
    if (e.lod <= 1) return [v[f.x] / 16, v[f.y] / 16];
    if (e.lod === 2 && f.lx !== undefined) return [v[f.lx], v[f.ly]];
    if (e.lod === 3 && f.bx !== undefined) return [v[f.bx] * 16 + 8, v[f.by] * 16 + 8];
    return null;
  }
  if (e.kind === F.body.kind) {
    const f = F.body.f;
    if (e.lod <= 1) return [v[f.x] / 32, v[f.y] / 32];
    return [v[f.lx], v[f.ly]];
  }
  return null;
}

/** A ship's heading in radians (counterclockwise from +x), from the 10-bit field. */
export function heading(F, e) {
  return (e.values[F.ship.f.heading] / 1024) * 2 * Math.PI;
}

/**
 * Draws the view centred on `center` (world units) at `scale` pixels a unit.
 * @param {CanvasRenderingContext2D} g
 * @param {object} o {F, view, center, scale, tile, ship (the player's id), beams}
 */
export function drawWorld(g, o) {
  const { F, view, center, scale } = o;
  const W = g.canvas.width;
  const H = g.canvas.height;
  const sx = (x) => W / 2 + (x - center[0]) * scale;
  const sy = (y) => H / 2 - (y - center[1]) * scale;
  g.fillStyle = '#0b1020';
  g.fillRect(0, 0, W, H);
  if (o.tile > 0) drawHexes(g, center, scale, o.tile, sx, sy);

  const at = new Map();
  for (const e of view.entities) {
    const p = position(F, e);
    if (p) at.set(e.id, p);
  }
  // Combat beams: source to target, fading.
  for (const b of o.beams) {
    const a = at.get(b.source);
    const t = at.get(b.target);
    if (!a || !t) continue;
    g.strokeStyle = `rgba(255,230,120,${b.alpha})`;
    g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(sx(a[0]), sy(a[1]));
    g.lineTo(sx(t[0]), sy(t[1]));
    g.stroke();
  }
  for (const e of view.entities) {
    const p = at.get(e.id);
    if (!p) continue;
    const x = sx(p[0]);
    const y = sy(p[1]);
    if (x < -20 || y < -20 || x > W + 20 || y > H + 20) continue;
    if (e.kind === F.ship.kind) drawShip(g, F, e, x, y, scale, e.id === o.ship);
    else if (e.kind === F.torpedo.kind) {
      g.fillStyle = '#ffd866';
      g.beginPath();
      g.arc(x, y, 2.5, 0, 2 * Math.PI);
      g.fill();
    } else {
      g.strokeStyle = '#8893a8';
      g.lineWidth = 1;
      g.beginPath();
      g.arc(x, y, e.lod <= 1 ? 5 : 3, 0, 2 * Math.PI);
      g.stroke();
    }
  }
}

function drawShip(g, F, e, x, y, scale, mine) {
  const f = F.ship.f;
  const color = TEAM_COLORS[e.values[f.team] % TEAM_COLORS.length];
  if (e.lod === 3) {
    // A blip: only a 16-unit cell and a team.
    const s = Math.max(3, 16 * scale);
    g.strokeStyle = color;
    g.globalAlpha = 0.45;
    g.strokeRect(x - s / 2, y - s / 2, s, s);
    g.globalAlpha = 1;
    return;
  }
  if (e.lod === 2) {
    // Low detail: a position and a team, no heading.
    g.strokeStyle = color;
    g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(x, y - 5);
    g.lineTo(x + 5, y);
    g.lineTo(x, y + 5);
    g.lineTo(x - 5, y);
    g.closePath();
    g.stroke();
    return;
  }
  const a = heading(F, e);
  const r = mine ? 11 : 8;
  g.save();
  g.translate(x, y);
  g.rotate(-a);
  g.beginPath();
  g.moveTo(r, 0);
  g.lineTo(-r * 0.7, r * 0.6);
  g.lineTo(-r * 0.4, 0);
  g.lineTo(-r * 0.7, -r * 0.6);
  g.closePath();
  g.fillStyle = color;
  g.globalAlpha = e.lod === 0 ? 1 : 0.6;
  g.fill();
  g.restore();
  g.globalAlpha = 1;
  if (f.hull !== undefined) {
    const hull = Math.min(1, e.values[f.hull] / F.ship.max.hull);
    g.fillStyle = '#2a3145';
    g.fillRect(x - 8, y + 11, 16, 2);
    g.fillStyle = hull > 0.3 ? '#7bd88f' : '#ff6b6b';
    g.fillRect(x - 8, y + 11, 16 * hull, 2);
  }
  if (mine) {
    g.strokeStyle = '#ffffff';
    g.lineWidth = 1.5;
    g.beginPath();
    g.arc(x, y, 16, 0, 2 * Math.PI);
    g.stroke();
    g.fillStyle = '#ffffff';
    g.font = '11px system-ui, sans-serif';
    g.fillText('you', x + 18, y - 10);
  }
}

/** Pointy-top hex tiles of the given size (centre to corner), as sim.Hex lays them out. */
function drawHexes(g, center, scale, size, sx, sy) {
  const W = g.canvas.width;
  const H = g.canvas.height;
  if (size * scale < 8) return;
  const w = Math.sqrt(3) * size;
  const halfW = W / scale / 2 + size * 2;
  const halfH = H / scale / 2 + size * 2;
  const r0 = Math.floor((center[1] - halfH) / (1.5 * size));
  const r1 = Math.ceil((center[1] + halfH) / (1.5 * size));
  g.strokeStyle = '#1b2338';
  g.lineWidth = 1;
  g.beginPath();
  for (let r = r0; r <= r1; r++) {
    const cy = 1.5 * size * r;
    const q0 = Math.floor((center[0] - halfW) / w - r / 2);
    const q1 = Math.ceil((center[0] + halfW) / w - r / 2);
    for (let q = q0; q <= q1; q++) {
      const cx = w * (q + r / 2);
      for (let k = 0; k <= 6; k++) {
        const ang = Math.PI / 6 + (k * Math.PI) / 3;
        const px = sx(cx + size * Math.cos(ang));
        const py = sy(cy + size * Math.sin(ang));
        if (k === 0) g.moveTo(px, py);
        else g.lineTo(px, py);
      }
    }
  }
  g.stroke();
}
