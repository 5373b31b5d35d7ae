import { describe, expect, it } from 'vitest';
import { buildProgram, COMMAND_NAMES } from '../../../../server/cli/main.js';

const argv = (...args: string[]) => ['node', 'parley', ...args];
const topLevel = async (...args: string[]) =>
  (await buildProgram(argv(...args))).commands.map((command) => command.name());

describe('parley command loading', () => {
  it('registers every command, in help order, for top-level help and for a name that is no command', async () => {
    expect(await topLevel()).toEqual(COMMAND_NAMES);
    expect(await topLevel('--help')).toEqual(COMMAND_NAMES);
    expect(await topLevel('usr', 'list')).toEqual(COMMAND_NAMES);
  });

  it.each(COMMAND_NAMES)('loads only the module that defines `%s` when that command runs', async (name) => {
    // versions.ts defines versions, promote and rollback; every other module one command.
    const versions = ['versions', 'promote', 'rollback'];
    expect(await topLevel(name, '--json')).toEqual(versions.includes(name) ? versions : [name]);
  });
});
