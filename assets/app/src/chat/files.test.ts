import { describe, expect, it } from 'vitest';
import type { FileView } from '../api';
import { conversationKey, fileTypeLabel, fitWithin, messageSummary, visibleFiles } from './files';

describe('fitWithin', () => {
  it('scales down to fit the box, keeping the aspect ratio', () => {
    expect(fitWithin(4000, 3000)).toEqual({ width: 360, height: 270 });
    expect(fitWithin(1080, 1920)).toEqual({ width: 203, height: 360 });
    expect(fitWithin(1920, 1080, 1280)).toEqual({ width: 1280, height: 720 });
    expect(fitWithin(5000, 10)).toEqual({ width: 360, height: 1 });
  });

  it('never enlarges, and has no size without both dimensions', () => {
    expect(fitWithin(120, 80)).toEqual({ width: 120, height: 80 });
    expect(fitWithin(null, 80)).toBeNull();
    expect(fitWithin(100, 0)).toBeNull();
    expect(fitWithin(undefined, undefined)).toBeNull();
  });
});

describe('fileTypeLabel', () => {
  it('uses the extension, else the MIME subtype', () => {
    expect(fileTypeLabel('report.final.pdf', 'application/pdf')).toBe('PDF');
    expect(fileTypeLabel('Makefile', 'text/plain')).toBe('PLAIN');
    expect(fileTypeLabel('data', 'application/x-tar')).toBe('TAR');
    expect(fileTypeLabel('blob', 'application/octet-stream')).toBeNull();
  });
});

describe('messages with files', () => {
  const f = { id: 'a', name: 'cat.jpg' } as FileView;
  it('sums a message up by its files when it has no text', () => {
    expect(messageSummary({ body: 'hi', files: [f] })).toBe('hi');
    expect(messageSummary({ body: '', files: [f, { ...f, name: 'dog.png' }] })).toBe('📎 cat.jpg, dog.png');
    expect(messageSummary({ body: '' })).toBe('');
  });

  it('shows no files of a deleted message', () => {
    expect(visibleFiles({ deleted: false, files: [f] })).toEqual([f]);
    expect(visibleFiles({ deleted: true, files: [f] })).toEqual([]);
    expect(visibleFiles({ deleted: false })).toEqual([]);
  });

  it('keys a tray by channel and thread', () => {
    expect(conversationKey(4, null)).toBe('4:');
    expect(conversationKey(4, 9)).toBe('4:9');
  });
});
