import { describe, expect, it } from 'vitest';
import {
  timelineFromHistory,
  withoutPending,
  withPending,
  withStored,
} from '../../../../client/widget/chat/timeline.js';
import { storedMessage } from './factories.js';

const keys = (items: { key: string }[]) => items.map((item) => item.key);

describe('timeline', () => {
  it('shows a history once per message id, then the messages still waiting for the server', () => {
    const hello = storedMessage({ role: 'customer', clientMessageId: 'c1' });
    const reply = storedMessage();
    const items = timelineFromHistory([hello, reply, hello], [{ clientMessageId: 'c2', text: 'pending' }]);
    expect(keys(items)).toEqual([`m:${hello.id}`, `m:${reply.id}`, 'c:c2']);
  });

  it('drops a waiting message from a history that already stored it', () => {
    const stored = storedMessage({ role: 'customer', clientMessageId: 'c1' });
    const items = timelineFromHistory([stored], [{ clientMessageId: 'c1', text: stored.text }]);
    expect(keys(items)).toEqual([`m:${stored.id}`]);
  });

  it('puts a stored message in the place of its pending copy', () => {
    let items = withPending([], { clientMessageId: 'c1', text: 'hi' });
    items = withStored(items, storedMessage({ id: 'bot1' }));
    items = withStored(
      items,
      storedMessage({ id: 'mine', role: 'customer', clientMessageId: 'c1', text: 'hi' }),
    );
    expect(keys(items)).toEqual(['m:mine', 'm:bot1']);
    expect(items[0]).toMatchObject({ kind: 'stored', message: { text: 'hi' } });
  });

  it('updates a message it already shows instead of adding it twice', () => {
    const first = storedMessage({ id: 'x', text: 'old' });
    const items = withStored(withStored([], first), { ...first, text: 'new' });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ message: { text: 'new' } });
  });

  it('does not add a pending message that is already shown, pending or stored', () => {
    const stored = storedMessage({ role: 'customer', clientMessageId: 'c1' });
    expect(withPending([...withStored([], stored)], { clientMessageId: 'c1', text: 'again' })).toHaveLength(
      1,
    );
    const pending = withPending([], { clientMessageId: 'c2', text: 'x' });
    expect(withPending(pending, { clientMessageId: 'c2', text: 'x' })).toHaveLength(1);
  });

  it('removes a refused pending message and leaves stored ones alone', () => {
    const stored = storedMessage({ role: 'customer', clientMessageId: 'c1' });
    const items = withPending(withStored([], stored), { clientMessageId: 'c2', text: 'too long' });
    expect(keys(withoutPending(items, 'c2'))).toEqual([`m:${stored.id}`]);
    expect(keys(withoutPending(items, 'c1'))).toEqual(keys(items));
  });
});
