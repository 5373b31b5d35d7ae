/**
 * Live chat serving. What the rest of Parley uses: `startChatEngine` (startParley runs one and
 * exposes it as `RunningParley.chat`), its `reply()` with streaming and confidence, and its
 * `status()` for health and for an offline notice in the widget.
 */
export {
  type ChatEngine,
  type ChatEngineOptions,
  type ServingState,
  type ServingStatus,
  type SwapEvent,
  startChatEngine,
} from './engine.js';
export type { ModelTarget, SwapOutcome } from './holder.js';
export {
  type ChatTurn,
  DEFAULT_MAX_NEW_TOKENS,
  DEFAULT_SAMPLING,
  type FinishReason,
  type Reply,
  type ReplyOptions,
} from './types.js';
export { ServingError } from './worker-group.js';
