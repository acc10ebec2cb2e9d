// Test-data preparation for wangge's real-data tests.
//
//   node prep.mjs OUTDIR
//
// Reads us-atlas/counties-10m.json (TopoJSON, objects nation/states/counties,
// U.S. Census Bureau cartographic boundaries 2017) from this folder's
// node_modules, decodes it with topojson-client's feature(), and writes three
// compact GeoJSON FeatureCollections to OUTDIR:
//
//   nation.geojson    1 feature   code "US"       parent null
//   states.geojson    states      code "US"+FIPS  parent "US"
//   counties.geojson  counties    code "US"+FIPS  parent "US"+first two digits
//
// Every feature's properties are exactly {code, name, parent}. Geometries are
// written as topojson-client produced them: no repair, simplification,
// rounding or rewinding (finding and repairing invalid ones is the importer's
// job, and these tests are meant to exercise it).
//
// Features without an id, with a malformed id, with a duplicate id, without a
// geometry, or (counties) whose state is not among the states are reported on
// stderr and skipped; a count of skipped features is printed per file.

import { createRequire } from "node:module";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const topojson = require("topojson-client");

function die(msg) {
  process.stderr.write(`prep.mjs: ${msg}\n`);
  process.exit(1);
}

const outDir = process.argv[2];
if (!outDir || process.argv.length > 3) die("usage: node prep.mjs OUTDIR");

let topoPath;
try {
  topoPath = require.resolve("us-atlas/counties-10m.json");
} catch (e) {
  die(`cannot find us-atlas/counties-10m.json in node_modules (run npm ci in ${new URL(".", import.meta.url).pathname}): ${e.message}`);
}

const topology = JSON.parse(readFileSync(topoPath, "utf8"));
if (topology.type !== "Topology") die(`${topoPath}: not a TopoJSON Topology`);
for (const name of ["nation", "states", "counties"]) {
  if (!topology.objects?.[name]) die(`${topoPath}: object "${name}" missing`);
}

function warn(msg) {
  process.stderr.write(`prep.mjs: warning: ${msg}\n`);
}

// Decode one TopoJSON object into a list of GeoJSON features.
function decode(name) {
  const fc = topojson.feature(topology, topology.objects[name]);
  return fc.type === "FeatureCollection" ? fc.features : [fc];
}

function featureOut(geometry, code, name, parent) {
  return { type: "Feature", properties: { code, name, parent }, geometry };
}

// Build the output features of one level. `expect` is the FIPS id length;
// `parentOf(id)` returns the parent code or null when the parent is unknown.
function level(label, features, expect, parentOf) {
  const out = [];
  const seen = new Set();
  let skipped = 0;
  const skip = (why) => {
    warn(`${label}: ${why}; skipped`);
    skipped++;
  };
  for (const f of features) {
    const id = f.id;
    const nm = f.properties?.name ?? null;
    const what = `feature ${id == null ? "(no id)" : JSON.stringify(id)}${nm == null ? "" : ` "${nm}"`}`;
    if (id == null || id === "") { skip(`${what} has no id`); continue; }
    if (typeof id !== "string" || !new RegExp(`^[0-9]{${expect}}$`).test(id)) {
      skip(`${what} has an id that is not ${expect} digits`);
      continue;
    }
    if (seen.has(id)) { skip(`${what} has a duplicate id`); continue; }
    if (f.geometry == null) { skip(`${what} has no geometry`); continue; }
    const parent = parentOf(id);
    if (parent == null) { skip(`${what}: its state ${JSON.stringify(id.slice(0, 2))} is not among the states`); continue; }
    if (nm == null) warn(`${label}: ${what} has no name; kept with name null`);
    seen.add(id);
    out.push(featureOut(f.geometry, `US${id}`, nm, parent));
  }
  return { out, skipped };
}

// Nation: the data's nation object carries no id or name; it is the single
// root of the hierarchy.
const nationIn = decode("nation");
if (nationIn.length !== 1) die(`expected 1 nation feature, got ${nationIn.length}`);
if (nationIn[0].geometry == null) die("the nation feature has no geometry");
const nation = { out: [featureOut(nationIn[0].geometry, "US", "United States", null)], skipped: 0 };

const states = level("states", decode("states"), 2, () => "US");
const stateCodes = new Set(states.out.map((f) => f.properties.code));
const counties = level("counties", decode("counties"), 5, (id) =>
  stateCodes.has(`US${id.slice(0, 2)}`) ? `US${id.slice(0, 2)}` : null);

mkdirSync(outDir, { recursive: true });
for (const [file, { out, skipped }] of [
  ["nation.geojson", nation],
  ["states.geojson", states],
  ["counties.geojson", counties],
]) {
  const fc = { type: "FeatureCollection", features: out };
  // Write to a temporary name first so an interrupted run never leaves a
  // complete-looking but truncated file behind (prep.sh keys on the mtime of
  // counties.geojson, which is written last).
  const path = join(outDir, file);
  writeFileSync(`${path}.tmp`, JSON.stringify(fc));
  renameSync(`${path}.tmp`, path);
  if (skipped > 0) warn(`${file}: ${skipped} feature(s) skipped`);
  process.stdout.write(`${file} ${out.length} features\n`);
}
