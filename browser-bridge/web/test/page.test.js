// The page in a real Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; nothing is downloaded): builds the server, starts it on
// free loopback ports with 30 bots, opens the page headless and checks
// that it rebuilds the world for 10 s with no checksum mismatch, that a
// key press flies the ship (an action comes back applied), that a lower
// byte budget lowers the bytes per second received, and writes a
// screenshot to test-artifacts/page.png at the repository's root.
//
//	make browsertest   (npm ci in this folder first; .ci/run does it)
//
// CHROMIUM overrides the browser's path. Every wait is bounded; the server
// is killed by its PID whatever happens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const artifacts = join(root, 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns', '--no-sandbox',
  '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** p, or false once ms have passed (the timer does not outlive the race). */
async function within(p, ms) {
  let timer;
  const late = new Promise((r) => { timer = setTimeout(() => r(false), ms); });
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A loopback port free for TCP (or UDP) right now. */
function freePort(udp) {
  return new Promise((resolve, reject) => {
    if (udp) {
      const s = createSocket('udp4');
      s.on('error', reject);
      s.bind(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    } else {
      const s = createServer();
      s.on('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    }
  });
}

/**
 * Starts the server (30 bots for 40 s unless args says otherwise, on free
 * ports unless udp and http name them); resolves with {proc, url, log} once
 * it logs the page's URL.
 */
async function startServer(bin, { args = ['-bots', '30', '-duration', '40s'], udp, http } = {}) {
  udp ??= await freePort(true);
  http ??= await freePort(false);
  const proc = spawn(bin, [
    '-listen', `127.0.0.1:${udp}`, '-http', `127.0.0.1:${http}`, '-admin', '', '-log-format', 'text', ...args,
  ], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const log = [];
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not log its page URL in 20 s')), 20000);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      log.push(chunk);
      const m = /open the page"? url=(\S+)/.exec(log.join(''));
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before serving:\n${log.join('')}`));
    });
  });
  try {
    return { proc, url: await url, log };
  } catch (e) {
    await stopServer(proc);
    throw e;
  }
}

/** Resolves once the server's log matches re, or fails after ms. */
async function waitLog(server, re, ms) {
  const end = Date.now() + ms;
  while (!re.test(server.log.join(''))) {
    if (Date.now() > end) throw new Error(`the server did not log ${re} in ${ms} ms:\n${server.log.join('')}`);
    await sleep(100);
  }
}

/** Builds the server binary into a new temporary folder: {tmp, bin}. */
function buildServer() {
  const tmp = mkdtempSync(join(tmpdir(), 'flotilla-page-'));
  const bin = join(tmp, 'flotilla');
  const build = spawnSync('go', ['build', '-o', bin, './server/cmd/flotilla'], { cwd: root, encoding: 'utf8', timeout: 180000 });
  assert.equal(build.status, 0, `go build: ${build.stderr}`);
  return { tmp, bin };
}

/** Kills the server by PID and waits (at most 5 s) for it to go. */
async function stopServer(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  process.kill(proc.pid, 'SIGTERM');
  if (await within(gone, 5000)) return;
  process.kill(proc.pid, 'SIGKILL');
  await within(gone, 2000);
}

/** The page's mean entities in view and bytes per second over ms, sampled every 250 ms. */
async function meanOf(page, ms) {
  let entities = 0;
  let bytesPerSec = 0;
  let n = 0;
  for (let t = 0; t < ms; t += 250, n++) {
    const s = await page.evaluate(() => ({ e: window.flotilla.entities, b: window.flotilla.bytesPerSec }));
    entities += s.e;
    bytesPerSec += s.b;
    await sleep(250);
  }
  return { entities: entities / n, bytesPerSec: bytesPerSec / n };
}

/** The page's mean bytes per second over ms, sampled every 250 ms. */
async function meanRate(page, ms) {
  const xs = [];
  for (let t = 0; t < ms; t += 250) {
    xs.push(await page.evaluate(() => window.flotilla.bytesPerSec));
    await sleep(250);
  }
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

test('the page flies a ship among bots in Chromium', { timeout: 240000 }, async () => {
  const started = Date.now();
  const { tmp, bin } = buildServer();
  const built = Date.now();

  mkdirSync(artifacts, { recursive: true });
  let server = null;
  let browser = null;
  let page = null;
  const problems = [];
  try {
    server = await startServer(bin);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30000 });
    page = await browser.newPage({ viewport: { width: 1120, height: 720 } });
    page.setDefaultTimeout(15000);
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.request().method()} ${r.url()}: ${r.status()}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    await page.goto(server.url, { timeout: 15000 });

    // Connected, proven and joined: the page knows its ship and decodes.
    await page.waitForFunction(() => window.flotilla.ship !== null && window.flotilla.accepted >= 10,
      null, { timeout: 15000, polling: 100 });
    const connectedAt = Date.now();

    // 10 s of the world with no checksum mismatch.
    const s0 = await page.evaluate(() => ({ ...window.flotilla }));
    await sleep(10000);
    const s1 = await page.evaluate(() => ({ ...window.flotilla }));
    assert.equal(s1.state, 'open', `the page's connection: ${s1.error}`);
    assert.equal(s1.mismatches, 0, 'checksum mismatches');
    assert.ok(s1.accepted - s0.accepted >= 50, `accepted ${s1.accepted - s0.accepted} snapshots in 10 s`);
    assert.ok(s1.entities > 0, 'the view holds entities');

    // A key press flies the ship: the thrust comes back applied. The bots
    // fight, so the ship may be between death and respawn, when actions
    // fizzle: press again every half second, for at most 15 s.
    await page.focus('#world');
    let flew = false;
    let presses = 0;
    for (; presses < 30 && !flew; presses++) {
      await page.keyboard.press('w');
      flew = await page.waitForFunction((n) => window.flotilla.applied > n, s1.applied, { timeout: 500, polling: 50 })
        .then(() => true, () => false);
    }
    const s1b = await page.evaluate(() => ({ ...window.flotilla }));
    assert.ok(flew, `no action applied: ${s1b.actionsSent} sent, ${s1b.fizzled} fizzled (last reason ${s1b.lastFizzle})`);

    // One level of detail: the coarser entities leave the view, and the
    // bytes a second fall with them. Then all levels again.
    const setDetail = async (tiers) => {
      await page.$eval('#detail', (el, v) => {
        el.value = String(v);
        el.dispatchEvent(new Event('input', { bubbles: true }));
      }, tiers);
      await page.waitForFunction((v) => window.flotilla.detail === v, tiers, { timeout: 2000, polling: 50 });
      await sleep(1500); // the change reaches the view; the rate's window is a second
    };
    const allDetail = await meanOf(page, 3000);
    await setDetail(1);
    const oneDetail = await meanOf(page, 3000);
    assert.ok(oneDetail.entities < allDetail.entities * 0.8 && oneDetail.bytesPerSec < allDetail.bytesPerSec,
      `detail 4: ${allDetail.entities.toFixed(1)} entities, ${allDetail.bytesPerSec.toFixed(0)} B/s; ` +
      `detail 1: ${oneDetail.entities.toFixed(1)} entities, ${oneDetail.bytesPerSec.toFixed(0)} B/s`);
    await setDetail(4);

    // A lower byte budget lowers what the page receives.
    const before = await meanRate(page, 3000);
    await page.$eval('#bps', (el) => {
      el.value = '1000';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForFunction(() => window.flotilla.rate.bytesPerSec === 1000, null, { timeout: 2000, polling: 50 });
    await sleep(1500); // the window of the measure is a second
    const after = await meanRate(page, 3000);
    assert.ok(after < before * 0.8, `bytes per second ${before.toFixed(0)} before, ${after.toFixed(0)} after`);

    await page.screenshot({ path: join(artifacts, 'page.png') });
    const s2 = await page.evaluate(() => ({ ...window.flotilla }));
    assert.equal(s2.mismatches, 0, 'checksum mismatches');
    assert.equal(s2.state, 'open', `the page's connection: ${s2.error}`);
    assert.deepEqual(problems, []);
    const summary = {
      seconds: (Date.now() - started) / 1000,
      buildSeconds: (built - started) / 1000,
      connectSeconds: (connectedAt - built) / 1000, // server start, page load, proof and join
      accepted: s2.accepted, refused: s2.refused, mismatches: s2.mismatches,
      applied: s2.applied, fizzled: s2.fizzled, lastFizzle: s2.lastFizzle, presses,
      bytesPerSecBefore: Math.round(before), bytesPerSecAfter: Math.round(after),
      detailAll: { entities: Math.round(allDetail.entities), bytesPerSec: Math.round(allDetail.bytesPerSec) },
      detailOne: { entities: Math.round(oneDetail.entities), bytesPerSec: Math.round(oneDetail.bytesPerSec) },
    };
    writeFileSync(join(artifacts, 'page.json'), `${JSON.stringify(summary, null, 2)}\n`);
    console.log(JSON.stringify(summary));
  } catch (e) {
    if (page) await page.screenshot({ path: join(artifacts, 'page-failed.png'), timeout: 5000 }).catch(() => {});
    throw e;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) {
      await stopServer(server.proc);
      writeFileSync(join(artifacts, 'server.log'), server.log.join(''));
    }
    rmSync(tmp, { recursive: true, force: true });
  }
});

// Two servers in a mesh, each serving the page: the first, which serves
// more than its share (4 bots against none, margin 1), answers the page's
// offer with a redirect to the second's /rtc; the browser follows it
// across origins, and the page plays on the second server while the first
// served it the page. The second never redirects (margin -1).
test('a mesh member sends the page to a less loaded member', { timeout: 180000 }, async () => {
  const { tmp, bin } = buildServer();
  const [udpA, udpB, httpA, httpB] = [await freePort(true), await freePort(true), await freePort(false), await freePort(false)];
  const members = `1=127.0.0.1:${udpA}/127.0.0.1:${httpA},2=127.0.0.1:${udpB}/127.0.0.1:${httpB}`;
  const mesh = (self, margin) => ['-mesh-self', String(self), '-mesh-members', members, '-mesh-key', 'a5'.repeat(32),
    '-mesh-redirect-margin', String(margin), '-duration', '40s'];
  const servers = [];
  let browser = null;
  let page = null;
  const problems = [];
  try {
    // The first server's bots connect before the mesh forms (nobody is
    // redirected before), so its load is 4 and its peer's 0.
    servers.push(await startServer(bin, { udp: udpA, http: httpA, args: [...mesh(1, 1), '-bots', '4'] }));
    servers.push(await startServer(bin, { udp: udpB, http: httpB, args: mesh(2, -1) }));
    for (const s of servers) await waitLog(s, /mesh: formed/, 10000);
    await sleep(1000); // the members tell each other their loads four times a second

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30000 });
    page = await browser.newPage();
    page.setDefaultTimeout(15000);
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.request().method()} ${r.url()}: ${r.status()}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    await page.goto(servers[0].url, { timeout: 15000 });
    await page.waitForFunction(() => window.flotilla.ship !== null && window.flotilla.accepted >= 10,
      null, { timeout: 15000, polling: 100 });
    await sleep(2000);
    const s = await page.evaluate(() => ({ ...window.flotilla }));
    assert.equal(s.server, `127.0.0.1:${httpB}`, 'the page did not play on the less loaded member');
    assert.equal(s.state, 'open', `the page's connection: ${s.error}`);
    assert.equal(s.mismatches, 0, 'checksum mismatches');
    assert.ok(s.entities >= 4, `the page sees ${s.entities} entities; the first server's 4 bots fly in the same world`);
    assert.deepEqual(problems, []);
  } catch (e) {
    if (page) await page.screenshot({ path: join(artifacts, 'page-mesh-failed.png'), timeout: 5000 }).catch(() => {});
    throw e;
  } finally {
    if (browser) await browser.close().catch(() => {});
    for (const [i, s] of servers.entries()) {
      await stopServer(s.proc);
      writeFileSync(join(artifacts, `server-mesh-${i + 1}.log`), s.log.join(''));
    }
    rmSync(tmp, { recursive: true, force: true });
  }
});
