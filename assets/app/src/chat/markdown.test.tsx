// @vitest-environment happy-dom
import { render } from 'preact';
import { describe, expect, it } from 'vitest';
import { Markdown } from './Markdown';
import { mentionedNames, mentionsUser, parseInline, parseMarkdown, plainText, safeUrl } from './markdown';

function html(source: string): HTMLElement {
  const root = document.createElement('div');
  render(<Markdown source={source} mentions={{ me: 'bob', known: (n) => n === 'bob' || n === 'alice' }} />, root);
  return root;
}

describe('parseInline', () => {
  it('parses emphasis, strong, strike and code', () => {
    expect(parseInline('a *b* **c** _d_ __e__ ~~f~~ `g`')).toEqual([
      { t: 'text', text: 'a ' },
      { t: 'em', children: [{ t: 'text', text: 'b' }] },
      { t: 'text', text: ' ' },
      { t: 'strong', children: [{ t: 'text', text: 'c' }] },
      { t: 'text', text: ' ' },
      { t: 'em', children: [{ t: 'text', text: 'd' }] },
      { t: 'text', text: ' ' },
      { t: 'strong', children: [{ t: 'text', text: 'e' }] },
      { t: 'text', text: ' ' },
      { t: 'del', children: [{ t: 'text', text: 'f' }] },
      { t: 'text', text: ' ' },
      { t: 'code', text: 'g' },
    ]);
  });

  it('leaves markers inside words and unclosed markers alone', () => {
    expect(parseInline('snake_case_name and 2*3 and *open')).toEqual([
      { t: 'text', text: 'snake_case_name and 2*3 and *open' },
    ]);
  });

  it('does not parse Markdown inside code', () => {
    expect(parseInline('`**not bold** <b>`')).toEqual([{ t: 'code', text: '**not bold** <b>' }]);
  });

  it('honours backslash escapes', () => {
    expect(parseInline('\\*literal\\*')).toEqual([{ t: 'text', text: '*literal*' }]);
  });

  it('finds links and autolinks, trimming sentence punctuation', () => {
    expect(parseInline('see [docs](https://example.com/a?b=1) or https://x.org/path.')).toEqual([
      { t: 'text', text: 'see ' },
      { t: 'link', href: 'https://example.com/a?b=1', children: [{ t: 'text', text: 'docs' }] },
      { t: 'text', text: ' or ' },
      { t: 'link', href: 'https://x.org/path', children: [{ t: 'text', text: 'https://x.org/path' }] },
      { t: 'text', text: '.' },
    ]);
  });

  it('parses mentions like the server (not inside words or addresses)', () => {
    expect(parseInline('hi @bob, mail x@example.org')).toEqual([
      { t: 'text', text: 'hi ' },
      { t: 'mention', name: 'bob' },
      { t: 'text', text: ', mail x@example.org' },
    ]);
  });
});

describe('safeUrl', () => {
  it('allows http, https and mailto only', () => {
    expect(safeUrl('https://example.com')).toBe('https://example.com/');
    expect(safeUrl('http://example.com/x')).toBe('http://example.com/x');
    expect(safeUrl('mailto:a@b.c')).toBe('mailto:a@b.c');
    for (const bad of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'java\tscript:alert(1)',
      ' javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox',
      'file:///etc/passwd',
      '/relative',
      '//evil.example',
      '',
    ]) {
      expect(safeUrl(bad), bad).toBeNull();
    }
  });
});

describe('parseMarkdown', () => {
  it('parses blocks: paragraphs, code, quotes, lists', () => {
    const blocks = parseMarkdown('Hello\nworld\n\n```js\nlet a = 1;\n```\n> quoted *text*\n- one\n- two\n1. first\n2. second');
    expect(blocks.map((b) => b.t)).toEqual(['p', 'pre', 'quote', 'ul', 'ol']);
    expect(blocks[0]).toEqual({
      t: 'p',
      children: [{ t: 'text', text: 'Hello' }, { t: 'br' }, { t: 'text', text: 'world' }],
    });
    expect(blocks[1]).toEqual({ t: 'pre', lang: 'js', text: 'let a = 1;' });
  });

  it('keeps an unterminated code block to the end', () => {
    expect(parseMarkdown('```\ncode *here*')).toEqual([{ t: 'pre', lang: '', text: 'code *here*' }]);
  });

  it('limits nesting so hostile input cannot blow the stack', () => {
    expect(() => parseMarkdown('>'.repeat(5000) + ' deep')).not.toThrow();
    expect(() => parseInline('*'.repeat(5000) + 'x' + '*'.repeat(5000))).not.toThrow();
    expect(() => parseInline('['.repeat(3000) + 'x' + ']'.repeat(3000) + '(https://a.b)')).not.toThrow();
  });
});

describe('<Markdown> rendering', () => {
  it('shows HTML as text: no elements are created from user input', () => {
    const root = html('<script>alert(1)</script> <img src=x onerror=alert(1)> <b>bold</b>');
    expect(root.querySelector('script, img, b')).toBeNull();
    expect(root.textContent).toBe('<script>alert(1)</script> <img src=x onerror=alert(1)> <b>bold</b>');
  });

  it('never renders javascript: links', () => {
    const root = html('[click](javascript:alert(1)) [x](JAVASCRIPT:alert(1)) [y](data:text/html,hi)');
    expect(root.querySelector('a')).toBeNull();
    expect(root.textContent).toContain('[click](javascript:alert(1))');
  });

  it('renders safe links with target=_blank and rel=noopener noreferrer', () => {
    const a = html('go to [the site](https://example.com/"onmouseover="x)').querySelector('a')!;
    expect(a.getAttribute('target')).toBe('_blank');
    expect(a.getAttribute('rel')).toBe('noopener noreferrer');
    expect(a.getAttribute('href')).toBe('https://example.com/%22onmouseover=%22x');
    expect(a.getAttributeNames().sort()).toEqual(['class', 'href', 'rel', 'target']);
  });

  it('renders structure and highlights mentions of known people', () => {
    const root = html('**bold** *em* `code`\n\n> quote\n\n- a\n- b\n\n```\n<pre>\n```\n@bob @alice @nobody');
    expect(root.querySelector('strong')?.textContent).toBe('bold');
    expect(root.querySelector('em')?.textContent).toBe('em');
    expect(root.querySelector('code.md-code')?.textContent).toBe('code');
    expect(root.querySelector('blockquote')?.textContent).toBe('quote');
    expect(root.querySelectorAll('ul li')).toHaveLength(2);
    expect(root.querySelector('pre')?.textContent).toBe('<pre>');
    expect(root.querySelector('.mention-me')?.textContent).toBe('@bob');
    expect([...root.querySelectorAll('.mention')].map((e) => e.textContent)).toEqual(['@bob', '@alice']);
  });
});

describe('mentions', () => {
  it('finds names like the server does', () => {
    expect(mentionedNames('hi @Bob and @carol.')).toEqual(['bob', 'carol']);
    expect(mentionedNames('mail me at x@example.org')).toEqual([]);
    expect(mentionedNames('@channel @bob @bob')).toEqual(['channel', 'bob']);
  });

  it('knows whether a message mentions a user', () => {
    expect(mentionsUser('hey @BOB', 'bob')).toBe(true);
    expect(mentionsUser('hey @here', 'bob')).toBe(true);
    expect(mentionsUser('hey @bobby', 'bob')).toBe(false);
    expect(mentionsUser('bob@example.org', 'bob')).toBe(false);
  });

  it('gives plain text for notifications', () => {
    expect(plainText('**Hi** @bob, see [this](https://a.b)\n- one')).toBe('Hi @bob, see this one');
  });
});
