/**
 * Prints `tests: N passed, N failed, N skipped` from vitest's JSON report: the one line CI reads.
 * A missing report (the type-check or lint failed before vitest ran) counts as one failure.
 */
import { readFileSync } from 'node:fs';

interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numFailedTestSuites: number;
}

const path = process.argv[2] ?? '.test-results/vitest.json';
let report: VitestJsonReport;
try {
  report = JSON.parse(readFileSync(path, 'utf8')) as VitestJsonReport;
} catch {
  console.log('tests: 0 passed, 1 failed, 0 skipped');
  process.exit(1);
}
// A suite that failed to load has no tests of its own to count as failed; count it anyway.
const failed = report.numFailedTests + (report.numFailedTests === 0 ? report.numFailedTestSuites : 0);
console.log(
  `tests: ${report.numPassedTests} passed, ${failed} failed, ${report.numPendingTests + report.numTodoTests} skipped`,
);
