/**
 * The training job's own process (started by job.ts with child_process.fork): waits for its work
 * order, runs it, and reports progress, checkpoints and the result over the IPC channel. A cancel
 * message stops the loop at the next step boundary, after which it writes a checkpoint.
 */
import { runWorkOrder } from './run-order.js';
import type { ParentMessage, WorkerMessage } from './work-order.js';

if (!process.send) throw new Error('training-worker runs as a child process with an IPC channel');

const send = (message: WorkerMessage) =>
  new Promise<void>((resolve) => {
    process.send!(message, undefined, undefined, () => resolve());
  });
const controller = new AbortController();
// Ctrl-C on a terminal reaches the whole process group: the parent turns it into a cancel, which
// stops at a step boundary with a checkpoint, so the worker itself does not die of it.
process.on('SIGINT', () => undefined);
let started = false;

process.on('message', (message: ParentMessage) => {
  if (message.type === 'cancel') {
    controller.abort();
    return;
  }
  if (message.type !== 'start' || started) return;
  started = true;
  runWorkOrder(message.order, (m) => void send(m), controller.signal)
    .then((result) => send({ type: 'done', result }))
    .catch((error: unknown) =>
      send({
        type: 'failed',
        message: (error as Error).message ?? String(error),
        stack: (error as Error).stack,
      }),
    )
    .finally(() => process.exit(0));
});
// The parent gone (its channel closed) means nobody will read the result: stop here; the last
// checkpoint stays for a resume.
process.on('disconnect', () => process.exit(0));
