import { describe, expect, it } from 'vitest';
import { AgentPresence } from '../../../../server/conversations/presence.js';

describe('AgentPresence', () => {
  it('counts each agent once, however many tabs they have open', () => {
    const presence = new AgentPresence();
    presence.connected('dana');
    presence.connected('dana');
    presence.connected('lee');
    expect(presence.online).toBe(2);
    presence.disconnected('dana');
    expect(presence.online).toBe(2);
    presence.disconnected('dana');
    expect(presence.online).toBe(1);
  });

  it('adds the agents on other servers, counting one connected to both once', () => {
    const presence = new AgentPresence();
    presence.setRemote(['kim']);
    expect(presence.online).toBe(1);
    presence.connected('dana');
    presence.setRemote(['kim', 'dana']);
    expect(presence.online).toBe(2);
    presence.setRemote([]);
    presence.disconnected('dana');
    expect(presence.online).toBe(0);
  });
});
