import { describe, expect, it } from 'vitest';
import type { Person } from './api';
import { comparePeople, jobLine, personMatches, searchPeople } from './people';

const person = (id: number, display_name: string, username: string, extra: Partial<Person> = {}): Person => ({
  id,
  username,
  display_name,
  presence: 'offline',
  ...extra,
});

const people: Person[] = [
  person(1, 'Анна Петрова', 'anna', { title: 'Инженер связи', department: 'Отдел связи' }),
  person(2, 'Bob Stone', 'bob', { title: 'Network Engineer', department: 'Networks' }),
  person(3, 'Фёдор Ёлкин', 'fedor', { title: 'Водитель', department: 'Транспорт' }),
  person(4, 'Carol King', 'carol', { department: 'Logistics', deactivated: true }),
  person(5, 'Aaron Old', 'aaron', { title: 'Engineer', deactivated: true }),
  person(6, '', 'zed'),
];

const ids = (list: Person[]) => list.map((p) => p.id);

describe('people search', () => {
  it('lists everyone by name in the reader’s alphabet order, deactivated accounts last', () => {
    expect(ids(searchPeople(people, '', 'en'))).toEqual([2, 6, 1, 3, 5, 4]);
    expect(ids(searchPeople(people, '   ', 'en'))).toEqual([2, 6, 1, 3, 5, 4]);
    // Russian puts Cyrillic first.
    expect(ids(searchPeople(people, '', 'ru'))).toEqual([1, 3, 2, 6, 5, 4]);
  });

  it('finds parts of names and user names in any case, Latin and Cyrillic', () => {
    expect(ids(searchPeople(people, 'STONE'))).toEqual([2]);
    expect(ids(searchPeople(people, 'анна'))).toEqual([1]);
    expect(ids(searchPeople(people, 'ПЕТР'))).toEqual([1]);
    expect(ids(searchPeople(people, 'ann'))).toEqual([1]);
    expect(ids(searchPeople(people, 'ZED'))).toEqual([6]);
  });

  it('takes ё and е as the same letter', () => {
    expect(ids(searchPeople(people, 'федор'))).toEqual([3]);
    expect(ids(searchPeople(people, 'Ёлкин'))).toEqual([3]);
    expect(ids(searchPeople(people, 'елк'))).toEqual([3]);
  });

  it('finds job titles and departments, deactivated people too (still last)', () => {
    expect(ids(searchPeople(people, 'engineer'))).toEqual([2, 5]);
    expect(ids(searchPeople(people, 'инженер'))).toEqual([1]);
    expect(ids(searchPeople(people, 'связ'))).toEqual([1]);
    expect(ids(searchPeople(people, 'транспорт'))).toEqual([3]);
    expect(ids(searchPeople(people, 'logist'))).toEqual([4]);
  });

  it('needs every word somewhere', () => {
    expect(ids(searchPeople(people, 'инженер анна'))).toEqual([1]);
    expect(ids(searchPeople(people, 'engineer networks'))).toEqual([2]);
    expect(ids(searchPeople(people, 'engineer транспорт'))).toEqual([]);
    expect(personMatches(people[1]!, 'bob net')).toBe(true);
    expect(searchPeople(people, 'nobody here')).toEqual([]);
  });

  it('orders by display name, else user name', () => {
    const list = [person(1, 'b', 'x'), person(2, 'A', 'y'), person(3, '', 'a')];
    expect(ids([...list].sort(comparePeople))).toEqual([3, 2, 1]);
  });

  it('writes the job line', () => {
    expect(jobLine({ title: 'Engineer', department: 'Networks' })).toBe('Engineer · Networks');
    expect(jobLine({ title: '', department: 'Networks' })).toBe('Networks');
    expect(jobLine({ title: 'Engineer ' })).toBe('Engineer');
    expect(jobLine({})).toBe('');
  });
});
