// The map page in real headless Chromium (Debian's chromium, driven by playwright-core):
//   - /map loads with no console error, page error, failed request or HTTP error;
//   - the map reaches 'idle' and its canvas shows the grids: many pixels in the grid fill
//     colours (community palette blended over the background), in several communities' colours;
//   - grid-code labels are placed (text drawn with local glyphs, no glyph server);
//   - a click on a known grid opens the lookup popup with the grid's code and worker;
//   - the level toggles hide and show the grids;
//   - screenshots (map.png, map-popup.png) are kept as the test's artefacts.
//   - with MAP_TEST_MODE=compare (a draft exists): /map?compare=draft shows the active
//     generation and the draft side by side, each with its own grids of the redrawn community
//     (COMPARE_COMMUNITY, COMPARE_ACTIVE_N, COMPARE_DRAFT_N), moving together (map-compare.png).
// usage: node map_test.cjs BASE_URL OUT_DIR [CHROMIUM]
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const {chromium} = require('playwright-core');

const [base, outDir, exe = '/usr/bin/chromium'] = process.argv.slice(2);
if (!base || !outDir) {
  console.error('usage: node map_test.cjs BASE_URL OUT_DIR [CHROMIUM]');
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(ok, what, detail) {
  if (ok) {
    passed++;
    console.log(`ok: ${what}`);
  } else {
    failed++;
    console.log(`FAIL: ${what}${detail !== undefined ? `: ${detail}` : ''}`);
  }
  return ok;
}

// A PNG decoder for Chromium's screenshots: 8-bit RGB or RGBA, not interlaced.
function decodePNG(buf) {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let off = 8;
  let w = 0, h = 0, type = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const kind = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (kind === 'IHDR') {
      w = data.readUInt32BE(0);
      h = data.readUInt32BE(4);
      type = data[9];
      if (data[8] !== 8 || (type !== 2 && type !== 6) || data[12] !== 0)
        throw new Error(`unsupported PNG (depth ${data[8]}, colour type ${type}, interlace ${data[12]})`);
    } else if (kind === 'IDAT') {
      idat.push(data);
    } else if (kind === 'IEND') {
      break;
    }
    off += 12 + len;
  }
  const bpp = type === 6 ? 4 : 3;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = w * bpp;
  const px = Buffer.alloc(w * h * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      let p;
      switch (f) {
        case 0: p = 0; break;
        case 1: p = a; break;
        case 2: p = b; break;
        case 3: p = (a + b) >> 1; break;
        case 4: {
          const q = a + b - c, pa = Math.abs(q - a), pb = Math.abs(q - b), pc = Math.abs(q - c);
          p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`bad PNG filter ${f}`);
      }
      line[i] = (line[i] + p) & 255;
    }
    for (let x = 0; x < w; x++) {
      px[(y * w + x) * 4] = line[x * bpp];
      px[(y * w + x) * 4 + 1] = line[x * bpp + 1];
      px[(y * w + x) * 4 + 2] = line[x * bpp + 2];
      px[(y * w + x) * 4 + 3] = bpp === 4 ? line[x * bpp + 3] : 255;
    }
    prev = line;
  }
  return {w, h, px};
}

const hex = (s) => [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16));

// Pixels of the image (inside the clip box) within tol of each colour.
function countColours(img, colours, tol, box) {
  const counts = colours.map(() => 0);
  let total = 0;
  for (let y = box.y; y < box.y + box.h; y++)
    for (let x = box.x; x < box.x + box.w; x++) {
      const i = (y * img.w + x) * 4;
      total++;
      for (let k = 0; k < colours.length; k++) {
        const c = colours[k];
        if (Math.abs(img.px[i] - c[0]) <= tol && Math.abs(img.px[i + 1] - c[1]) <= tol &&
            Math.abs(img.px[i + 2] - c[2]) <= tol) {
          counts[k]++;
          break;
        }
      }
    }
  return {counts, total};
}

async function lookup(page, lon, lat) {
  return page.evaluate(async ([lon, lat]) => {
    const r = await fetch(`/v1/lookup?lon=${lon}&lat=${lat}`);
    return r.json();
  }, [lon, lat]);
}

// Waits until the map has drawn what the last change asked for.
async function rendered_(page) {
  const ok = await page.evaluate(() => new Promise((resolve) => {
    const m = window.wangge.map;
    const t = setTimeout(() => resolve(false), 15000);
    m.once('idle', () => {
      clearTimeout(t);
      resolve(true);
    });
    m.triggerRepaint();
  }));
  if (!ok) throw new Error('the map did not become idle within 15 s');
}

// Distinct grid codes of a community drawn on a map.
function drawnGrids(page, which, community) {
  return page.evaluate(([which, community]) => {
    const m = which === 'draft' ? window.wangge.draftMap : window.wangge.map;
    const codes = new Set();
    for (const f of m.queryRenderedFeatures({layers: ['grids-fill']}))
      if (f.properties.parent === community) codes.add(f.properties.code);
    return [...codes].sort();
  }, [which, community]);
}

async function compare(page) {
  const community = process.env.COMPARE_COMMUNITY;
  const activeN = Number(process.env.COMPARE_ACTIVE_N), draftN = Number(process.env.COMPARE_DRAFT_N);
  await page.goto(`${base}/map?compare=draft`, {waitUntil: 'load'});
  await page.waitForFunction(() => window.wangge && window.wangge.idle && window.wangge.draftMap &&
                             window.wangge.draftMap.loaded() && window.wangge.draftMap.areTilesLoaded(), null,
                             {timeout: 60000});
  await page.evaluate(() => new Promise((resolve) => {
    const d = window.wangge.draftMap;
    if (!d.isMoving() && d.areTilesLoaded()) setTimeout(resolve, 500);
    else d.once('idle', resolve);
  }));
  const st = await page.evaluate(() => ({
    compare: document.body.classList.contains('compare'), draft: window.wangge.draft,
    left: document.getElementById('map').getBoundingClientRect().width,
    right: document.getElementById('map-draft').getBoundingClientRect().width,
    label: document.getElementById('label-draft').textContent,
  }));
  check(st.compare && st.draft > 1 && st.right > 500 && Math.abs(st.left - st.right) < 4,
        'the draft is shown beside the active generation, half and half', JSON.stringify(st));
  check(st.label.includes(`g${st.draft}`), 'the draft pane is labelled with its generation', st.label);
  const a = await drawnGrids(page, 'active', community), d = await drawnGrids(page, 'draft', community);
  check(a.length === activeN, `the active map draws community ${community}'s ${activeN} grids`, a.join(','));
  check(d.length === draftN, `the draft map draws its ${draftN} redrawn grids`, d.join(','));
  const z = await page.evaluate(() => new Promise((resolve) => {
    const m = window.wangge.map, dm = window.wangge.draftMap;
    m.jumpTo({zoom: m.getZoom() + 1, center: m.getCenter()});
    setTimeout(() => resolve([m.getZoom(), dm.getZoom(), m.getCenter().lng, dm.getCenter().lng]), 200);
  }));
  check(Math.abs(z[0] - z[1]) < 1e-9 && Math.abs(z[2] - z[3]) < 1e-9, 'the draft map moves with the active one', z.join(','));
  const shot = path.join(outDir, 'map-compare.png');
  await page.screenshot({path: shot});
  const img = decodePNG(fs.readFileSync(shot));
  const background = hex('#f4f1ea');
  const half = {x: Math.floor(img.w / 2) + 20, y: 60, w: Math.floor(img.w / 2) - 80, h: img.h - 120};
  const {counts, total} = countColours(img, [background], 6, half);
  check(total - counts[0] > total * 0.2, 'the draft pane is drawn (not blank)', `${total - counts[0]} of ${total} px`);
}

async function main() {
  fs.mkdirSync(outDir, {recursive: true});
  const browser = await chromium.launch({
    executablePath: exe,
    headless: true,
    // WebGL without a GPU: ANGLE on SwiftShader (software Vulkan/GL in Chromium).
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
           '--ignore-gpu-blocklist'],
  });
  const problems = [];
  try {
    const page = await browser.newPage({viewport: {width: 1280, height: 800}, locale: 'zh-CN'});
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });

    if (process.env.MAP_TEST_MODE === 'compare') {
      await compare(page);
      return;
    }
    // / redirects browsers to /map
    const res = await page.goto(`${base}/`, {waitUntil: 'load'});
    check(new URL(page.url()).pathname === '/map', 'a browser asking / lands on /map', page.url());
    check(res && res.status() === 200, '/map answers 200', res && res.status());
    check((await page.title()).includes('网格'), 'the page has its Chinese title', await page.title());

    await page.waitForFunction(() => window.wangge && (window.wangge.idle || window.wangge.error), null,
                               {timeout: 60000});
    const st = await page.evaluate(() => ({
      error: window.wangge.error, zoom: window.wangge.map.getZoom(), bounds: window.wangge.tilejson.bounds,
      background: window.wangge.background, palette: window.wangge.palette, alpha: window.wangge.gridFillOpacity,
      center: window.wangge.map.getCenter().toArray(),
    }));
    if (!check(!st.error, 'the map started', st.error)) throw new Error(st.error);
    console.log(`map idle at zoom ${st.zoom.toFixed(2)}, centre ${st.center.map((v) => v.toFixed(5)).join(',')}`);
    const [w, s, e, n] = st.bounds;
    check(st.center[0] > w && st.center[0] < e && st.center[1] > s && st.center[1] < n,
          'the view is fitted to the TileJSON bounds', JSON.stringify(st.bounds));

    // grids and labels as MapLibre rendered them
    const rendered = await page.evaluate(() => {
      const m = window.wangge.map;
      const codes = (layer) => [...new Set(m.queryRenderedFeatures({layers: [layer]}).map((f) => f.properties.code))];
      return {grids: codes('grids-fill'), labels: codes('labels-grid'), communities: codes('communities-line')};
    });
    check(rendered.grids.length >= 50, 'most grids are rendered', `${rendered.grids.length} of 97`);
    check(rendered.labels.length >= 10, 'grid-code labels are placed (local glyphs)', rendered.labels.length);
    check(rendered.communities.length >= 5, 'community edges are drawn', rendered.communities.length);

    // pixels: many in the grid fill colours (palette over background at the fill opacity)
    const shotPath = path.join(outDir, 'map.png');
    const shot = await page.screenshot({path: shotPath});
    console.log(`screenshot: ${shotPath}`);
    const img = decodePNG(shot);
    const bg = hex(st.background);
    const fills = st.palette.map(hex).map((c) => c.map((v, i) => Math.round(st.alpha * v + (1 - st.alpha) * bg[i])));
    const box = {x: 0, y: 0, w: img.w, h: img.h};
    const {counts, total} = countColours(img, fills, 6, box);
    const inFill = counts.reduce((a, b) => a + b, 0);
    const bgCount = countColours(img, [bg], 2, box).counts[0];
    const shades = counts.filter((c) => c > 500).length;
    console.log(`pixels: ${total} in all, ${inFill} in grid fill colours (${counts.join(' ')}), ${bgCount} background`);
    check(inFill > total * 0.15, 'many pixels are in the grid fill colours', `${inFill} of ${total}`);
    check(shades >= 5, 'grids of at least 5 communities show in distinct colours', shades);

    // click a grid whose answer is known, well inside it
    let target = null;
    for (const [lon, lat] of [[114.46, 22.63], [114.47, 22.63], [114.45, 22.625], [114.44, 22.62], [114.48, 22.64]]) {
      const mid = await lookup(page, lon, lat);
      if (!mid.grid || !mid.worker) continue;
      const d = 0.0004;
      const around = await Promise.all([[d, 0], [-d, 0], [0, d], [0, -d]].map(([dx, dy]) => lookup(page, lon + dx, lat + dy)));
      if (around.every((a) => a.grid && a.grid.code === mid.grid.code)) {
        target = {lon, lat, answer: mid};
        break;
      }
    }
    if (!check(target !== null, 'a test point well inside a grid with a worker')) throw new Error('no target');
    const xy = await page.evaluate(([lon, lat]) => {
      const p = window.wangge.map.project([lon, lat]);
      const r = window.wangge.map.getCanvas().getBoundingClientRect();
      return {x: r.left + p.x, y: r.top + p.y};
    }, [target.lon, target.lat]);
    const before = await page.evaluate(() => window.wangge.lookups);
    await page.mouse.click(xy.x, xy.y);
    await page.waitForFunction((b) => window.wangge.lookups > b, before, {timeout: 15000});
    const popup = page.locator('.maplibregl-popup .wg-popup');
    await popup.waitFor({timeout: 5000});
    const text = await popup.innerText();
    const want = target.answer;
    console.log(`clicked ${target.lon},${target.lat} at (${xy.x.toFixed(0)},${xy.y.toFixed(0)}): ${text.replace(/\s+/g, ' ')}`);
    check(text.includes(want.grid.code), 'the popup shows the grid code', want.grid.code);
    check(text.includes(want.grid.name), 'the popup shows the grid name (Chinese)', want.grid.name);
    check(text.includes(want.worker.name), 'the popup shows the grid worker', want.worker.name);
    check(!want.worker.phone || text.includes(want.worker.phone), 'the popup shows the worker phone', want.worker.phone);
    check(text.includes(want.community.name), 'the popup shows the community', want.community.name);
    check(text.includes(want.district.name), 'the popup shows the district', want.district.name);
    await rendered_(page);
    const selected = await page.evaluate(() => window.wangge.map.getFilter('grid-selected'));
    check(JSON.stringify(selected).includes(want.grid.code), 'the clicked grid is outlined', JSON.stringify(selected));
    const popupPath = path.join(outDir, 'map-popup.png');
    await page.screenshot({path: popupPath});
    console.log(`screenshot: ${popupPath}`);

    // a click outside every grid: the nearest grid and its distance
    // (15 px east of the district's bounds, at mid height: inside the fitBounds padding)
    const outside = await page.evaluate(([e, mid]) => {
      const m = window.wangge.map;
      const p = m.project([e, mid]);
      return m.unproject([p.x + 15, p.y]).toArray();
    }, [e, (s + n) / 2]);
    const outAnswer = await lookup(page, outside[0], outside[1]);
    if (outAnswer.outside && outAnswer.nearest) {
      const oxy = await page.evaluate(([lon, lat]) => {
        const p = window.wangge.map.project([lon, lat]);
        return {x: p.x, y: p.y};
      }, outside);
      const b2 = await page.evaluate(() => window.wangge.lookups);
      await page.mouse.click(oxy.x, oxy.y);
      await page.waitForFunction((b) => window.wangge.lookups > b, b2, {timeout: 15000});
      const t2 = await page.locator('.maplibregl-popup .wg-popup').innerText();
      check(/outside — nearest grid \d+/.test(t2) && / at \d+ m/.test(t2), 'a click outside names the nearest grid and distance',
            t2.replace(/\s+/g, ' '));
    } else {
      console.log('(the view has no outside corner: outside popup not checked)');
    }

    // level toggles: hide the grids, then show them again
    await page.locator('input[data-level="grids"]').uncheck();
    await rendered_(page);
    const hidden = await page.evaluate(() => ({
      vis: window.wangge.map.getLayoutProperty('grids-fill', 'visibility'),
      n: window.wangge.map.queryRenderedFeatures({layers: ['grids-fill']}).length,
    }));
    check(hidden.vis === 'none' && hidden.n === 0, 'unticking grids hides them', JSON.stringify(hidden));
    await page.locator('input[data-level="labels"]').uncheck();
    await rendered_(page);
    const noLabels = await page.evaluate(() => window.wangge.map.queryRenderedFeatures({layers: ['labels-grid']}).length);
    check(noLabels === 0, 'unticking labels hides them', noLabels);
    await page.locator('input[data-level="grids"]').check();
    await page.locator('input[data-level="labels"]').check();
    await rendered_(page);
    const shown = await page.evaluate(() => window.wangge.map.queryRenderedFeatures({layers: ['grids-fill']}).length);
    check(shown > 0, 'ticking grids shows them again', shown);

    // the page's assets: ETag revalidation
    const etag = await page.evaluate(async () => {
      const r = await fetch('/map/map.js', {cache: 'no-store'});
      await r.text();
      const t = r.headers.get('ETag');
      const r2 = await fetch('/map/map.js', {headers: {'If-None-Match': t}, cache: 'no-store'});
      await r2.text();
      return {t, status: r2.status, ctype: r.headers.get('Content-Type')};
    });
    check(etag.t && etag.status === 304, 'map.js has an ETag and answers 304 to it', JSON.stringify(etag));
    check(/javascript/.test(etag.ctype || ''), 'map.js is served as JavaScript', etag.ctype);
  } finally {
    await browser.close();
  }
  check(problems.length === 0, 'no console errors, page errors or failed requests', `\n  ${problems.join('\n  ')}`);
}

main()
  .catch((err) => check(false, 'the browser test ran to the end', err && err.stack ? err.stack : err))
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
  });
