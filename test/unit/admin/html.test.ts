import { describe, expect, it } from 'vitest';
import { escapeHtml, html, htmlText, trustedHtml } from '../../../src/admin/html.ts';

describe('html template escaping', () => {
  const hostile: [string, unknown, string][] = [
    ['script tag', '<script>alert(1)</script>', '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>'],
    ['attribute breakout', '" onmouseover="x', '<p>&quot; onmouseover=&quot;x</p>'],
    ['single quote', "it's", '<p>it&#39;s</p>'],
    ['ampersand entity', '&lt;', '<p>&amp;lt;</p>'],
    ['number', 42, '<p>42</p>'],
    ['null renders nothing', null, '<p></p>'],
    ['undefined renders nothing', undefined, '<p></p>'],
    ['false renders nothing', false, '<p></p>'],
    ['array of text escaped and joined', ['<a>', '&'], '<p>&lt;a&gt;&amp;</p>'],
    ['nested html kept', html`<b>${'<i>'}</b>`, '<p><b>&lt;i&gt;</b></p>'],
    ['trusted markup kept', trustedHtml('<br>'), '<p><br></p>'],
    ['object text escaped', { toString: () => '<o>' }, '<p>&lt;o&gt;</p>'],
  ];
  it.each(hostile)('%s', (_name, value, expected) => {
    expect(htmlText(html`<p>${value}</p>`)).toBe(expected);
  });

  it('escapes each of & < > " \' and nothing else', () => {
    expect(escapeHtml(`a&b<c>d"e'f/g=h`)).toBe('a&amp;b&lt;c&gt;d&quot;e&#39;f/g=h');
  });

  it('a plain object posing as Html is escaped, not trusted', () => {
    const forged = JSON.parse('{"text":"<x>"}') as unknown;
    expect(htmlText(html`${forged}`)).toBe('[object Object]');
  });
});
