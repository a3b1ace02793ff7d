// Renders the Markdown tree from markdown.ts as Preact VNodes (never HTML strings).

import type { ComponentChildren } from 'preact';
import { memo } from 'preact/compat';
import { parseMarkdown, type Block, type Inline } from './markdown';

export interface MentionInfo {
  /** Lower-cased user name of the viewer. */
  me: string;
  /** Whether a lower-cased name belongs to someone. */
  known: (name: string) => boolean;
}

const SPECIAL = new Set(['channel', 'here', 'all']);

function renderInline(nodes: Inline[], mentions: MentionInfo | null): ComponentChildren[] {
  return nodes.map((n, i) => {
    switch (n.t) {
      case 'text':
        return n.text;
      case 'br':
        return <br key={i} />;
      case 'code':
        return (
          <code key={i} class="md-code">
            {n.text}
          </code>
        );
      case 'strong':
        return <strong key={i}>{renderInline(n.children, mentions)}</strong>;
      case 'em':
        return <em key={i}>{renderInline(n.children, mentions)}</em>;
      case 'del':
        return <del key={i}>{renderInline(n.children, mentions)}</del>;
      case 'link':
        return (
          <a key={i} href={n.href} target="_blank" rel="noopener noreferrer" class="md-link">
            {renderInline(n.children, mentions)}
          </a>
        );
      case 'mention': {
        const lower = n.name.toLowerCase();
        if (!mentions || !(mentions.known(lower) || SPECIAL.has(lower))) return '@' + n.name;
        const me = lower === mentions.me || SPECIAL.has(lower);
        return (
          <span key={i} class={me ? 'mention mention-me' : 'mention'}>
            @{n.name}
          </span>
        );
      }
    }
  });
}

function renderBlocks(blocks: Block[], mentions: MentionInfo | null, suffix?: ComponentChildren): ComponentChildren[] {
  const last = blocks.length - 1;
  const out: ComponentChildren[] = blocks.map((b, i) => {
    switch (b.t) {
      case 'p':
        return (
          <p key={i} class="md-p">
            {renderInline(b.children, mentions)}
            {i === last && suffix}
          </p>
        );
      case 'pre':
        return (
          <pre key={i} class="md-pre">
            <code>{b.text}</code>
          </pre>
        );
      case 'quote':
        return (
          <blockquote key={i} class="md-quote">
            {renderBlocks(b.children, mentions)}
          </blockquote>
        );
      case 'ul':
        return (
          <ul key={i} class="md-list">
            {b.items.map((item, j) => (
              <li key={j}>{renderInline(item, mentions)}</li>
            ))}
          </ul>
        );
      case 'ol':
        return (
          <ol key={i} class="md-list" start={b.start}>
            {b.items.map((item, j) => (
              <li key={j}>{renderInline(item, mentions)}</li>
            ))}
          </ol>
        );
    }
  });
  // A suffix (e.g. "(edited)") ends the last paragraph, or follows the last block.
  if (suffix && blocks[last]?.t !== 'p') out.push(suffix);
  return out;
}

export const Markdown = memo(function Markdown({
  source,
  mentions = null,
  suffix,
}: {
  source: string;
  mentions?: MentionInfo | null;
  suffix?: ComponentChildren;
}) {
  return <div class="md">{renderBlocks(parseMarkdown(source), mentions, suffix)}</div>;
});
