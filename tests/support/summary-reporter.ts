import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Adds one plain closing line, "vitest: N passed, N failed, N skipped", that any CI can read.
 * Tests that never ran (their worker process died first: vitest then says only "Worker exited
 * unexpectedly") count as failed, not skipped, and their files are named on a line above.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const notRun = new Map<string, number>();
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed += 1;
        else if (state === 'failed' || state === 'pending') counts.failed += 1;
        else counts.skipped += 1;
        if (state === 'pending') {
          const file = path.relative(process.cwd(), module.moduleId);
          notRun.set(file, (notRun.get(file) ?? 0) + 1);
        }
      }
    }
    for (const [file, tests] of notRun)
      process.stdout.write(`\nvitest: never ran ${tests} test(s) of ${file}: its worker exited first\n`);
    process.stdout.write(
      `\nvitest: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
    );
  }
}
