import { describe, expect, it } from 'vitest';
import { SseParser } from '../src/api/sse-parser.ts';

describe('SseParser', () => {
  it('parses events split across arbitrary chunks, with CRLF, comments and multi-line data', () => {
    const text =
      ': hello\r\nid: 5\r\nevent: change\r\ndata: {"a":\r\ndata: 1}\r\n\r\nretry: 2500\n\nid: 6\ndata: x\n\n';
    // Feed one character at a time: the worst case for chunk boundaries (incl. a split CRLF).
    const p = new SseParser();
    const events = [...text].flatMap((c) => p.push(c));
    expect(events).toEqual([
      { id: '5', event: 'change', data: '{"a":\n1}' },
      { id: '6', event: 'message', data: 'x' },
    ]);
    expect(p.retryMs).toBe(2500);
    expect(p.lastEventId).toBe('6');
  });

  it('keeps the last id for events without one and ignores events without data', () => {
    const p = new SseParser();
    const events = p.push('id: 9\n\ndata: a\n\nevent: ping\n\n');
    expect(events).toEqual([{ id: '9', event: 'message', data: 'a' }]);
  });

  it('survives random chunking of a random stream', () => {
    for (let round = 0; round < 50; round++) {
      const sent = Array.from({ length: 20 }, (_, i) => ({
        id: String(round * 100 + i),
        data: `{"n":${i},"s":"${'x'.repeat(i)}"}`,
      }));
      const wire = sent.map((e) => `id: ${e.id}\ndata: ${e.data}\n\n`).join('');
      const p = new SseParser();
      const got = [];
      for (let i = 0; i < wire.length;) {
        const size = 1 + Math.floor(Math.random() * 17);
        got.push(...p.push(wire.slice(i, i + size)));
        i += size;
      }
      expect(got.map((e) => ({ id: e.id, data: e.data }))).toEqual(sent);
    }
  });
});
