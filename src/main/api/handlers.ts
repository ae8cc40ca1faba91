import type { CommandName, CommandOutput, ParsedInput } from '../../shared/api.js';
import type { ApiContext } from './context.js';

export type Handler<K extends CommandName> = (input: ParsedInput<K>, ctx: ApiContext) => Promise<CommandOutput<K>> | CommandOutput<K>;

/** One handler per command: the compiler refuses a command without one. */
export type Handlers = { [K in CommandName]: Handler<K> };
