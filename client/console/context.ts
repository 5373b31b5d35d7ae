/** What every page of the signed-in console reaches: the API client, the live connection, who is signed in. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { StaffUser } from '../../server/realtime/agent/protocol.js';
import type { ApiClient } from './api.js';
import type { Live } from './live.js';

export interface ConsoleContext {
  api: ApiClient;
  live: Live;
  user: StaffUser;
  /** Opens the keyboard shortcuts dialog. */
  showHelp: () => void;
}

export const Console = createContext<ConsoleContext | null>(null);

export function useConsole(): ConsoleContext {
  const value = useContext(Console);
  if (!value) throw new Error('useConsole outside the signed-in console');
  return value;
}
