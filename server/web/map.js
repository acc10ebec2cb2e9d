// wangge map page: districts, communities and work grids from wangge-server's vector tiles,
// grids coloured by community, grid codes as labels, level toggles, and a click that asks
// /v1/lookup for the point's grid and grid worker.
//
// Everything comes from the server that serves this page: no basemap, no glyph server, no
// CDN. Text labels are drawn by MapLibre itself: a style without a `glyphs` URL makes
// MapLibre GL JS (>= 5.11) rasterise every glyph locally with the browser's own fonts
// (TinySDF on a canvas), so grid codes and Chinese names render offline. Popups are HTML.

const LAYERS = 'districts,communities,grids,labels';
const TILEJSON = `/tiles/${LAYERS}.json`;
const BACKGROUND = '#f4f1ea';
const FALLBACK = '#9e9e9e'; // a unit whose community code is not all digits
// Community colours: the community code read as a number, modulo the palette's length, so
// neighbours (consecutive codes) differ and every client derives the same colour.
// Consecutive entries differ in hue, as do the sample's neighbouring communities.
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948',
                 '#b07aa1', '#ff9da7', '#9c755f', '#a0cbe8', '#499894', '#d4a6c8'];
const GRID_FILL_OPACITY = 0.55;
const COMMUNITY_FILL_OPACITY = 0.45;
const LEVEL_LAYERS = {
  districts: ['districts-fill', 'districts-line'],
  communities: ['communities-fill', 'communities-line'],
  grids: ['grids-fill', 'grids-line', 'grid-selected'],
  labels: ['labels-grid', 'labels-community'],
};

// The page's state, for people and for tests: idle turns true at the map's first 'idle'.
const state = (window.wangge = {
  idle: false, idleCount: 0, ready: false, error: null, map: null, tilejson: null,
  lookups: 0, lastLookup: null, draft: null, draftMap: null, compare: false,
  background: BACKGROUND, palette: PALETTE, fallback: FALLBACK,
  gridFillOpacity: GRID_FILL_OPACITY, colorOf,
});

const $ = (id) => document.getElementById(id);

function colorOf(code) {
  if (typeof code !== 'string' || !/^[0-9]+$/.test(code)) return FALLBACK;
  return PALETTE[Number(code) % PALETTE.length];
}

// The same rule as a style expression on a feature property.
function colorExpr(prop) {
  const n = ['to-number', ['get', prop], -1];
  return ['case',
    ['all', ['has', prop], ['>=', n, 0], ['==', ['%', n, 1], 0]],
    ['to-color', ['at', ['%', n, PALETTE.length], ['literal', PALETTE]]],
    FALLBACK];
}

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c]);
}

function setStatus(text, isError) {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', !!isError);
}

function fail(message, err) {
  state.error = message;
  setStatus(message, true);
  if (err) console.error(message, err);
}

async function getJSON(url) {
  const res = await fetch(url, {headers: {Accept: 'application/json'}});
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: reported below
  }
  if (!res.ok) {
    const msg = body?.error?.message || res.statusText;
    throw new Error(`${url}: HTTP ${res.status}${msg ? ` (${msg})` : ''}`);
  }
  if (body === null) throw new Error(`${url}: not JSON`);
  return body;
}

function zoomsOf(tj, id, fallback) {
  const vl = (tj.vector_layers || []).find((l) => l.id === id);
  return {minzoom: Number.isFinite(vl?.minzoom) ? vl.minzoom : fallback};
}

function buildStyle(tj, tiles) {
  const z = {
    districts: zoomsOf(tj, 'districts', tj.minzoom ?? 0),
    communities: zoomsOf(tj, 'communities', 9),
    grids: zoomsOf(tj, 'grids', 11),
    labels: zoomsOf(tj, 'labels', 12),
  };
  const src = {source: 'wangge'};
  const sl = (layer) => ({...src, 'source-layer': layer, minzoom: z[layer].minzoom});
  return {
    zoom: z,
    style: {
      version: 8,
      name: 'wangge',
      // No "glyphs": labels are rasterised locally (see the top of this file).
      sources: {
        wangge: {
          type: 'vector',
          tiles: tiles || tj.tiles,
          minzoom: tj.minzoom ?? 0,
          maxzoom: tj.maxzoom ?? 16,
          ...(Array.isArray(tj.bounds) && tj.bounds.length === 4 ? {bounds: tj.bounds} : {}),
          attribution: tj.attribution || '',
        },
      },
      layers: [
        {id: 'background', type: 'background', paint: {'background-color': BACKGROUND}},
        // A district is filled only until its communities appear.
        {id: 'districts-fill', type: 'fill', ...sl('districts'), maxzoom: z.communities.minzoom,
          paint: {'fill-color': '#d9d2c3', 'fill-opacity': 0.6}},
        // A community is filled until its grids appear (or always, when grids are hidden).
        {id: 'communities-fill', type: 'fill', ...sl('communities'), maxzoom: z.grids.minzoom,
          paint: {'fill-color': colorExpr('code'), 'fill-opacity': COMMUNITY_FILL_OPACITY}},
        {id: 'grids-fill', type: 'fill', ...sl('grids'),
          paint: {'fill-color': colorExpr('parent'), 'fill-opacity': GRID_FILL_OPACITY}},
        {id: 'grids-line', type: 'line', ...sl('grids'),
          paint: {'line-color': '#ffffff', 'line-opacity': 0.9,
                  'line-width': ['interpolate', ['linear'], ['zoom'], 11, 0.5, 16, 2]}},
        {id: 'grid-selected', type: 'line', ...sl('grids'), filter: ['==', ['get', 'code'], ''],
          paint: {'line-color': '#1a1a1a', 'line-width': 3}},
        {id: 'communities-line', type: 'line', ...sl('communities'),
          paint: {'line-color': '#3d3d3d', 'line-opacity': 0.8,
                  'line-width': ['interpolate', ['linear'], ['zoom'], 9, 1, 16, 2.5]}},
        {id: 'districts-line', type: 'line', ...sl('districts'),
          layout: {'line-join': 'round'},
          paint: {'line-color': '#7a1f1f', 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 1.5, 16, 4],
                  'line-dasharray': [3, 1.5]}},
        {id: 'labels-grid', type: 'symbol', ...sl('labels'),
          filter: ['==', ['to-number', ['get', 'level'], 3], 3],
          layout: {
            'text-field': ['step', ['zoom'], ['get', 'code'],
              15, ['format', ['get', 'code'], {}, '\n', {}, ['coalesce', ['get', 'name'], ''], {'font-scale': 0.9}]],
            'text-font': ['Noto Sans Regular'],
            'text-size': ['interpolate', ['linear'], ['zoom'], 12, 10, 16, 13],
            'text-max-width': 12,
            'text-padding': 2,
          },
          paint: {'text-color': '#1f1f1f', 'text-halo-color': 'rgba(255,255,255,0.9)', 'text-halo-width': 1.2}},
        {id: 'labels-community', type: 'symbol', ...sl('labels'),
          filter: ['==', ['to-number', ['get', 'level'], 3], 2],
          layout: {
            'text-field': ['coalesce', ['get', 'name'], ['get', 'code']],
            'text-font': ['Noto Sans Bold'],
            'text-size': 15,
            'symbol-sort-key': 0,
          },
          paint: {'text-color': '#3d3d3d', 'text-halo-color': 'rgba(255,255,255,0.95)', 'text-halo-width': 1.5}},
      ],
    },
  };
}

// ---------------------------------------------------------------- level toggles

function applyLevels(map, zoom) {
  const on = {};
  for (const box of document.querySelectorAll('#levels input[data-level]')) on[box.dataset.level] = box.checked;
  for (const [level, ids] of Object.entries(LEVEL_LAYERS))
    for (const id of ids) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', on[level] ? 'visible' : 'none');
  // Fills hand over to the level below only while that level is shown.
  map.setLayerZoomRange('districts-fill', zoom.districts.minzoom, on.communities ? zoom.communities.minzoom : 24);
  map.setLayerZoomRange('communities-fill', zoom.communities.minzoom, on.grids ? zoom.grids.minzoom : 24);
  try {
    localStorage.setItem('wangge.levels', JSON.stringify(on));
  } catch {
    // storage may be disabled
  }
}

function restoreLevels() {
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem('wangge.levels') || 'null');
  } catch {
    saved = null;
  }
  if (!saved) return;
  for (const box of document.querySelectorAll('#levels input[data-level]'))
    if (typeof saved[box.dataset.level] === 'boolean') box.checked = saved[box.dataset.level];
}

// ---------------------------------------------------------------- legend

function updateLegend(map) {
  const seen = new Map();
  for (const f of map.querySourceFeatures('wangge', {sourceLayer: 'communities'})) {
    const code = f.properties.code;
    if (code && !seen.has(code)) seen.set(code, f.properties.name || code);
  }
  const ul = $('legend');
  if (seen.size === 0 || seen.size > 40 || ul.dataset.codes === [...seen.keys()].sort().join(',')) return;
  ul.dataset.codes = [...seen.keys()].sort().join(',');
  ul.replaceChildren(...[...seen.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([code, name]) => {
    const li = document.createElement('li');
    li.title = code;
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = colorOf(code);
    li.append(sw, document.createTextNode(name));
    li.addEventListener('click', () => {
      const parts = map.querySourceFeatures('wangge', {sourceLayer: 'communities', filter: ['==', ['get', 'code'], code]});
      const b = new state.maplibregl.LngLatBounds();
      for (const p of parts) extendBounds(b, p.geometry);
      if (!b.isEmpty()) map.fitBounds(b, {padding: 40, maxZoom: 16});
    });
    return li;
  }));
}

function extendBounds(b, g) {
  const walk = (c) => (typeof c[0] === 'number' ? b.extend(c) : c.forEach(walk));
  if (g && g.coordinates) walk(g.coordinates);
}

// ---------------------------------------------------------------- lookup popup

function unitRow(label, u) {
  if (!u) return `<tr><th>${label}</th><td>—</td></tr>`;
  return `<tr><th>${label}</th><td>${esc(u.name || '')} <span class="code">${esc(u.code)}</span></td></tr>`;
}

function popupHTML(d) {
  const rows = [];
  let title;
  if (d.grid) {
    title = `<h3 class="grid">${esc(d.grid.name || d.grid.code)}</h3>`;
    rows.push(`<tr><th>网格 grid</th><td class="code" data-field="grid">${esc(d.grid.code)}</td></tr>`);
  } else {
    const n = d.nearest;
    title = '<h3 class="outside">网格外 outside</h3>';
    rows.push(n
      ? `<tr><th>最近 nearest</th><td class="outside" data-field="nearest">outside — nearest grid ${esc(n.code)}` +
        `${n.name ? ` (${esc(n.name)})` : ''} at ${Math.round(Number(n.distance_m))} m</td></tr>`
      : '<tr><th>最近 nearest</th><td class="outside">outside every grid</td></tr>');
  }
  rows.push(unitRow('社区 community', d.community), unitRow('街道 district', d.district));
  if (d.worker) {
    const w = d.worker;
    const duty = w.on_duty ? '<span class="on-duty">在岗 on duty</span>' : '<span class="off-duty">不在岗 off duty</span>';
    rows.push(`<tr><th>网格员 worker</th><td data-field="worker">${esc(w.name)} · ${duty}</td></tr>`);
    if (w.phone) rows.push(`<tr><th>电话 phone</th><td><a href="tel:${esc(w.phone)}" data-field="phone">${esc(w.phone)}</a></td></tr>`);
  } else if (d.grid) {
    rows.push('<tr><th>网格员 worker</th><td data-field="worker">— none assigned</td></tr>');
  }
  const where = `${Number(d.lon).toFixed(6)}, ${Number(d.lat).toFixed(6)} · generation ${esc(d.generation)}`;
  return `<div class="wg-popup" data-grid="${esc(d.grid?.code || '')}">${title}<table>${rows.join('')}</table>` +
         `<div class="coords">${where}</div></div>`;
}

function setupLookup(map, maplibregl) {
  let seq = 0;
  let popup = null;
  map.on('click', async (e) => {
    const mine = ++seq;
    const {lng, lat} = e.lngLat.wrap();
    if (popup) popup.remove();
    popup = new maplibregl.Popup({maxWidth: '340px', className: 'wg-lookup'})
      .setLngLat(e.lngLat)
      .setHTML('<div class="wg-popup loading">查询中… looking up</div>')
      .addTo(map);
    let html;
    let data = null;
    try {
      data = await getJSON(`/v1/lookup?lon=${lng.toFixed(7)}&lat=${lat.toFixed(7)}`);
      html = popupHTML(data);
    } catch (err) {
      html = `<div class="wg-popup error">${esc(err.message)}</div>`;
    }
    if (mine !== seq) return; // a later click won
    popup.setHTML(html);
    map.setFilter('grid-selected', ['==', ['get', 'code'], data?.grid?.code || '']);
    state.lastLookup = data;
    state.lookups++;
  });
  map.on('mouseenter', 'grids-fill', () => (map.getCanvas().style.cursor = 'pointer'));
  map.on('mouseleave', 'grids-fill', () => (map.getCanvas().style.cursor = ''));
}

// ---------------------------------------------------------------- draft side by side

// When a draft generation exists, the panel offers to show it beside the active one: a
// second map on the draft's tiles (?generation=N) that moves with the first.
async function setupCompare(map, maplibregl, tj) {
  let gens;
  try {
    gens = (await getJSON('/v1/generations')).generations || [];
  } catch {
    return;
  }
  const draft = gens.find((g) => g.status === 'draft');
  const active = gens.find((g) => g.status === 'active');
  if (!draft) return;
  state.draft = draft.id;
  $('draft-id').textContent = `g${draft.id}`;
  $('label-active').textContent = `现行 active g${active ? active.id : '?'}`;
  $('label-draft').textContent = `草稿 draft g${draft.id}`;
  $('compare').hidden = false;
  let draftTJ = null;
  const show = async (on) => {
    state.compare = on;
    document.body.classList.toggle('compare', on);
    $('map-draft').hidden = !on;
    map.resize();
    if (!on) return;
    if (!state.draftMap) {
      try {
        draftTJ = await getJSON(`/tiles/${LAYERS}.json?generation=${draft.id}`);
      } catch (err) {
        fail(`Cannot load the draft's tiles: ${err.message}`, err);
        return;
      }
      const {style, zoom} = buildStyle(draftTJ, draftTJ.tiles);
      const dm = new maplibregl.Map({container: 'map-draft', style, center: map.getCenter(), zoom: map.getZoom(),
                                     attributionControl: false, maxZoom: 20});
      state.draftMap = dm;
      dm.on('load', () => applyLevels(dm, zoom));
      dm.on('error', (e) => fail(`Draft map error: ${e.error?.message || e.error || 'unknown'}`, e.error));
      // each map follows the other; a flag stops the echo
      let syncing = false;
      const follow = (from, to) => from.on('move', () => {
        if (syncing) return;
        syncing = true;
        to.jumpTo({center: from.getCenter(), zoom: from.getZoom(), bearing: from.getBearing(), pitch: from.getPitch()});
        syncing = false;
      });
      follow(map, dm);
      follow(dm, map);
    }
    state.draftMap.resize();
    state.draftMap.jumpTo({center: map.getCenter(), zoom: map.getZoom()});
  };
  $('compare-box').addEventListener('change', (e) => show(e.target.checked));
  if (new URLSearchParams(location.search).get('compare') === 'draft') {
    $('compare-box').checked = true;
    await show(true);
  }
}

// ---------------------------------------------------------------- start

async function main() {
  let maplibregl;
  try {
    maplibregl = await import('/map/maplibre-gl.mjs');
  } catch (err) {
    fail('MapLibre GL JS is missing: the server was built without npm (install nodejs and npm, then rebuild). ' +
         'Lookups still work at /v1/lookup.', err);
    return;
  }
  state.maplibregl = maplibregl;
  let tj;
  try {
    tj = await getJSON(TILEJSON);
  } catch (err) {
    fail(`Cannot load the tile description: ${err.message}`, err);
    return;
  }
  state.tilejson = tj;
  restoreLevels();
  const {style, zoom} = buildStyle(tj);
  const bounds = Array.isArray(tj.bounds) && tj.bounds.length === 4 ? tj.bounds : null;
  const opts = {
    container: 'map',
    style,
    hash: true,
    attributionControl: {compact: true},
    maxZoom: 20,
  };
  if (!location.hash) {
    // keep the district clear of the panel on a wide screen
    const panel = $('panel');
    const wide = window.innerWidth > 600 && panel;
    const padding = wide ? {top: 30, bottom: 30, right: 50, left: panel.offsetWidth + 30} : 20;
    if (bounds) Object.assign(opts, {bounds, fitBoundsOptions: {padding}});
    else if (Array.isArray(tj.center)) Object.assign(opts, {center: tj.center.slice(0, 2), zoom: tj.center[2] ?? 12});
  }
  let map;
  try {
    map = new maplibregl.Map(opts);
  } catch (err) {
    fail(`Cannot start the map (is WebGL available?): ${err.message}`, err);
    return;
  }
  state.map = map;
  map.addControl(new maplibregl.NavigationControl({showCompass: false}), 'top-right');
  map.addControl(new maplibregl.ScaleControl({unit: 'metric'}), 'bottom-right');
  map.on('error', (e) => fail(`Map error: ${e.error?.message || e.error || 'unknown'}`, e.error));
  map.on('load', () => {
    applyLevels(map, zoom);
    for (const box of document.querySelectorAll('#levels input[data-level]'))
      box.addEventListener('change', () => {
        applyLevels(map, zoom);
        if (state.draftMap && state.draftMap.loaded()) applyLevels(state.draftMap, zoom);
      });
    state.ready = true;
  });
  map.on('idle', () => {
    updateLegend(map);
    if (!state.error) setStatus(`z${map.getZoom().toFixed(1)} · ${statusText}`);
    state.idleCount++;
    state.idle = true;
  });
  setupLookup(map, maplibregl);
  setupCompare(map, maplibregl, tj).catch((err) => fail(`Draft comparison failed: ${err.message}`, err));
  let statusText = 'ready';
  getJSON('/health').then((h) => {
    statusText = `generation ${h.generation}${h.grids != null ? ` · ${h.grids} grids` : ''}`;
    if (!state.error && state.idle) setStatus(`z${map.getZoom().toFixed(1)} · ${statusText}`);
  }).catch(() => {});
  map.on('zoomend', () => {
    if (!state.error) setStatus(`z${map.getZoom().toFixed(1)} · ${statusText}`);
  });
}

main().catch((err) => fail(`The map page failed: ${err.message}`, err));
