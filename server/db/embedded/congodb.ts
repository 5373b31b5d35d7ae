/**
 * The one place that imports CongoDB (the embedded MongoDB-wire-compatible server inside
 * @push.rocks/smartmongo). Everything else talks to it over the wire with the official driver.
 */
export {
  CommandRouter,
  CongoServer,
  type IStorageAdapter,
  MemoryStorageAdapter,
  plugins as congoPlugins,
} from '@push.rocks/smartmongo/dist_ts/congodb/index.js';
