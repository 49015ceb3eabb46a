import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SSH_ERR, SshError } from '../../src/errors.js';
import { SshReader } from '../../src/wire/reader.js';
import { SshWriter } from '../../src/wire/writer.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

function malformed(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SshError);
    expect((e as SshError).code).toBe(SSH_ERR.MALFORMED_MESSAGE);
    return;
  }
  throw new Error('expected SSH_ERR_MALFORMED_MESSAGE');
}

describe('RFC 4251 §5 examples', () => {
  // The mpint and name-list tables of RFC 4251 §5.
  const MPINTS: [string, string][] = [
    ['', '00000000'],
    ['09a378f9b2e332a7', '0000000809a378f9b2e332a7'],
    ['0080', '000000020080'],
    ['edcc', '00000002edcc'],
    ['ff21524111', '00000005ff21524111'],
  ];

  it('reads each mpint example as its two-complement bytes', () => {
    for (const [value, wire] of MPINTS) {
      const r = new SshReader(unhex(wire));
      expect(hex(r.mpint())).toBe(value);
      r.finish();
    }
  });

  it('writes the positive examples from their unsigned magnitude', () => {
    expect(hex(new SshWriter().mpintUnsigned(new Uint8Array(0)).finish())).toBe('00000000');
    expect(
      hex(new SshWriter().mpintUnsigned(unhex('9a378f9b2e332a7'.padStart(16, '0'))).finish()),
    ).toBe('0000000809a378f9b2e332a7');
    expect(hex(new SshWriter().mpintUnsigned(unhex('80')).finish())).toBe('000000020080');
    expect(hex(new SshWriter().mpintUnsigned(unhex('000080')).finish())).toBe('000000020080');
  });

  it('reads positive mpints as magnitudes and refuses negative ones where a positive is required', () => {
    expect(hex(new SshReader(unhex('000000020080')).mpintPositive())).toBe('80');
    malformed(() => new SshReader(unhex('00000002edcc')).mpintPositive());
    malformed(() => new SshReader(unhex('00000000')).mpintPositive());
  });

  it('rejects non-minimal mpints', () => {
    malformed(() => new SshReader(unhex('000000020001')).mpint());
    malformed(() => new SshReader(unhex('00000002ff80')).mpint());
  });

  it('reads and writes the name-list examples', () => {
    const cases: [string[], string][] = [
      [[], '00000000'],
      [['zlib'], '000000047a6c6962'],
      [['zlib', 'none'], '000000097a6c69622c6e6f6e65'],
    ];
    for (const [names, wire] of cases) {
      expect(hex(new SshWriter().nameList(names).finish())).toBe(wire);
      expect(new SshReader(unhex(wire)).nameList()).toEqual(names);
    }
  });

  it('encodes uint32, uint64, boolean and string big-endian with length prefixes', () => {
    const w = new SshWriter(1)
      .uint32(0x29b7f4aa)
      .uint64(0x0102030405060708n)
      .bool(true)
      .string('ssh');
    expect(hex(w.finish())).toBe('29b7f4aa010203040506070801' + '00000003737368');
    const r = new SshReader(w.finish());
    expect(r.uint32()).toBe(0x29b7f4aa);
    expect(r.uint64()).toBe(0x0102030405060708n);
    expect(r.bool()).toBe(true);
    expect(r.utf8()).toBe('ssh');
    r.finish();
  });
});

describe('the reader is bounds-checked', () => {
  it('rejects truncated fields at every cut point', () => {
    const full = new SshWriter().uint32(7).string('hello').nameList(['a', 'b']).uint64(9n).finish();
    for (let cut = 0; cut < full.length; cut++) {
      malformed(() => {
        const r = new SshReader(full.subarray(0, cut));
        r.uint32();
        r.string();
        r.nameList();
        r.uint64();
      });
    }
  });

  it('rejects trailing bytes in finish()', () => {
    const r = new SshReader(unhex('0000000100'));
    r.uint32();
    malformed(() => r.finish());
  });

  it('rejects a string longer than its bound before reading it', () => {
    malformed(() => new SshReader(unhex('ffffffff')).string(1024));
    malformed(() => new SshReader(unhex('00000005616263')).string());
  });

  it('rejects name-lists with empty names, control characters or too many names', () => {
    malformed(() => new SshReader(new SshWriter().string('a,,b').finish()).nameList());
    malformed(() => new SshReader(new SshWriter().string('a\nb').finish()).nameList());
    malformed(() =>
      new SshReader(new SshWriter().string(Array(300).fill('x').join(',')).finish()).nameList(),
    );
  });

  it('rejects invalid UTF-8 in text fields', () => {
    malformed(() => new SshReader(unhex('00000002c328')).utf8());
  });

  it('honours the byte offset of a view into a larger buffer', () => {
    const backing = unhex('ffffffff00000003616263ffff');
    const r = new SshReader(backing.subarray(4, 11));
    expect(r.utf8()).toBe('abc');
    r.finish();
  });

  it('round-trips any sequence of fields (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.uint8Array({ maxLength: 64 }),
            fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          ),
        ),
        (items) => {
          const w = new SshWriter(1);
          for (const [n, bytes, big] of items)
            w.uint32(n >>> 0)
              .string(bytes)
              .uint64(big);
          const r = new SshReader(w.finish());
          for (const [n, bytes, big] of items) {
            expect(r.uint32()).toBe(n >>> 0);
            expect(r.string()).toEqual(bytes);
            expect(r.uint64()).toBe(big);
          }
          r.finish();
        },
      ),
      { seed: 4251, numRuns: 200 },
    );
  });
});

describe('strings are encoded as UTF-8 straight into the writer', () => {
  it('matches TextEncoder for ASCII, 2-, 3- and 4-byte characters and lone surrogates, at any starting capacity', () => {
    const texts = [
      '',
      'abc',
      'é',
      '€uro',
      '😀',
      'a😀b',
      '\ud800x',
      `${'x'.repeat(300)}€😀`,
      '€'.repeat(200),
    ];
    for (const text of texts) {
      for (const capacity of [1, 4, 8, 256]) {
        const bytes = new SshWriter(capacity).byte(7).string(text).byte(9).finish();
        const r = new SshReader(bytes);
        expect(r.byte()).toBe(7);
        expect([...r.string()]).toEqual([...new TextEncoder().encode(text)]);
        expect(r.byte()).toBe(9);
        r.finish();
      }
    }
  });

  it('round-trips any string (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.integer({ min: 1, max: 64 }),
        (text, capacity) => {
          const r = new SshReader(new SshWriter(capacity).string(text).finish());
          expect([...r.string()]).toEqual([...new TextEncoder().encode(text)]);
        },
      ),
    );
  });
});
