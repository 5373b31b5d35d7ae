import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { afterWatermark, readOrder, watermarkOf } from '../../../../server/ingest/watermark.js';

describe('watermarks', () => {
  it('reads everything without a watermark', () => {
    expect(afterWatermark('created_at', null)).toEqual({});
    expect(afterWatermark('created_at', { ts: null, id: null })).toEqual({});
  });

  it('continues after (timestamp, _id), breaking timestamp ties by _id', () => {
    const id = new ObjectId();
    const ts = new Date('2024-01-01');
    expect(afterWatermark('created_at', { ts, id })).toEqual({
      $or: [{ created_at: { $gt: ts } }, { created_at: ts, _id: { $gt: id } }],
    });
    expect(readOrder('created_at')).toEqual({ created_at: 1, _id: 1 });
  });

  it('keeps the timestamp as the source stores it', () => {
    const id = new ObjectId();
    expect(watermarkOf({ _id: id, at: '2024-01-01T00:00:00Z' }, 'at')).toEqual({
      ts: '2024-01-01T00:00:00Z',
      id,
    });
    expect(watermarkOf({ _id: id, meta: { at: 1700000000000 } }, 'meta.at')).toEqual({
      ts: 1700000000000,
      id,
    });
  });

  it.each([[{ at: 'yesterday' }], [{}], [{ at: null }]])(
    'does not move for a document without a usable timestamp: %j',
    (doc) => {
      expect(watermarkOf({ _id: new ObjectId(), ...doc }, 'at')).toBeNull();
    },
  );
});
