// The people directory (pure): search by name, user name, job title and department, and the
// order people are listed in.

import type { Person } from './api';

/** Text folded for searching: lower case, "ё" as "е", composed characters. */
export function foldText(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/ё/g, 'е');
}

/** Whether every word of the query is part of the person's names, job title or department. */
export function personMatches(person: Person, query: string): boolean {
  const words = foldText(query).split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const text = foldText([person.display_name, person.username, person.title ?? '', person.department ?? ''].join('\n'));
  return words.every((w) => text.includes(w));
}

/** Active people first, then deactivated accounts; each by name in the reader's language's order. */
export function comparePeople(a: Person, b: Person, locale?: string): number {
  const gone = Number(!!a.deactivated) - Number(!!b.deactivated);
  if (gone) return gone;
  const an = a.display_name || a.username;
  const bn = b.display_name || b.username;
  return an.localeCompare(bn, locale, { sensitivity: 'base' }) || a.username.localeCompare(b.username);
}

/** The people matching the query (everyone for an empty one), in directory order. */
export function searchPeople(people: Iterable<Person>, query: string, locale?: string): Person[] {
  return [...people].filter((p) => personMatches(p, query)).sort((a, b) => comparePeople(a, b, locale));
}

/** "Engineer · Networks", either part alone, or "". */
export function jobLine(person: Pick<Person, 'title' | 'department'>): string {
  return [person.title ?? '', person.department ?? ''].map((s) => s.trim()).filter(Boolean).join(' · ');
}
