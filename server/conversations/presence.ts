/**
 * Which agents have the console open, so a visitor who asks for a person learns at once whether
 * anyone can answer, and live conversations are only summarized for consoles while one is open.
 * An agent with several tabs counts once. With several servers, the agents connected to the
 * other servers are what the agent namespace last read from them (`setRemote`); `online` is read
 * on every visitor message, so it never waits on the network.
 */
export class AgentPresence {
  private readonly connections = new Map<string, number>();
  private remote = new Set<string>();

  connected(agentId: string): void {
    this.connections.set(agentId, (this.connections.get(agentId) ?? 0) + 1);
  }

  disconnected(agentId: string): void {
    const left = (this.connections.get(agentId) ?? 0) - 1;
    if (left > 0) this.connections.set(agentId, left);
    else this.connections.delete(agentId);
  }

  /** The agents connected to other servers, as last read. */
  setRemote(agentIds: Iterable<string>): void {
    this.remote = new Set(agentIds);
  }

  /** Distinct agents connected to this server or, as last read, to another one. */
  get online(): number {
    if (this.remote.size === 0) return this.connections.size;
    let online = this.remote.size;
    for (const agentId of this.connections.keys()) if (!this.remote.has(agentId)) online += 1;
    return online;
  }
}
