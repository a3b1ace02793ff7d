// Draws the app icons (PNG) without any dependency: the Outpost flag on a
// rounded square, antialiased by 4x4 supersampling. Deterministic output.
//   node scripts/icons.mjs   -> public/icon-192.png, icon-512.png, icon-maskable-512.png

import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BG = [0x4b, 0x44, 0xd6];
const FG = [0xff, 0xff, 0xff];

function crc32(buf) {
  let c;
  let crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

function png(size, pixel) {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x, y);
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
      raw[o + 3] = a;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function inPolygon(x, y, pts) {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// Shapes in the 32x32 design space of src/favicon.svg.
function shape(u, v, { rounded, scale }) {
  // Map into the design space (scale < 1 shrinks the mark for the maskable safe zone).
  const x = 16 + (u - 16) / scale;
  const y = 16 + (v - 16) / scale;
  let bg = true;
  if (rounded) {
    const r = 8;
    const cx = Math.min(Math.max(u, r), 32 - r);
    const cy = Math.min(Math.max(v, r), 32 - r);
    bg = (u - cx) ** 2 + (v - cy) ** 2 <= r * r;
  }
  if (!bg) return 0;
  const pole = Math.abs(x - 11) <= 1.25 && y >= 7 && y <= 25;
  const capTop = (x - 11) ** 2 + (y - 7) ** 2 <= 1.25 ** 2;
  const capBottom = (x - 11) ** 2 + (y - 25) ** 2 <= 1.25 ** 2;
  const flag = inPolygon(x, y, [
    [12, 8],
    [22, 8],
    [19.5, 12],
    [22, 16],
    [12, 16],
  ]);
  return pole || capTop || capBottom || flag ? 2 : 1;
}

function icon(size, opts) {
  const S = 4;
  return png(size, (px, py) => {
    let bg = 0;
    let fg = 0;
    for (let sy = 0; sy < S; sy++) {
      for (let sx = 0; sx < S; sx++) {
        const u = ((px + (sx + 0.5) / S) / size) * 32;
        const v = ((py + (sy + 0.5) / S) / size) * 32;
        const s = shape(u, v, opts);
        if (s === 1) bg++;
        else if (s === 2) fg++;
      }
    }
    const cover = bg + fg;
    if (!cover) return [0, 0, 0, 0];
    const t = fg / cover;
    const c = BG.map((b, i) => Math.round(b + (FG[i] - b) * t));
    return [...c, Math.round((cover / (S * S)) * 255)];
  });
}

const out = new URL('../public/', import.meta.url);
writeFileSync(new URL('icon-192.png', out), icon(192, { rounded: true, scale: 1 }));
writeFileSync(new URL('icon-512.png', out), icon(512, { rounded: true, scale: 1 }));
writeFileSync(new URL('icon-maskable-512.png', out), icon(512, { rounded: false, scale: 0.75 }));
console.log('icons written');
