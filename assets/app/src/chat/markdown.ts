// A small, safe Markdown subset for chat messages.
//
// `parseMarkdown` turns text into a tree of plain objects (pure, unit tested);
// `Markdown.tsx` turns the tree into Preact VNodes. Nothing here ever produces
// HTML strings: text stays text, so `<script>` in a message is shown as typed.
//
// Blocks: paragraphs (single newlines kept as line breaks), ``` code blocks,
// `>` block quotes, `-`/`*`/`+` and `1.` lists.
// Inlines: `code`, **strong**, __strong__, *em*, _em_, ~~strike~~,
// [text](url), bare http(s):// and mailto: links, @mentions, \-escapes.
// Links are kept only for http:, https: and mailto: URLs.

export type Inline =
  | { t: 'text'; text: string }
  | { t: 'code'; text: string }
  | { t: 'strong'; children: Inline[] }
  | { t: 'em'; children: Inline[] }
  | { t: 'del'; children: Inline[] }
  | { t: 'link'; href: string; children: Inline[] }
  | { t: 'mention'; name: string }
  | { t: 'br' };

export type Block =
  | { t: 'p'; children: Inline[] }
  | { t: 'pre'; lang: string; text: string }
  | { t: 'quote'; children: Block[] }
  | { t: 'ul'; items: Inline[][] }
  | { t: 'ol'; start: number; items: Inline[][] };

const MAX_DEPTH = 8;
const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** The URL if it is an absolute http(s) or mailto link, else null. */
export function safeUrl(raw: string): string | null {
  const url = raw.trim();
  // Control characters and whitespace inside a URL are a classic way to hide "javascript:".
  if (!url || /[\u0000-\u0020\u007f-\u009f]/.test(url)) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (!SAFE_PROTOCOLS.has(parsed.protocol)) return null;
  return parsed.href;
}

const FENCE = /^\s{0,3}```\s*([\w+-]*)\s*$/;
const QUOTE = /^\s{0,3}> ?(.*)$/;
const UL = /^\s{0,3}[-*+]\s+(.*)$/;
const OL = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;

export function parseMarkdown(source: string): Block[] {
  return parseBlocks(source.replace(/\r\n?/g, '\n').split('\n'), 0);
}

function parseBlocks(lines: string[], depth: number): Block[] {
  const blocks: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) blocks.push({ t: 'p', children: parseInline(para.join('\n'), depth) });
    para = [];
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const body: string[] = [];
      i++;
      while (i < lines.length && !/^\s{0,3}```\s*$/.test(lines[i]!)) body.push(lines[i++]!);
      blocks.push({ t: 'pre', lang: fence[1] ?? '', text: body.join('\n') });
      continue;
    }
    if (depth < MAX_DEPTH && QUOTE.test(line)) {
      flush();
      const inner: string[] = [];
      while (i < lines.length) {
        const m = QUOTE.exec(lines[i]!);
        if (!m) break;
        inner.push(m[1] ?? '');
        i++;
      }
      i--;
      blocks.push({ t: 'quote', children: parseBlocks(inner, depth + 1) });
      continue;
    }
    const ul = UL.exec(line);
    const ol = ul ? null : OL.exec(line);
    if (ul || ol) {
      flush();
      const ordered = !!ol;
      const start = ol ? Number.parseInt(ol[1]!, 10) : 1;
      const items: string[] = [];
      while (i < lines.length) {
        const l = lines[i]!;
        const m = ordered ? OL.exec(l) : UL.exec(l);
        if (m) {
          items.push((ordered ? m[2] : m[1]) ?? '');
        } else if (items.length && /^\s{2,}\S/.test(l)) {
          items[items.length - 1] += '\n' + l.trim();
        } else {
          break;
        }
        i++;
      }
      i--;
      const parsed = items.map((item) => parseInline(item, depth));
      blocks.push(ordered ? { t: 'ol', start, items: parsed } : { t: 'ul', items: parsed });
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    para.push(line);
  }
  flush();
  return blocks;
}

const isWordChar = (c: string | undefined) => !!c && /[\p{L}\p{N}_]/u.test(c);
const ESCAPABLE = '\\`*_{}[]()#+-.!~>@|';

/** Parses inline Markdown. */
export function parseInline(text: string, depth = 0): Inline[] {
  const out: Inline[] = [];
  let buf = '';
  const pushText = () => {
    if (buf) out.push({ t: 'text', text: buf });
    buf = '';
  };
  const push = (node: Inline) => {
    pushText();
    out.push(node);
  };
  const nested = (inner: string) =>
    depth >= MAX_DEPTH ? [{ t: 'text', text: inner } as Inline] : parseInline(inner, depth + 1);

  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const prev = i > 0 ? text[i - 1] : undefined;

    if (c === '\\' && i + 1 < text.length && ESCAPABLE.includes(text[i + 1]!)) {
      buf += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '\n') {
      push({ t: 'br' });
      i++;
      continue;
    }
    if (c === '`') {
      let ticks = 1;
      while (text[i + ticks] === '`') ticks++;
      const marker = '`'.repeat(ticks);
      const end = text.indexOf(marker, i + ticks);
      if (end > i + ticks - 1 && end !== -1) {
        const code = text.slice(i + ticks, end);
        if (code.length) {
          push({ t: 'code', text: code.length > 2 && code.startsWith(' ') && code.endsWith(' ') ? code.slice(1, -1) : code });
          i = end + ticks;
          continue;
        }
      }
      buf += marker;
      i += ticks;
      continue;
    }
    // ** / __ strong, ~~ strike
    const two = text.slice(i, i + 2);
    if (two === '**' || two === '__' || two === '~~') {
      const leftOk = two !== '__' || !isWordChar(prev);
      const end = findClose(text, two, i + 2);
      if (leftOk && end !== -1 && (two !== '__' || !isWordChar(text[end + 2]))) {
        const inner = text.slice(i + 2, end);
        push(two === '~~' ? { t: 'del', children: nested(inner) } : { t: 'strong', children: nested(inner) });
        i = end + 2;
        continue;
      }
      buf += two;
      i += 2;
      continue;
    }
    if (c === '*' || c === '_') {
      const leftOk = c === '*' || !isWordChar(prev);
      const end = findClose(text, c, i + 1);
      if (leftOk && end !== -1 && (c === '*' || !isWordChar(text[end + 1]))) {
        push({ t: 'em', children: nested(text.slice(i + 1, end)) });
        i = end + 1;
        continue;
      }
      buf += c;
      i++;
      continue;
    }
    if (c === '[') {
      const link = matchLink(text, i);
      if (link) {
        const href = safeUrl(link.url);
        if (href) push({ t: 'link', href, children: nested(link.label) });
        else push({ t: 'text', text: text.slice(i, link.end) });
        i = link.end;
        continue;
      }
    }
    if ((c === 'h' || c === 'm') && !isWordChar(prev)) {
      const m = /^(?:https?:\/\/|mailto:)[^\s<>"]+/i.exec(text.slice(i));
      if (m) {
        let raw = m[0];
        // Trailing punctuation belongs to the sentence, not the URL (keep balanced parentheses).
        while (/[.,;:!?'*_~]$/.test(raw) || (raw.endsWith(')') && count(raw, '(') < count(raw, ')'))) {
          raw = raw.slice(0, -1);
        }
        const href = safeUrl(raw);
        if (href && raw.length > (raw.toLowerCase().startsWith('mailto:') ? 7 : 8)) {
          push({ t: 'link', href, children: [{ t: 'text', text: raw }] });
          i += raw.length;
          continue;
        }
      }
    }
    if (c === '@' && !(prev && (isWordChar(prev)))) {
      const m = /^[A-Za-z0-9._-]+/.exec(text.slice(i + 1));
      const name = m ? m[0].replace(/[.-]+$/, '') : '';
      if (name) {
        push({ t: 'mention', name });
        i += 1 + name.length;
        continue;
      }
    }
    buf += c;
    i++;
  }
  pushText();
  return out;
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/** Index of the closing delimiter: not right after whitespace, with non-empty content. */
function findClose(text: string, marker: string, from: number): number {
  if (from >= text.length || /\s/.test(text[from]!)) return -1;
  let j = from;
  while (j < text.length) {
    const end = text.indexOf(marker, j);
    if (end === -1) return -1;
    if (end > from && !/\s/.test(text[end - 1]!) && text[end - 1] !== '\\') {
      // For single markers, do not close on a double marker (`*a **b** c*`).
      if (marker.length === 1 && text[end + 1] === marker) {
        j = end + 2;
        continue;
      }
      return end;
    }
    j = end + 1;
  }
  return -1;
}

function matchLink(text: string, start: number): { label: string; url: string; end: number } | null {
  let depth = 0;
  let j = start;
  for (; j < text.length; j++) {
    const ch = text[j];
    if (ch === '\\') {
      j++;
      continue;
    }
    if (ch === '[') depth++;
    else if (ch === ']') {
      depth--;
      if (depth === 0) break;
    } else if (ch === '\n') return null;
  }
  if (j >= text.length || text[j + 1] !== '(') return null;
  const close = text.indexOf(')', j + 2);
  if (close === -1) return null;
  const url = text.slice(j + 2, close);
  if (/\s/.test(url.trim())) return null;
  return { label: text.slice(start + 1, j), url, end: close + 1 };
}

/** Lower-cased names mentioned as `@name` (the server's rules), in order, without duplicates. */
export function mentionedNames(body: string): string[] {
  const out: string[] = [];
  const chars = Array.from(body);
  for (let i = 0; i < chars.length; i++) {
    const prev = chars[i - 1];
    if (chars[i] !== '@' || (prev && /[\p{L}\p{N}_]/u.test(prev))) continue;
    let name = '';
    for (let j = i + 1; j < chars.length && /[A-Za-z0-9._-]/.test(chars[j]!); j++) name += chars[j];
    name = name.replace(/[.-]+$/, '').toLowerCase();
    if (name && !out.includes(name)) out.push(name);
  }
  return out;
}

/** Whether a message body mentions this user (by name, or @channel / @here / @all). */
export function mentionsUser(body: string, username: string): boolean {
  const names = mentionedNames(body);
  const me = username.toLowerCase();
  return names.some((n) => n === me || n === 'channel' || n === 'here' || n === 'all');
}

/** Plain text of a message body for notifications and previews (Markdown markers dropped). */
export function plainText(body: string): string {
  const parts: string[] = [];
  const walkInline = (nodes: Inline[]) => {
    for (const n of nodes) {
      if (n.t === 'text' || n.t === 'code') parts.push(n.text);
      else if (n.t === 'mention') parts.push('@' + n.name);
      else if (n.t === 'br') parts.push(' ');
      else walkInline(n.children);
    }
  };
  const walk = (blocks: Block[]) => {
    for (const b of blocks) {
      if (b.t === 'p') walkInline(b.children);
      else if (b.t === 'pre') parts.push(b.text);
      else if (b.t === 'quote') walk(b.children);
      else for (const item of b.items) walkInline(item);
      parts.push(' ');
    }
  };
  walk(parseMarkdown(body));
  return parts.join('').replace(/\s+/g, ' ').trim();
}
