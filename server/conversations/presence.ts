/**
 * Which agents are connected to this process's console, so a visitor who asks for a person learns
 * at once whether anyone can answer. An agent with several tabs counts once.
 */
export class AgentPresence {
  private readonly connections = new Map<string, number>();

  connected(agentId: string): void {
    this.connections.set(agentId, (this.connections.get(agentId) ?? 0) + 1);
  }

  disconnected(agentId: string): void {
    const left = (this.connections.get(agentId) ?? 0) - 1;
    if (left > 0) this.connections.set(agentId, left);
    else this.connections.delete(agentId);
  }

  get online(): number {
    return this.connections.size;
  }
}
