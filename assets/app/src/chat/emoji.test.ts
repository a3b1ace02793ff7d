import { describe, expect, it } from 'vitest';
import { EMOJI, QUICK_REACTIONS, searchEmoji } from './emoji';

const first = (query: string) => searchEmoji(query)[0];

describe('the emoji list', () => {
  it('gives every emoji English and Russian words', () => {
    for (const e of EMOJI) {
      expect(e.en.trim(), e.emoji).toMatch(/[a-z]/);
      expect(e.ru.trim(), e.emoji).toMatch(/^[а-яё -]+$/);
    }
  });

  it('lists each emoji once, the quick reactions among them', () => {
    const all = EMOJI.map((e) => e.emoji);
    expect(new Set(all).size).toBe(all.length);
    for (const r of QUICK_REACTIONS) expect(all).toContain(r);
  });
});

describe('searchEmoji', () => {
  it('gives the whole list for an empty query', () => {
    expect(searchEmoji('')).toEqual(EMOJI.map((e) => e.emoji));
    expect(searchEmoji('   ')).toHaveLength(EMOJI.length);
  });

  it('finds emoji by Russian words', () => {
    expect(first('сердце')).toBe('❤️');
    expect(first('огонь')).toBe('🔥');
    expect(first('смех')).toBe('😂');
    expect(first('смеюсь')).toBe('😂');
    expect(first('лайк')).toBe('👍');
    expect(first('машина')).toBe('🚗');
    expect(first('дом')).toBe('🏠');
    expect(searchEmoji('флаг')).toEqual(['🚩', '🏁']);
    expect(searchEmoji('телефон')).toEqual(['📞', '📱']);
  });

  it('needs every word of the query: "палец вверх" is thumbs up, not down', () => {
    expect(searchEmoji('палец вверх')).toEqual(['👍']);
    expect(searchEmoji('палец вниз')).toEqual(['👎']);
    expect(searchEmoji('палец')).toEqual(['👍', '👎']);
    expect(searchEmoji('thumbs up')).toEqual(['👍']);
  });

  it('matches the start of any word, in any case, with ё as е', () => {
    expect(searchEmoji('серд')).toEqual(expect.arrayContaining(['❤️', '💔', '😍']));
    expect(first('СЕРДЦЕ')).toBe('❤️');
    expect(searchEmoji('слезы')).toEqual(searchEmoji('слёзы'));
    expect(searchEmoji('слезы')).toContain('😭');
    expect(first('ПЁС')).toBe('🐶');
    expect(first('пес')).toBe('🐶');
    expect(searchEmoji('ердце')).toEqual([]);
  });

  it('finds the parts of hyphenated words', () => {
    expect(searchEmoji('сердечки')).toEqual(['😍']);
    expect(searchEmoji('глаза-сердечки')).toEqual(['😍']);
  });

  it('still finds English words, and +1 / -1', () => {
    expect(first('fire')).toBe('🔥');
    expect(first('LOL')).toBe('😂');
    expect(searchEmoji('+1')).toEqual(['👍']);
    expect(searchEmoji('-1')).toEqual(['👎']);
  });

  it('puts exact words before mere prefixes', () => {
    // "ок" is a word of 👌 and 🆗, and the start of "окей" too.
    expect(searchEmoji('ок').slice(0, 2)).toEqual(['👌', '🆗']);
    // "дом" is the word itself for the house; "домой" only starts with it.
    expect(first('дом')).toBe('🏠');
  });

  it('finds an emoji typed or pasted into the search', () => {
    expect(searchEmoji('🔥')).toEqual(['🔥']);
  });

  it('finds nothing for words it does not know', () => {
    expect(searchEmoji('абракадабра')).toEqual([]);
    expect(searchEmoji('сердце zzz')).toEqual([]);
  });
});
